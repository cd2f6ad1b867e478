"""Reading an answer's body within a byte limit.

:func:`read_limited` reads the body of an answer whose head :mod:`adapters.core.http.wire` read:

- a ``Content-Length`` over the limit is refused before a byte of the body is read;
- a ``Content-Length`` within the limit, the body not encoded: the body is read straight into one
  buffer of that length (fewer bytes than announced is ``http.client.IncompleteRead``);
- otherwise (chunked, until the connection closes, or a ``Content-Encoding``) the parser de-frames
  the body as it is read, :data:`CHUNK` bytes at a time, decoded when it is ``gzip`` or ``deflate``
  (at most what is left under the limit is decompressed per read; another coding is returned as it
  came), and refused as soon as more than the limit has arrived, whatever the framing;
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

import http.client
import io
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from adapters.core.errors import ConfigurationError, ResponseTooLargeError

if TYPE_CHECKING:
    from adapters.core.http.wire import Answer, Connection

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


def too_large(url: str, limit: int, *, announced: int | None = None,
              received: int | None = None) -> ResponseTooLargeError:
    """The refusal of an answer from ``url`` over ``limit`` bytes."""
    if announced is not None:
        return ResponseTooLargeError(f"too-large: {url}: the answer announces {announced} bytes, over the "
                                     f"limit of {limit} bytes", url=url, limit=limit, announced=announced)
    return ResponseTooLargeError(f"too-large: {url}: the answer sent more than the limit of {limit} bytes "
                                 f"({received} read before it was cut off)", url=url, limit=limit,
                                 received=received or 0)


class BodyDecodeError(http.client.HTTPException):
    """A body that does not decode as its ``Content-Encoding`` says."""


def _decoder(encoding: str) -> zlib._Decompress | None:
    """A decompressor for a ``Content-Encoding`` the transport decodes, or ``None`` (returned as it came)."""
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    return None


def _decoded(pieces: Iterator[bytes], encoding: str, room: Callable[[], int]) -> Iterator[bytes]:
    """``pieces`` decoded as ``encoding`` (``deflate`` with or without its zlib header), never more
    output asked for at once than ``room()`` (a decompression bomb stops at the limit)."""
    decoder = _decoder(encoding)
    if decoder is None:
        yield from pieces
        return
    first = True
    try:
        for piece in pieces:
            data = piece
            while data:
                try:
                    out = decoder.decompress(data, room())
                except zlib.error:
                    if not (first and encoding == "deflate"):
                        raise
                    decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send it
                    out = decoder.decompress(data, room())
                first = False
                data = decoder.unconsumed_tail
                if out:
                    yield out
        yield decoder.flush()
    except zlib.error as exc:
        raise BodyDecodeError(f"the body does not decode as {encoding}: {exc}") from exc


def read_limited(connection: Connection, answer: Answer, *, limit: int, url: str) -> bytes:
    """The whole body of ``answer`` from ``connection``, at most ``limit`` bytes (see the module docstring)."""
    announced = answer.length
    if announced is not None and announced > limit:
        raise too_large(url, limit, announced=announced)
    encoding = answer.headers.get("Content-Encoding", "").strip().lower()
    if announced is not None and encoding in ("", "identity"):
        if not announced:
            return b""
        sized = io.BytesIO(bytes(announced))
        with sized.getbuffer() as view:
            connection.read_into(view)
        return sized.getvalue()
    # bytes(n) is owned by the buffer alone: writes fill it in place, truncate() shrinks it in
    # place, and getvalue() hands that same object back
    wanted = limit + 1  # never more than one byte past the limit
    buffer = io.BytesIO(bytes(wanted))
    received = 0

    def room() -> int:
        return min(CHUNK, wanted - received)

    for chunk in _decoded(connection.pieces(room), encoding, room):
        received += len(chunk)
        if received > limit:
            raise too_large(url, limit, received=received)
        buffer.write(chunk)
    buffer.truncate(received)
    return buffer.getvalue()
