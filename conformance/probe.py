"""What the checks talk through: the adapters, built from the deployment's endpoints and keys, without
retries (a retry would hide what the endpoint answered: every call is one attempt), and a recorder
of the raw answers.

The endpoints and the organisation's keys come from :class:`procedure.clients.Endpoints` (the
``EGOV_*`` settings or a landscape manifest), the one place where a deployment names its URLs,
keystore, sender and trust anchors; the command's URLs replace the endpoints' own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.http import HttpResult, HttpTransport, NetworkTransport, StreamedBody, Timeouts
from adapters.core.resilience import ResilientCaller, RetryPolicy
from adapters.core.transport import SoapTransport
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.xmlsig import SigningService
from adapters.egov_gateway import GatewayClient
from adapters.elicense import ElicenseClient
from adapters.legal_entities import LegalEntitiesClient
from adapters.payment_gateway import PaymentGatewayClient
from procedure.clients import Endpoints, TrustServices
from procedure.credentials import reveal

__all__ = ["Exchange", "Probe", "Recorder"]


@dataclass(frozen=True)
class Exchange:
    """One request and its answer as they crossed the wire."""

    method: str
    url: str
    request: bytes | None
    result: HttpResult


@dataclass
class Recorder:
    """An :class:`HttpTransport` in front of the network that keeps the exchanges of this thread."""

    inner: HttpTransport = field(default_factory=NetworkTransport)
    _local: threading.local = field(default_factory=threading.local)

    def request(self, method: str, url: str, *, body: bytes | StreamedBody | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
                raise_for_status: bool = False, max_bytes: int | None = None) -> HttpResult:
        result = self.inner.request(method, url, body=body, headers=headers, timeout=timeout,
                                    raise_for_status=raise_for_status, max_bytes=max_bytes)
        self.seen.append(Exchange(method, url, body if isinstance(body, bytes) else None, result))
        return result

    @property
    def seen(self) -> list[Exchange]:
        if not hasattr(self._local, "seen"):
            self._local.seen = []
        found: list[Exchange] = self._local.seen
        return found

    def last(self) -> Exchange:
        return self.seen[-1]

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class Probe:
    """The clients of the systems under test, built once; close when done."""

    def __init__(self, endpoints: Endpoints, *, timeouts: Timeouts | None = None, clock: Clock = SYSTEM_CLOCK,
                 look_up_bin: str | None = None) -> None:
        self.endpoints = endpoints
        self.clock = clock
        self.look_up_bin = look_up_bin or endpoints.requestor_bin
        """A BIN the register holds (our own by default: the ministry is a legal entity)."""
        self.timeouts = timeouts or Timeouts(5.0, 30.0, 60.0)
        self.key = KeyMaterial.from_pkcs12(endpoints.keystore_path, reveal(endpoints.keystore_password))
        self.signing = SigningService(self.key, clock=clock)
        self.trust = TrustServices.build(endpoints, clock=clock)
        self.recorder = Recorder(NetworkTransport(timeouts=self.timeouts, max_response_bytes=64 * 1024 * 1024))
        self.soap = SoapTransport(timeouts=self.timeouts, http=self.recorder)
        self.sender_password = reveal(endpoints.sender_password) if endpoints.sender_password is not None else None
        self.gateway = self.gateway_client()
        self.legal_entities = LegalEntitiesClient(self.gateway, signer=self.signing,
                                                  verifier=self.trust.transport_verification,
                                                  requestor_bin=endpoints.requestor_bin,
                                                  expect_register_bin=endpoints.register_bin)

    @cached_property
    def payment(self) -> PaymentGatewayClient:
        """Built when a payment check needs it (it needs our sender's password at the payment gateway)."""
        e = self.endpoints
        return PaymentGatewayClient(e.payment_gateway_url, signer=self.signing,
                                    verifier=self.trust.transport_verification,
                                    receipt_verifier=self.trust.verification, transport=self.soap,
                                    sender_id=e.sender_id, sender_password=self.sender_password,
                                    expect_gateway_bin=e.payment_gateway_bin, clock=self.clock,
                                    caller=self._single_attempt())

    @cached_property
    def elicense(self) -> ElicenseClient:
        return ElicenseClient(self.endpoints.elicense_url, verification=self.trust.verification,
                              transport=self.soap, sender_id=self.endpoints.sender_id, clock=self.clock)

    def gateway_client(self, *, sender_password: str | None = None) -> GatewayClient:
        """A gateway client on the recorder (another sender password: to see the gateway refuse it)."""
        return GatewayClient(self.endpoints.gateway_url, signing=self.signing,
                             verification=self.trust.transport_verification, sender_id=self.endpoints.sender_id,
                             sender_password=sender_password if sender_password is not None else self.sender_password,
                             transport=self.soap, async_endpoint_url=self.endpoints.gateway_async_url,
                             clock=self.clock, expect_bin=self.endpoints.gateway_bin, caller=self._single_attempt())

    def _single_attempt(self) -> ResilientCaller:
        """A check sees the endpoint's first answer: a retry would hide what it answered."""
        return ResilientCaller(RetryPolicy.no_retry(), clock=self.clock)

    def close(self) -> None:
        self.soap.close()
        self.recorder.close()

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
