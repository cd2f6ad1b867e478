"""The ``egov`` command. Sub-commands are imported only when used, so ``egov --help`` starts fast."""

from __future__ import annotations

import importlib
from typing import Any

import click

from cli.failure import ReportingGroup

# name -> "module:attribute" of a click command or group
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "id": ("cli.ids:id_group", "IIN and BIN: check a number and show what it encodes"),
    "pki": ("cli.pki:pki_group", "test PKI modelled on the NCA: init, issue, revoke, serve"),
    "sign": ("cli.signing:sign_cmd", "sign an envelope (WS-Security) or a document (enveloped)"),
    "verify": ("cli.signing:verify_cmd", "verify a signed envelope or document, print the signer"),
    "sim": ("cli.sim:sim_group", "run the simulators"),
    "call": ("cli.sim:call_group", "send one message through an adapter"),
    "conformance": ("cli.conformance:conformance_cmd",
                    "run the simulators' contract checks against any endpoint (a real test environment)"),
    "journal": ("cli.journal:journal_group", "the exchange journal: tail, stats"),
    "demo": ("cli.demo:demo_cmd", "run the licensing procedure end to end against the simulators"),
    "flow": ("cli.demo:flow_group", "run one licensing flow"),
    "serve": ("cli.serve:serve_group", "run the long-running service (JSON API, ShEP proxy); manage its callers"),
    "ncalayer": ("cli.ncalayer:ncalayer_cmd", "a local NCALayer: the portal's pages sign through it with test keys"),
    "worker": ("cli.worker:worker_cmd", "run the licensing flows' tasks from the task queue (EGOV_BROKER_URL)"),
}


class LazyGroup(ReportingGroup):
    """Sub-commands imported when used; an :class:`~adapters.core.errors.EgovError` a command lets
    through is shown as one line and a hint (:mod:`cli.failure`), never as a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return _unavailable(cmd_name, target[1])
            raise
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=f"{help_text} (not built yet)")
    def cmd() -> None:
        raise click.ClickException(f"'egov {name}' is not available in this build yet")
    return cmd


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", type=click.Choice(_LEVELS, case_sensitive=False), default=None,
              help="logging level, logs to stderr (default: EGOV_LOG_LEVEL, INFO)")
@click.option("--log-json/--log-text", default=None, help="JSON logs or readable lines "
              "(default: EGOV_LOG_JSON; unset: readable on a terminal, JSON otherwise)")
@click.pass_context
def cli(ctx: click.Context, log_level: str | None, log_json: bool | None) -> None:
    """Adapters and simulators for Kazakhstan's e-government systems (Order No. 467 licensing).

    Settings come from EGOV_* variables and ./egov.env (README, "Configuration").
    """
    from adapters.core.logs import configure_logging
    from cli.settings import current_settings

    settings = current_settings()
    configure_logging((log_level or settings.log_level).upper(),
                      json=settings.log_json if log_json is None else log_json)


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="egov")
