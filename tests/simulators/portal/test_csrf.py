"""The portal's CSRF guard over HTTP: every state-changing request without the session's token is
refused (403, a page saying why) before any handler runs; the session cookie is HttpOnly and
SameSite=Lax. The browser walks (test_browser.py) post every form with the token."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from simulators.portal import PortalBackends, PortalServer

STATE_CHANGING = ["/register", "/login", "/logout", "/lang", "/api/certificate", "/wizard/territory",
                  "/wizard/personal", "/wizard/upload?document=x&file=x.pdf", "/wizard/payment", "/wizard/pay",
                  "/wizard/send",
                  "/applications/00000001/survey", "/desk/login", "/desk/new", "/desk/applications/00000001/take",
                  "/desk/applications/00000001/decision", "/desk/applications/00000001/decide"]


class Untouched:
    """A backend no refused request may reach."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a request refused for CSRF reached the backend ({name})")


@pytest.fixture(scope="module")
def portal() -> Iterator[PortalServer]:
    backends = PortalBackends(clients=Untouched(), bank=Untouched())  # type: ignore[arg-type]
    with PortalServer(backends) as server:
        yield server


def _session(portal: PortalServer) -> tuple[requests.Session, str]:
    """A browser session of the portal and its CSRF token, as the home page gives them."""
    http = requests.Session()
    home = http.get(portal.url + "/", timeout=10)
    found = re.search(r'"csrf": "([^"]+)"', home.text)
    assert found is not None
    return http, found.group(1)


def test_the_session_cookie_is_httponly_and_samesite(portal: PortalServer) -> None:
    answer = requests.get(portal.url + "/", timeout=10)
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("portal_sid=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("path", STATE_CHANGING)
def test_a_post_without_the_token_is_refused(portal: PortalServer, path: str) -> None:
    http, _token = _session(portal)
    answer = http.post(portal.url + path, data={"login": "kkson.officer", "password": "x"}, timeout=10,
                       allow_redirects=False)
    assert answer.status_code == 403
    assert "CSRF" in answer.text and "Запрос отклонён" in answer.text


@pytest.mark.parametrize("carry", ["field", "header"])
def test_another_sessions_token_is_refused(portal: PortalServer, carry: str) -> None:
    http, _mine = _session(portal)
    _other, theirs = _session(portal)
    if carry == "field":
        answer = http.post(portal.url + "/desk/login", data={"csrf_token": theirs, "login": "x"}, timeout=10)
    else:
        answer = http.post(portal.url + "/wizard/upload?document=x&file=x.pdf", data=b"%PDF",
                           headers={"X-CSRF-Token": theirs}, timeout=10)
    assert answer.status_code == 403


def test_a_post_without_a_session_is_refused(portal: PortalServer) -> None:
    answer = requests.post(portal.url + "/logout", data={"csrf_token": "guessed"}, timeout=10, allow_redirects=False)
    assert answer.status_code == 403


@pytest.mark.parametrize("carry", ["field", "header"])
def test_the_sessions_own_token_passes(portal: PortalServer, carry: str) -> None:
    http, token = _session(portal)
    if carry == "field":
        answer = http.post(portal.url + "/logout", data={"csrf_token": token}, timeout=10, allow_redirects=False)
    else:
        answer = http.post(portal.url + "/logout", headers={"X-CSRF-Token": token}, timeout=10,
                           allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"


def test_a_form_carries_the_token(portal: PortalServer) -> None:
    http, token = _session(portal)
    page = http.get(portal.url + "/desk/login", timeout=10).text
    assert f'name="csrf_token" value="{token}"' in page


class _Officers:
    """E-licensing's employee login, as far as the desk's login page uses it."""

    def __init__(self) -> None:
        self.elicense = self

    def authorize_employee(self, login: str, password: str) -> Any:
        if password != "right":
            from adapters.core.errors import ValidationError

            raise ValidationError("password", "wrong login or password")
        return SimpleNamespace(subject=login, expires_at=dt.datetime.max.replace(tzinfo=dt.UTC))


def test_logging_in_gives_a_new_session_id_and_token() -> None:
    """Session fixation: the id and token a browser held before logging in do not carry the login."""
    backends = PortalBackends(clients=_Officers(), bank=Untouched())  # type: ignore[arg-type]
    with PortalServer(backends) as server:
        http, token = _session(server)
        before = http.cookies["portal_sid"]
        refused = http.post(server.url + "/desk/login", data={"csrf_token": token, "login": "kkson.officer",
                                                             "password": "wrong"}, timeout=10, allow_redirects=False)
        assert refused.status_code == 422 and http.cookies["portal_sid"] == before  # no login, no new id
        answer = http.post(server.url + "/desk/login", data={"csrf_token": token, "login": "kkson.officer",
                                                            "password": "right"}, timeout=10, allow_redirects=False)
        assert answer.status_code == 303 and answer.headers["Location"] == "/desk"
        after = http.cookies["portal_sid"]
        assert after != before
        # the old token no longer passes, the old id is a stranger's new session (not logged in)
        stale = http.post(server.url + "/logout", data={"csrf_token": token}, timeout=10, allow_redirects=False)
        assert stale.status_code == 403
        planted = requests.get(server.url + "/", cookies={"portal_sid": before}, timeout=10)
        assert planted.cookies.get("portal_sid") not in (None, before, after)
        fresh = re.search(r'"csrf": "([^"]+)"', http.get(server.url + "/", timeout=10).text)
        assert fresh is not None and fresh.group(1) != token


def test_the_language_is_switched_by_a_post_with_the_token_back_to_the_same_page(portal: PortalServer) -> None:
    http, token = _session(portal)
    answer = http.post(portal.url + "/lang", data={"csrf_token": token, "lang": "kk"},
                       headers={"Referer": portal.url + "/search?number=KZ1"}, timeout=10, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/search?number=KZ1"
    assert '<html lang="kk">' in http.get(portal.url + "/", timeout=10).text
    assert http.get(portal.url + "/lang/ru", timeout=10).status_code == 404  # no state change on a GET


@pytest.mark.parametrize("referer", ["http://evil.example//evil.example/x", "", "not a url"])
def test_the_language_switch_never_sends_the_browser_elsewhere(portal: PortalServer, referer: str) -> None:
    http, token = _session(portal)
    answer = http.post(portal.url + "/lang", data={"csrf_token": token, "lang": "ru"},
                       headers={"Referer": referer} if referer else {}, timeout=10, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"


def test_an_unknown_language_is_named_in_the_refusal(portal: PortalServer) -> None:
    http, token = _session(portal)
    answer = http.post(portal.url + "/lang", data={"csrf_token": token, "lang": "en"}, timeout=10)
    assert answer.status_code == 422
    assert "lang: not a language of the portal (one of kk, ru)" in answer.text and "&#39;en&#39;" in answer.text
