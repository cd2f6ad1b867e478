"""Every adapter the licensing procedure talks through, built ONCE from a manifest or the settings.

:class:`Endpoints` says where the external systems are and which keys and trust anchors to use; it
is what a running simulator landscape writes to its manifest (``harness.landscape``) and what
the settings describe for a real deployment. :class:`ProcedureClients` builds from it, once:

- one signing service with the ministry system's key (gateway transport, GBD UL and payment
  requests);
- one certificate validator with the trust anchors and the revocation policy (Condition 3 of
  Diagram 1 uses it directly) and the verification services on top of it (:class:`TrustServices`,
  which ``egov call gateway`` builds the same way);
- one :class:`ResilientCaller` (retry policy, circuit breakers, exchange journal, metrics) shared by
  every adapter, so that the journal and the metrics see the whole procedure;
- the gateway, payment gateway, Legal Entities and E-licensing clients and the status-notice consumer.

:meth:`ProcedureClients.ports` gives the steps these adapters as the procedure's ports
(:mod:`procedure.ports`), with the applicant's bank and the place artefacts go that the caller gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic import ValidationError as PydanticValidationError

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError
from adapters.core.http import Timeouts
from adapters.core.journal import ExchangeJournal
from adapters.core.metrics import Metrics
from adapters.core.private_files import write_private
from adapters.core.resilience import CircuitBreakerRegistry, ResilientCaller, RetryPolicy
from adapters.core.transport import SoapTransport
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import SignatureConfig, SigningService, VerificationService
from adapters.egov_gateway import GatewayClient
from adapters.elicense import ElicenseClient, StatusNotificationConsumer
from adapters.legal_entities import LegalEntitiesClient
from adapters.payment_gateway import PaymentGatewayClient
from procedure.credentials import Secret, reveal
from procedure.ports import ApplicantBank, Artefacts, ProcedurePorts

MANIFEST_VERSION = 2
"""2: the passwords are references (``{"file": ...}`` or ``{"env": ...}``), never values."""
_SECRET_FIELDS = ("keystore_password", "sender_password", "employee_password")


class Endpoints(BaseModel):
    r"""Where the systems are and which keys to use (the landscape manifest's JSON).

    Control URLs (``*_control_url``) and the control token exist only for simulators; a real
    deployment leaves them empty.
    The passwords are :data:`~procedure.credentials.Secret`\ s: in a manifest, references to where
    they are (a 0600 file beside it, or a variable), resolved when the clients are built; built from
    the settings, the settings' values, held in memory. :meth:`write` writes references only and
    :meth:`read` refuses a manifest holding a password in clear. The manifest itself is written
    readable by its owner only (0600).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = MANIFEST_VERSION
    gateway_url: str
    """Sync channel of the e-Government gateway."""
    gateway_async_url: str | None = None
    payment_gateway_url: str
    elicense_url: str
    pki_url: str | None = None
    """CRL/OCSP server of the (test) PKI."""
    pki_dir: str | None = None
    """Directory of the test PKI (issuance of test keys by other processes); simulators only."""
    trust_anchors: list[str]
    """PEM files of the trusted roots."""
    intermediates: list[str] = Field(default_factory=list)
    revocation_policy: str = "ocsp-then-crl"
    keystore_path: str
    """PKCS#12 of the ministry system's key."""
    keystore_password: Secret
    sender_id: str
    sender_password: Secret | None = None
    requestor_bin: str
    gateway_bin: str | None = None
    """BIN the gateway's transport signatures must carry."""
    payment_gateway_bin: str | None = None
    register_bin: str | None = None
    elicense_bin: str | None = None
    """BIN of E-licensing's system certificate (signs status notices)."""
    employee_password: Secret | None = None
    """Password of the licensors' officers in the E-licensing simulator (``<code>.officer``)."""
    gateway_control_url: str | None = None
    payment_control_url: str | None = None
    elicense_control_url: str | None = None
    pki_control_url: str | None = None
    control_token: str | None = None
    """Token of the simulators' control APIs (``Authorization: Bearer``), one per landscape."""

    # ------------------------------------------------------------------ files

    def write(self, path: str | Path) -> Path:
        """The manifest at ``path``, readable by its owner only (0600), replaced atomically.
        :class:`ConfigurationError` when a password is held as a value (a manifest names where
        passwords are, see :func:`procedure.credentials.write_secret`)."""
        held = [name for name in _SECRET_FIELDS if isinstance(getattr(self, name), SecretStr)]
        if held:
            raise ConfigurationError(f"landscape manifest {path}: {', '.join(held)} held as a value; a manifest "
                                     "holds references to secrets (a file or a variable), never a password",
                                     setting=held[0])
        return write_private(path, self.model_dump_json(indent=2))

    @classmethod
    def read(cls, path: str | Path) -> Endpoints:
        """The manifest at ``path``. :class:`ConfigurationError` when it cannot be read, is of another
        version, or holds a password in clear (its value is not repeated in the message)."""
        source = Path(path)
        try:
            raw = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"landscape manifest {source}: cannot read: {exc}",
                                     setting="manifest") from exc
        if not isinstance(raw, dict):
            raise ConfigurationError(f"landscape manifest {source}: not a JSON object", setting="manifest")
        if raw.get("version") != MANIFEST_VERSION:
            raise ConfigurationError(f"landscape manifest {source}: version {raw.get('version')!r}, "
                                     f"expected {MANIFEST_VERSION} (re-create it: egov sim up)", setting="manifest")
        clear = [name for name in _SECRET_FIELDS if isinstance(raw.get(name), str)]
        if clear:
            raise ConfigurationError(f"landscape manifest {source}: {', '.join(clear)} is a password in clear; "
                                     'a manifest names where it is ({"file": PATH} or {"env": NAME})',
                                     setting=clear[0])
        try:
            return cls.model_validate(raw)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigurationError(f"landscape manifest {source}: {where}: {first['msg']}",
                                     setting=where) from None

    @classmethod
    def from_settings(cls, settings: Any | None = None) -> Endpoints:
        """The endpoints of a deployment, from ``EGOV_*`` settings."""
        from adapters.core.settings import get_settings

        s = settings or get_settings()
        if s.keystore_path is None or not s.trust_anchors:
            raise ConfigurationError("set EGOV_KEYSTORE_PATH, EGOV_KEYSTORE_PASSWORD (or EGOV_KEYSTORE_PASSWORD_FILE) "
                                     "and EGOV_TRUST_ANCHORS, or pass a landscape manifest", setting="keystore_path")
        return cls(gateway_url=s.gateway_url, payment_gateway_url=s.payment_gateway_url,
                   elicense_url=s.elicense_url, pki_url=s.pki_url,
                   trust_anchors=[str(p) for p in s.trust_anchors],
                   intermediates=[str(p) for p in s.intermediates], revocation_policy=str(s.revocation_policy),
                   keystore_path=str(s.keystore_path), keystore_password=s.keystore_password or SecretStr(""),
                   sender_id=s.gateway_sender_id, sender_password=s.gateway_sender_password,
                   requestor_bin=s.requestor_bin, gateway_bin=s.gateway_bin)



@dataclass(frozen=True)
class TrustServices:
    """The trust anchors, the revocation policy and the verification services on top of them, as
    every client of the procedure (and ``egov call gateway``) uses them."""

    revocation: RevocationChecker
    """OCSP/CRL under the endpoints' revocation policy."""
    validator: CertificateValidator
    """Chain, validity and revocation: signed documents, applicants' certificates."""
    verification: VerificationService
    """Signed documents (licences, refusal letters, receipts, notices)."""
    transport_verification: VerificationService
    """Answers' transport signatures: chain and validity, and revocation unless the one documented
    exception is set (``EGOV_CHECK_TRANSPORT_REVOCATION=false``: no OCSP round trip for the systems'
    own certificates). The expected BIN of each system is checked by its client."""

    @classmethod
    def build(cls, endpoints: Endpoints, *, clock: Clock = SYSTEM_CLOCK, revocation_timeout: float = 5.0,
              ocsp_cache_seconds: float | None = None, check_transport_revocation: bool | None = None,
              ocsp_url: str | None = None, crl_url: str | None = None, crl_path: str | None = None,
              signature: SignatureConfig | None = None) -> TrustServices:
        """From ``endpoints``' trust anchors and revocation policy; ``None`` options come from the settings
        (``EGOV_OCSP_CACHE_SECONDS``, ``EGOV_CHECK_TRANSPORT_REVOCATION``). ``ocsp_url``, ``crl_url`` and
        ``crl_path`` replace what certificates name; ``signature`` bounds inbound Timestamps."""
        if ocsp_cache_seconds is None or check_transport_revocation is None:
            from adapters.core.settings import get_settings

            settings = get_settings()
            ocsp_cache_seconds = settings.ocsp_cache_seconds if ocsp_cache_seconds is None else ocsp_cache_seconds
            if check_transport_revocation is None:
                check_transport_revocation = settings.check_transport_revocation
        revocation = RevocationChecker(RevocationPolicy(endpoints.revocation_policy), timeout=revocation_timeout,
                                       clock=clock, ocsp_cache_seconds=ocsp_cache_seconds, ocsp_url=ocsp_url,
                                       crl_url=crl_url, crl_path=crl_path)
        validator = CertificateValidator.from_files(endpoints.trust_anchors, endpoints.intermediates,
                                                    revocation=revocation, clock=clock)
        transport = validator if check_transport_revocation else CertificateValidator(
            validator.trust_anchors, validator.intermediates, clock=clock)
        config = signature or SignatureConfig()
        return cls(revocation, validator, VerificationService(validator, config),
                   VerificationService(transport, config))


@dataclass(frozen=True)
class ClientOptions:
    """How patient the clients are. The defaults suit simulators on 127.0.0.1."""

    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(
        max_attempts=3, max_total_seconds=10.0, initial_backoff=0.05, max_backoff=0.5, jitter=0.02))
    """One retry policy for every exchange of the procedure."""
    timeouts: Timeouts = field(default_factory=lambda: Timeouts(5.0, 30.0, 60.0))
    """Connect and read timeouts of the HTTP transport, and the wall-clock deadline of an attempt."""
    response_max_bytes: int = 4 * 1024 * 1024
    """Byte limit of an answer (payment gateway, E-licensing)."""
    attachment_response_max_bytes: int = 48 * 1024 * 1024
    """Byte limit of an answer that may carry attachments (the gateway's channels)."""
    revocation_timeout: float = 5.0
    """Timeout of one OCSP or CRL request."""
    ocsp_cache_seconds: float | None = None
    """How long an OCSP answer is reused (never past its nextUpdate); None: ``EGOV_OCSP_CACHE_SECONDS``."""
    check_transport_revocation: bool | None = None
    """Whether the certificates behind answers' transport signatures are checked for revocation;
    None: ``EGOV_CHECK_TRANSPORT_REVOCATION``."""
    circuit_failure_threshold: int = 5
    circuit_reset_seconds: float = 30.0
    signature: SignatureConfig = field(default_factory=SignatureConfig)
    """Outgoing Timestamps' lifetime and the clock skew tolerated on inbound ones (the profile is fixed)."""
    ocsp_url: str | None = None
    """OCSP responder to ask instead of the one certificates name."""
    crl_url: str | None = None
    """CRL to fetch instead of the one certificates name."""
    crl_path: str | None = None
    """A local CRL file (offline checks)."""


class ProcedureClients:
    """The adapters of the procedure, built once and shared by every flow. Close when done."""

    def __init__(self, endpoints: Endpoints, *, database_url: str | None = None, clock: Clock = SYSTEM_CLOCK,
                 options: ClientOptions | None = None, metrics: Metrics | None = None,
                 metrics_port: int | None = None) -> None:
        opts = options or ClientOptions()
        self.endpoints = endpoints
        self.clock = clock
        self.key = KeyMaterial.from_pkcs12(endpoints.keystore_path, reveal(endpoints.keystore_password))
        self.signing = SigningService(self.key, opts.signature, clock=clock)
        trust = TrustServices.build(endpoints, clock=clock, revocation_timeout=opts.revocation_timeout,
                                    ocsp_cache_seconds=opts.ocsp_cache_seconds,
                                    check_transport_revocation=opts.check_transport_revocation,
                                    ocsp_url=opts.ocsp_url, crl_url=opts.crl_url, crl_path=opts.crl_path,
                                    signature=opts.signature)
        self.revocation = trust.revocation
        self.validator = trust.validator
        """Chain, validity, revocation: Condition 3, signed licences and refusal letters."""
        self.verification = trust.verification
        self.transport_verification = trust.transport_verification
        self.journal = ExchangeJournal.open(database_url) if database_url else None
        self.metrics = metrics or Metrics()
        self.metrics_server: Any = None
        """Serves ``/metrics`` on 127.0.0.1:``metrics_port`` for Prometheus while the clients live."""
        if metrics_port is not None:
            try:
                self.metrics_server, self.metrics_port = self.metrics.serve(metrics_port)
            except OSError as exc:
                if self.journal is not None:
                    self.journal.close()
                raise ConfigurationError(f"EGOV_METRICS_PORT: cannot serve metrics on 127.0.0.1:{metrics_port}: "
                                         f"{exc.strerror or exc} (another process holds the port? choose another "
                                         "or unset it)", setting="metrics_port") from exc
        self.caller = ResilientCaller(
            opts.retry, CircuitBreakerRegistry(opts.circuit_failure_threshold, opts.circuit_reset_seconds, clock),
            journal=self.journal, metrics=self.metrics, clock=clock)
        sender_password = reveal(endpoints.sender_password) if endpoints.sender_password is not None else None
        self.gateway = GatewayClient(endpoints.gateway_url, signing=self.signing,
                                     verification=self.transport_verification, sender_id=endpoints.sender_id,
                                     sender_password=sender_password,
                                     caller=self.caller,
                                     async_endpoint_url=endpoints.gateway_async_url, timeouts=opts.timeouts,
                                     clock=clock, expect_bin=endpoints.gateway_bin,
                                     max_answer_bytes=opts.attachment_response_max_bytes)
        self.payment = PaymentGatewayClient(endpoints.payment_gateway_url, signer=self.signing,
                                            verifier=self.transport_verification,
                                            receipt_verifier=self.verification, caller=self.caller,
                                            transport=SoapTransport(timeouts=opts.timeouts,
                                                                    max_response_bytes=opts.response_max_bytes),
                                            sender_id=endpoints.sender_id, sender_password=sender_password,
                                            expect_gateway_bin=endpoints.payment_gateway_bin, clock=clock)
        self.legal_entities = LegalEntitiesClient(self.gateway, signer=self.signing,
                                                  verifier=self.transport_verification,
                                                  requestor_bin=endpoints.requestor_bin,
                                                  expect_register_bin=endpoints.register_bin)
        self.elicense = ElicenseClient(endpoints.elicense_url, verification=self.verification, caller=self.caller,
                                       timeouts=opts.timeouts, sender_id=endpoints.sender_id, clock=clock,
                                       max_response_bytes=opts.response_max_bytes)
        self.notifications = StatusNotificationConsumer(self.gateway, self.verification,
                                                        expect_bin=endpoints.elicense_bin)

    def ports(self, *, bank: ApplicantBank, artefacts: Artefacts) -> ProcedurePorts:
        """The procedure's ports: E-licensing, the payment gateway, Legal Entities, certificate
        validation and the status notices from these adapters; ``bank`` and ``artefacts`` as given; the
        exchange journal, which the flow runner batches per step."""
        return ProcedurePorts(elicense=self.elicense, payment=self.payment, legal_entities=self.legal_entities,
                              certificates=self.validator, notices=self.notifications, bank=bank,
                              artefacts=artefacts, clock=self.clock, journal=self.journal)

    @classmethod
    def from_manifest(cls, path: str | Path, **kwargs: Any) -> ProcedureClients:
        return cls(Endpoints.read(path), **kwargs)

    @classmethod
    def from_settings(cls, settings: Any | None = None, **kwargs: Any) -> ProcedureClients:
        from adapters.core.settings import get_settings

        s = settings or get_settings()
        kwargs.setdefault("database_url", s.database_url)
        return cls(Endpoints.from_settings(s), **kwargs)

    def close(self) -> None:
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
        self.elicense.close()
        self.payment.close()
        self.gateway.close()
        if self.journal is not None:
            self.journal.close()

    def __enter__(self) -> ProcedureClients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
