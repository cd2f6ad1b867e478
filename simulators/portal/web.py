"""Plumbing of server-rendered pages on the simulators' HTTP runner: forms, cookies, redirects, HTML.

The portal serves its pages with the project's one HTTP/1.1 server (``simulators.common``'s
``SimServer`` and ``Router``: a request in, a response out), so its limits (head and body sizes,
timeouts, connections) are the simulators'.
"""

from __future__ import annotations

import json
import mimetypes
import re
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from simulators.common.messages import Request, Response


def form(req: Request) -> dict[str, list[str]]:
    """The fields of an ``application/x-www-form-urlencoded`` body (blank values kept)."""
    return parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)


def field(fields: dict[str, list[str]], name: str, default: str = "") -> str:
    values = fields.get(name)
    return values[0].strip() if values else default


def cookie(req: Request, name: str) -> str | None:
    raw = req.headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def set_cookie(resp: Response, name: str, value: str) -> Response:
    resp.headers["Set-Cookie"] = f"{name}={value}; Path=/; HttpOnly; SameSite=Lax"
    return resp


def html(body: str, status: int = 200) -> Response:
    return Response(status, body.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8",
                                                   "Cache-Control": "no-store"})


def redirect(location: str) -> Response:
    return Response(303, b"", {"Location": location})


def same_site_path(referer: str | None) -> str:
    """Where to send the browser back to: the path and query of ``referer`` on this site, never an
    address elsewhere (``//host/...`` would be one), ``/`` when there is none."""
    if not referer:
        return "/"
    parts = urlsplit(referer)
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else "/"
    return f"{path}?{parts.query}" if parts.query else path


def json_answer(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode("utf-8"),
                    {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"})


def document(body: bytes, content_type: str, filename: str, *, download: bool) -> Response:
    """A file opened in the browser (``inline``) or saved (``attachment``), under ``filename`` (RFC 6266:
    an ASCII stand-in for old browsers, the UTF-8 name for the others)."""
    disposition = "attachment" if download else "inline"
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", filename)
    return Response(200, body, {"Content-Type": content_type,
                                "Content-Disposition": f"{disposition}; filename=\"{plain}\"; "
                                                       f"filename*=UTF-8''{quote(filename)}"})


INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"})
"""Kinds of uploaded files a browser may show in the portal's origin: they run no script there. Any
other upload (HTML, SVG, scripts) is only ever saved."""


def attached_file(body: bytes, filename: str, *, download: bool) -> Response:
    """A file an applicant uploaded, with the content type of its name: opened in the browser only when
    its kind is harmless (:data:`INLINE_TYPES`), else saved; never sniffed as another kind."""
    kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    inline = kind in INLINE_TYPES and not download
    resp = document(body, f"{kind}; charset=utf-8" if kind == "text/plain" else kind, filename, download=not inline)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def static_file(folder: Path, name: str) -> Response:
    """A file of ``folder`` (no path outside it), with its content type; 404 otherwise."""
    target = (folder / name).resolve()
    if folder.resolve() not in target.parents or not target.is_file():
        return Response.text("not found", 404)
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    return Response(200, target.read_bytes(), {"Content-Type": kind, "Cache-Control": "max-age=60"})
