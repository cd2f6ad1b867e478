"""``egov pki``: the test PKI modelled on the NCA — init, issue, revoke, status, serve.

Keys are written readable by their owner only (0600); their passwords come from a file, a variable
or a prompt (:mod:`cli.passwords`). Errors are one line and a hint (:mod:`cli.failure`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from adapters.core.trust.subject import describe_name
from cli.failure import ReportingGroup
from cli.passwords import key_password, password_options
from cli.serving import wait_until_stopped
from simulators.pki.testpki import DEFAULT_BASE_URL

F = TypeVar("F", bound=Callable[..., Any])


def _dir_arg(fn: F) -> F:
    return click.argument("directory", type=click.Path(file_okay=False, path_type=Path))(fn)


@click.group(name="pki", cls=ReportingGroup)
def pki_group() -> None:
    """Test PKI modelled on the NCA (root + issuing CA, PKCS#12 keys, CRL, OCSP)."""


@pki_group.command("init")
@_dir_arg
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="URL of 'egov pki serve', written into certificates (OCSP, CRL)")
def init_cmd(directory: Path, base_url: str) -> None:
    """Create a root and an issuing CA in DIRECTORY (DIRECTORY/ca.pem is the trust anchor)."""
    from simulators.pki import TestPKI

    pki = TestPKI.create(directory, base_url=base_url)
    click.echo(f"created test PKI in {directory}")
    click.echo(f"trust anchor: {pki.ca_pem_path}")
    click.echo(f"OCSP: {pki.ocsp_url}  CRL: {pki.crl_url}")


@pki_group.command("issue")
@_dir_arg
@click.option("--iin", required=True, help="holder's IIN (12 digits)")
@click.option("--bin", "bin_", default=None, help="employer's BIN for a legal-entity employee's key (with --org)")
@click.option("--org", default=None, help="organisation name (with --bin; both or neither)")
@click.option("--surname", default="TESTOV", show_default=True, help="holder's surname (SURNAME)")
@click.option("--given-name", default="TESTOVICH", show_default=True, help="patronymic (GIVENNAME)")
@click.option("--common-name", default=None, help='CN, default "<SURNAME> TEST"')
@click.option("--usage", type=click.Choice(["sign", "auth"]), default="sign", show_default=True,
              help="a signing key (RSA256_*.p12) or an authentication key (AUTH_RSA256_*.p12)")
@click.option("--role", "roles", multiple=True,
              help="NCA role name or OID (repeatable); default by --bin: individual / legal-entity+right-to-sign")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True, help="validity in days")
@click.option("--expired", is_flag=True, help="issue a certificate whose validity has ended")
@click.option("--key-type", type=click.Choice(["rsa", "ec"]), default="rsa", show_default=True,
              help="RSA-2048 or ECDSA P-256")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="PKCS#12 file to write (readable by its owner only)")
@password_options("new PKCS#12")
def issue_cmd(directory: Path, iin: str, bin_: str | None, org: str | None, surname: str, given_name: str,
              common_name: str | None, usage: str, roles: tuple[str, ...], days: int, expired: bool,
              key_type: str, out: Path, password: str | None, password_file: Path | None,
              password_env: str | None) -> None:
    """Issue a key and certificate in the NCA layout and write it as PKCS#12 (0600). Without
    --password-file, --password-env or --password, the password is asked for (twice, not echoed)."""
    from adapters.core.errors import KeystoreError
    from simulators.pki import TestPKI

    if (bin_ is None) != (org is None):
        raise click.UsageError("a legal entity's key names its organisation: give --bin and --org together "
                               "(neither for an individual's key)")
    if not out.parent.is_dir():
        raise click.BadParameter(f"folder {out.parent} does not exist (create it first)", param_hint="--out")
    pki = TestPKI.load(directory)
    secret = key_password(password, password_file, password_env, prompt="password of the new PKCS#12", confirm=True)
    if not secret:
        raise KeystoreError("the password of a new PKCS#12 keystore must not be empty")
    key = pki.issue(iin=iin, bin=bin_, org=org, surname=surname, given_name=given_name,
                    common_name=common_name, usage=usage,  # type: ignore[arg-type]
                    roles=roles or None, days=days, expired=expired,
                    key_type=key_type)  # type: ignore[arg-type]
    key.write_pkcs12(out, secret)
    click.echo(f"subject: {describe_name(key.certificate.subject)}")
    click.echo(f"serial: {key.serial}")
    click.echo(f"valid: {key.certificate.not_valid_before_utc:%Y-%m-%d %H:%M:%S}Z .. "
               f"{key.certificate.not_valid_after_utc:%Y-%m-%d %H:%M:%S}Z")
    click.echo(f"written: {out}")


@pki_group.command("revoke")
@_dir_arg
@click.argument("p12", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@password_options("PKCS#12")
@click.option("--serial", default=None, help="serial number (hex) instead of a PKCS#12 file")
@click.option("--reason", default="unspecified", show_default=True,
              help="RFC 5280 reason: keyCompromise, affiliationChanged, superseded, cessationOfOperation, ...")
def revoke_cmd(directory: Path, p12: Path | None, password: str | None, password_file: Path | None,
               password_env: str | None, serial: str | None, reason: str) -> None:
    """Revoke a certificate given by its PKCS#12 file (P12; its password asked for unless given) or by
    --serial."""
    from adapters.core.trust.keystore import KeyMaterial
    from simulators.pki import TestPKI

    if (p12 is None) == (serial is None):
        raise click.UsageError("give either a PKCS#12 file or --serial")
    target: Any = serial
    if p12 is not None:
        secret = key_password(password, password_file, password_env, prompt=f"password of {p12}")
        target = KeyMaterial.from_pkcs12(p12, secret or None).certificate
    record = TestPKI.load(directory).revoke(target, reason=reason)
    assert record.revoked_at is not None
    click.echo(f"revoked: serial {record.serial} at {record.revoked_at:%Y-%m-%d %H:%M:%S}Z "
               f"({record.reason.value if record.reason else 'unspecified'})")


@pki_group.command("status")
@_dir_arg
@click.argument("serial")
def status_cmd(directory: Path, serial: str) -> None:
    """Print good / revoked / unknown for a serial number (hex)."""
    from simulators.pki import TestPKI

    click.echo(TestPKI.load(directory).status(serial))


@pki_group.command("serve")
@_dir_arg
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="port, 0 for a free one (default: the one in the PKI's base URL)")
def serve_cmd(directory: Path, port: int | None) -> None:
    """Serve the CRL and the OCSP responder until Ctrl-C (or SIGTERM)."""
    from simulators.pki import TestPKI

    pki = TestPKI.load(directory)
    if port is None:
        port = urlsplit(pki.base_url).port or 80
    try:
        server = pki.serve(port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
    click.echo(f"serving CRL and OCSP at {server.url} (certificates point to {pki.base_url}); Ctrl-C stops")
    try:
        wait_until_stopped()
    finally:
        server.stop()
    click.echo("stopped")
