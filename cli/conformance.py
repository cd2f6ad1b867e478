"""``egov conformance``: the simulators' contract checks against any endpoint (``docs/conformance.md``)."""

from __future__ import annotations

from pathlib import Path

import click

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("conformance")
@click.option("--gateway", required=True, help="the gateway's sync endpoint (e.g. http://127.0.0.1:8780/bip-sync-wss-gost/)")
@click.option("--gateway-async", help="its async endpoint (default: the sync one with bip-sync read bip-async)")
@click.option("--elicense", help="E-licensing's endpoint: its checks run when given")
@click.option("--payment", help="the payment gateway's endpoint: its checks run when given")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path),
              help="write the results as JUnit XML to this file")
@click.option("--manifest", type=_FILE,
              help="take the keys, sender and trust anchors from a landscape manifest (`egov sim up` writes "
                   "it); default: EGOV_LANDSCAPE_MANIFEST, else the EGOV_* settings")
@click.option("--keystore", type=_FILE, help="the organisation's PKCS#12 (default: EGOV_KEYSTORE_PATH)")
@click.option("--keystore-password-file", type=_FILE, help="file holding the keystore's password")
@click.option("--sender-id", help="our senderId at the gateway and the payment gateway")
@click.option("--sender-password-file", type=_FILE, help="file holding our sender's password")
@click.option("--trust-anchor", "trust_anchors", type=_FILE, multiple=True,
              help="PEM of a trusted root, to verify the answers' signatures (repeat for several)")
@click.option("--intermediate", "intermediates", type=_FILE, multiple=True, help="PEM of an intermediate CA")
@click.option("--requestor-bin", help="our BIN, as the register's requests carry it")
@click.option("--gateway-bin", help="the BIN the gateway's signing certificate must carry")
@click.option("--bin", "look_up_bin", help="a BIN the register holds (default: our own)")
@click.option("--check", "only", multiple=True, metavar="PATTERN",
              help="run only the checks whose names match (e.g. 'gateway.async.*'); repeat for several")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="seconds an answer may take")
def conformance_cmd(gateway: str, gateway_async: str | None, elicense: str | None, payment: str | None,
                    junit_file: Path | None, manifest: Path | None, keystore: Path | None,
                    keystore_password_file: Path | None, sender_id: str | None, sender_password_file: Path | None,
                    trust_anchors: tuple[Path, ...], intermediates: tuple[Path, ...], requestor_bin: str | None,
                    gateway_bin: str | None, look_up_bin: str | None, only: tuple[str, ...], timeout: float) -> None:
    """Run the contract checks the simulators embody (WSDL, signed and schema-valid answers in the
    signing profile, status and error codes, messageId dedup, the async channel, the register's
    answers) against these endpoints, with the organisation's keys. One line per check; exit status
    0 when none failed, 1 otherwise."""
    from adapters.core.http import Timeouts
    from adapters.core.settings import get_settings
    from conformance import KeyOptions, Probe, Targets, endpoints_for, run_conformance, write_junit

    if junit_file is not None and not junit_file.parent.is_dir():
        raise click.BadParameter(f"folder {junit_file.parent} does not exist", param_hint="--junit")
    targets = Targets(gateway=gateway, gateway_async=gateway_async, elicense=elicense, payment=payment)
    keys = KeyOptions(keystore=keystore, keystore_password_file=keystore_password_file, sender_id=sender_id,
                      sender_password_file=sender_password_file, trust_anchors=trust_anchors,
                      intermediates=intermediates, requestor_bin=requestor_bin, gateway_bin=gateway_bin)
    endpoints = endpoints_for(targets, keys, settings=get_settings(), manifest=manifest)
    with Probe(endpoints, timeouts=Timeouts(min(5.0, timeout), timeout, timeout),
               look_up_bin=look_up_bin) as probe:
        report = run_conformance(probe, targets.systems(), only=only,
                                 on_result=lambda result: click.echo(result.line()))
    if junit_file is not None:
        click.echo(f"JUnit XML: {write_junit(report, junit_file)}")
    click.echo(report.summary())
    if not report.passed:
        raise SystemExit(1)
