"""``egov sign`` and ``egov verify``: the signing and verification services on files.

``egov sign`` takes the keystore's password from a file, a variable or a prompt (:mod:`cli.passwords`);
its errors are one line and a hint (:mod:`cli.failure`). It refuses to sign what is already signed
(an envelope whose wsse:Security holds a signature, a document with a ds:Signature under its
root): a second enveloped signature over the whole document would break the first (its digest
covers the root's content), and a second WS-Security signature is not the gateway's profile.
Sign the unsigned original instead. ``egov verify`` loads no key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, cast

import click

from adapters.core.errors import EgovError, SignatureRefused
from cli.passwords import key_password, password_options


def _read(path: str) -> bytes:
    return Path(path).read_bytes() if path != "-" else sys.stdin.buffer.read()


def _write(path: str, data: bytes) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(path).write_bytes(data)


@click.command(name="sign")
@click.option("--p12", "p12", required=True, type=click.Path(exists=True, dir_okay=False),
              help="PKCS#12 keystore (RSA256_*.p12)")
@password_options("keystore")
@click.option("--wsse", is_flag=True, help="sign a SOAP envelope (WS-Security, gateway profile)")
@click.option("--enveloped", is_flag=True, help="enveloped XML-DSig over a whole document")
@click.option("--reference", default="", help="with --enveloped: sign '#id' instead of the whole document")
@click.option("--token", type=click.Choice(["key-identifier", "binary-security-token"]),
              default="key-identifier", show_default=True, help="with --wsse: how KeyInfo carries the certificate")
@click.argument("input_path", metavar="IN", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.argument("output_path", metavar="OUT", type=click.Path(dir_okay=False, allow_dash=True))
def sign_cmd(p12: str, password: str | None, password_file: Path | None, password_env: str | None,
             wsse: bool, enveloped: bool, reference: str, token: str, input_path: str, output_path: str) -> None:
    """Sign IN (a file, or - for stdin) and write OUT (a file, or - for stdout). Without
    --password-file, --password-env or --password, the keystore's password is asked for (not echoed).
    A signed IN is refused: sign the unsigned original."""
    from adapters.core.trust.keystore import KeyMaterial
    from adapters.core.xmlsig import SignatureConfig, SigningService

    if wsse == enveloped:
        raise click.UsageError("choose --wsse or --enveloped, one of them: a SOAP envelope or a document")
    if output_path != "-" and not Path(output_path).resolve().parent.is_dir():
        raise click.BadParameter(f"folder {Path(output_path).parent} does not exist (create it first)",
                                 param_hint="OUT")
    data = _read(input_path)
    _refuse_signed(data, input_path, "wsse" if wsse else "enveloped")
    secret = key_password(password, password_file, password_env, prompt=f"password of {p12}")
    key = KeyMaterial.from_pkcs12(p12, secret or None)
    service = SigningService(key, SignatureConfig(token_reference=token))  # type: ignore[arg-type]
    out = service.sign_envelope(data) if wsse else service.sign_document(data, reference_uri=reference)
    _write(output_path, out)


def _refuse_signed(data: bytes, name: str, mode: str) -> None:
    """A :class:`~adapters.core.errors.ValidationError` when ``data`` already carries the signature
    ``mode`` would add (see the module's docstring)."""
    from adapters.core.errors import ValidationError
    from adapters.core.xmlparse import NS, parse_xml

    root = parse_xml(data, allow_huge=True, what=name)
    signature = f"{{{NS['ds']}}}Signature"
    if mode == "wsse":
        security = root.find(f"*/{{{NS['wsse']}}}Security")
        signed = security is not None and security.find(signature) is not None
    else:
        signed = root.find(signature) is not None
    if signed:
        raise ValidationError("IN", f"{name} is already signed ({'wsse:Security' if mode == 'wsse' else 'the root'} "
                              "holds a ds:Signature); a second signature would not add to it: sign the unsigned "
                              "original")


def _kind(data: bytes) -> str:
    """``wsse`` for a soap:Envelope carrying wsse:Security, else ``enveloped``."""
    from adapters.core.xmlparse import NS, parse_xml

    root = parse_xml(data, allow_huge=True)
    if root.tag in (f"{{{NS['soap']}}}Envelope", "{http://www.w3.org/2003/05/soap-envelope}Envelope"):
        security = root.find(f"*/{{{NS['wsse']}}}Security")
        if security is not None:
            return "wsse"
    return "enveloped"


@click.command(name="verify")
@click.argument("input_path", metavar="IN")
@click.option("--ca", "ca", required=True, multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="trusted root certificate(s), PEM (repeatable)")
@click.option("--intermediate", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="intermediate CA certificate(s), PEM, when the signature does not carry them")
@click.option("--revocation", type=click.Choice(["ocsp", "crl", "ocsp-then-crl", "none"]),
              default="ocsp-then-crl", show_default=True,
              help="how to check revocation (URLs from the certificate's AIA / CRL distribution point)")
@click.option("--crl", "crl", type=click.Path(exists=True, dir_okay=False), help="use this CRL file (DER or PEM)")
@click.option("--expect-bin", default=None, help="refuse unless the signer's certificate carries this BIN")
@click.option("--expect-iin", default=None, help="refuse unless the signer's certificate carries this IIN")
@click.option("--usage", type=click.Choice(["sign", "auth", "any"]), default="sign", show_default=True,
              help="required key usage")
@click.option("--kind", type=click.Choice(["auto", "wsse", "enveloped"]), default="auto", show_default=True,
              help="what IN is: auto tells a SOAP envelope with wsse:Security from a document")
@click.option("--max-age", type=float, default=None, help="with wsse: timestamp TTL in seconds (default 300)")
def verify_cmd(input_path: str, ca: tuple[str, ...], intermediate: tuple[str, ...], revocation: str,
               crl: str | None, expect_bin: str | None, expect_iin: str | None, usage: str, kind: str,
               max_age: float | None) -> None:
    """Verify a signed envelope or document; print the signer, or the reason for refusing it."""
    from adapters.core.trust.revocation import RevocationChecker
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import SignatureConfig, VerificationService

    try:
        data = _read(input_path)
        checker = RevocationChecker(revocation, crl_path=crl)
        validator = CertificateValidator.from_files(list(ca), list(intermediate), revocation=checker)
        config = SignatureConfig() if max_age is None else SignatureConfig(timestamp_ttl=max_age)
        service = VerificationService(validator, config, allow_huge=True)
        chosen = _kind(data) if kind == "auto" else kind
        wanted = None if usage == "any" else cast(Literal["sign", "auth"], usage)
        if chosen == "wsse":
            signer = service.verify_envelope(data, expect_bin=expect_bin, expect_iin=expect_iin,
                                             usage=wanted).signer
        else:
            signer = service.verify_document(data, expect_bin=expect_bin, expect_iin=expect_iin,
                                             usage=wanted).signer
    except SignatureRefused as exc:
        click.echo(f"refused ({exc.reason.value}): {exc.detail}", err=True)
        raise SystemExit(1) from exc
    except EgovError as exc:
        click.echo(f"error ({exc.code}): {exc}", err=True)
        raise SystemExit(2) from exc
    click.echo(f"valid {chosen} signature")
    click.echo(f"  signer : {signer.common_name}")
    click.echo(f"  IIN    : {signer.iin or '-'}")
    click.echo(f"  BIN    : {signer.bin or '-'}")
    if signer.organisation:
        click.echo(f"  org    : {signer.organisation}")
    click.echo(f"  roles  : {', '.join(signer.roles) or '-'}")
    click.echo(f"  usage  : {signer.usage}")
    click.echo(f"  serial : {signer.serial}")
