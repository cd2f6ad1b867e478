"""Streamed attachment uploads: a file goes to E-licensing without ever being whole in memory.

An ``UploadAttachmentRequest`` carries the file base64-encoded in ``<Content>``. Building it as an
lxml tree holds the file four times (bytes, base64 ``str``, text node, serialised envelope). Here:

- :class:`Attachment` wraps bytes, a path or a binary file object; its size is known at once (a
  ``stat``, a ``seek``), its SHA-256 is computed on first use by reading in chunks, and
  :meth:`Attachment.chunks` reads it again, chunk by chunk, as often as needed (one send per retry);
- :func:`split_envelope` cuts the serialised request envelope, built by
  :func:`adapters.elicense.messages.upload_attachment_request` with a placeholder in ``<Content>``
  and validated against the schema, into the bytes before and after the placeholder: the wire
  format stays defined once, by the schema and that builder;
- :func:`base64_chunks` encodes the chunks in groups of a multiple of 3 bytes, so the pieces
  concatenate to exactly ``base64(file)``; :func:`encoded_length` is the length of that.

The transport posts ``prefix + base64 chunks + suffix`` as a :class:`StreamedBody` with an exact
``Content-Length``: at most one chunk of the file (and its base64) is in memory at a time.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from adapters.contracts.elicense import ATTACHMENTS_MAX_TOTAL_BYTES
from adapters.core.http import StreamedBody
from adapters.elicense.errors import AttachmentError, AttachmentsTooLarge
from adapters.elicense.models import AttachmentRef

CHUNK_BYTES = 3 * 64 * 1024
"""Bytes read per chunk: a multiple of 3, so each chunk's base64 needs no padding (256 KiB encoded)."""

AttachmentSource = bytes | bytearray | memoryview | os.PathLike[str] | BinaryIO
"""What an attachment may be given as: its bytes, a path to it, or a binary file object."""


def _too_large(file_name: str, size: int, limit: int) -> AttachmentsTooLarge:
    return AttachmentsTooLarge(file_name, f"{size} bytes; the total of attachments is limited to "
                                          f"30 MB ({limit} bytes)")


class Attachment:
    """One file to upload: name, size (known at once), SHA-256 (computed once, in chunks), chunks.

    A file object is read from its position at construction; it must stay open until the upload
    is done. A file object that cannot seek is read into memory once (bounded by the limit), as
    there is no other way to know its size before sending.
    """

    def __init__(self, file_name: str, content: AttachmentSource, *,
                 limit: int = ATTACHMENTS_MAX_TOTAL_BYTES, chunk_bytes: int = CHUNK_BYTES) -> None:
        if chunk_bytes <= 0 or chunk_bytes % 3:
            raise ValueError(f"chunk_bytes must be a positive multiple of 3, got {chunk_bytes}")
        self.file_name = file_name
        self._chunk = chunk_bytes
        self._path: Path | None = None
        self._file: BinaryIO | None = None
        self._start = 0
        self._view: memoryview | None = None
        self._sha256: str | None = None
        if isinstance(content, bytes | bytearray | memoryview):
            self._view = memoryview(content).cast("B")
            self.size = self._view.nbytes
        elif isinstance(content, os.PathLike):
            self._path = Path(content)
            try:
                self.size = self._path.stat().st_size
            except OSError as exc:
                raise AttachmentError(file_name, f"cannot read {self._path}: {exc.strerror or exc}") from exc
            if not self._path.is_file():
                raise AttachmentError(file_name, f"{self._path} is not a regular file")
        elif hasattr(content, "read"):
            self.size = self._measure(content, limit)
        else:
            raise AttachmentError(file_name, f"content must be bytes, a path or a binary file object, "
                                             f"got {type(content).__name__}")
        if self.size > limit:
            raise _too_large(file_name, self.size, limit)

    def _measure(self, fh: BinaryIO, limit: int) -> int:
        try:
            if fh.seekable():
                self._file = fh
                self._start = fh.tell()
                end = fh.seek(0, io.SEEK_END)
                fh.seek(self._start)
                return end - self._start
            data = fh.read(limit + 1)  # a pipe: its size is only known by reading it
        except OSError as exc:
            raise AttachmentError(self.file_name, f"cannot read the file object: {exc}") from exc
        if not isinstance(data, bytes):
            raise AttachmentError(self.file_name, "the file object is not binary (open it with 'rb')")
        self._view = memoryview(data)
        return len(data)

    # ------------------------------------------------------------------ reading

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes from the start, in chunks of at most ``chunk_bytes``.

        Raises :class:`AttachmentError` when the file no longer has the size it had: its digest and
        the request's Content-Length were computed from that size.
        """
        read = 0
        for chunk in self._raw_chunks():
            read += len(chunk)
            if read > self.size:
                break
            yield chunk
        if read != self.size:
            raise AttachmentError(self.file_name, f"the file changed while being read: "
                                                  f"{'more than ' if read > self.size else ''}{read} bytes, "
                                                  f"{self.size} expected")

    def _raw_chunks(self) -> Iterator[bytes]:
        if self._view is not None:
            view = self._view
            for i in range(0, len(view), self._chunk):
                yield view[i:i + self._chunk]  # type: ignore[misc]  # zero-copy slice, bytes-like
        elif self._path is not None:
            with self._path.open("rb") as fh:
                yield from _read_chunks(fh, self._chunk)
        else:
            assert self._file is not None
            self._file.seek(self._start)
            yield from _read_chunks(self._file, self._chunk)

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the content, computed on first use by reading it in chunks."""
        if self._sha256 is None:
            digest = hashlib.sha256()
            try:
                for chunk in self.chunks():
                    digest.update(chunk)
            except OSError as exc:
                raise AttachmentError(self.file_name, f"cannot read the file: {exc}") from exc
            self._sha256 = digest.hexdigest()
        return self._sha256

    def ref(self) -> AttachmentRef:
        """The reference (name, SHA-256, size) the signed application carries."""
        return AttachmentRef(file_name=self.file_name, sha256=self.sha256, size=self.size)

    def __repr__(self) -> str:
        return f"Attachment({self.file_name!r}, {self.size} bytes)"


def _read_chunks(fh: BinaryIO, size: int) -> Iterator[bytes]:
    """Chunks of exactly ``size`` bytes (the last may be shorter), even from a raw stream that
    returns short reads, so base64 pieces need no carry in the common case."""
    while True:
        chunk = fh.read(size)
        if not chunk:
            return
        while len(chunk) < size:
            more = fh.read(size - len(chunk))
            if not more:
                break
            chunk += more
        yield chunk


def prepare(files: Iterable[tuple[str, AttachmentSource]], *,
            limit: int = ATTACHMENTS_MAX_TOTAL_BYTES) -> list[Attachment]:
    """Wrap ``files`` and check the total against the 30 MB limit before reading any of them."""
    attachments = [f if isinstance(f, Attachment) else Attachment(name, f, limit=limit) for name, f in files]
    total = sum(a.size for a in attachments)
    if total > limit:
        raise AttachmentsTooLarge("attachments", f"{total} bytes in total; at most 30 MB ({limit} bytes)")
    return attachments


# --------------------------------------------------------------------------- base64 and the envelope

def encoded_length(size: int) -> int:
    """Length of the base64 (with padding, no line breaks) of ``size`` bytes."""
    return 4 * ((size + 2) // 3)


def base64_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Base64 of the concatenation of ``chunks``, piece by piece (bytes carried to a multiple of 3)."""
    carry = b""
    for chunk in chunks:
        if carry:
            chunk = carry + bytes(chunk)
        cut = len(chunk) - len(chunk) % 3
        if cut:
            yield base64.b64encode(chunk[:cut] if cut < len(chunk) else chunk)
        carry = bytes(chunk[cut:])
    if carry:
        yield base64.b64encode(carry)


def placeholder() -> str:
    """A fresh base64 value (schema-valid ``base64Binary``) to stand for the content while building."""
    return base64.b64encode(b"egov-adapters streamed content " + uuid.uuid4().bytes).decode()


def split_envelope(envelope: bytes, marker: str) -> tuple[bytes, bytes]:
    """The serialised envelope before and after ``marker`` (which must occur exactly once)."""
    token = marker.encode("ascii")
    count = envelope.count(token)
    if count != 1:
        raise ValueError(f"the content placeholder occurs {count} times in the envelope, expected once")
    prefix, _, suffix = envelope.partition(token)
    return prefix, suffix


def streamed_envelope(prefix: bytes, attachment: Attachment, suffix: bytes) -> StreamedBody:
    """``prefix + base64(file) + suffix`` as a body of exact length, re-readable for each send."""
    def source() -> Iterator[bytes]:
        return itertools.chain((prefix,), base64_chunks(attachment.chunks()), (suffix,))

    return StreamedBody(len(prefix) + encoded_length(attachment.size) + len(suffix), source,
                        name=attachment.file_name)
