"""``egov ncalayer``: a local NCALayer answering web pages' signing requests with chosen test keys."""

from __future__ import annotations

from pathlib import Path

import click

from cli.serving import wait_until_stopped


@click.command(name="ncalayer")
@click.option("--p12", "p12", required=True, multiple=True, type=click.Path(exists=True, dir_okay=False,
                                                                              path_type=Path),
              help="PKCS#12 keystore the user picks in NCALayer's dialog (repeatable: an AUTH and a signing key)")
@click.option("--password-file", "password_files", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="file holding a keystore's password (readable by its owner only); one per --p12, in order, "
                   "or one for all")
@click.option("--port", default=13579, show_default=True, help="port to listen on (NCALayer's own: 13579)")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--origin", "origins", multiple=True, metavar="URL",
              help="pages of this origin may connect, e.g. http://127.0.0.1:8783 (repeatable; default: the "
                   "portal on its default port, http://127.0.0.1:8783 and http://localhost:8783); other pages get 403")
@click.option("--any-origin", is_flag=True,
              help="let any page connect (the simulator signs without asking: test keys only)")
def ncalayer_cmd(p12: tuple[Path, ...], password_files: tuple[Path, ...], port: int, host: str,
                 origins: tuple[str, ...], any_origin: bool) -> None:
    """Serve NCALayer's WebSocket protocol (getActiveTokens, getKeyInfo, signXml, ...) with the keys
    given: the portal's pages sign through it as through the real NCALayer."""
    from simulators.ncalayer import KeyChoice, NcaLayerSimulator
    from simulators.ncalayer.server import DEFAULT_ORIGINS

    keys = KeyChoice.from_paths(list(p12), list(password_files))
    allowed = origins or DEFAULT_ORIGINS
    sim = NcaLayerSimulator(keys, host=host, port=port, origins=allowed, any_origin=any_origin).start()
    click.echo(f"NCALayer simulator on {sim.url}")
    click.echo("  pages allowed: " + ("any" if any_origin else ", ".join(allowed)), err=True)
    for key in keys.keys:
        info = key.info()
        click.echo(f"  {key.usage:<4} {info['alias']}: {info['subjectCn']}")
    click.echo("running; Ctrl-C to stop", err=True)
    try:
        wait_until_stopped()
    finally:
        sim.stop()
        click.echo("stopped", err=True)
