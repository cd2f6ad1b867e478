"""``TestPKI``: a root and an issuing CA kept in a directory, issuing NCA-style keys.

Layout of the directory::

    ca.pem            trusted root certificate (give this to relying parties)
    issuing.pem       issuing CA certificate
    root-key.pem      root key (PKCS#8, mode 0600)
    issuing-key.pem   issuing CA key (PKCS#8, mode 0600)
    pki.json          settings: base_url of the CRL/OCSP server
    index.sqlite      issued certificates and revocations

The base URL goes into every issued certificate (AIA OCSP, CRL distribution point). Created
without one, the PKI binds it when first served (``serve(port=0)`` takes the server's URL) or,
failing that, when it first issues a certificate (``DEFAULT_BASE_URL``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError, ValidationError
from adapters.core.identifiers import parse_bin, parse_iin
from adapters.core.trust import roles as nca
from adapters.core.trust.keystore import KeyMaterial
from simulators.common.control_guard import ControlGuard, new_control_token
from simulators.common.httpserver import Router, SimServer
from simulators.common.limits import DEFAULT_LIMITS, ConnectionLimits
from simulators.pki.authority import Authority, make_issuing, make_root
from simulators.pki.crl import build_crl
from simulators.pki.issuance import (
    IssuedKey,
    KeyType,
    SubjectSpec,
    Usage,
    build_certificate,
    generate_key,
)
from simulators.pki.ocsp_responder import OcspResponder
from simulators.pki.server import build_router
from simulators.pki.store import CertificateIndex, CertificateRecord

DEFAULT_BASE_URL = "http://127.0.0.1:8790"
DEFAULT_SURNAME = "TESTOV"
DEFAULT_NAME = "TEST"
DEFAULT_GIVEN_NAME = "TESTOVICH"
DEFAULT_ORG = "TEST ORGANISATION LLP"
CertStatus = Literal["good", "revoked", "unknown"]


class TestPKI:
    """A test PKI modelled on the NCA. Build with :meth:`create` or :meth:`load`."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, directory: Path, *, root: Authority, issuing: Authority, index: CertificateIndex,
                 base_url: str | None, clock: Clock) -> None:
        self.directory = directory
        self.root = root
        self.issuing = issuing
        self.index = index
        self.clock = clock
        self._base_url = base_url
        self.responder = OcspResponder(issuing, index, clock)
        self.control_token: str | None = None
        """The token of the control API of the server :meth:`serve` started last."""

    # ------------------------------------------------------------------ construction

    @classmethod
    def create(cls, directory: Path, *, base_url: str | None = None, clock: Clock = SYSTEM_CLOCK) -> TestPKI:
        directory = Path(directory)
        if (directory / "ca.pem").exists():
            raise ConfigurationError(f"test PKI: {directory} already holds a PKI (ca.pem exists)")
        directory.mkdir(parents=True, exist_ok=True)
        now = clock.now()
        root = make_root(now)
        issuing = make_issuing(root, now)
        root.save(directory / "ca.pem", directory / "root-key.pem")
        issuing.save(directory / "issuing.pem", directory / "issuing-key.pem")
        pki = cls(directory, root=root, issuing=issuing, index=CertificateIndex(directory / "index.sqlite"),
                  base_url=base_url.rstrip("/") if base_url else None, clock=clock)
        pki._save_settings()
        return pki

    @classmethod
    def load(cls, directory: Path, *, clock: Clock = SYSTEM_CLOCK) -> TestPKI:
        directory = Path(directory)
        settings_path = directory / "pki.json"
        if not settings_path.exists():
            raise ConfigurationError(f"test PKI: {directory} holds no PKI (no pki.json); run 'egov pki init'")
        settings = json.loads(settings_path.read_text())
        return cls(directory,
                   root=Authority.load(directory / "ca.pem", directory / "root-key.pem"),
                   issuing=Authority.load(directory / "issuing.pem", directory / "issuing-key.pem"),
                   index=CertificateIndex(directory / "index.sqlite"),
                   base_url=settings.get("base_url"), clock=clock)

    def _save_settings(self) -> None:
        (self.directory / "pki.json").write_text(json.dumps({"base_url": self._base_url}, indent=2))

    def _bind_base_url(self, url: str) -> str:
        if self._base_url is None:
            self._base_url = url.rstrip("/")
            self._save_settings()
        return self._base_url

    # ------------------------------------------------------------------ properties

    @property
    def base_url(self) -> str:
        """URL of the CRL/OCSP server written into issued certificates."""
        return self._base_url or DEFAULT_BASE_URL

    @property
    def base_url_bound(self) -> bool:
        return self._base_url is not None

    @property
    def root_certificate(self) -> x509.Certificate:
        return self.root.certificate

    @property
    def issuing_certificate(self) -> x509.Certificate:
        return self.issuing.certificate

    @property
    def ca_pem_path(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"

    @property
    def crl_url(self) -> str:
        return f"{self.base_url}/crl/issuing.crl"

    # ------------------------------------------------------------------ issuance

    def issue(self, *, iin: str, bin: str | None = None, org: str | None = None,
              surname: str = DEFAULT_SURNAME, given_name: str = DEFAULT_GIVEN_NAME,
              common_name: str | None = None, usage: Usage = "sign", roles: Sequence[str] | None = None,
              days: int = 365, not_before: dt.datetime | None = None, expired: bool = False,
              key_type: KeyType = "rsa") -> IssuedKey:
        """Issue a key pair and certificate in the NCA layout.

        ``roles`` are names or OIDs from :mod:`adapters.core.trust.roles`; by default "individual"
        without a BIN, "legal-entity" + "right-to-sign" with one. ``expired=True`` gives a
        certificate whose validity ended yesterday; a future ``not_before`` a not-yet-valid one.
        """
        iin = parse_iin(iin, field="iin").value
        if bin is not None:
            bin = parse_bin(bin, field="bin").value
            org = org or DEFAULT_ORG
        elif org is not None:
            raise ValidationError("org", "an organisation needs its BIN (pass bin=...)")
        if usage not in ("sign", "auth"):
            raise ValidationError("usage", "must be 'sign' or 'auth'", value=usage)
        if key_type not in ("rsa", "ec"):
            raise ValidationError("key_type", "must be 'rsa' or 'ec'", value=key_type)
        if days < 1:
            raise ValidationError("days", "must be at least 1", value=days)
        if roles is None:
            roles = ("individual",) if bin is None else ("legal-entity", "right-to-sign")
        role_oids = [nca.role_oid(r) for r in roles]

        now = self.clock.now().replace(microsecond=0)
        if expired:
            start = now - dt.timedelta(days=days + 1)
            end = now - dt.timedelta(days=1)
        else:
            start = not_before if not_before is not None else now - dt.timedelta(minutes=5)
            end = start + dt.timedelta(days=days)
        subject = SubjectSpec(iin=iin, surname=surname, given_name=given_name,
                              common_name=common_name or f"{surname} {DEFAULT_NAME}", bin=bin, org=org)
        key = generate_key(key_type)
        base_url = self._bind_base_url(self.base_url)
        cert = build_certificate(self.issuing, subject, key, usage=usage, role_oids=role_oids,
                                 not_before=start, not_after=end, base_url=base_url)
        self.index.add(cert)
        return IssuedKey(KeyMaterial(private_key=key, certificate=cert, chain=(self.issuing.certificate,)))

    # ------------------------------------------------------------------ revocation

    def revoke(self, serial_or_cert: str | int | x509.Certificate | IssuedKey,
               reason: str | x509.ReasonFlags = x509.ReasonFlags.unspecified,
               at: dt.datetime | None = None) -> CertificateRecord:
        """Revoke a certificate issued here (given by hex serial, int serial, certificate or key)."""
        serial = _serial(serial_or_cert)
        if isinstance(reason, str):
            try:
                reason = x509.ReasonFlags(reason)
            except ValueError as exc:
                known = ", ".join(r.value for r in x509.ReasonFlags)
                raise ValidationError("reason", f"unknown revocation reason; known: {known}",
                                      value=reason) from exc
        when = (at or self.clock.now()).replace(microsecond=0)
        return self.index.revoke(serial, when, reason)

    def status(self, serial: str | int | x509.Certificate | IssuedKey) -> CertStatus:
        record = self.index.find(_serial(serial))
        if record is None:
            return "unknown"
        return "revoked" if record.revoked else "good"

    def crl(self) -> x509.CertificateRevocationList:
        now = self.clock.now().replace(microsecond=0)
        return build_crl(self.issuing, self.index.revoked(), now=now, number=int(now.timestamp()))

    def crl_der(self) -> bytes:
        """The current CRL of the issuing CA, DER, signed, with a next update."""
        return self.crl().public_bytes(Encoding.DER)

    # ------------------------------------------------------------------ HTTP

    def router(self, control_token: str) -> Router:
        return build_router(self, ControlGuard(control_token))

    def serve(self, port: int = 0, *, host: str = "127.0.0.1", control_token: str | None = None,
              public_url: str | None = None, limits: ConnectionLimits = DEFAULT_LIMITS) -> SimServer:
        """Start the CRL/OCSP server; a PKI without a base URL takes the server's (public) URL.

        ``control_token``: the token of its control API (revoke, status); a new random one when
        absent, kept in :attr:`control_token`. ``public_url``: the base URL clients use (the
        listening one when absent); ``limits``: what clients may take of the server."""
        self.control_token = control_token or new_control_token()
        server = SimServer(self.router(self.control_token), name="pki", host=host, port=port, limits=limits,
                           public_url=public_url).start()
        self._bind_base_url(server.url)
        return server


def _serial(value: str | int | x509.Certificate | IssuedKey) -> str:
    if isinstance(value, IssuedKey):
        return value.serial
    if isinstance(value, x509.Certificate):
        return format(value.serial_number, "x")
    if isinstance(value, int):
        return format(value, "x")
    text = value.strip().lower().removeprefix("0x").replace(":", "")
    try:
        return format(int(text, 16), "x")
    except ValueError as exc:
        raise ValidationError("serial", "not a hexadecimal serial number", value=value) from exc
