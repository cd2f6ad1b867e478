"""Bench a: the client-side cost of one signed gateway call, without the network.

**Our way** is :meth:`GatewayClient.send_message` itself, with its HTTP transport replaced by a
canned one that hands back a reply signed beforehand by the simulator's signing service. So one
call is exactly the client's work: build the SendMessage request (with lxml,
``adapters.egov_gateway.messages``), sign it (``SigningService.sign_envelope``:
Timestamp + Body, RSA-SHA256, exclusive c14n), run the reply through the response pipeline
(hardened parse, Fault check, ``VerificationService.verify_envelope`` with the certificate chain
checked and revocation policy "none", schema validation) and read it into a ``SyncResponse``
(with lxml, ``adapters.egov_gateway.answers``).
Nothing is cached between calls that the real client would not cache: the schemas and the keys
are loaded once, and the counterpart's certificate (parsed, its chain path) is
remembered as in production, its validity and the expectations checked on every call.

**The zeep way** is the same call made the common way: a ``zeep.Client`` on the same WSDL with
zeep's own WS-Security plugin ``zeep.wsse.signature.Signature`` as shipped (key and certificate
PEM files loaded by the plugin, its default algorithms: RSA-SHA1, SHA-1 digests, which zeep
applies on ``create_message``), the reply run through zeep's own ``process_reply`` (zeep's
parser, ``wsse.verify``, deserialisation).

One adaptation was needed, documented here: the shipped plugin verifies replies with the *same*
certificate it signs with (``MemorySignature.verify`` uses ``cert_data``), which cannot verify a
counterpart's reply. So the zeep client gets a plugin pair: one ``Signature`` (our key, our
certificate) whose ``apply`` signs, and one ``Signature`` (our key file, the gateway's
certificate) whose ``verify`` checks the reply — both unmodified zeep code. zeep's way checks
less than ours (no Timestamp, no certificate chain, no schema), so the ratio flatters zeep.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from bench import (
    ECHO_SERVICE,
    SENDER_ID,
    SENDER_PASSWORD,
    BenchKeys,
    Row,
    crypto_floor,
    make_keys,
    per_call_interleaved,
)

MESSAGE_ID = "7f6c1c62-3c55-4a55-9a49-5e0b7d7a0001"
SESSION_ID = "0d4c3a9e-2b1f-4c7e-9a55-3f1e2d4c5b6a"
APP_NS = "urn:egov-adapters:bench:application"


def application_data() -> etree._Element:
    """A small business payload (a licence application summary, ~1 KB)."""
    app = etree.Element(f"{{{APP_NS}}}application", nsmap={"app": APP_NS})
    for name, value in (("applicantBin", "940140000385"), ("licenceType", "EDU-HIGHER"),
                        ("subtype", "bachelor"), ("region", "ASTANA"), ("submitted", "2024-05-02T10:00:00Z")):
        etree.SubElement(app, f"{{{APP_NS}}}{name}").text = value
    docs = etree.SubElement(app, f"{{{APP_NS}}}attachments")
    for i in range(6):
        att = etree.SubElement(docs, f"{{{APP_NS}}}attachment", id=f"att-{i}", mediaType="application/pdf")
        att.set("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        att.text = f"document-{i}.pdf"
    return app


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


@dataclass(frozen=True)
class ZeepWay:
    client: Any
    operation: Any
    reply: bytes


def zeep_way(keys: BenchKeys, reply: bytes) -> ZeepWay:
    import zeep
    from zeep.transports import Transport
    from zeep.wsse.signature import Signature

    from adapters.contracts import SYNC_WSDL, contract_path

    files = keys.write_pem_files()
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


@dataclass(frozen=True)
class SignedCallTimes:
    floor: float
    ours: float
    zeep: float


def measure(keys: BenchKeys | None = None, *, iterations: int = 200, repeats: int = 5) -> SignedCallTimes:
    keys = keys or make_keys()
    reply = signed_reply(keys)
    data = application_data()
    client = our_client(keys, reply)
    way = zeep_way(keys, reply)
    sign, verify = crypto_floor.operations()
    times = per_call_interleaved({
        "ours": (lambda: our_call(client, data), iterations),
        "zeep": (lambda: zeep_call(way, data), iterations),
        "sign": (sign, iterations * 2),
        "verify": (verify, iterations * 10),
    }, repeats=repeats)
    return SignedCallTimes(floor=times["sign"] + times["verify"], ours=times["ours"], zeep=times["zeep"])


def rows_for(t: SignedCallTimes) -> list[Row]:
    ours_x = t.ours / t.floor
    zeep_x = t.zeep / t.floor
    speedup = t.zeep / t.ours
    return [
        Row(bench="a", figure="signed call, client cost / crypto floor", value=ours_x, unit="×", target="≤ 3×",
            met=ours_x <= 3.0,
            note=f"ours {t.ours * 1e3:.2f} ms per call, floor (RSA-2048 sign + verify) {t.floor * 1e3:.3f} ms"),
        Row(bench="a", figure="same call with zeep's WS-Security plugin / crypto floor", value=zeep_x, unit="×",
            note=f"zeep {t.zeep * 1e3:.2f} ms per call (its defaults: RSA-SHA1/SHA-1; no chain, Timestamp "
                 "or schema check)"),
        Row(bench="a", figure="zeep-plugin way / our way (speed-up)", value=speedup, unit="×", target="≥ 2.5×",
            met=speedup >= 2.5),
    ]


def run(quick: bool = False, keys: BenchKeys | None = None) -> list[Row]:
    return rows_for(measure(keys, iterations=5 if quick else 200, repeats=2 if quick else 5))


def profile(calls: int = 1000, top: int = 30) -> str:
    """cProfile summary (cumulative) of our way, for bench/README.md."""
    import cProfile
    import io
    import pstats

    keys = make_keys()
    client = our_client(keys, signed_reply(keys))
    data = application_data()
    for _ in range(20):
        our_call(client, data)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        our_call(client, data)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    return out.getvalue()


if __name__ == "__main__":
    import sys

    from bench import print_rows

    if "--profile" in sys.argv:
        print(profile())
    else:
        print_rows(run())
