"""What the network transport takes from the process environment: proxies, the hosts that bypass
them, and the CA bundle for https.

Read once, when a transport is built (:meth:`NetworkEnvironment.from_environ`): a change to the
environment afterwards is not seen by that transport (build a new one).

- ``http_proxy``/``HTTP_PROXY``, ``https_proxy``/``HTTPS_PROXY``: the proxy for targets of that
  scheme; ``all_proxy``/``ALL_PROXY`` for either when its own is not set. The lower-case name wins.
  A proxy without a scheme is ``http://``; ``user:password@`` in it is sent as Proxy-Authorization.
- ``no_proxy``/``NO_PROXY``: comma-separated hosts reached directly, with curl's rules: ``*``
  (every host), a name (that host and its subdomains; a leading ``.`` or ``*.`` is ignored), an IP
  address, a network in CIDR form (``10.0.0.0/8``), each optionally with ``:port``.
- ``REQUESTS_CA_BUNDLE``, else ``CURL_CA_BUNDLE``, else ``SSL_CERT_FILE``: a file (or directory) of
  CA certificates trusted for https instead of the system's store. A named path that does not
  exist is a :class:`~adapters.core.errors.ConfigurationError` when the transport is built.
  Without one, the system's store: OpenSSL's default file and directory (``SSL_CERT_DIR`` names
  another directory), their paths fixed now too.

An empty variable counts as unset.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.core.errors import ConfigurationError

PROXY_KEYS = ("http", "https", "all")
"""The ``*_proxy`` variables read, by their prefix."""

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
"""Where the CA bundle is looked for, first found wins."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _first(environ: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return None


@dataclass(frozen=True)
class NoProxyRule:
    """One entry of ``NO_PROXY``."""

    host: str = ""
    """A lower-case host name or IP address; empty for ``*`` or a network."""
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | None = None
    """Only this port of the host, when given."""

    @classmethod
    def parse(cls, entry: str) -> NoProxyRule:
        text = entry.strip().lower()
        port: int | None = None
        if text.startswith("["):  # [v6] or [v6]:port
            host, _, rest = text[1:].partition("]")
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
            text = host
        elif text.count(":") == 1:  # name:port (an IPv6 address has several colons)
            host, _, port_text = text.partition(":")
            if port_text.isdigit():
                text, port = host, int(port_text)
        if "/" in text:
            try:
                return cls(network=ipaddress.ip_network(text, strict=False), port=port)
            except ValueError:
                pass
        return cls(host=text.removeprefix("*").lstrip("."), port=port)

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:
                return False
        if not self.host:  # "*"
            return True
        return host == self.host or host.endswith("." + self.host) or _same_address(host, self.host)


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


@dataclass(frozen=True)
class NetworkEnvironment:
    """Proxies, NO_PROXY and the CA bundle: the network settings a transport is built with."""

    proxies: Mapping[str, str] = field(default_factory=dict)
    """Proxy URL by key of :data:`PROXY_KEYS` (``all``: for a scheme without its own)."""
    proxy_sources: Mapping[str, str] = field(default_factory=dict)
    """The variable each proxy came from (named in errors)."""
    no_proxy: tuple[NoProxyRule, ...] = ()
    """Hosts reached directly even when a proxy is set."""
    ca_file: str | None = None
    """File of CA certificates trusted for https."""
    ca_dir: str | None = None
    """Directory of CA certificates (hashed names, as OpenSSL reads them) trusted for https."""
    ca_source: str = "system"
    """Where the CA file or directory was named: a variable of :data:`CA_BUNDLE_VARIABLES`, or
    ``system`` (OpenSSL's defaults)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> NetworkEnvironment:
        """The settings in ``environ`` (default: ``os.environ``, now)."""
        env: Mapping[str, str] = os.environ if environ is None else environ
        proxies: dict[str, str] = {}
        sources: dict[str, str] = {}
        for key in PROXY_KEYS:
            found = _first(env, f"{key}_proxy", f"{key.upper()}_PROXY")
            if found is not None:
                sources[key], value = found
                proxies[key] = value if "://" in value else f"http://{value}"
        no_proxy_found = _first(env, "no_proxy", "NO_PROXY")
        rules = tuple(NoProxyRule.parse(entry) for entry in (no_proxy_found[1] if no_proxy_found else "").split(",")
                      if entry.strip())
        ca_found = _first(env, *CA_BUNDLE_VARIABLES)
        if ca_found is not None:
            name, bundle = ca_found
            if not os.path.exists(bundle):
                raise ConfigurationError(f"{name} names a CA bundle that does not exist: {bundle}", setting=name)
            if os.path.isdir(bundle):
                return cls(proxies, sources, rules, None, bundle, name)
            return cls(proxies, sources, rules, bundle, None, name)
        defaults = ssl.get_default_verify_paths()
        ca_file = env.get(defaults.openssl_cafile_env) or defaults.openssl_cafile
        ca_dir = env.get(defaults.openssl_capath_env) or defaults.openssl_capath
        return cls(proxies, sources, rules, ca_file if os.path.isfile(ca_file) else None,
                   ca_dir if os.path.isdir(ca_dir) else None)

    @property
    def ca_bundle(self) -> str | None:
        """The CA file or directory named by a variable of :data:`CA_BUNDLE_VARIABLES` (``None``:
        the system's store)."""
        return None if self.ca_source == "system" else (self.ca_file or self.ca_dir)

    def proxy_for(self, scheme: str, host: str, port: int | None = None) -> str | None:
        """The proxy URL for a target, or ``None`` to connect directly."""
        proxy = self.proxies.get(scheme) or self.proxies.get("all")
        if proxy is None or self.bypasses(host, port if port is not None else _DEFAULT_PORTS.get(scheme, 0)):
            return None
        return proxy

    def bypasses(self, host: str, port: int) -> bool:
        """Whether ``NO_PROXY`` sends ``host:port`` directly."""
        name = host.lower().strip("[]").rstrip(".")
        return any(rule.matches(name, port) for rule in self.no_proxy)
