"""``egov sim`` (run the simulators, drive their fault injection) and ``egov call`` (one message)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from cli.serving import wait_until_stopped


@click.group("sim")
def sim_group() -> None:
    """Run the local simulators and drive their control API."""


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
    ctx = SimContext(workdir=workdir, config=config, ports=settings_ports(),
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
                   "--password-file P` (docs/portal.md)")
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
    from adapters.core.settings import get_settings

    path = token_file or get_settings().sim_control_token_file
    if path is None:
        raise click.ClickException("the control API needs the landscape's token: pass --token-file or set "
                                   "EGOV_SIM_CONTROL_TOKEN_FILE (`egov sim up` prints it)")
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"control token file {path}: cannot read: {exc.__class__.__name__}") from exc


def _control(url: str, token_file: Path | None, method: str, path: str, body: Any = None) -> Any:
    from urllib.parse import urlsplit

    from adapters.core.transport import SoapTransport
    from simulators.common.control_guard import control_headers

    parts = urlsplit(url)  # any URL of the simulator: its base, its SOAP endpoint, its control URL
    base = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url.rstrip("/")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **control_headers(_token(token_file))}
    with SoapTransport() as transport:
        result = transport.request(method, f"{base}/_control/{path}", body=data, headers=headers, timeout=10)
    if result.status >= 400:
        raise click.ClickException(f"{method} {path}: HTTP {result.status}: {result.body.decode(errors='replace')}")
    return json.loads(result.body or b"null")


_URL = click.option("--url", envvar="EGOV_GATEWAY_URL", default="http://127.0.0.1:8780",
                    show_default=True, help="any URL of the simulator (base, SOAP endpoint or control URL)")
_TOKEN_FILE = click.option("--token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           help="file holding the control APIs' token (default: EGOV_SIM_CONTROL_TOKEN_FILE, "
                                "printed by `egov sim up`)")


@sim_group.group("fault")
def fault_group() -> None:
    """Inject faults into a running simulator (see docs/gateway.md)."""


@fault_group.command("add")
@_URL
@click.option("--kind", required=True)
@click.option("--service")
@click.option("--operation")
@click.option("--times", type=int)
@click.option("--when", type=click.Choice(["before", "after"]), default="before")
@click.option("--code", help="error/status code of soap_fault and status_code")
@click.option("--http-status", type=int)
@click.option("--latency-ms", type=int)
@click.option("--jitter-ms", type=int)
@click.option("--probability", type=float)
@_TOKEN_FILE
def fault_add(url: str, token_file: Path | None, **fields: Any) -> None:
    spec = {k: v for k, v in fields.items() if v is not None}
    click.echo(json.dumps(_control(url, token_file, "POST", "faults", spec), indent=2))


@fault_group.command("list")
@_URL
@_TOKEN_FILE
def fault_list(url: str, token_file: Path | None) -> None:
    click.echo(json.dumps(_control(url, token_file, "GET", "faults"), indent=2))


@fault_group.command("clear")
@_URL
@_TOKEN_FILE
def fault_clear(url: str, token_file: Path | None) -> None:
    click.echo(json.dumps(_control(url, token_file, "DELETE", "faults"), indent=2))


@fault_group.command("scenario")
@_URL
@_TOKEN_FILE
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def fault_scenario(url: str, token_file: Path | None, file: Path) -> None:
    """Replace the simulator's faults with the scenario FILE (YAML; sent as JSON)."""
    import yaml

    try:
        scenario = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: not YAML: {exc}") from exc
    click.echo(json.dumps(_control(url, token_file, "POST", "faults/scenario", scenario or {}), indent=2))


@sim_group.command("maintenance")
@_URL
@_TOKEN_FILE
@click.argument("state", type=click.Choice(["on", "off"]))
def maintenance(url: str, token_file: Path | None, state: str) -> None:
    click.echo(json.dumps(_control(url, token_file, "PUT", "faults/maintenance", {"enabled": state == "on"}),
                          indent=2))


@sim_group.command("journal")
@_URL
@_TOKEN_FILE
@click.option("--message-id")
@click.option("--service")
@click.option("--reset", is_flag=True, help="empty the journal")
def journal(url: str, token_file: Path | None, message_id: str | None, service: str | None, reset: bool) -> None:
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
@click.option("--correlation-id")
@click.option("--message-id")
@click.option("--timeout", type=float)
def call_gateway(service_id: str, data_file: Path, url: str | None, correlation_id: str | None,
                 message_id: str | None, timeout: float | None) -> None:
    """Sign and send DATA to SERVICE on the sync channel; print the verified answer.

    The answer is trusted as the flows trust it: signed by the gateway (EGOV_GATEWAY_BIN), with a
    certificate of the trust anchors, valid and, under EGOV_REVOCATION_POLICY, not revoked (unless
    EGOV_CHECK_TRANSPORT_REVOCATION=false); bounded by EGOV_ATTEMPT_TIMEOUT_SECONDS and
    EGOV_ATTACHMENT_RESPONSE_MAX_BYTES.
    """
    from lxml import etree

    from adapters.core.errors import EgovError
    from adapters.core.http import Timeouts
    from adapters.core.settings import get_settings
    from adapters.core.trust.keystore import KeyMaterial
    from adapters.core.xmlparse import parse_xml
    from adapters.core.xmlsig import SigningService
    from adapters.egov_gateway import GatewayClient
    from procedure.clients import Endpoints, TrustServices
    from procedure.credentials import reveal

    settings = get_settings()
    try:
        endpoints = Endpoints.from_settings(settings)
        trust = TrustServices.build(endpoints)
        signing = SigningService(KeyMaterial.from_pkcs12(endpoints.keystore_path, reveal(endpoints.keystore_password)))
        data = parse_xml(data_file.read_bytes(), what=str(data_file))
        with GatewayClient(url or endpoints.gateway_url, signing=signing, verification=trust.transport_verification,
                           sender_id=endpoints.sender_id,
                           sender_password=(reveal(endpoints.sender_password)
                                            if endpoints.sender_password is not None else None),
                           timeouts=Timeouts.from_settings(settings), expect_bin=endpoints.gateway_bin,
                           max_answer_bytes=settings.attachment_response_max_bytes) as client:
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
