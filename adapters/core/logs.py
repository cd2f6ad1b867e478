"""Structured logs: one JSON object per line, carrying messageId and correlationId.

:func:`configure_logging` installs one handler on the root logger (JSON via python-json-logger, or
plain text). :func:`bind_ids` binds ``message_id`` / ``correlation_id`` for the current context
(thread or asyncio task): every record logged inside the ``with`` block carries them, including
records from the transport and the signing layer, which do not know the ids.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

__all__ = ["IdsFilter", "bind_ids", "bound_ids", "configure_logging", "json_formatter", "log_fields"]

_IDS: contextvars.ContextVar[tuple[tuple[str, str | None], ...]] = contextvars.ContextVar("egov_log_ids",
                                                                                   default=())
_HANDLER_MARK = "_egov_handler"


def bound_ids() -> dict[str, str | None]:
    """The ids bound in the current context."""
    return dict(_IDS.get())


@contextmanager
def bind_ids(message_id: str | None = None, correlation_id: str | None = None,
             **extra: str | None) -> Iterator[None]:
    """Bind ``message_id``, ``correlation_id`` (and any other string fields) to log records."""
    values = {**dict(_IDS.get()), "message_id": message_id, "correlation_id": correlation_id, **extra}
    token = _IDS.set(tuple(values.items()))
    try:
        yield
    finally:
        _IDS.reset(token)


class IdsFilter(logging.Filter):
    """Copies the bound ids onto each record, without overriding ids passed in ``extra``."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _IDS.get():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        for key in ("message_id", "correlation_id"):
            if not hasattr(record, key):
                setattr(record, key, None)
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(message_id)s %(correlation_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


def configure_logging(level: str | int = "INFO", json: bool = True, *, stream: IO[str] | None = None,
                      logger: logging.Logger | None = None) -> logging.Handler:
    """Install one handler (replacing any handler installed earlier by this function) and return it.

    ``logger`` defaults to the root logger; ``stream`` to stderr.
    """
    target = logger if logger is not None else logging.getLogger()
    for old in [h for h in target.handlers if getattr(h, _HANDLER_MARK, False)]:
        target.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(IdsFilter())
    if json:
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(message_id)s] %(message)s"))
    target.addHandler(handler)
    target.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def log_fields(**fields: Any) -> dict[str, Any]:
    """``extra`` for a log call, dropping None values (they would shadow the bound ids)."""
    return {k: v for k, v in fields.items() if v is not None}
