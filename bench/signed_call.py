"""Bench a: the client's cost of one signed gateway call, as production makes it, and its peers.

**The production call** is :meth:`GatewayClient.send_message` of the gateway client exactly as
:class:`~procedure.clients.ProcedureClients` builds it for the procedure, ``egov serve`` and
``egov worker``: the default :class:`~procedure.clients.ClientOptions` (retry policy, timeouts,
circuit breakers), the :class:`ResilientCaller` journalling every attempt to a SQLite file (one
transaction per attempt: a direct call is not inside a flow's step batch), Prometheus metrics, the
production HTTP transport (keep-alive, httptools' answer parser), sent over real loopback HTTP to the gateway
simulator with an :class:`EchoBackend` in a **subprocess** (bench e's server: it verifies the
request and signs its answer). Its figure is the client process's **CPU time** per call
(``time.process_time``: the simulator's work and the waiting are not in it); the wall time per
call is shown beside it. The bench PKI serves no revocation, so the endpoints' revocation policy
is "none" (chain and validity are checked; an OCSP answer would be cached for 60 s in production
anyway).

**The bare signing path** is the same client method with its HTTP transport replaced by a canned
one that hands back a reply signed beforehand by the simulator's signing service, and no caller
(no retry wrapper, journal or metrics): build the SendMessage request (with lxml,
``adapters.egov_gateway.messages``), sign it (``SigningService.sign_envelope``: Timestamp + Body,
RSA-SHA256, exclusive c14n), run the reply through the response pipeline (hardened parse, Fault
check, ``VerificationService.verify_envelope`` with the certificate chain checked and revocation
policy "none", schema validation) and read it into a ``SyncResponse``. Nothing is cached between
calls that the real client would not cache: the schemas and the keys are loaded once, and the
counterpart's certificate (parsed, its chain path) is remembered as in production, its validity
and the expectations checked on every call.

**zeep as shipped** is the same call made the common way: a ``zeep.Client`` on the same WSDL with
zeep's own WS-Security plugin ``zeep.wsse.signature.Signature`` (key and certificate PEM files,
its default algorithms RSA-SHA1 and SHA-1 digests; it rebuilds its xmlsec keys from the PEM bytes
on every call), which zeep applies on ``create_message``, the reply run through zeep's own
``process_reply`` (zeep's parser, ``wsse.verify``, deserialisation), with the same canned reply.
**zeep at its best** is the same with the plugin's keys made once and the profile ours uses
(RSA-SHA256, SHA-256 digests): zeep's own module functions ``_sign_envelope_with_key`` and
``_verify_envelope_with_key`` with keys built once (:class:`_KeysOnce`). Both zeep peers are
compared with the bare path (no HTTP, no journal on either side).

One adaptation was needed, documented here: the shipped plugin verifies replies with the *same*
certificate it signs with (``MemorySignature.verify`` uses ``cert_data``), which cannot verify a
counterpart's reply. So the zeep client gets a plugin pair: one ``Signature`` (our key, our
certificate) whose ``apply`` signs, and one ``Signature`` (our key file, the gateway's
certificate) whose ``verify`` checks the reply — both unmodified zeep code. zeep's way checks
less than ours (no Timestamp, no certificate chain, no schema), so the ratios flatter zeep.

Every figure is a median of 5 interleaved repeats (200 calls each; 100 for the production call),
in CPU time of this process, divided by the crypto floor measured in the same repeats (one
RSA-2048 PKCS#1 v1.5 SHA-256 signature plus one verification with ``cryptography``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from lxml import etree

from bench import (
    ECHO_SERVICE,
    GATEWAY_BIN,
    SENDER_BIN,
    SENDER_ID,
    SENDER_PASSWORD,
    BenchKeys,
    Row,
    Timing,
    crypto_floor,
    load_average,
    make_keys,
    timed_interleaved,
)
from bench.payloads import application_data

MESSAGE_ID = "7f6c1c62-3c55-4a55-9a49-5e0b7d7a0001"
SESSION_ID = "0d4c3a9e-2b1f-4c7e-9a55-3f1e2d4c5b6a"
def signed_reply(keys: BenchKeys, message_id: str = MESSAGE_ID) -> bytes:
    """A SendMessageResponse echoing the application, signed by the simulator's signing service."""
    from adapters.core.xmlsig import SigningService
    from simulators.egov_gateway.backend import EchoBackend
    from simulators.egov_gateway.wire import sync_response

    echo = etree.Element(f"{{{EchoBackend.ECHO_NS}}}echo", nsmap={"e": EchoBackend.ECHO_NS})
    echo.append(application_data())
    unsigned = sync_response(message_id=message_id, correlation_id=None, session_id=SESSION_ID,
                             status_code="SCSS001", status_message="OK", data=echo,
                             now=dt.datetime.now(dt.UTC))
    return SigningService(keys.gateway.key_material).sign_envelope(unsigned)


class CannedTransport:
    """Stands in for ``SoapTransport``: every POST is answered with the same bytes, no network."""

    def __init__(self, body: bytes) -> None:
        from adapters.core.http import HttpResult

        self._make = lambda url: HttpResult(200, {"Content-Type": "text/xml; charset=utf-8"}, body, url)
        self.requests = 0

    def post(self, url: str, body: bytes, *, soap_action: str | None = None, timeout: Any = None,
             headers: Any = None, max_bytes: int | None = None) -> Any:
        self.requests += 1
        return self._make(url)

    def close(self) -> None:
        pass


def our_client(keys: BenchKeys, reply: bytes) -> Any:
    from adapters.core.xmlsig import SigningService, VerificationService
    from adapters.egov_gateway import GatewayClient

    return GatewayClient("http://127.0.0.1:9/bip-sync-wss-gost/", signing=SigningService(keys.client.key_material),
                         verification=VerificationService(keys.validator()), sender_id=SENDER_ID,
                         sender_password=SENDER_PASSWORD, transport=cast(Any, CannedTransport(reply)))


def our_call(client: Any, data: etree._Element) -> Any:
    response = client.send_message(ECHO_SERVICE, data, message_id=MESSAGE_ID)
    if response.status.code != "SCSS001" or response.data is None:
        raise RuntimeError(f"unexpected answer {response.status}")
    return response


class _PluginPair:
    """zeep's plugin as shipped, one instance to sign and one to verify (see the module docstring)."""

    def __init__(self, signer: Any, verifier: Any) -> None:
        self._signer = signer
        self._verifier = verifier

    def apply(self, envelope: Any, headers: Any) -> Any:
        return self._signer.apply(envelope, headers)

    def verify(self, envelope: Any) -> Any:
        return self._verifier.verify(envelope)


@dataclass
class _CannedResponse:
    """The parts of ``requests.Response`` that zeep's ``process_reply`` reads."""

    content: bytes
    status_code: int = 200
    encoding: str = "utf-8"

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "text/xml; charset=utf-8"}


class _KeysOnce:
    """zeep's plugin at its best: the xmlsec keys made once (the shipped plugin rebuilds them from
    PEM on every call), RSA-SHA256 and SHA-256 digests (our profile); zeep's own signing and
    verification functions."""

    def __init__(self, key_pem: bytes, cert_pem: bytes, counterpart_cert_pem: bytes) -> None:
        import xmlsec
        from zeep.wsse import signature as zs

        self._zs = zs
        self._sign_key = zs._make_sign_key(key_pem, cert_pem, None)
        self._verify_key = zs._make_verify_key(counterpart_cert_pem)
        self._method = xmlsec.Transform.RSA_SHA256
        self._digest = xmlsec.Transform.SHA256

    def apply(self, envelope: Any, headers: Any) -> Any:
        self._zs._sign_envelope_with_key(envelope, self._sign_key, self._method, self._digest)
        return envelope, headers

    def verify(self, envelope: Any) -> Any:
        self._zs._verify_envelope_with_key(envelope, self._verify_key)
        return envelope


@dataclass(frozen=True)
class ZeepWay:
    client: Any
    operation: Any
    reply: bytes


def zeep_way(keys: BenchKeys, reply: bytes, *, keys_once: bool = False) -> ZeepWay:
    """A zeep client on the sync WSDL with its WS-Security plugin as shipped, or (``keys_once``) at its best."""
    import zeep
    from zeep.transports import Transport
    from zeep.wsse.signature import Signature

    from adapters.contracts import SYNC_WSDL, contract_path

    files = keys.write_pem_files()
    plugins: Any
    if keys_once:
        plugins = _KeysOnce(files["client_key"].read_bytes(), files["client_cert"].read_bytes(),
                            files["gateway_cert"].read_bytes())
    else:
        plugins = _PluginPair(Signature(str(files["client_key"]), str(files["client_cert"])),
                              Signature(str(files["client_key"]), str(files["gateway_cert"])))
    client = zeep.Client(str(contract_path(SYNC_WSDL)), wsse=plugins, transport=Transport(timeout=5))
    operation = client.service._binding._operations["SendMessage"]
    return ZeepWay(client, operation, reply)


def zeep_call(way: ZeepWay, data: etree._Element) -> Any:
    client = way.client
    request = {
        "requestInfo": {
            "messageId": MESSAGE_ID, "correlationId": None, "serviceId": ECHO_SERVICE,
            "messageDate": dt.datetime.now(dt.UTC), "sender": {"senderId": SENDER_ID, "password": SENDER_PASSWORD},
            "properties": [],
        },
        "requestData": {"data": data},
    }
    envelope = client.create_message(client.service, "SendMessage", request=request)  # signs (plugin.apply)
    etree.tostring(envelope)  # what zeep's transport would post
    result = client.service._binding.process_reply(client, way.operation, _CannedResponse(way.reply))
    info = result.responseInfo
    if info.status.code != "SCSS001" or str(info.messageId) != MESSAGE_ID:
        raise RuntimeError(f"unexpected answer {info.status}")
    return result


P12_PASSWORD = "bench-client"


@contextlib.contextmanager
def production_clients(keys: BenchKeys, gateway_url: str, directory: Path) -> Iterator[Any]:
    """:class:`ProcedureClients` as the procedure builds them, the gateway at ``gateway_url``, the
    journal in a SQLite file in ``directory``."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from pydantic import SecretStr

    from procedure.clients import ClientOptions, Endpoints, ProcedureClients

    keystore = keys.client.write_pkcs12(directory / "client.p12", P12_PASSWORD)
    anchors = directory / "root.pem"
    anchors.write_bytes(keys.pki.root_certificate.public_bytes(Encoding.PEM))
    issuing = directory / "issuing.pem"
    issuing.write_bytes(keys.pki.issuing_certificate.public_bytes(Encoding.PEM))
    endpoints = Endpoints(gateway_url=gateway_url, payment_gateway_url=gateway_url, elicense_url=gateway_url,
                          trust_anchors=[str(anchors)], intermediates=[str(issuing)], revocation_policy="none",
                          keystore_path=str(keystore), keystore_password=SecretStr(P12_PASSWORD),
                          sender_id=SENDER_ID, sender_password=SecretStr(SENDER_PASSWORD),
                          requestor_bin=SENDER_BIN, gateway_bin=GATEWAY_BIN)
    with ProcedureClients(endpoints, database_url=f"sqlite:///{directory / 'journal.db'}",
                          options=ClientOptions(ocsp_cache_seconds=60.0, check_transport_revocation=True)) as clients:
        yield clients


def production_call(clients: Any, data: etree._Element) -> Any:
    response = clients.gateway.send_message(ECHO_SERVICE, data)  # a new messageId per call, as in production
    if response.status.code != "SCSS001" or response.data is None:
        raise RuntimeError(f"unexpected answer {response.status}")
    return response


@dataclass(frozen=True)
class SignedCallTimes:
    floor: Timing
    """One RSA-2048 signature + one verification."""
    production: Timing
    bare: Timing
    zeep: Timing
    zeep_best: Timing
    journal_rows: int
    """Rows the production calls wrote to the journal (one per attempt)."""
    calls: int
    load: str


def measure(keys: BenchKeys | None = None, *, iterations: int = 200, repeats: int = 5) -> SignedCallTimes:
    from bench.gateway_load import start_server

    keys = keys or make_keys()
    reply = signed_reply(keys)
    data = application_data()
    client = our_client(keys, reply)
    shipped = zeep_way(keys, reply)
    best = zeep_way(keys, reply, keys_once=True)
    sign, verify = crypto_floor.operations()
    server = start_server(keys, workers=1)
    calls = [0]

    def production() -> None:
        production_call(clients, data)
        calls[0] += 1

    try:
        with tempfile.TemporaryDirectory(prefix="egov-bench-a-") as tmp, \
                production_clients(keys, server.url, Path(tmp)) as clients:
            times = timed_interleaved({
                "production": (production, max(iterations // 2, 1)),
                "bare": (lambda: our_call(client, data), iterations),
                "zeep": (lambda: zeep_call(shipped, data), iterations),
                "zeep_best": (lambda: zeep_call(best, data), iterations),
                "sign": (sign, iterations * 2),
                "verify": (verify, iterations * 10),
            }, repeats=repeats)
            journal = clients.journal
            rows = len(journal.tail(10 ** 6)) if journal is not None else 0
    finally:
        server.stop()
    floor = Timing(times["sign"].wall + times["verify"].wall, times["sign"].cpu + times["verify"].cpu)
    return SignedCallTimes(floor=floor, production=times["production"], bare=times["bare"], zeep=times["zeep"],
                           zeep_best=times["zeep_best"], journal_rows=rows, calls=calls[0], load=load_average())


def rows_for(t: SignedCallTimes) -> list[Row]:
    cpu = t.floor.cpu
    prod_x, bare_x = t.production.cpu / cpu, t.bare.cpu / cpu
    best_speedup = t.zeep_best.cpu / t.bare.cpu
    return [
        Row(bench="a", figure="production signed call (client CPU) / crypto floor", value=prod_x, unit="×",
            target="≤ 3×", met=prod_x <= 3.0,
            note=f"ProcedureClients' gateway client over loopback HTTP to the gateway simulator's echo "
                 f"(subprocess): {t.production.cpu * 1e3:.2f} ms of client CPU per call "
                 f"({t.production.wall * 1e3:.2f} ms wall, with the simulator's work); retry policy, SQLite "
                 f"journal ({t.journal_rows} rows for {t.calls} calls), metrics; floor (RSA-2048 sign + verify) "
                 f"{cpu * 1e3:.3f} ms CPU; load average {t.load}"),
        Row(bench="a", figure="bare signing path (canned transport, no caller) / crypto floor", value=bare_x,
            unit="×", note=f"{t.bare.cpu * 1e3:.2f} ms CPU per call: build, sign, verify, schema, read; no HTTP, "
                           "no retry wrapper, journal or metrics"),
        Row(bench="a", figure="zeep's WS-Security plugin as shipped / crypto floor", value=t.zeep.cpu / cpu, unit="×",
            note=f"{t.zeep.cpu * 1e3:.2f} ms CPU per call (RSA-SHA1/SHA-1, keys rebuilt from PEM per call; "
                 "no chain, Timestamp or schema check); zeep as shipped / bare path "
                 f"{t.zeep.cpu / t.bare.cpu:.2f}×"),
        Row(bench="a", figure="zeep at its best (keys once, RSA-SHA256) / bare path", value=best_speedup,
            unit="×", target="≥ 2.5×", met=best_speedup >= 2.5,
            note=f"zeep {t.zeep_best.cpu * 1e3:.2f} ms CPU per call ({t.zeep_best.cpu / cpu:.2f}× the floor), "
                 f"ours {t.bare.cpu * 1e3:.2f} ms; same canned reply, no HTTP on either side"),
    ]


def run(quick: bool = False, keys: BenchKeys | None = None) -> list[Row]:
    return rows_for(measure(keys, iterations=5 if quick else 200, repeats=2 if quick else 5))


def profile(calls: int = 1000, top: int = 30, *, production: bool = False) -> str:
    """cProfile summary (cumulative) of the bare path, or (``production``) of the production call."""
    import cProfile
    import io
    import pstats
    import time

    from bench.gateway_load import start_server

    keys = make_keys()
    data = application_data()
    profiler = cProfile.Profile(time.process_time)  # CPU time: the simulator's work and the waiting are not in it
    with contextlib.ExitStack() as stack:
        if production:
            server = start_server(keys, workers=1)
            stack.callback(server.stop)
            clients = stack.enter_context(production_clients(
                keys, server.url, Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="egov-bench-a-")))))

            def one() -> Any:
                return production_call(clients, data)
        else:
            client = our_client(keys, signed_reply(keys))

            def one() -> Any:
                return our_call(client, data)
        for _ in range(20):
            one()
        profiler.enable()
        for _ in range(calls):
            one()
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    return out.getvalue()


if __name__ == "__main__":
    import sys

    from bench import print_rows

    if "--profile" in sys.argv:
        print(profile(production="--production" in sys.argv))
    else:
        print_rows(run(quick="--quick" in sys.argv))
