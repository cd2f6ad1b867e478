"""The licence and refusal-letter PDFs rendered in a pool of worker processes.

Why: the layout is Python code, and flows run on threads, so in
one client process every PDF holds the GIL that the other flows' signing, verification and XML
need. With ``EGOV_PDF_WORKERS=N`` (N > 0) the rendering runs in a
:class:`~concurrent.futures.ProcessPoolExecutor` of N *spawned* processes (never forked from a
threaded process); the calling thread waits for the bytes, releasing the GIL meanwhile. The step
that writes the PDF still completes only once the file is written, so the flow's behaviour and
crash contract do not change, only where the CPU is spent.

The worker gets plain data (the view model dumped to a dict, the font directory as a string) and
returns the PDF's bytes, which are the bytes in-thread rendering gives (same function, same data;
``tests/test_pdf_worker.py`` checks it). The cut fonts (:mod:`procedure.fontcache`) are
found by each worker in the on-disk cache and kept in its memory after its first document.

Failures: an error of the project's hierarchy raised while rendering (a missing font:
:class:`~adapters.core.errors.ConfigurationError`) is raised again in the caller with the same
class, message and context, plus the document; any other failure (a reportlab exception, a worker
that died: ``BrokenProcessPool``) raises :class:`~adapters.core.errors.ConfigurationError` naming
the document. A broken pool is dropped, so the next document gets a fresh one.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Literal

from adapters.core.errors import ConfigurationError, EgovError

__all__ = ["DocumentKind", "configured_workers", "render", "shutdown"]

DocumentKind = Literal["licence", "refusal"]

_lock = threading.Lock()
_pools: dict[tuple[int, int], ProcessPoolExecutor] = {}
"""(process id, worker count) -> pool: one pool per process and configuration."""


def configured_workers() -> int:
    """``EGOV_PDF_WORKERS`` from the process-wide settings."""
    from adapters.core.settings import get_settings

    return get_settings().pdf_workers


def _warm_up() -> None:
    """Worker initializer: import reportlab and the documents once, before the first document."""
    import procedure.documents  # noqa: F401


def _render_plain(kind: DocumentKind, view: dict[str, Any], font_dir: str | None) -> tuple[bool, Any]:
    """In the worker: ``(True, pdf bytes)`` or ``(False, failure as plain data)``.

    Failures travel as plain data rather than as pickled exceptions: the project's errors take
    keyword-only context that :mod:`pickle` cannot pass back to their constructors."""
    from procedure import documents
    from procedure.models import LicenceView, RefusalLetterView

    directory = Path(font_dir) if font_dir is not None else None
    try:
        if kind == "licence":
            return True, documents.render_licence_pdf(LicenceView.model_validate(view), font_dir=directory)
        return True, documents.render_refusal_letter_pdf(RefusalLetterView.model_validate(view),
                                                         font_dir=directory)
    except EgovError as exc:
        return False, {"egov": True, "type": type(exc).__name__, "message": exc.message,
                       "code": exc.code, "retryable": exc.retryable,
                       "context": {k: str(v) for k, v in exc.context.items()}}
    except Exception as exc:  # translated into a typed error in the caller
        return False, {"egov": False, "type": type(exc).__name__, "message": str(exc)}


def _pool(workers: int) -> ProcessPoolExecutor:
    key = (os.getpid(), workers)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_warm_up)
            _pools[key] = pool
        return pool


def _drop(workers: int, pool: ProcessPoolExecutor) -> None:
    key = (os.getpid(), workers)
    with _lock:
        if _pools.get(key) is pool:
            del _pools[key]
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop this process's pools (registered at exit; tests call it too)."""
    with _lock:
        mine = [(key, pool) for key, pool in _pools.items() if key[0] == os.getpid()]
        for key, _ in mine:
            del _pools[key]
    for _, pool in mine:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown)


def _raise_failure(failure: dict[str, Any], document: str) -> None:
    if failure["egov"]:
        cls = _egov_class(failure["type"])
        if cls is not None:
            raise cls(failure["message"], code=failure["code"], retryable=failure["retryable"],
                      **{**failure["context"], "document": document})
    raise ConfigurationError(f"rendering the PDF of {document} failed: {failure['type']}: {failure['message']}",
                             document=document, reason=failure["type"])


def _egov_class(name: str) -> type[EgovError] | None:
    """The project's error class of that name, if its constructor is :class:`EgovError`'s (those
    with their own signature are reported as a :class:`ConfigurationError`)."""
    from adapters.core import errors

    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, EgovError) and cls.__init__ is EgovError.__init__:
        return cls
    return None


def render(kind: DocumentKind, view: dict[str, Any], *, workers: int, document: str,
           font_dir: Path | None = None) -> bytes:
    """Render ``view`` (a dumped :class:`LicenceView` or :class:`RefusalLetterView`) in the pool of
    ``workers`` processes and wait for its bytes. ``document`` names it in errors."""
    if workers < 1:
        raise ConfigurationError(f"pdf_workers: {workers} worker processes cannot render {document}",
                                 field="pdf_workers", document=document)
    pool = _pool(workers)
    try:
        ok, result = pool.submit(_render_plain, kind, view, None if font_dir is None else str(font_dir)).result()
    except BrokenProcessPool as exc:
        _drop(workers, pool)
        raise ConfigurationError(f"rendering the PDF of {document} failed: a PDF worker process died ({exc})",
                                 document=document, reason="BrokenProcessPool") from exc
    except RuntimeError as exc:  # submit after shutdown (interpreter exiting)
        raise ConfigurationError(f"rendering the PDF of {document} failed: {exc}",
                                 document=document, reason=type(exc).__name__) from exc
    if not ok:
        _raise_failure(result, document)
    assert isinstance(result, bytes)
    return result
