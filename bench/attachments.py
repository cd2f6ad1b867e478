"""Bench c: memory and time to submit an application with 30 MB of attachments.

The E-licensing design: attachments are uploaded separately and the signed application references
each by name, SHA-256 and size. "Submitting" is :meth:`ElicenseClient.submit_application` given
the files' paths, as a user hands them over: digest each file in chunks, upload each (streamed:
the request envelope around base64 encoded chunk by chunk), sign the application (enveloped
XML-DSig), register it.

Three processes, so that nothing but the client is measured:

- the E-licensing simulator runs in a subprocess (``--serve``) over the test PKI, confirming the
  fee with an in-memory payment gateway order book holding one paid receipt per measurement
  (``receipts.json``);
- each measurement is a fresh client subprocess (``--client``). Its **baseline** is taken once the
  modules are imported, the key loaded and the session opened, the attachments still on disk
  (the applicant hands over files). Then the peak resident set is reset (``/proc/self/clear_refs``)
  and the submission runs; **peak over baseline** is ``VmHWM`` after minus ``VmRSS`` before, and
  ``tracemalloc``'s peak (Python allocations only) is reported beside it.

The time to sign is measured in the client subprocess too: references (SHA-256 of the 30 MB) plus
the enveloped signature of the application, against signing a 3 KB application with no attachments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import SENDER_BIN, SENDER_IIN, BenchKeys, Row, make_keys

MB = 1024 * 1024
TOTAL_BYTES = 30 * MB
FILES = 6
P12_PASSWORD = "bench"
PORTAL_PASSWORD = "portal-pass"
ELICENSE_IIN = "760212350620"
ELICENSE_BIN = "950341000052"
TARGET_FACTOR = 1.5


# --------------------------------------------------------------------------- /proc helpers

def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- server subprocess

def serve(directory: Path) -> None:
    """Run the E-licensing simulator until stdin closes; print its endpoint as one JSON line."""
    from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import VerificationService
    from simulators.elicense import ElicenseSimulator
    from simulators.elicense.payments import GatewayLedger
    from simulators.payment_gateway import OrderDetails, PaymentStore
    from simulators.pki import TestPKI

    pki = TestPKI.load(directory / "pki")
    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate],
                                     revocation=RevocationChecker(RevocationPolicy.NONE))
    heads: dict[str, Any] = {}

    def head_key(licensor: Any) -> Any:
        if licensor.code not in heads:
            heads[licensor.code] = pki.issue(iin=licensor.head_iin, bin=licensor.bin, org=licensor.name_ru,
                                             roles=["legal-entity", "first-head"]).key_material
        return heads[licensor.code]

    system = pki.issue(iin=ELICENSE_IIN, bin=ELICENSE_BIN, org="E-licensing operator (bench)")
    book = PaymentStore()
    receipts = {}
    for mode in ("big", "small"):
        order, _ = book.create(OrderDetails(client_reference=f"bench-{mode}", payer_iin_bin=SENDER_BIN,
                                            payer_name="Ministry of Education (bench)", amount=Decimal("16180.00"),
                                            kbk="105315", knp="911", application_reference=f"bench-{mode}"),
                               "MINISTRY_EDU")
        receipts[mode] = book.pay(order.order_id).order_id
    (directory / "receipts.json").write_text(json.dumps(receipts))
    sim = ElicenseSimulator(verifier=VerificationService(validator), head_key=head_key,
                            system_key=system.key_material, payments=GatewayLedger(book))
    sim.backend.register_applicant((directory / "applicant-auth.der").read_bytes(), PORTAL_PASSWORD)
    sim.start()
    try:
        print(json.dumps({"endpoint": sim.endpoint}), flush=True)
        sys.stdin.read()
    finally:
        sim.stop()


# --------------------------------------------------------------------------- client subprocess

def _form(receipt_id: str) -> Any:
    from adapters.elicense import Address, Applicant, ApplicationForm, Payment

    return ApplicationForm(
        app_type="ISSUE", service_code="S1",
        applicant=Applicant(iin_bin=SENDER_BIN, name="Ministry of Education (bench)", is_small_business=True,
                            address=Address(postal_index="010000", city_kato="710000000", city_name="Astana",
                                            street_ru="проспект Республики", street_kz="Республика даңғылы",
                                            house="12", flat="4"),
                            phone="+7 7172 000000"),
        territory_code="000000000", sub_types=("ED010100",),
        payment=Payment(amount_paid=Decimal("16180.00"), document_number="90102",
                        document_date=dt.date(2012, 11, 1), amount_due=Decimal("16180.00"), receipt_id=receipt_id),
        submitted_at=dt.datetime.now(dt.UTC))


def client(directory: Path, endpoint: str, mode: str, sign_repeats: int) -> dict[str, Any]:
    """One measured submission (``mode`` "big": with the files of ``directory/files``; "small": none)."""
    from adapters.core.trust.keystore import KeyMaterial
    from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import SigningService, VerificationService
    from adapters.elicense import ElicenseClient

    key = KeyMaterial.from_pkcs12(directory / "applicant.p12", P12_PASSWORD)
    auth_key = KeyMaterial.from_pkcs12(directory / "applicant-auth.p12", P12_PASSWORD)
    receipt = json.loads((directory / "receipts.json").read_text())[mode]
    validator = CertificateValidator.from_files([directory / "pki" / "ca.pem"], [directory / "pki" / "issuing.pem"],
                                                revocation=RevocationChecker(RevocationPolicy.NONE))
    signing = SigningService(key)
    paths = sorted((directory / "files").iterdir()) if mode == "big" else []
    with ElicenseClient(endpoint, verification=VerificationService(validator)) as elicense:
        session = elicense.authorize_applicant(auth_key, PORTAL_PASSWORD)
        elicense.sign_application(_form(receipt), signing)  # warm: schema compiled, code paths loaded

        import gc

        gc.collect()
        baseline_kb = _status_kb("VmRSS")
        reset = _reset_peak()
        tracemalloc.start()
        started = time.perf_counter()
        files = {p.name: p for p in paths}  # paths: the client reads and streams them
        info = elicense.submit_application(session, _form(receipt), signing, files=files,
                                           idempotency_key=f"bench-{mode}-{os.getpid()}")
        submit_s = time.perf_counter() - started
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_kb = _status_kb("VmHWM")
        attached = sum(p.stat().st_size for p in paths)
        del files

        sign_times: list[float] = []
        for _ in range(sign_repeats):
            t0 = time.perf_counter()
            refs = elicense.attachment_refs({p.name: p for p in paths})  # SHA-256 read from the files
            signed = elicense.sign_application(_form(receipt).model_copy(update={"attachments": refs}), signing)
            sign_times.append(time.perf_counter() - t0)
    return {"mode": mode, "baseline_kb": baseline_kb, "peak_kb": peak_kb, "peak_reset": reset,
            "traced_peak": traced_peak, "attached_bytes": attached, "submit_s": submit_s,
            "sign_s": statistics.median(sign_times), "signed_bytes": len(signed), "number": info.number}


# --------------------------------------------------------------------------- orchestration

def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def prepare(keys: BenchKeys, total_bytes: int) -> Path:
    """The applicant's signing key, its AUTH key and certificate (the portal account) and the attachment
    files, in a directory of their own."""
    from cryptography.hazmat.primitives.serialization import Encoding

    where = keys.directory
    keys.client.write_pkcs12(where / "applicant.p12", P12_PASSWORD)  # 0600
    auth = keys.pki.issue(iin=SENDER_IIN, bin=SENDER_BIN, org="Ministry of Education (bench)", usage="auth")
    auth.write_pkcs12(where / "applicant-auth.p12", P12_PASSWORD)  # 0600
    (where / "applicant-auth.der").write_bytes(auth.certificate.public_bytes(Encoding.DER))
    files = where / "files"
    files.mkdir(exist_ok=True)
    size = total_bytes // FILES
    for i in range(FILES):
        (files / f"attachment-{i}.pdf").write_bytes(os.urandom(size if i else total_bytes - size * (FILES - 1)))
    return where


def run(quick: bool = False, keys: BenchKeys | None = None) -> list[Row]:
    keys = keys or make_keys()
    total = 1 * MB if quick else TOTAL_BYTES
    directory = prepare(keys, total)
    env = _env()
    log = (directory / "elicense-server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "bench.attachments", "--serve", str(directory)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line:
            raise RuntimeError(f"E-licensing simulator did not start; see {directory / 'elicense-server.log'}")
        endpoint = json.loads(line)["endpoint"]
        results = {}
        for mode in ("big", "small"):
            done = subprocess.run([sys.executable, "-m", "bench.attachments", "--client", str(directory), endpoint,
                                   mode, "--repeats", "1" if quick else "5"],
                                  capture_output=True, env=env, timeout=240, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"client subprocess ({mode}) failed: {done.stderr.decode()[-800:]}")
            results[mode] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
    return rows_for(results["big"], results["small"])


def rows_for(big: dict[str, Any], small: dict[str, Any]) -> list[Row]:
    size = big["attached_bytes"]
    over = (big["peak_kb"] - big["baseline_kb"]) * 1024
    factor = over / size
    traced = big["traced_peak"] / size
    small_over = (small["peak_kb"] - small["baseline_kb"]) * 1024
    ratio = big["sign_s"] / small["sign_s"]
    peak_note = "" if big["peak_reset"] else " (VmHWM could not be reset: includes start-up peaks)"
    return [
        Row(bench="c", figure=f"submit {size / MB:.0f} MB of attachments: peak RSS over baseline / attachment size",
            value=factor, unit="×", target=f"≤ {TARGET_FACTOR:g}×", met=factor <= TARGET_FACTOR,
            note=f"{over / MB:.1f} MB over a {big['baseline_kb'] / 1024:.0f} MB baseline{peak_note}; tracemalloc "
                 f"peak {traced:.2f}× (Python allocations); a 3 KB application: {small_over / MB:.1f} MB; "
                 f"whole submission (read, digest, upload, sign, register) {big['submit_s']:.2f} s"),
        Row(bench="c", figure=f"time to sign: application with {size / MB:.0f} MB attached / 3 KB application",
            value=ratio,
            unit="×", note=f"{big['sign_s'] * 1e3:.1f} ms (SHA-256 references of the files + enveloped signature) "
                           f"vs {small['sign_s'] * 1e3:.2f} ms; signed document {big['signed_bytes']} vs "
                           f"{small['signed_bytes']} bytes"),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.attachments")
    parser.add_argument("--serve", type=Path, help="run the E-licensing simulator subprocess (internal)")
    parser.add_argument("--client", nargs=3, metavar=("DIR", "ENDPOINT", "MODE"),
                        help="one measured client submission (internal)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
    elif args.client:
        directory, endpoint, mode = args.client
        print(json.dumps(client(Path(directory), endpoint, mode, args.repeats)))
    else:
        from bench import print_rows

        print_rows(run(quick=args.quick))


if __name__ == "__main__":
    main()
