"""``egov sim`` (run the simulators, drive their fault injection) and ``egov call`` (one message).

Every command reads the run's settings (:mod:`cli.settings`: ``EGOV_*`` variables, then ``egov.env``):
the simulator a control command talks to is ``--url`` or the gateway's URL of the settings, and
the control token is ``--token-file`` or ``EGOV_SIM_CONTROL_TOKEN_FILE``, from either source.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from cli.serving import wait_until_stopped
from cli.settings import current_settings
from simulators.common.fault_kinds import KIND_HELP


@click.group("sim")
def sim_group() -> None:
    """Run the local simulators and drive their control API (faults, maintenance, journal).

    The control commands reach the simulator at --url (default: EGOV_GATEWAY_URL of the settings,
    from the environment or egov.env) with the token of --token-file (default:
    EGOV_SIM_CONTROL_TOKEN_FILE); `egov sim up` prints both.
    """


@sim_group.command("up")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML: one section per simulator (port, scenario, senders, fixtures, ...; docs/simulators.md)")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="state directory (PKI, keys, manifest); a temporary one by default")
@click.option("--only", multiple=True, help="start only these simulators (and pki, gateway)")
@click.option("--portal-port", default=8783, show_default=True,
              help="port of the E-licensing portal's pages (0: a free one; docs/portal.md)")
def sim_up(config_file: Path | None, workdir: Path | None, only: tuple[str, ...], portal_port: int) -> None:
    """Start every registered simulator on 127.0.0.1, print their URLs and where the control APIs'
    token is, stop on Ctrl-C."""
    import yaml

    from adapters.core.errors import ConfigurationError
    from harness.manifest import manifest
    from simulators.registry import (
        MANIFEST_NAME,
        RunningSimulator,
        SimContext,
        default_registry,
        settings_ports,
        stop_all,
    )

    config: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise click.ClickException(f"{config_file}: not YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise click.ClickException(f"{config_file}: expected a mapping of simulator sections")
        config = loaded
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="egov-sim-")
        workdir = Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = SimContext(workdir=workdir, config=config, ports=settings_ports(current_settings()),
                     base_dir=config_file.resolve().parent if config_file is not None else None)
    try:
        running = default_registry().start_all(ctx, set(only) or None)
    except ConfigurationError as exc:
        if tmp is not None:
            tmp.cleanup()
        raise click.ClickException(str(exc)) from exc
    for sim in running:
        for label, url in sim.urls.items():
            click.echo(f"{sim.name:<16} {label:<10} {url}")
    endpoints = manifest(ctx)
    if endpoints is not None:
        path = endpoints.write(workdir / MANIFEST_NAME)
        from cli.portal import start_on_landscape  # the portal needs every simulator: only with the manifest

        try:
            portal = start_on_landscape(path, port=portal_port)
        except OSError as exc:
            stop_all(running)
            raise click.ClickException(f"the portal cannot listen on port {portal_port}: {exc} "
                                       "(--portal-port)") from exc
        running.append(RunningSimulator("portal", {"web": portal.url}, portal.stop, portal))
        click.echo(f"{'portal':<16} {'web':<10} {portal.url}")
        click.echo("# the portal's pages sign through NCALayer: `egov ncalayer --p12 AUTH.p12 --p12 SIGN.p12 "
                   f"--password-file P --origin {portal.url}` (docs/portal.md)")
        click.echo(f"\n# for `egov flow run --manifest`: {path}")
    click.echo(f"\n# the control APIs' token (Authorization: Bearer ...): {ctx.env['EGOV_SIM_CONTROL_TOKEN_FILE']}")
    click.echo("\n# for `egov call gateway` and `egov sim fault|maintenance|journal`:")
    for key, value in ctx.env.items():
        click.echo(f"export {key}='{value}'")
    click.echo("\nrunning; Ctrl-C to stop", err=True)
    try:
        wait_until_stopped()
    finally:
        stop_all(running)
        if tmp is not None:
            tmp.cleanup()
        click.echo("stopped", err=True)


def _token(token_file: Path | None) -> str:
    """The control APIs' token, from ``--token-file`` or ``EGOV_SIM_CONTROL_TOKEN_FILE``."""
    path = token_file or current_settings().sim_control_token_file
    if path is None:
        raise click.ClickException("the control API needs the landscape's token: pass --token-file or set "
                                   "EGOV_SIM_CONTROL_TOKEN_FILE (`egov sim up` prints it)")
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"control token file {path}: cannot read: {exc.__class__.__name__}") from exc


def _control(url: str | None, token_file: Path | None, method: str, path: str, body: Any = None) -> Any:
    from urllib.parse import urlsplit

    from adapters.core.transport import SoapTransport
    from simulators.common.control_guard import control_headers

    url = url or current_settings().gateway_url
    parts = urlsplit(url)  # any URL of the simulator: its base, its SOAP endpoint, its control URL
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{url!r} is not an http(s) URL with a host (e.g. http://127.0.0.1:8780)",
                                 param_hint="--url")
    base = f"{parts.scheme}://{parts.netloc}"
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **control_headers(_token(token_file))}
    with SoapTransport() as transport:
        result = transport.request(method, f"{base}/_control/{path}", body=data, headers=headers, timeout=10)
    if result.status >= 400:
        raise click.ClickException(f"{method} {path}: HTTP {result.status}: {result.body.decode(errors='replace')}")
    return json.loads(result.body or b"null")


_URL = click.option("--url", default=None, help="any URL of the simulator: base, SOAP endpoint or control URL "
                    "(default: EGOV_GATEWAY_URL of the settings)")
_TOKEN_FILE = click.option("--token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           help="file holding the control APIs' token (default: EGOV_SIM_CONTROL_TOKEN_FILE, "
                                "printed by `egov sim up`)")
_JSON = click.option("--json", "as_json", is_flag=True, help="print the control API's JSON answer instead")


def fault_line(fault: dict[str, Any]) -> str:
    """One fault on one line: id, kind, where it applies, how often, and the fields it sets."""
    where = " ".join(f"{key}={fault[key]}" for key in ("service", "operation") if fault.get(key))
    times = f"times={fault['times']}" if fault.get("times") is not None else "always"
    extras = [f"{key}={fault[key]}" for key in ("code", "http_status", "latency_ms", "jitter_ms", "probability",
                                                "drip_chunk", "drip_interval_ms")
              if key in fault and fault[key] not in (None, 0, 1.0) and _shown(fault["kind"], key)]
    return "  ".join(part for part in (str(fault.get("id", "?")), f"{fault['kind']:<17}", where or "any call",
                                        f"when={fault.get('when', 'before')}", times, f"hits={fault.get('hits', 0)}",
                                        " ".join(extras)) if part)


def _shown(kind: str, key: str) -> bool:
    """Whether ``key`` means something for faults of ``kind`` (a default value of an unrelated field is noise)."""
    only = {"code": ("soap_fault", "status_code"), "http_status": ("http_status",),
            "drip_chunk": ("drip",), "drip_interval_ms": ("drip",)}
    return kind in only.get(key, (kind,))


def _echo_faults(answer: dict[str, Any], as_json: bool, *, added: bool = False) -> None:
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    faults = answer.get("added", []) if added else answer.get("faults", [])
    for fault in faults:
        click.echo(("added  " if added else "") + fault_line(fault))
    if not added:
        if not faults:
            click.echo("no faults")
        click.echo(f"maintenance: {'on' if answer.get('maintenance') else 'off'}")


_KINDS = "\n".join(f"  {kind:<18} {text}" for kind, text in KIND_HELP.items())


@sim_group.command("proxy")
@click.option("--listen", "port", type=click.IntRange(0, 65535), required=True,
              help="port to listen on, on 127.0.0.1 (0: a free one)")
@click.option("--target", required=True, help="the endpoint to put faults in front of: http(s)://host[:port][/path]")
@click.option("--timeout", type=click.FloatRange(min=0.001), default=120.0, show_default=True,
              help="seconds the target may take to answer (then 502)")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="the control API's token: read from this file if it exists, else a new one written there "
                   "(default: EGOV_SIM_CONTROL_TOKEN_FILE, else a new file in a temporary folder)")
def sim_proxy(port: int, target: str, timeout: float, token_file: Path | None) -> None:
    """Forward every request to --target, playing the simulators' transport faults (latency, drip,
    reset, http_status, truncated, malformed_xml...) set with `egov sim fault add --url <proxy>`;
    stop on Ctrl-C (docs/simulators.md, "The fault proxy")."""
    from adapters.core.errors import ConfigurationError
    from adapters.core.settings import get_settings
    from simulators.common.control_guard import new_control_token, write_control_token
    from simulators.proxy import FaultProxy

    path = token_file or get_settings().sim_control_token_file
    tmp = None
    if path is not None and Path(path).is_file():
        token = _token(Path(path))
    else:
        if path is None:
            tmp = tempfile.TemporaryDirectory(prefix="egov-proxy-")
            path = Path(tmp.name) / "control-token"
        token = new_control_token()
        write_control_token(Path(path), token)
    try:
        proxy = FaultProxy(target, port=port, timeout=timeout, control_token=token).start()
    except (ConfigurationError, OSError) as exc:
        if tmp is not None:
            tmp.cleanup()
        raise click.ClickException(f"fault proxy: {exc}") from exc
    click.echo(f"fault proxy {proxy.url} -> {proxy.target}")
    click.echo(f"# faults: egov sim fault add --url {proxy.url} --token-file {path} --kind reset --times 1")
    click.echo(f"export EGOV_SIM_CONTROL_TOKEN_FILE='{path}'")
    click.echo("running; Ctrl-C to stop", err=True)
    try:
        wait_until_stopped()
    finally:
        proxy.stop()
        if tmp is not None:
            tmp.cleanup()
        click.echo("stopped", err=True)


@sim_group.group("fault")
def fault_group() -> None:
    """Inject faults into a running simulator (docs/gateway.md): add, list, clear, or load a scenario."""


@fault_group.command("add", epilog="Kinds:\n\n\b\n" + _KINDS)
@_URL
@click.option("--kind", required=True, type=click.Choice(list(KIND_HELP)), help="what goes wrong (below)")
@click.option("--service", help="only calls to this serviceId / service (default: any)")
@click.option("--operation", help="only this SOAP operation, e.g. SendMessage (default: any)")
@click.option("--times", type=click.IntRange(min=1), help="only the next N matching calls (default: every one)")
@click.option("--when", type=click.Choice(["before", "after"]), default="before", show_default=True,
              help="before the simulator processes the call, or after (the answer is lost on the way back)")
@click.option("--code", help="error/status code of soap_fault and status_code")
@click.option("--http-status", type=click.IntRange(400, 599), help="status of http_status (default 500)")
@click.option("--latency-ms", type=click.IntRange(min=0), help="delay before answering, any kind")
@click.option("--jitter-ms", type=click.IntRange(min=0), help="extra random delay 0..N ms, any kind")
@click.option("--probability", type=click.FloatRange(0.0, 1.0), help="chance of applying to a matching call")
@_TOKEN_FILE
@_JSON
def fault_add(url: str | None, token_file: Path | None, as_json: bool, **fields: Any) -> None:
    """Add one fault to the simulator at --url; print it (one line)."""
    spec = {k: v for k, v in fields.items() if v is not None}
    _echo_faults(_control(url, token_file, "POST", "faults", spec), as_json, added=True)


@fault_group.command("list")
@_URL
@_TOKEN_FILE
@_JSON
def fault_list(url: str | None, token_file: Path | None, as_json: bool) -> None:
    """The simulator's active faults, one line each, and its maintenance flag."""
    _echo_faults(_control(url, token_file, "GET", "faults"), as_json)


@fault_group.command("clear")
@_URL
@_TOKEN_FILE
@_JSON
def fault_clear(url: str | None, token_file: Path | None, as_json: bool) -> None:
    """Remove every fault of the simulator."""
    _echo_faults(_control(url, token_file, "DELETE", "faults"), as_json)


@fault_group.command("scenario")
@_URL
@_TOKEN_FILE
@_JSON
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def fault_scenario(url: str | None, token_file: Path | None, as_json: bool, file: Path) -> None:
    """Replace the simulator's faults with the scenario FILE (YAML; sent as JSON)."""
    import yaml

    try:
        scenario = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: not YAML: {exc}") from exc
    _echo_faults(_control(url, token_file, "POST", "faults/scenario", scenario or {}), as_json)


@sim_group.command("maintenance")
@_URL
@_TOKEN_FILE
@_JSON
@click.argument("state", type=click.Choice(["on", "off"]))
def maintenance(url: str | None, token_file: Path | None, as_json: bool, state: str) -> None:
    """Put the simulator in maintenance (every call answered as the real system does then) or back."""
    _echo_faults(_control(url, token_file, "PUT", "faults/maintenance", {"enabled": state == "on"}), as_json)


@sim_group.command("journal")
@_URL
@_TOKEN_FILE
@click.option("--message-id", help="only the exchanges of this messageId")
@click.option("--service", help="only the exchanges of this serviceId / service")
@click.option("--reset", is_flag=True, help="empty the journal")
def journal(url: str | None, token_file: Path | None, message_id: str | None, service: str | None, reset: bool) -> None:
    """The simulator's request journal (what it received and answered), as JSON."""
    if reset:
        click.echo(json.dumps(_control(url, token_file, "DELETE", "journal")))
        return
    query = "&".join(f"{k}={v}" for k, v in (("message_id", message_id), ("service", service)) if v)
    click.echo(json.dumps(_control(url, token_file, "GET", f"journal?{query}" if query else "journal"), indent=2))


# --------------------------------------------------------------------------- egov call


@click.group("call")
def call_group() -> None:
    """Send one message through an adapter."""


@call_group.command("gateway")
@click.option("--service", "service_id", required=True, help="serviceId in the gateway's registry")
@click.option("--data", "data_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="XML file: the business payload (requestData/data)")
@click.option("--url", help="gateway endpoint (default: EGOV_GATEWAY_URL)")
@click.option("--correlation-id", help="correlationId of the message (default: none)")
@click.option("--message-id", help="messageId (default: a new UUID; the same one on every retry)")
@click.option("--timeout", type=click.FloatRange(min=0.001),
              help="seconds an attempt may take (default: the settings')")
def call_gateway(service_id: str, data_file: Path, url: str | None, correlation_id: str | None,
                 message_id: str | None, timeout: float | None) -> None:
    """Sign and send DATA to SERVICE on the sync channel; print the verified answer.

    The answer is trusted as the flows trust it: signed by the gateway (EGOV_GATEWAY_BIN), with a
    certificate of the trust anchors, valid and, under EGOV_REVOCATION_POLICY, not revoked (unless
    EGOV_CHECK_TRANSPORT_REVOCATION=false); bounded by EGOV_ATTEMPT_TIMEOUT_SECONDS and
    EGOV_ATTACHMENT_RESPONSE_MAX_BYTES. A failure worth retrying is retried as the flows retry
    (EGOV_RETRY_*, EGOV_CALL_TIMEOUT_SECONDS, EGOV_CIRCUIT_*), with the same messageId.
    """
    from lxml import etree

    from adapters.core.errors import EgovError
    from adapters.core.resilience import CircuitBreakerRegistry, ResilientCaller
    from adapters.core.trust.keystore import KeyMaterial
    from adapters.core.xmlparse import parse_xml
    from adapters.core.xmlsig import SigningService
    from adapters.egov_gateway import GatewayClient
    from procedure.clients import Endpoints, TrustServices
    from procedure.credentials import reveal
    from procedure.deployment import client_options

    settings = current_settings()
    options = client_options(settings)
    try:
        endpoints = Endpoints.from_settings(settings)
        trust = TrustServices.build(endpoints, ocsp_cache_seconds=options.ocsp_cache_seconds,
                                    check_transport_revocation=options.check_transport_revocation,
                                    ocsp_url=options.ocsp_url, crl_url=options.crl_url, crl_path=options.crl_path,
                                    signature=options.signature)
        caller = ResilientCaller(options.retry, CircuitBreakerRegistry(options.circuit_failure_threshold,
                                                                       options.circuit_reset_seconds))
        signing = SigningService(KeyMaterial.from_pkcs12(endpoints.keystore_path, reveal(endpoints.keystore_password)),
                                 options.signature)
        data = parse_xml(data_file.read_bytes(), what=str(data_file))
        with GatewayClient(url or endpoints.gateway_url, signing=signing, verification=trust.transport_verification,
                           sender_id=endpoints.sender_id,
                           sender_password=(reveal(endpoints.sender_password)
                                            if endpoints.sender_password is not None else None),
                           caller=caller, timeouts=options.timeouts, expect_bin=endpoints.gateway_bin,
                           max_answer_bytes=options.attachment_response_max_bytes) as client:
            resp = client.send_message(service_id, data, correlation_id=correlation_id, message_id=message_id,
                                       timeout=timeout)
    except EgovError as exc:
        raise click.ClickException(f"{type(exc).__name__} [{exc.code}] "
                                   f"({'retryable' if exc.retryable else 'final'}): {exc}") from exc
    click.echo(f"messageId: {resp.message_id}")
    click.echo(f"status:    {resp.status.code} {resp.status.message}")
    if resp.signer is not None:
        click.echo(f"signed by: {getattr(resp.signer, 'common_name', '')} BIN {getattr(resp.signer, 'bin', '')}")
    if resp.data is not None:
        click.echo(etree.tostring(resp.data, pretty_print=True, encoding="unicode"))
