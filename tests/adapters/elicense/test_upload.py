"""Streamed attachment uploads (issue 6c): bytes, paths and file objects go out chunk by chunk.

Proves: a several-MB upload from a path, a file object (from its position) and a pipe-like
stream arrives whole (the simulator's digest and stored bytes equal the file's); mismatches are
still refused (by the system at registration, by the client when the file changes under it); the
30 MB limit is enforced from the sizes before anything is read or sent; the streamed body has an
exact Content-Length; transport failures during a streamed post stay typed, a failing source is a
local typed error and the connection pool stays usable; a retry re-reads the stream.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.contracts.elicense import ATTACHMENTS_MAX_TOTAL_BYTES, el
from adapters.core.errors import TransportError
from adapters.core.http import StreamedBody, StreamedBodyError, Timeouts
from adapters.core.resilience import ResilientCaller, RetryPolicy
from adapters.core.transport import SoapTransport
from adapters.core.xmlparse import parse_xml
from adapters.elicense import ElicenseClient, messages
from adapters.elicense.errors import AttachmentDigestMismatch, AttachmentError, AttachmentsTooLarge
from adapters.elicense.models import Session
from adapters.elicense.upload import (
    Attachment,
    base64_chunks,
    encoded_length,
    placeholder,
    split_envelope,
    streamed_envelope,
)
from simulators.common.httpserver import Request, Response, Router, SimServer, WireFault
from tests.fixtures.elicense import ElicenseEnv

if TYPE_CHECKING:  # imported by name, pytest would try to collect it as a test class
    from tests.fixtures.elicense import TestApplicant

MB = 1024 * 1024
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


@pytest.fixture(scope="module")
def payload() -> bytes:
    """A little over 4 MB of random bytes, not a multiple of 3 (the last base64 group is padded)."""
    return os.urandom(4 * MB + 2)


def _session(env: ElicenseEnv, **client_kwargs: object) -> tuple[ElicenseClient, Session, TestApplicant]:
    client = env.client(**client_kwargs)
    person = env.applicant()
    return client, client.authorize_applicant(person.auth, person.password), person


class _Pipe(io.RawIOBase):
    """A binary stream that cannot seek and returns short reads, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), 50_000, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n


# --------------------------------------------------------------------------- against the simulator

def test_upload_from_path_arrives_whole(elicense_env: ElicenseEnv, payload: bytes, tmp_path: Path) -> None:
    client, session, _ = _session(elicense_env)
    path = tmp_path / "scans.pdf"
    path.write_bytes(payload)
    uploaded = client.upload_attachment(session, "scans.pdf", path)
    assert uploaded.sha256 == hashlib.sha256(payload).hexdigest()
    assert uploaded.size == len(payload)
    assert elicense_env.backend.attachment_content(uploaded.id) == payload


def test_upload_from_file_objects_starts_at_their_position(elicense_env: ElicenseEnv, payload: bytes,
                                                          tmp_path: Path) -> None:
    client, session, _ = _session(elicense_env)
    path = tmp_path / "bundle.bin"
    path.write_bytes(b"HEADER" + payload)
    with path.open("rb") as fh:
        fh.seek(6)
        uploaded = client.upload_attachment(session, "inner.pdf", fh)
    assert uploaded.sha256 == hashlib.sha256(payload).hexdigest()
    assert elicense_env.backend.attachment_content(uploaded.id) == payload

    small = payload[: MB + 1]
    piped = client.upload_attachment(session, "piped.pdf", io.BufferedReader(_Pipe(small)))
    assert (piped.sha256, piped.size) == (hashlib.sha256(small).hexdigest(), len(small))
    assert elicense_env.backend.attachment_content(piped.id) == small


def test_submit_application_from_paths_is_registered(elicense_env: ElicenseEnv, payload: bytes,
                                                     tmp_path: Path) -> None:
    client, session, person = _session(elicense_env)
    a, b = tmp_path / "charter.pdf", tmp_path / "staff.pdf"
    a.write_bytes(payload)
    b.write_bytes(b"list of teaching staff")
    info = client.submit_application(session, elicense_env.form(person), person.signing,
                                     files={"charter.pdf": a, "staff.pdf": io.BytesIO(b.read_bytes())},
                                     idempotency_key="stream-submit")
    details = client.get_application(session, info.number)
    refs = {r.file_name: (r.sha256, r.size) for r in details.application.attachments}
    assert refs == {"charter.pdf": (hashlib.sha256(payload).hexdigest(), len(payload)),
                    "staff.pdf": (hashlib.sha256(b"list of teaching staff").hexdigest(), 22)}


def test_reference_to_a_different_upload_is_still_refused(elicense_env: ElicenseEnv, tmp_path: Path) -> None:
    client, session, person = _session(elicense_env)
    path = tmp_path / "staff.pdf"
    path.write_bytes(b"the real list of teaching staff")
    client.upload_attachment(session, "staff.pdf", path)
    path.write_bytes(b"another list of teaching staff!")
    refs = client.attachment_refs({"staff.pdf": path})
    signed = client.sign_application(elicense_env.form(person).model_copy(update={"attachments": refs}),
                                     person.signing)
    with pytest.raises(AttachmentDigestMismatch) as exc:
        client.register_application(session, signed, idempotency_key="stream-mismatch")
    assert exc.value.field == "staff.pdf"


def test_file_changed_after_digest_is_refused_by_the_client(elicense_env: ElicenseEnv, tmp_path: Path) -> None:
    client, session, _ = _session(elicense_env)
    path = tmp_path / "draft.pdf"
    path.write_bytes(b"A" * 100_000)
    att = Attachment("draft.pdf", path)
    digest = att.sha256
    path.write_bytes(b"B" * 100_000)  # same size, other bytes: the system digests what it got
    with pytest.raises(AttachmentDigestMismatch) as exc:
        client.upload_attachment(session, "draft.pdf", att)
    assert exc.value.field == "draft.pdf" and digest in str(exc.value)

    for size in (100_001, 100_100, 99_000):  # grew or shrank: stopped, the body keeps its Content-Length
        path.write_bytes(b"C" * size)
        with pytest.raises(AttachmentError) as changed:
            client.upload_attachment(session, "draft.pdf", att)
        assert changed.value.field == "draft.pdf" and "changed while being read" in str(changed.value)
        assert not isinstance(changed.value, AttachmentDigestMismatch)


def test_thirty_megabyte_limit_is_checked_before_reading(elicense_env: ElicenseEnv, tmp_path: Path) -> None:
    client, session, person = _session(elicense_env)
    big = tmp_path / "big.pdf"
    with big.open("wb") as fh:  # sparse: nothing is written, nothing would be read
        fh.truncate(ATTACHMENTS_MAX_TOTAL_BYTES + 1)
    with pytest.raises(AttachmentsTooLarge) as exc:
        client.upload_attachment(session, "big.pdf", big)
    assert exc.value.field == "big.pdf" and str(ATTACHMENTS_MAX_TOTAL_BYTES) in str(exc.value)
    assert Attachment("limit.pdf", io.BytesIO(bytes(16)), limit=16).size == 16  # exactly the limit passes

    halves = []
    for name in ("a.pdf", "b.pdf"):
        half = tmp_path / name
        with half.open("wb") as fh:
            fh.truncate(ATTACHMENTS_MAX_TOTAL_BYTES // 2 + 1)
        halves.append(half)
    with pytest.raises(AttachmentsTooLarge) as total:
        client.submit_application(session, elicense_env.form(person), person.signing,
                                  files={"a.pdf": halves[0], "b.pdf": halves[1]}, idempotency_key="too-big")
    assert total.value.field == "attachments"
    with pytest.raises(AttachmentsTooLarge):  # a pipe is read at most limit + 1 bytes
        Attachment("pipe.pdf", io.BufferedReader(_Pipe(bytes(17))), limit=16)
    assert elicense_env.sim.journal.entries(operation="UploadAttachment") == []


def test_reset_during_streamed_upload_is_typed_and_retried(elicense_env: ElicenseEnv, tmp_path: Path,
                                                          payload: bytes) -> None:
    path = tmp_path / "scans.pdf"
    path.write_bytes(payload[: MB])
    plain, session, _ = _session(elicense_env)
    elicense_env.faults.add("reset", operation="UploadAttachment", times=1)
    with pytest.raises(TransportError) as exc:
        plain.upload_attachment(session, "scans.pdf", path)
    assert exc.value.retryable

    retrying = elicense_env.client(caller=ResilientCaller(FAST, sleep=lambda _s: None))
    elicense_env.faults.add("reset", operation="UploadAttachment", when="after", times=1)
    uploaded = retrying.upload_attachment(session, "scans.pdf", path)  # the stream is read again
    assert elicense_env.backend.attachment_content(uploaded.id) == payload[: MB]
    outcomes = [e.outcome for e in elicense_env.sim.journal.entries(operation="UploadAttachment")]
    assert outcomes[-2:] == ["injected:reset", "ok"]


def test_bad_content_type_is_an_attachment_error(elicense_env: ElicenseEnv) -> None:
    client, session, _ = _session(elicense_env)
    with pytest.raises(AttachmentError) as exc:
        client.upload_attachment(session, "name.pdf", "not/a/path/but/a/str")  # type: ignore[arg-type]
    assert exc.value.field == "name.pdf"


# --------------------------------------------------------------------------- the body on the wire

@given(st.binary(max_size=200), st.lists(st.integers(min_value=0, max_value=40), max_size=8))
@settings(max_examples=200, deadline=None)
def test_base64_chunks_equal_base64_of_the_whole(data: bytes, cuts: list[int]) -> None:
    pieces, pos = [], 0
    for cut in cuts:
        pieces.append(data[pos:pos + cut])
        pos += cut
    pieces.append(data[pos:])
    encoded = b"".join(base64_chunks(pieces))
    assert encoded == base64.b64encode(data)
    assert len(encoded) == encoded_length(len(data))


def test_chunked_reading_of_every_source_kind(tmp_path: Path) -> None:
    data = os.urandom(10_007)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    for source in (data, bytearray(data), memoryview(data), path, io.BytesIO(data),
                   io.BufferedReader(_Pipe(data))):
        att = Attachment("f.bin", source, chunk_bytes=999)
        chunks = [bytes(c) for c in att.chunks()]
        assert b"".join(chunks) == data
        assert max(len(c) for c in chunks) <= 999
        assert att.ref().sha256 == hashlib.sha256(data).hexdigest() and att.size == len(data)


class _Echo:
    """A SimServer route answering what it received: length, headers, digest."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, req: Request) -> Response:
        self.bodies.append(req.body)
        self.headers.append(req.headers)
        return Response.text(hashlib.sha256(req.body).hexdigest())


@pytest.fixture
def echo_server() -> Iterator[tuple[SimServer, _Echo]]:
    echo = _Echo()
    router = Router()
    router.add("POST", "/echo", echo)
    server = SimServer(router, name="stream-echo").start()
    try:
        yield server, echo
    finally:
        server.stop()


def test_streamed_envelope_has_an_exact_content_length(echo_server: tuple[SimServer, _Echo]) -> None:
    server, echo = echo_server
    data = os.urandom(MB + 1)
    marker = placeholder()
    envelope = (b'<?xml version="1.0" encoding="UTF-8"?>\n<e:Envelope xmlns:e="urn:x"><e:Content>'
                + marker.encode() + b"</e:Content></e:Envelope>")
    prefix, suffix = split_envelope(envelope, marker)
    body = streamed_envelope(prefix, Attachment("x.bin", data), suffix)
    expected = prefix + base64.b64encode(data) + suffix
    assert len(body) == len(expected)
    with SoapTransport(timeouts=Timeouts(5, 30)) as transport:
        result = transport.post(f"{server.url}/echo", body)
        again = transport.post(f"{server.url}/echo", body)  # re-iterable: a second send reads again
    assert result.body.decode() == again.body.decode() == hashlib.sha256(expected).hexdigest()
    assert echo.bodies[0] == expected
    headers = {k.lower(): v for k, v in echo.headers[0].items()}
    assert headers["content-length"] == str(len(expected)) and "transfer-encoding" not in headers
    parsed = parse_xml(echo.bodies[0], allow_huge=True)
    assert base64.b64decode(parsed[0].text or "") == data
    with pytest.raises(ValueError):
        split_envelope(envelope + marker.encode(), marker)


def test_streamed_body_source_failures_are_local_and_typed(echo_server: tuple[SimServer, _Echo]) -> None:
    server, echo = echo_server

    def failing() -> Iterator[bytes]:
        yield b"x" * 70_000
        raise OSError("disk read error")

    with SoapTransport() as transport:
        with pytest.raises(StreamedBodyError) as exc:
            transport.post(f"{server.url}/echo", StreamedBody(100_000, failing, name="scan.pdf"))
        assert exc.value.field == "scan.pdf" and "OSError" in str(exc.value) and not exc.value.retryable
        with pytest.raises(StreamedBodyError):
            transport.post(f"{server.url}/echo", StreamedBody(3, lambda: [b"abcd"]))
        with pytest.raises(StreamedBodyError):
            transport.post(f"{server.url}/echo", StreamedBody(5, lambda: [b"abc"]))
        ok = transport.post(f"{server.url}/echo", StreamedBody(4, lambda: [b"ab", b"cd"]))
        assert ok.body.decode() == hashlib.sha256(b"abcd").hexdigest()
        empty = transport.post(f"{server.url}/echo", StreamedBody(0, lambda: []))
        assert empty.body.decode() == hashlib.sha256(b"").hexdigest()
    # the server may still be reading the abandoned bodies; none of them reached its declared length
    assert b"abcd" in echo.bodies and b"" in echo.bodies
    assert all(len(b) not in (100_000, 5) for b in echo.bodies)


def test_transport_errors_during_streamed_post_are_typed() -> None:
    release = threading.Event()
    router = Router()

    def reset(req: Request) -> WireFault:
        return WireFault.reset()

    def hang(req: Request) -> Response:
        release.wait(10)
        return Response.text("late")

    router.add("POST", "/reset", reset)
    router.add("POST", "/hang", hang)
    server = SimServer(router, name="stream-faults").start()
    data = os.urandom(600_000)

    def body() -> StreamedBody:
        return StreamedBody(len(data), lambda: (data[i:i + 65_536] for i in range(0, len(data), 65_536)))

    try:
        with SoapTransport() as transport:
            with pytest.raises(TransportError) as reset_exc:
                transport.post(f"{server.url}/reset", body())
            assert reset_exc.value.context["kind"] in {"reset", "empty"}
            with pytest.raises(TransportError) as timeout_exc:  # a number is the attempt's deadline too
                transport.post(f"{server.url}/hang", body(), timeout=1.0)
            assert timeout_exc.value.context["kind"] == "deadline"
            with pytest.raises(TransportError) as read_exc:
                transport.post(f"{server.url}/hang", body(), timeout=Timeouts(5, 1.0))
            assert read_exc.value.context["kind"] == "read-timeout"
    finally:
        release.set()
        url = server.url
        server.stop()
    with SoapTransport() as transport, pytest.raises(TransportError) as refused:
        transport.post(f"{url}/reset", body())
    assert refused.value.context["kind"] == "refused"


def test_content_element_of_the_request_is_the_schema_one(elicense_env: ElicenseEnv) -> None:
    """The split envelope is the client's schema-valid UploadAttachmentRequest."""
    _, session, _ = _session(elicense_env)
    marker = placeholder()
    req = messages.upload_attachment_request(session, "a.pdf", marker)
    assert req.findtext(el("Content")) == marker and req.findtext(el("FileName")) == "a.pdf"
