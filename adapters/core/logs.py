"""Structured logs: one JSON object per line (or a readable line on a terminal), carrying the ids.

:func:`configure_logging` installs one handler on the root logger: JSON via python-json-logger, or
readable text; by default text when the stream is a terminal and JSON otherwise (``EGOV_LOG_JSON``
decides when set). Timestamps are UTC with milliseconds (``2026-12-03T22:37:52.123Z``).

:func:`bind_ids` binds ``message_id`` / ``correlation_id`` (and any other field, e.g. ``flow_id``)
for the current context (thread or asyncio task): every record logged inside the ``with`` block
carries them, including records from the transport and the signing layer, which do not know the
ids. A flow's step binds ``flow_id`` and ``correlation_id`` (the flow id), so that every exchange
of a flow carries both; :func:`bind_ids` keeps an outer value a caller does not override.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

__all__ = ["ID_FIELDS", "IdsFilter", "TextFormatter", "bind_ids", "bound_ids", "configure_logging", "json_formatter",
           "log_fields", "utc_millis"]

_IDS: contextvars.ContextVar[tuple[tuple[str, str | None], ...]] = contextvars.ContextVar("egov_log_ids",
                                                                                   default=())
_HANDLER_MARK = "_egov_handler"
ID_FIELDS = ("flow_id", "correlation_id", "message_id")
"""Fields every record carries (None when unbound)."""


def bound_ids() -> dict[str, str | None]:
    """The ids bound in the current context."""
    return dict(_IDS.get())


@contextmanager
def bind_ids(message_id: str | None = None, correlation_id: str | None = None,
             **extra: str | None) -> Iterator[None]:
    """Bind ``message_id``, ``correlation_id`` (and any other string fields) to log records.

    A field given as None keeps the value bound around this block (a call without its own
    correlation id, inside a flow, keeps the flow's)."""
    given = {"message_id": message_id, "correlation_id": correlation_id, **extra}
    values = {**dict(_IDS.get()), **{k: v for k, v in given.items() if v is not None}}
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
        for key in ID_FIELDS:
            if not hasattr(record, key):
                setattr(record, key, None)
        return True


def utc_millis(created: float) -> str:
    """A record's time as ISO 8601 UTC with milliseconds."""
    return dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _JsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_millis(record.created)


def json_formatter() -> logging.Formatter:
    return _JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(flow_id)s %(correlation_id)s %(message_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


class TextFormatter(logging.Formatter):
    """One readable line: time, level, logger, message, then the ids that are bound
    (``flow=… corr=… msg=…``)."""

    _SHORT = {"flow_id": "flow", "correlation_id": "corr", "message_id": "msg"}

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_millis(record.created)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [f"{short}={value}" for key, short in self._SHORT.items()
               if (value := getattr(record, key, None)) is not None]
        if not ids:
            return line
        head, sep, rest = line.partition("\n")  # a traceback stays below the line
        return f"{head} [{' '.join(ids)}]{sep}{rest}"


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False


def configure_logging(level: str | int = "INFO", json: bool | None = None, *, stream: IO[str] | None = None,
                      logger: logging.Logger | None = None) -> logging.Handler:
    """Install one handler (replacing any handler installed earlier by this function) and return it.

    ``json``: None chooses readable text when ``stream`` is a terminal, JSON otherwise (a file, a
    pipe, journald). ``logger`` defaults to the root logger; ``stream`` to stderr.
    """
    target = logger if logger is not None else logging.getLogger()
    for old in [h for h in target.handlers if getattr(h, _HANDLER_MARK, False)]:
        target.removeHandler(old)
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(IdsFilter())
    use_json = json if json is not None else not _is_terminal(out)
    handler.setFormatter(json_formatter() if use_json else TextFormatter())
    target.addHandler(handler)
    target.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def log_fields(**fields: Any) -> dict[str, Any]:
    """``extra`` for a log call, dropping None values (they would shadow the bound ids)."""
    return {k: v for k, v in fields.items() if v is not None}
