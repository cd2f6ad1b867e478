"""Reading an answer's body within a byte limit.

:func:`read_limited` reads a urllib3 response opened with ``preload_content=False``:

- a ``Content-Length`` over the limit is refused before a byte of the body is read;
- a ``Content-Length`` within the limit, the body not encoded: the body is read in one call of
  that length (urllib3 and http.client allocate it once, and fail with a short body): urllib3's
  sized reads go through its decoded-body buffer, one plain read does not;
- otherwise the body is read :data:`CHUNK` bytes at a time (decoded, when it has a
  ``Content-Encoding``: urllib3 decompresses at most what is asked for), and refused as soon as
  more than the limit has arrived, whatever the framing (chunked, or until the connection closes);
- memory: the body is read into one buffer that never grows: of the announced length, or of
  ``limit + 1`` bytes when the length is not announced or the body is encoded (zero-filled
  memory the system hands over untouched: only the pages written cost anything), then cut to what
  arrived and returned without another copy. At most the limit plus one chunk is ever held,
  whatever the server sends;
- a refusal is a :class:`~adapters.core.errors.ResponseTooLargeError` naming the limit, the URL
  and what was announced or received; the caller drops the connection (the rest of the answer is
  never drained from it).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING

from adapters.core.errors import ConfigurationError, ResponseTooLargeError

if TYPE_CHECKING:
    import urllib3

CHUNK = 64 * 1024
"""Bytes asked of the response per read."""

DEFAULT_MAX_RESPONSE_BYTES = 48 * 1024 * 1024
"""The byte limit of an answer when a transport is given none (the largest answer the XML parser
takes at all: attachments of 30 MB in base64 and their envelope)."""


def positive_limit(limit: int) -> int:
    """``limit`` if it is a positive number of bytes (else ``ConfigurationError``)."""
    if limit <= 0:
        raise ConfigurationError(f"a response byte limit must be positive, got {limit}", setting="max_bytes")
    return limit


def announced_length(headers: Mapping[str, str]) -> int | None:
    """The body length a ``Content-Length`` header announces, or ``None`` when there is none or it is
    not one number (repeated equal values, as a list, count as that value)."""
    value = headers.get("Content-Length")
    if value is None:
        return None
    values = {part.strip() for part in str(value).split(",")}
    if len(values) != 1:
        return None
    text = values.pop()
    return int(text) if text.isdigit() else None


def too_large(url: str, limit: int, *, announced: int | None = None,
              received: int | None = None) -> ResponseTooLargeError:
    """The refusal of an answer from ``url`` over ``limit`` bytes."""
    if announced is not None:
        return ResponseTooLargeError(f"too-large: {url}: the answer announces {announced} bytes, over the "
                                     f"limit of {limit} bytes", url=url, limit=limit, announced=announced)
    return ResponseTooLargeError(f"too-large: {url}: the answer sent more than the limit of {limit} bytes "
                                 f"({received} read before it was cut off)", url=url, limit=limit,
                                 received=received or 0)


def read_limited(response: urllib3.BaseHTTPResponse, *, limit: int, url: str) -> bytes:
    """The whole body of ``response``, at most ``limit`` bytes (see the module docstring)."""
    announced = announced_length(response.headers)
    if announced is not None and announced > limit:
        raise too_large(url, limit, announced=announced)
    encoding = str(response.headers.get("Content-Encoding", "")).strip().lower()
    if announced is not None and encoding in ("", "identity"):  # else the decoded size is unknown
        return response.read()  # a short body raises (urllib3 enforces the announced length)
    # bytes(n) is owned by the buffer alone: writes fill it in place, truncate() shrinks it in
    # place, and getvalue() hands that same object back
    wanted = limit + 1  # never more than one byte past the limit
    buffer = io.BytesIO(bytes(wanted))
    received = 0
    while received < wanted:
        chunk = response.read(min(CHUNK, wanted - received))  # fewer than announced: urllib3 raises
        if not chunk:
            break
        received += len(chunk)
        if received > limit:
            raise too_large(url, limit, received=received)
        buffer.write(chunk)
    buffer.truncate(received)
    return buffer.getvalue()
