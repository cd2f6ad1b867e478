"""``egov id check NUMBER``: validate an IIN or BIN and show what it encodes."""

from __future__ import annotations

import click

from adapters.core.errors import IdentifierError
from adapters.core.identifiers import IinInfo, parse_bin, parse_identifier, parse_iin


@click.group(name="id")
def id_group() -> None:
    """IIN and BIN numbers."""


@id_group.command("check")
@click.argument("number")
@click.option("--as", "kind", type=click.Choice(["auto", "iin", "bin"]), default="auto", show_default=True,
              help="read the number as this kind")
def check_cmd(number: str, kind: str) -> None:
    """Exit 0 and print what NUMBER encodes when valid; exit 1 with the reason otherwise."""
    try:
        if kind == "iin":
            info: object = parse_iin(number, "IIN")
        elif kind == "bin":
            info = parse_bin(number, "BIN")
        else:
            info = parse_identifier(number)
    except IdentifierError as exc:
        raise click.ClickException(f"invalid: {exc}") from exc
    if isinstance(info, IinInfo):
        click.echo(f"IIN {info.value}: valid; born {info.birth_date:%Y-%m-%d}, {info.sex}")
    else:
        b = info  # BinInfo
        click.echo(f"BIN {b.value}: valid; registered {b.year}-{b.month:02d}, "  # type: ignore[attr-defined]
                   f"type {b.type_code} ({b.type_name}), "  # type: ignore[attr-defined]
                   f"attribute {b.attribute_code} ({b.attribute_name})")  # type: ignore[attr-defined]
