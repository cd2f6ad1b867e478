"""Each setting changes what the project does: one case per field of the settings model.

The cases are keyed by field name and the test is parametrised over ``Settings.model_fields``: a new
setting without a case here fails. Each case builds the settings twice (``before`` and ``after``
overrides on one base deployment: a running simulator landscape, its keys and trust anchors) and
looks at what the code that reads them does, through the object a command builds from them:

- ``flows``: what ``egov flow run`` and ``egov demo`` build (:func:`harness.env.procedure_env` attached
  to the landscape): the clients' retry policy and breakers, the steps' fee, waits and deadline;
- ``deployment``: what ``egov serve`` and ``egov worker`` build (:func:`procedure.deployment.clients_from_settings`):
  keys, trust, endpoints, timeouts, limits; ``service``: ``egov serve``'s runtime;
- ``egov``: the command itself, run with the variables in its environment.

Where a setting acts inside a running loop (the workers' lease, sweep and retry schedule; the flow
files the API accepts), the case shows the runtime ``egov serve`` builds carrying that value; the
loops' own tests (tests/workers, tests/service) show what they do with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from adapters.core.settings import Settings, load_settings
from harness.landscape import Landscape
from procedure.calendar import registration_day
from procedure.credentials import reveal
from tests.paths import ROOT

BASE_ENV = {"EGOV_CONFIG_FILE": "/nonexistent/egov.env"}


@dataclass(frozen=True)
class World:
    """The deployment every case starts from."""

    root: Path
    landscape: Landscape
    manifest: Path
    base: dict[str, Any]
    other_key: Path
    other_ca: Path
    token: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from simulators.pki import TestPKI

    root = tmp_path_factory.mktemp("settings-effects")
    with Landscape.start(root / "landscape") as land:
        manifest = land.write_manifest()
        endpoints = land.endpoints
        base = {"keystore_path": endpoints.keystore_path, "keystore_password": reveal(endpoints.keystore_password),
                "trust_anchors": endpoints.trust_anchors, "intermediates": endpoints.intermediates,
                "gateway_sender_password": "sender-secret", "database_url": f"sqlite:///{root / 'base.db'}"}
        other_key = land.pki.issue(iin="871008401427", bin="940140000385", org="Other").key_material \
            .write_pkcs12(root / "other.p12", base["keystore_password"])
        other = TestPKI.create(root / "other-pki")
        token = root / "token"
        token.write_text("t" * 32, encoding="utf-8")
        token.chmod(0o600)
        yield World(root, land, manifest, base, other_key, other.ca_pem_path, token)


def _settings(world: World, overrides: dict[str, Any]) -> Settings:
    return load_settings(**{**world.base, **overrides})


@contextlib.contextmanager
def _flows(world: World, s: Settings) -> Iterator[Any]:
    from harness.env import procedure_env

    with procedure_env(manifest=world.manifest, db=None, out_dir=world.root / "out", settings=s) as env:
        yield env


def flows(look: Callable[[Any], Any]) -> Callable[[World, Settings], Any]:
    def probe(world: World, s: Settings) -> Any:
        with _flows(world, s) as env:
            return look(env)
    return probe


def deployment(look: Callable[[Any], Any]) -> Callable[[World, Settings], Any]:
    from procedure.deployment import clients_from_settings

    def probe(world: World, s: Settings) -> Any:
        try:
            clients = clients_from_settings(s)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        with clients:
            return look(clients)
    return probe


def service(look: Callable[[Any], Any]) -> Callable[[World, Settings], Any]:
    def probe(world: World, s: Settings) -> Any:
        from service.runtime import ServiceRuntime

        runtime = ServiceRuntime.from_settings(s.model_copy(update={"landscape_manifest": world.manifest}))
        try:
            return look(runtime)
        finally:
            runtime.close()
    return probe


def options(look: Callable[[Any], Any]) -> Callable[[World, Settings], Any]:
    from procedure.deployment import client_options

    return lambda world, s: look(client_options(s))


def egov(args: list[str], look: Callable[[Any], Any] = lambda r: r.output) -> Callable[[World, dict[str, str]], Any]:
    """Run ``egov ARGS`` with the case's variables; look at its result."""
    def probe(world: World, env: dict[str, str]) -> Any:
        from cli.main import cli

        return look(CliRunner().invoke(cli, [a.format(root=world.root) for a in args], env={**BASE_ENV, **env}))
    return probe


@dataclass(frozen=True)
class Case:
    after: dict[str, Any]
    probe: Callable[..., Any]
    before: dict[str, Any] = field(default_factory=dict)
    cli: bool = False
    """``probe`` runs ``egov`` with ``before``/``after`` as ``EGOV_*`` variables (values may name
    ``{root}``, the world's folder)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timestamp_lifetime(clients: Any) -> float:
    import datetime as dt

    envelope = etree.fromstring(b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                                b'<soap:Body><a xmlns="urn:t">1</a></soap:Body></soap:Envelope>')
    signed = etree.fromstring(clients.signing.sign_envelope(envelope))
    wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
    created, expires = (dt.datetime.fromisoformat(signed.findtext(f".//{{{wsu}}}{tag}").replace("Z", "+00:00"))
                        for tag in ("Created", "Expires"))
    return (expires - created).total_seconds()


def _attempts_against_nothing(world: World, s: Settings) -> Any:
    """How many attempts a GatewayClient built from the settings makes against a closed port."""
    from adapters.core.errors import RetriesExhaustedError
    from adapters.core.trust.keystore import KeyMaterial
    from adapters.core.xmlsig import SigningService, VerificationService
    from adapters.egov_gateway import GatewayClient

    key = KeyMaterial.from_pkcs12(s.keystore_path, s.keystore_password.get_secret_value())  # type: ignore[arg-type, union-attr]
    client = GatewayClient.from_settings(signing=SigningService(key), verification=VerificationService(
        None, trust_any_certificate=True), settings=s.model_copy(update={
            "gateway_url": f"http://127.0.0.1:{_free_port()}/bip-sync-wss-gost/"}))
    try:
        client.send_message("ECHO", etree.fromstring(b"<a/>"))
    except RetriesExhaustedError as exc:
        return exc.attempts
    finally:
        client.close()
    raise AssertionError("a closed port answered")


def _root_logging(result: Any) -> tuple[int, str]:
    root = logging.getLogger()
    formatter = [type(h.formatter).__name__ for h in root.handlers if getattr(h, "formatter", None)]
    return root.level, ",".join(formatter)


def _write(world: World, name: str, text: str) -> str:
    path = world.root / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def cases(world: World) -> dict[str, Case]:
    taken = _taken_port()
    return {
        # --- keys and trust
        "keystore_path": Case({"keystore_path": world.other_key},
                              deployment(lambda c: c.key.certificate.serial_number)),
        "keystore_password": Case({"keystore_password": "not-the-password"},
                                  deployment(lambda c: c.key.certificate.serial_number)),
        "keystore_password_file": Case({"keystore_password": None,
                                        "keystore_password_file": _write(world, "wrong.pw", "wrong\n")},
                                       deployment(lambda c: c.key.certificate.serial_number)),
        "trust_anchors": Case({"trust_anchors": [world.other_ca]},
                              deployment(lambda c: [a.serial_number for a in c.validator.trust_anchors])),
        "intermediates": Case({"intermediates": []}, deployment(lambda c: len(c.validator.intermediates))),
        "revocation_policy": Case({"revocation_policy": "crl"}, deployment(lambda c: c.revocation.policy)),
        "ocsp_url": Case({"ocsp_url": "http://127.0.0.1:9/ocsp"}, deployment(lambda c: c.revocation.ocsp_url)),
        "crl_url": Case({"crl_url": "http://127.0.0.1:9/crl"}, deployment(lambda c: c.revocation.crl_url)),
        "crl_path": Case({"crl_path": world.root / "offline.crl"}, deployment(lambda c: c.revocation.crl_path)),
        "ocsp_cache_seconds": Case({"ocsp_cache_seconds": 0}, deployment(lambda c: c.revocation.ocsp_cache_ttl)),
        "timestamp_ttl_seconds": Case({"timestamp_ttl_seconds": 42}, deployment(_timestamp_lifetime)),
        "clock_skew_seconds": Case({"clock_skew_seconds": 1},
                                   deployment(lambda c: c.transport_verification._config.clock_skew)),
        # --- endpoints
        "gateway_url": Case({"gateway_url": "http://127.0.0.1:9/bip-sync-wss-gost/"},
                            deployment(lambda c: c.gateway.endpoint_url)),
        "gateway_sender_id": Case({"gateway_sender_id": "OTHER"}, deployment(lambda c: c.gateway.sender_id)),
        "gateway_sender_password": Case({"gateway_sender_password": "other"},
                                        deployment(lambda c: reveal(c.endpoints.sender_password))),
        "gateway_sender_password_file": Case({"gateway_sender_password": None, "gateway_sender_password_file":
                                              _write(world, "sender.pw", "from-file\n")},
                                             deployment(lambda c: reveal(c.endpoints.sender_password))),
        "payment_gateway_url": Case({"payment_gateway_url": "http://127.0.0.1:9/pshep/"},
                                    deployment(lambda c: c.payment.url)),
        "elicense_url": Case({"elicense_url": "http://127.0.0.1:9/elicense/"},
                             deployment(lambda c: c.elicense.endpoint_url)),
        "pki_url": Case({"pki_url": "http://127.0.0.1:9"}, lambda world, s: _sim_ports(s)["pki"]),
        "sim_control_token_file": Case({"EGOV_SIM_CONTROL_TOKEN_FILE": "{root}/token"},
                                       egov(["sim", "fault", "list", "--url", f"http://127.0.0.1:{_free_port()}"]),
                                       cli=True),
        "requestor_bin": Case({"requestor_bin": "950341000052"}, deployment(lambda c: c.legal_entities.requestor_bin)),
        "gateway_bin": Case({"gateway_bin": "940140000385"}, deployment(lambda c: c.endpoints.gateway_bin)),
        "check_transport_revocation": Case({"check_transport_revocation": False}, deployment(
            lambda c: c.transport_verification._validator.revocation is not None)),
        # --- timeouts and retries: what the flows (and egov serve/worker) use
        "connect_timeout_seconds": Case({"connect_timeout_seconds": 1.5}, options(lambda o: o.timeouts.connect)),
        "read_timeout_seconds": Case({"read_timeout_seconds": 7.0}, options(lambda o: o.timeouts.read)),
        "attempt_timeout_seconds": Case({"attempt_timeout_seconds": 9.0}, options(lambda o: o.timeouts.total)),
        "retry_max_attempts": Case({"retry_max_attempts": 2}, _attempts_against_nothing),
        "retry_max_total_seconds": Case({"retry_max_total_seconds": 3.0},
                                        flows(lambda e: e.clients.caller.policy.max_total_seconds)),
        "call_timeout_seconds": Case({"call_timeout_seconds": 11.0},
                                     flows(lambda e: e.clients.caller.policy.max_call_seconds)),
        "response_max_bytes": Case({"response_max_bytes": 1000}, options(lambda o: o.response_max_bytes)),
        "attachment_response_max_bytes": Case({"attachment_response_max_bytes": 2000},
                                              options(lambda o: o.attachment_response_max_bytes)),
        "circuit_failure_threshold": Case({"circuit_failure_threshold": 2},
                                          flows(lambda e: e.clients.caller.breakers.failure_threshold)),
        "circuit_reset_seconds": Case({"circuit_reset_seconds": 3.0},
                                      flows(lambda e: e.clients.caller.breakers.reset_timeout)),
        # --- storage and observability
        "database_url": Case({"database_url": f"sqlite:///{world.root / 'other.db'}"},
                             flows(lambda e: e.store.engine.url.database)),
        "log_level": Case({"EGOV_LOG_LEVEL": "debug"}, egov(["id", "check", "940140000385"], _root_logging),
                          before={"EGOV_LOG_LEVEL": "ERROR"}, cli=True),
        "log_json": Case({"EGOV_LOG_JSON": "false"}, egov(["id", "check", "940140000385"], _root_logging),
                         before={"EGOV_LOG_JSON": "true"}, cli=True),
        "metrics_port": Case({"metrics_port": _free_port()}, flows(lambda e: e.clients.metrics_server is not None)),
        # --- licensing business rules, documents
        "mci_kzt": Case({"mci_kzt": "3000"}, flows(lambda e: e.steps.fees.of(_issue()))),
        "licence_fee_mci": Case({"licence_fee_mci": 3}, flows(lambda e: e.steps.fees.of(_issue()))),
        "other_fee_mci": Case({"other_fee_mci": 3}, flows(lambda e: e.steps.fees.of(_duplicate()))),
        "office_hours": Case({"office_hours": "09:00-12:00"},  # an application received on a Tuesday at 13:00
                             flows(lambda e: registration_day(dt.datetime(2026, 12, 1, 13, 0),
                                                              hours=e.steps.decision.office_hours))),
        "review_working_days": Case({"review_working_days": 10},
                                    flows(lambda e: e.steps.decision.review_working_days)),
        "pdf_workers": Case({"pdf_workers": 1}, flows(lambda e: e.steps.ports.artefacts.pdf_workers)),
        "flow_payment_wait_seconds": Case({"flow_payment_wait_seconds": 2.0},
                                          flows(lambda e: e.steps.portal.payment_deadline)),
        "flow_notice_wait_seconds": Case({"flow_notice_wait_seconds": 1.0},
                                         flows(lambda e: e.steps.decision.notice_deadline)),
        # --- egov serve
        "service_host": Case({"EGOV_SERVICE_HOST": "192.0.2.1"}, egov(["serve"]),
                             before={"EGOV_SERVICE_PORT": str(taken)}, cli=True),
        "service_port": Case({"EGOV_SERVICE_PORT": str(_taken_port())}, egov(["serve"]),
                             before={"EGOV_SERVICE_PORT": str(taken)}, cli=True),
        "service_workers": Case({"EGOV_SERVICE_WORKERS": "2"}, _serve_started, cli=True),
        "service_callers_file": Case({"EGOV_SERVICE_CALLERS_FILE": "{root}/callers-b.json"},
                                     egov(["serve", "callers"]),
                                     before={"EGOV_SERVICE_CALLERS_FILE": "{root}/callers-a.json"}, cli=True),
        "service_signing_enabled": Case({"service_signing_enabled": True}, service(lambda r: r.signing_enabled)),
        "service_max_request_bytes": Case({"service_max_request_bytes": 10}, _body_limit),
        "service_readiness_timeout_seconds": Case({"service_readiness_timeout_seconds": 0.5},
                                                  service(lambda r: r.readiness.timeout)),
        "landscape_manifest": Case({"landscape_manifest": world.manifest, "gateway_url": "http://127.0.0.1:9/x/"},
                                   deployment(lambda c: c.gateway.endpoint_url)),
        "elicense_employee_login": Case({"elicense_employee_login": "kkson.officer"},
                                        service(lambda r: r.employee._login)),
        "elicense_employee_password": Case({"elicense_employee_password": "pw"},
                                           service(lambda r: r.employee._password)),
        "elicense_employee_password_file": Case({"elicense_employee_password_file": _write(world, "emp.pw", "f\n")},
                                                service(lambda r: r.employee._password)),
        "flow_stuck_seconds": Case({"flow_stuck_seconds": 60.0}, service(lambda r: r.flow_state.stuck_seconds)),
        "deadline_near_working_days": Case({"deadline_near_working_days": 2},
                                           service(lambda r: r.flow_state.near_working_days)),
        # --- flows as tasks (egov serve's in-process pool, egov worker)
        "broker_url": Case({"EGOV_BROKER_URL": f"redis://127.0.0.1:{_free_port()}/0"}, egov(["worker"]), cli=True),
        "worker_threads": Case({"worker_threads": 2}, service(lambda r: r.flows._threads._pool._max_workers)),
        "worker_sweep_seconds": Case({"worker_sweep_seconds": 1.0}, service(lambda r: r.flows.sweeper.interval)),
        "worker_lease_seconds": Case({"worker_lease_seconds": 5.0},
                                     service(lambda r: r.flows.runtime.settings.worker_lease_seconds)),
        "worker_retry_seconds": Case({"worker_retry_seconds": 5.0},
                                     service(lambda r: r.flows.runtime.settings.worker_retry_seconds)),
        "worker_max_retries": Case({"worker_max_retries": 1},
                                   service(lambda r: r.flows.runtime.settings.worker_max_retries)),
        "flow_files_dir": Case({"flow_files_dir": world.root / "files"},
                               service(lambda r: r.settings.flow_files_dir)),
        "artefacts_dir": Case({"artefacts_dir": world.root / "artefacts"},
                              service(lambda r: r.flows.runtime.steps.ports.artefacts.out_dir)),
    }


def _issue() -> Any:
    from procedure.models import Operation

    return Operation.ISSUE


def _duplicate() -> Any:
    from procedure.models import Operation

    return Operation.DUPLICATE


def _sim_ports(s: Settings) -> dict[str, int]:
    from simulators.registry import settings_ports

    return settings_ports(s)


_HELD: list[socket.socket] = []


def _taken_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    _HELD.append(sock)
    return int(sock.getsockname()[1])


def _serve_started(world: World, env: dict[str, str]) -> str:
    """What ``egov serve`` says when it has started (the URL left out), then SIGTERM."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    variables.update({**BASE_ENV, "EGOV_LANDSCAPE_MANIFEST": str(world.manifest), "EGOV_LOG_LEVEL": "WARNING",
                      "EGOV_DATABASE_URL": f"sqlite:///{world.root / 'serve.db'}",
                      "EGOV_SERVICE_CALLERS_FILE": str(world.root / "serve-callers.json"), **env})
    process = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "serve", "--port", "0"],
                               cwd=ROOT, env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert first, f"egov serve did not start: {errors[-2000:]}"
    return re.sub(r"http://\S+", "<url>", first)


def _body_limit(world: World, s: Settings) -> Any:
    """The body limit ``egov serve``'s app gives its request middleware (which answers 413 above it)."""
    from service.app import create_app

    def look(runtime: Any) -> Any:
        return [m.kwargs.get("max_body_bytes") for m in create_app(runtime).user_middleware]
    return service(look)(world, s)


FIELDS = list(Settings.model_fields)


def test_every_setting_has_a_case(world: World) -> None:
    assert sorted(set(FIELDS) - set(cases(world))) == []


@pytest.mark.parametrize("name", FIELDS)
def test_changing_the_setting_changes_the_behaviour(name: str, world: World) -> None:
    case = cases(world).get(name)
    assert case is not None, f"no case shows what EGOV_{name.upper()} changes: add one to cases()"
    if case.cli:
        env = {key: str(value).format(root=world.root) for key, value in case.before.items()}
        changed = {**env, **{key: str(value).format(root=world.root) for key, value in case.after.items()}}
        if name == "service_callers_file":
            _callers(world)
        before, after = case.probe(world, env), case.probe(world, changed)
    else:
        before = case.probe(world, _settings(world, case.before))
        after = case.probe(world, _settings(world, case.after))
    assert before != after, f"EGOV_{name.upper()}: {before!r} both ways"


def _callers(world: World) -> None:
    from service.callers import add_caller

    for name, file in (("alpha", "callers-a.json"), ("beta", "callers-b.json")):
        if not (world.root / file).exists():
            add_caller(world.root / file, name, ["shep:*"])


def test_the_flows_use_the_settings_client_options(world: World) -> None:
    """``egov flow run`` and ``egov demo`` build their clients as ``egov serve`` does: same policy,
    breakers, timeouts (issue 14: they used fixed options)."""
    from procedure.deployment import client_options

    s = _settings(world, {"retry_max_attempts": 7, "circuit_failure_threshold": 9})
    with _flows(world, s) as env:
        assert env.clients.caller.policy == client_options(s).retry
        assert env.clients.caller.breakers.failure_threshold == 9
