"""PDFs rendered in worker processes (EGOV_PDF_WORKERS): the same bytes as in the calling thread,
the same typed errors, a broken pool replaced."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from adapters.core.errors import ConfigurationError
from adapters.core.settings import load_settings
from procedure import artefacts, documents, pdf_worker
from tests.procedure.test_fontcache import letter, licence


@pytest.fixture(autouse=True, scope="module")
def _pools() -> Iterator[None]:
    """One pool of one worker for the module (spawning costs about a second), stopped at its end."""
    yield
    pdf_worker.shutdown()


def test_worker_pdfs_are_byte_for_byte_the_in_thread_ones() -> None:
    assert artefacts.render_licence_pdf(licence(), workers=1) == documents.render_licence_pdf(licence())
    assert artefacts.render_refusal_letter_pdf(letter(), workers=1) == documents.render_refusal_letter_pdf(letter())
    # a character outside the cut fonts: the worker falls back to the full fonts, as the thread does
    greek = licence("Ελληνική εταιρεία")
    assert artefacts.render_licence_pdf(greek, workers=1) == documents.render_licence_pdf(greek)


def test_zero_workers_render_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("the pool was used")

    monkeypatch.setattr(pdf_worker, "render", no_pool)
    assert artefacts.render_licence_pdf(licence(), workers=0) == documents.render_licence_pdf(licence())


def test_workers_default_to_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def fake(kind: str, view: dict[str, object], *, workers: int, document: str,
             font_dir: Path | None = None) -> bytes:
        seen.append(workers)
        assert kind == "refusal" and view["application_number"] == "128"
        assert document == "refusal letter of application 128"
        return b"%PDF"

    monkeypatch.setattr(pdf_worker, "configured_workers", lambda: 3)
    monkeypatch.setattr(pdf_worker, "render", fake)
    assert artefacts.render_refusal_letter_pdf(letter()) == b"%PDF"
    assert seen == [3]


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().pdf_workers == 0
    monkeypatch.setenv("EGOV_PDF_WORKERS", "2")
    assert load_settings().pdf_workers == 2
    monkeypatch.setenv("EGOV_PDF_WORKERS", "-1")
    with pytest.raises(ConfigurationError, match="EGOV_PDF_WORKERS"):
        load_settings()


def test_a_missing_font_raises_the_in_thread_error_naming_the_document(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as in_thread:
        documents.render_licence_pdf(licence(), font_dir=tmp_path)
    with pytest.raises(ConfigurationError) as in_worker:
        artefacts.render_licence_pdf(licence(), font_dir=tmp_path, workers=1)
    assert type(in_worker.value) is type(in_thread.value)
    assert str(in_worker.value) == str(in_thread.value)
    assert in_worker.value.context["font"] == str(tmp_path / "DejaVuSans.ttf")
    assert in_worker.value.context["document"] == "licence KZ12LAA00001234"


def test_a_failure_inside_rendering_is_a_configuration_error_naming_the_document() -> None:
    with pytest.raises(ConfigurationError, match=r"licence L-1.*ValidationError") as err:
        pdf_worker.render("licence", {"number": "L-1"}, workers=1, document="licence L-1")
    assert err.value.context == {"document": "licence L-1", "reason": "ValidationError"}


def test_a_dead_worker_is_reported_and_the_next_document_gets_a_new_pool() -> None:
    pool = pdf_worker._pool(1)
    assert artefacts.render_licence_pdf(licence(), workers=1)  # the pool is up
    with pytest.raises(BrokenProcessPool):  # the worker dies: the pool breaks
        pool.submit(os._exit, 3).result()
    with pytest.raises(ConfigurationError, match=r"refusal letter of application 128.*worker process died") as err:
        artefacts.render_refusal_letter_pdf(letter(), workers=1)
    assert err.value.context["reason"] == "BrokenProcessPool"
    assert pdf_worker._pool(1) is not pool
    assert artefacts.render_refusal_letter_pdf(letter(), workers=1) == documents.render_refusal_letter_pdf(letter())


def test_zero_workers_are_refused_by_the_pool() -> None:
    with pytest.raises(ConfigurationError, match="pdf_workers"):
        pdf_worker.render("licence", licence().model_dump(), workers=0, document="licence X")


def test_a_failure_inside_rendering_in_the_thread_is_typed_as_in_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise ValueError("no room for the table")

    monkeypatch.setattr(documents, "render_refusal_letter_pdf", broken)
    view = letter()
    with pytest.raises(ConfigurationError, match="ValueError: no room for the table") as err:
        artefacts.render_refusal_letter_pdf(view, workers=0)
    assert err.value.context == {"document": f"refusal letter of application {view.application_number}",
                                 "reason": "ValueError"}
    assert isinstance(err.value.__cause__, ValueError)
