"""``egov demo``: the project's main job, run by ``make demo``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click


@click.command("demo")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="where the artefacts are written")
def demo_cmd(out_dir: Path) -> None:
    """Run the walk-throughs against in-process simulators and write the artefacts to OUT."""
    from adapters.cli.trust_walkthrough import run_trust_walkthrough

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    click.echo("== trust layer: sign → verify → tamper → refuse (test PKI, live CRL and OCSP)")
    steps = run_trust_walkthrough(out_dir / "trust", echo=click.echo)
    failed = [s for s in steps if not s.as_expected]
    click.echo(f"   {len(steps) - len(failed)}/{len(steps)} steps as expected")
    if failed:
        for s in failed:
            click.echo(f"   unexpected: {s.title}: expected {s.expected}, got {s.outcome}", err=True)
        sys.exit(1)


@click.group("flow")
def flow_group() -> None:
    """Run one licensing flow."""
