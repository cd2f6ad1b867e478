"""Bench d: start-up time, each in a fresh subprocess (median of several runs, one warm-up run).

- ``egov --help``: wall time of the whole command, interpreter start included.
- first ready client: wall time of a fresh interpreter that loads the keys (PKCS#12 and the CA
  file, as in production), builds the signing and verification services and constructs a
  :class:`GatewayClient` (its zeep client is built from the packaged WSDL). The time inside the
  subprocess, from its first line to the ready client (without the bare interpreter start), is
  shown beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import SENDER_ID, SENDER_PASSWORD, BenchKeys, Row, make_keys

TARGET_SECONDS = 0.4
P12_PASSWORD = "bench"

_CLIENT_SCRIPT = """
import time, json, sys
t0 = time.perf_counter()
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.egov_gateway import GatewayClient
p12, password, ca, issuing, sender, sender_password = sys.argv[1:7]
key = KeyMaterial.from_pkcs12(p12, password)
validator = CertificateValidator.from_files([ca], [issuing], revocation=RevocationChecker(RevocationPolicy.NONE))
client = GatewayClient("http://127.0.0.1:9/bip-sync-wss-gost/", signing=SigningService(key),
                       verification=VerificationService(validator), sender_id=sender, sender_password=sender_password)
print(json.dumps({"inside": time.perf_counter() - t0}))
"""


def _egov_command() -> list[str]:
    here = Path(sys.executable).parent / "egov"
    if here.exists():
        return [str(here)]
    found = shutil.which("egov")
    if found:
        return [found]
    return [sys.executable, "-c", "from cli.main import main; main()"]


def _env() -> dict[str, str]:
    """The environment of the timed processes: bytecode caching on, as in any installed package
    (pip compiles what it installs). A ``PYTHONDONTWRITEBYTECODE`` in the caller's environment
    would make every timed run compile the project's modules again (≈ 35 ms here)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env, timeout=60, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, done.stdout.decode()


def help_time(runs: int = 5) -> float:
    """Median wall time of ``egov --help`` (after one warm-up run that fills the bytecode cache)."""
    cmd = [*_egov_command(), "--help"]
    env = _env()
    _timed(cmd, env)
    return statistics.median(_timed(cmd, env)[0] for _ in range(runs))


def bare_interpreter_time(runs: int = 5) -> float:
    cmd = [sys.executable, "-c", "pass"]
    env = _env()
    _timed(cmd, env)
    return statistics.median(_timed(cmd, env)[0] for _ in range(runs))


def client_time(keys: BenchKeys, runs: int = 5) -> tuple[float, float]:
    """(median wall time, median time inside the process) to the first ready ``GatewayClient``."""
    p12 = keys.directory / "client.p12"
    keys.client.write_pkcs12(p12, P12_PASSWORD)  # 0600: a keystore others may read is refused
    issuing = keys.directory / "issuing.pem"
    from cryptography.hazmat.primitives.serialization import Encoding

    issuing.write_bytes(keys.pki.issuing_certificate.public_bytes(Encoding.PEM))
    cmd = [sys.executable, "-c", _CLIENT_SCRIPT, str(p12), P12_PASSWORD, str(keys.pki.ca_pem_path), str(issuing),
           SENDER_ID, SENDER_PASSWORD]
    env = _env()
    _timed(cmd, env)
    walls: list[float] = []
    insides: list[float] = []
    for _ in range(runs):
        wall, out = _timed(cmd, env)
        walls.append(wall)
        insides.append(float(json.loads(out.strip().splitlines()[-1])["inside"]))
    return statistics.median(walls), statistics.median(insides)


def run(quick: bool = False, keys: BenchKeys | None = None) -> list[Row]:
    runs = 1 if quick else 5
    keys = keys or make_keys()
    bare = bare_interpreter_time(runs)
    help_s = help_time(runs)
    client_wall, client_inside = client_time(keys, runs)
    return [
        Row(bench="d", figure="start-up: egov --help (wall, fresh process)", value=help_s, unit="s",
            target=f"≤ {TARGET_SECONDS} s", met=help_s <= TARGET_SECONDS,
            note=f"median of {runs}; a bare `python -c pass` takes {bare:.3f} s here"),
        Row(bench="d", figure="start-up: first ready GatewayClient (wall, fresh process)", value=client_wall,
            unit="s", target=f"≤ {TARGET_SECONDS} s", met=client_wall <= TARGET_SECONDS,
            note=f"median of {runs}; {client_inside:.3f} s of it from the first import to the ready client "
                 "(keys from PKCS#12, zeep client from the packaged WSDL)"),
    ]


if __name__ == "__main__":
    from bench import print_rows

    print_rows(run())
