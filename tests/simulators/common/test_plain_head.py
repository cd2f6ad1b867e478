"""The plain reading of a request head: exactly what h11 reads, for the heads it takes; h11 for the rest."""

from __future__ import annotations

import h11
import pytest

from simulators.common.connection import plain_head
from simulators.common.limits import MAX_BODY_BYTES, MAX_HEADERS, MAX_LINE_BYTES


def _h11_reading(head: bytes) -> tuple[str, str, list[tuple[str, str]], int]:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(head + b"\r\n\r\n")
    event = conn.next_event()
    assert type(event) is h11.Request
    pairs = [(name.decode("ascii"), value.decode("latin-1")) for name, value in event.headers.raw_items()]
    length = next((int(v) for n, v in pairs if n.lower() == "content-length"), 0)
    return event.method.decode(), event.target.decode(), pairs, length


PLAIN = [
    b"GET / HTTP/1.1\r\nHost: a",
    b"POST /elicense/?x=1&y=%20 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: text/xml; charset=utf-8\r\n"
    b"SOAPAction: \"urn:x/Y\"\r\nContent-Length: 12",
    b"POST /x HTTP/1.1\r\nhost: a\r\nX-Empty:\r\nX-Blanks:  \t  value with  inner  blanks \t \r\nContent-Length: 0",
    b"PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5",
    b"DELETE http://a/b HTTP/1.1\r\nHost: a\r\nConnection: keep-alive",
    b"HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close",
]


@pytest.mark.parametrize("head", PLAIN)
def test_a_plain_head_reads_as_h11_reads_it(head: bytes) -> None:
    plain = plain_head(head)
    assert plain is not None
    assert (plain.method, plain.target, plain.pairs, plain.length) == _h11_reading(head)
    assert plain.keep_alive is (b"close" not in head.lower())


NOT_PLAIN = {
    "HTTP/1.0": b"GET / HTTP/1.0\r\nHost: a",
    "HTTP/2": b"GET / HTTP/2.0\r\nHost: a",
    "no Host": b"GET / HTTP/1.1\r\nAccept: */*",
    "two Hosts": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b",
    "chunked": b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked",
    "Expect": b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3",
    "Upgrade": b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket",
    "two lengths": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4",
    "length not digits": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3",
    "body over the limit": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d" % (MAX_BODY_BYTES + 1),
    "folded line": b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c",
    "bare LF inside": b"GET / HTTP/1.1\nHost: a",
    "blank in a name": b"GET / HTTP/1.1\r\nHost: a\r\nX A: b",
    "blank before the colon": b"GET / HTTP/1.1\r\nHost : a",
    "non-ASCII value": "GET / HTTP/1.1\r\nHost: a\r\nX-Name: Әлия".encode(),
    "control byte": b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01c",
    "unknown method": b"PATCH / HTTP/1.1\r\nHost: a",
    "lower-case method": b"get / HTTP/1.1\r\nHost: a",
    "no target": b"GET  HTTP/1.1\r\nHost: a",
    "leading blank line": b"\r\nGET / HTTP/1.1\r\nHost: a",
    "too many headers": b"GET / HTTP/1.1\r\nHost: a" + b"\r\nX-A: b" * MAX_HEADERS,
    "line over the limit": b"GET / HTTP/1.1\r\nHost: a\r\nX-A: " + b"b" * MAX_LINE_BYTES,
}


@pytest.mark.parametrize("head", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_any_other_head_is_left_to_h11(head: bytes) -> None:
    assert plain_head(head) is None
