"""Proxies, NO_PROXY and the CA bundle come from the environment, read once when a transport is built.

Over real loopback servers: a proxy named by the environment receives the request (absolute-form,
or a CONNECT for https), NO_PROXY sends it straight to the server, an https server is trusted
through the CA bundle the environment names, and a change to the environment after the transport
was built is not seen.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.core.errors import ConfigurationError, TransportError
from adapters.core.http import InProcessTransport, NetworkEnvironment, NetworkTransport
from adapters.core.transport import SoapTransport
from adapters.core.trust.revocation import RevocationChecker
from tests.fixtures.loopback import ANSWER, RecordingServer


@pytest.fixture
def origin() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


# --------------------------------------------------------------------------- what is read

URLS = ["http://example.org/x", "https://example.org/y", "http://127.0.0.1:8080/elicense/",
        "http://internal.ministry.kz/soap", "https://localhost/z"]


@pytest.mark.parametrize(("env", "expected"), [
    ({}, [None] * 5),
    ({"HTTP_PROXY": "http://proxy:3128", "HTTPS_PROXY": "http://sproxy:3129"},
     ["http://proxy:3128", "http://sproxy:3129", "http://proxy:3128", "http://proxy:3128", "http://sproxy:3129"]),
    ({"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "127.0.0.1,localhost,.ministry.kz"},
     ["http://proxy:3128", None, None, None, None]),
    ({"https_proxy": "http://sproxy:3129", "no_proxy": "example.org"}, [None, None, None, None, "http://sproxy:3129"]),
    ({"ALL_PROXY": "socks5://all:1080", "NO_PROXY": "*"}, [None] * 5),
    ({"ALL_PROXY": "proxy:8080", "https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2",
      "NO_PROXY": "127.0.0.0/8:8080, internal.ministry.kz:80"},
     ["http://proxy:8080", "http://lower:1", None, None, "http://lower:1"]),
])
def test_the_proxy_for_each_url(clean_env: pytest.MonkeyPatch, env: dict[str, str],
                                expected: list[str | None]) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    environment = NetworkEnvironment.from_environ()
    for url, proxy in zip(URLS, expected, strict=True):
        scheme, _, rest = url.partition("://")
        host, _, port = rest.split("/", 1)[0].partition(":")
        assert environment.proxy_for(scheme, host, int(port) if port else None) == proxy, url


@pytest.mark.parametrize(("no_proxy", "host", "port", "bypassed"), [
    ("example.org", "example.org", 80, True), ("example.org", "www.example.org", 80, True),
    ("example.org", "badexample.org", 80, False), (".example.org", "example.org", 80, True),
    ("*.example.org", "a.example.org", 80, True), ("example.org:8080", "example.org", 80, False),
    ("10.0.0.0/8", "10.1.2.3", 80, True), ("10.0.0.0/8", "11.1.2.3", 80, False),
    ("::1", "[::1]", 80, True), ("[::1]:8080", "::1", 8080, True), ("EXAMPLE.org", "Example.ORG", 80, True),
])
def test_no_proxy_rules(no_proxy: str, host: str, port: int, bypassed: bool) -> None:
    environment = NetworkEnvironment.from_environ({"NO_PROXY": no_proxy})
    assert environment.bypasses(host, port) is bypassed


def test_the_ca_bundle_variables_in_order(tmp_path: Path) -> None:
    files = {name: tmp_path / f"{name}.pem" for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")}
    for path in files.values():
        path.write_bytes(b"")
    env = {name: str(path) for name, path in files.items()}
    assert NetworkEnvironment.from_environ(env).ca_bundle == env["REQUESTS_CA_BUNDLE"]
    assert NetworkEnvironment.from_environ({**env, "REQUESTS_CA_BUNDLE": ""}).ca_bundle == env["CURL_CA_BUNDLE"]
    assert NetworkEnvironment.from_environ({"SSL_CERT_FILE": env["SSL_CERT_FILE"]}).ca_bundle == env["SSL_CERT_FILE"]
    system = NetworkEnvironment.from_environ({})
    assert system.ca_bundle is None and system.ca_source == "system"
    assert NetworkEnvironment.from_environ({"SSL_CERT_DIR": str(tmp_path)}).ca_dir == str(tmp_path)  # OpenSSL's
    in_directory = NetworkEnvironment.from_environ({"REQUESTS_CA_BUNDLE": str(tmp_path)})
    assert (in_directory.ca_dir, in_directory.ca_file, in_directory.ca_bundle) == (str(tmp_path), None, str(tmp_path))
    with pytest.raises(ConfigurationError, match="CURL_CA_BUNDLE") as exc:
        NetworkEnvironment.from_environ({"CURL_CA_BUNDLE": str(tmp_path / "missing.pem")})
    assert exc.value.context["setting"] == "CURL_CA_BUNDLE"


def test_transports_read_the_environment_when_built(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HTTP_PROXY", "http://proxy:3128")
    transport = SoapTransport()
    assert isinstance(transport.http, NetworkTransport)
    assert transport.http.environment.proxies == {"http": "http://proxy:3128"}
    checker = RevocationChecker()
    assert isinstance(checker._http, NetworkTransport)
    assert checker._http.environment.proxies == {"http": "http://proxy:3128"}
    given = InProcessTransport(lambda request: pytest.fail("not called"))
    assert SoapTransport(http=given).http is given  # a given transport is the caller's
    transport.close()


# --------------------------------------------------------------------------- over the wire

def test_the_proxy_of_the_environment_is_used(clean_env: pytest.MonkeyPatch, origin: RecordingServer,
                                              proxy: RecordingServer) -> None:
    clean_env.setenv("http_proxy", f"http://agent:s%40cret@127.0.0.1:{proxy.port}")
    with SoapTransport() as transport:
        result = transport.post(f"http://127.0.0.1:{origin.port}/svc", b"<e/>", soap_action="urn:a")
        # hosts that do not resolve here: only the proxy connects to them
        transport.post("http://example.org/a b?x=1&y=%20", b"", headers={"X-Trace": "t1"})
        transport.request("GET", "http://bücher.example/wsdl?wsdl")
        transport.post("http://user:p%40ss@example.org/soap", b"<e/>")
    assert result.body == ANSWER and origin.received == []
    svc, spaced, idna, credentials = proxy.received
    assert svc.target == f"http://127.0.0.1:{origin.port}/svc" and svc.body == b"<e/>"
    assert svc.header("SOAPAction") == '"urn:a"' and svc.header("Host") == f"127.0.0.1:{origin.port}"
    assert svc.header("Proxy-Authorization") == "Basic YWdlbnQ6c0BjcmV0"  # agent:s@cret
    assert spaced.target == "http://example.org/a%20b?x=1&y=%20" and spaced.header("X-Trace") == "t1"
    assert spaced.header("Content-Length") == "0"
    assert idna.target == "http://xn--bcher-kva.example/wsdl?wsdl"
    assert credentials.target == "http://example.org/soap"
    assert credentials.header("Authorization") == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert len({r.client_port for r in proxy.received}) == 1  # one pooled connection to the proxy


def test_https_goes_through_the_proxy_in_a_tunnel(clean_env: pytest.MonkeyPatch, proxy: RecordingServer) -> None:
    clean_env.setenv("HTTPS_PROXY", f"127.0.0.1:{proxy.port}")  # no scheme: http://
    with SoapTransport() as transport, pytest.raises(TransportError) as exc:
        transport.post("https://example.org/soap", b"<e/>")
    assert exc.value.context["kind"] == "connection" and "502" in str(exc.value)
    [tunnel] = proxy.received
    assert (tunnel.method, tunnel.target) == ("CONNECT", "example.org:443")


def test_no_proxy_goes_straight_to_the_server(clean_env: pytest.MonkeyPatch, origin: RecordingServer,
                                              proxy: RecordingServer) -> None:
    clean_env.setenv("HTTP_PROXY", proxy.url)
    clean_env.setenv("NO_PROXY", "localhost, .ministry.kz")
    with SoapTransport() as transport:
        transport.post(f"http://localhost:{origin.port}/direct", b"<d/>")
        transport.post(f"http://127.0.0.1:{origin.port}/proxied", b"<p/>")
    assert [r.target for r in origin.received] == ["/direct"]
    assert [r.target for r in proxy.received] == [f"http://127.0.0.1:{origin.port}/proxied"]


def test_a_changed_environment_is_not_seen(clean_env: pytest.MonkeyPatch, origin: RecordingServer,
                                           proxy: RecordingServer) -> None:
    transport = NetworkTransport()
    clean_env.setenv("HTTP_PROXY", proxy.url)
    transport.request("GET", origin.url + "/built-before")
    later = NetworkTransport()
    clean_env.setenv("NO_PROXY", "127.0.0.1")
    later.request("GET", origin.url + "/built-after")
    assert [r.target for r in origin.received] == ["/built-before"]
    assert [r.target for r in proxy.received] == [origin.url + "/built-after"]
    transport.close()
    later.close()


def test_an_unsupported_proxy_is_refused_when_used(clean_env: pytest.MonkeyPatch, origin: RecordingServer) -> None:
    clean_env.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    clean_env.setenv("NO_PROXY", "localhost")
    transport = NetworkTransport()  # built: the proxy may never be needed
    assert transport.request("GET", f"http://localhost:{origin.port}/bypassed").status == 200
    with pytest.raises(ConfigurationError, match="socks5") as exc:
        transport.request("GET", origin.url + "/through-socks")
    assert exc.value.context["setting"] == "ALL_PROXY"
    assert [r.target for r in origin.received] == ["/bypassed"]
    transport.close()


# --------------------------------------------------------------------------- the CA bundle

def _issue_tls(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA (written to ``ca.pem``) and a server context with a certificate it issued for 127.0.0.1."""
    now = dt.datetime.now(dt.UTC)

    def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey,
                    ca: bool) -> x509.Certificate:
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                            critical=True)
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                            critical=False)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("test CA", ca_key, "test CA", ca_key, ca=True)
    server_cert = certificate("127.0.0.1", server_key, "test CA", ca_key, ca=False)
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server.pem").write_bytes(
        server_cert.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem")
    return tmp_path / "ca.pem", context


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_the_ca_bundle_of_the_environment_is_trusted(clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                                     variable: str) -> None:
    ca_file, context = _issue_tls(tmp_path)
    with RecordingServer(tls=context) as server:
        untrusted = NetworkTransport()  # the system's store: our test CA is not in it
        with pytest.raises(TransportError) as exc:
            untrusted.request("GET", server.url + "/before")
        assert exc.value.context["kind"] == "connection" and "CERTIFICATE_VERIFY_FAILED" in str(exc.value)
        clean_env.setenv(variable, str(ca_file))
        with pytest.raises(TransportError):  # built before the variable was set
            untrusted.request("GET", server.url + "/still-before")
        trusting = NetworkTransport()
        result = trusting.request("POST", server.url + "/after", body=b"<e/>")
        untrusted.close()
        trusting.close()
    assert (result.status, result.body) == (200, ANSWER)
    assert [(r.target, r.body) for r in server.received] == [("/after", b"<e/>")]
