"""The adapters' session reads proxies, NO_PROXY and the CA bundle once, and merges them as requests does."""

from __future__ import annotations

import pytest
import requests

from adapters.core.transport import EnvironmentSession, SoapTransport, new_session
from adapters.core.trust.revocation import RevocationChecker

URLS = ["http://example.org/x", "https://example.org/y", "http://127.0.0.1:8080/elicense/",
        "http://internal.ministry.kz/soap", "https://localhost/z"]


def _merged(session: requests.Session, url: str, verify: bool | None = None) -> dict[str, object]:
    settings = session.merge_environment_settings(url, {}, None, verify, None)
    return dict(settings)


@pytest.mark.parametrize("env", [
    {},
    {"HTTP_PROXY": "http://proxy:3128", "HTTPS_PROXY": "http://sproxy:3129"},
    {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "127.0.0.1,localhost,.ministry.kz"},
    {"https_proxy": "http://sproxy:3129", "no_proxy": "example.org", "REQUESTS_CA_BUNDLE": "/etc/ca.pem"},
    {"ALL_PROXY": "socks5://all:1080", "NO_PROXY": "*"},
])
def test_merged_settings_are_those_of_a_plain_requests_session(clean_env: pytest.MonkeyPatch,
                                                               env: dict[str, str]) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    ours, plain = new_session(), requests.Session()
    assert isinstance(ours, EnvironmentSession) and ours.trust_env is False
    for url in URLS:
        for _ in range(2):  # the second time from the per-host decision
            assert _merged(ours, url) == _merged(plain, url), url
        assert _merged(ours, url, verify=False) == _merged(plain, url, verify=False), url


def test_environment_is_read_once(clean_env: pytest.MonkeyPatch) -> None:
    session = new_session()
    clean_env.setenv("HTTP_PROXY", "http://late:3128")
    assert _merged(session, "http://example.org/")["proxies"] == {}
    assert _merged(new_session(), "http://example.org/")["proxies"] == {"http": "http://late:3128"}


def test_transports_use_the_environment_session(clean_env: pytest.MonkeyPatch) -> None:
    transport = SoapTransport()
    assert isinstance(transport.session, EnvironmentSession)
    checker = RevocationChecker()
    assert isinstance(checker._session, EnvironmentSession)
    given = requests.Session()
    assert SoapTransport(session=given).session is given  # an injected session is the caller's
    transport.close()
