"""``/readyz``: can the service do its work right now? One check per dependency, each with a timeout.

- ``database``: the exchange journal's database answers ``SELECT 1`` (every exchange is journalled:
  without it the service refuses calls, EGOV121);
- ``pki``: the organisation's own certificate is valid and its revocation status is obtainable
  from the PKI (OCSP and/or CRL, under the revocation policy; a cached OCSP answer counts), or, with
  the policy ``none``, the PKI URL answers over HTTP;
- ``gateway``: the e-Government gateway answers HTTP (``GET <sync endpoint>?wsdl``) with a status below 500;
- ``broker`` (only with ``EGOV_BROKER_URL``): the task queue's broker answers a ping.

The checks run side by side; the service is ready when all pass.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from adapters.core.errors import EgovError, SignatureRefused
from adapters.core.http import NetworkTransport, Timeouts
from adapters.core.trust.revocation import RevocationPolicy
from procedure.clients import ProcedureClients


class Check(BaseModel):
    ok: bool
    detail: str
    latency_ms: float = Field(description="how long the check took")


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]


class ReadinessChecks:
    """The checks over the runtime's clients; one pooled transport for the probes. Close when done."""

    def __init__(self, clients: ProcedureClients, *, timeout: float,
                 broker: Callable[[], bool | None] | None = None) -> None:
        """``broker``: asks the task queue's broker (a check named ``broker`` when given)."""
        self.clients = clients
        self.broker_ping = broker
        self.timeout = timeout
        self._transport = NetworkTransport(timeouts=Timeouts(timeout, timeout))
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._transport.close()

    def _http(self, url: str) -> tuple[bool, str]:
        try:
            answer = self._transport.request("GET", url, timeout=self.timeout)
        except EgovError as exc:
            return False, f"{url}: {exc.code}: {exc}"
        return answer.status < 500, f"{url}: HTTP {answer.status}"

    def database(self) -> tuple[bool, str]:
        journal = self.clients.journal
        if journal is None:
            return False, "no database configured (EGOV_DATABASE_URL)"
        try:
            with journal.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return False, f"{journal.engine.url.render_as_string(hide_password=True)}: {type(exc).__name__}: {exc}"
        return True, f"{journal.engine.url.render_as_string(hide_password=True)} answers"

    def pki(self) -> tuple[bool, str]:
        key = self.clients.key
        if self.clients.revocation.policy is RevocationPolicy.NONE:
            url = self.clients.endpoints.pki_url
            return self._http(url) if url else (True, "revocation policy none and no PKI URL: nothing to ask")
        try:
            who = self.clients.validator.validate(key.certificate, chain=key.chain, usage=None)
        except SignatureRefused as exc:
            return False, f"our certificate: {exc.message}"
        return True, f"our certificate (serial {who.serial}) is valid and not revoked " \
                     f"(policy {self.clients.revocation.policy.value})"

    def gateway(self) -> tuple[bool, str]:
        return self._http(self.clients.endpoints.gateway_url.rstrip("?") + "?wsdl")

    def broker(self) -> tuple[bool, str]:
        ok = self.broker_ping() if self.broker_ping is not None else None
        return bool(ok), "the task queue's broker answers" if ok else "the task queue's broker does not answer"

    def run(self) -> Readiness:
        named: dict[str, Callable[[], tuple[bool, str]]] = {
            "database": self.database, "pki": self.pki, "gateway": self.gateway}
        if self.broker_ping is not None:
            named["broker"] = self.broker
        futures = {name: self._pool.submit(_timed, check) for name, check in named.items()}
        checks: dict[str, Check] = {}
        for name, future in futures.items():
            try:
                checks[name] = future.result(timeout=self.timeout * 4)
            except concurrent.futures.TimeoutError:
                checks[name] = Check(ok=False, detail=f"no result within {self.timeout * 4:g} s", latency_ms=0.0)
        return Readiness(ready=all(c.ok for c in checks.values()), checks=checks)


def _timed(check: Callable[[], tuple[bool, str]]) -> Check:
    started = time.perf_counter()
    try:
        ok, detail = check()
    except Exception as exc:  # a check that fails unexpectedly says "not ready", it does not crash /readyz
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Check(ok=ok, detail=detail, latency_ms=round((time.perf_counter() - started) * 1000, 3))
