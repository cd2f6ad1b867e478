"""What a simulator's handler receives (:class:`Request`) and returns (:class:`Response`).

Both are plain values, the same whichever runner carries them: the socket server
(:mod:`simulators.common.httpserver`), an ASGI server (:mod:`simulators.common.asgi`) or the
adapters' in-process transport (:mod:`simulators.common.inprocess`). A handler that must misbehave
on the wire returns a :class:`~simulators.common.wire_fault.WireFault` instead of a Response.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Response:
    """An answer: status, body and headers (``Content-Length`` is added by the runner)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def xml(cls, body: bytes, status: int = 200) -> Response:
        return cls(status, body, {"Content-Type": "text/xml; charset=utf-8"})

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(data, ensure_ascii=False, default=str).encode(),
                   {"Content-Type": "application/json; charset=utf-8"})

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})


@dataclass
class Request:
    """A whole request: the body has been read (any transfer coding removed) before the handler runs.

    ``path`` is the target's path as sent (not percent-decoded); ``query`` its parameters (a
    parameter with an empty value is dropped); ``headers`` are looked up case-insensitively;
    ``client`` is the peer's address.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client: str

    @classmethod
    def from_target(cls, method: str, target: str, headers: dict[str, str], body: bytes,
                    client: str) -> Request:
        """The request for a request target (origin form ``/path?query``, absolute form or ``*``)."""
        path, query = split_target(target)
        return cls(method, path, query, headers, body, client)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


def split_target(target: str) -> tuple[str, dict[str, list[str]]]:
    """The path and the query parameters of a request target (a fragment is dropped)."""
    if target.startswith("//"):
        # as the standard library's server (gh-87389): '//host/x' is not taken for an authority
        target = "/" + target.lstrip("/")
    if target.startswith("/"):
        target = target.partition("#")[0]
        path, _, query = target.partition("?")
    else:  # absolute form (http://host/path) or '*'
        url = urlsplit(target)
        path, query = url.path, url.query
    return path, (parse_qs(query) if query else {})
