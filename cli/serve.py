"""``egov serve``: run the long-running service; manage its callers.

``egov serve [--host H] [--port P] [--workers N]`` starts the service (``docs/service.md``) with the ``EGOV_*``
settings (logging as ``egov`` set it: EGOV_LOG_LEVEL, EGOV_LOG_JSON or ``egov --log-level``), prints
its URL and serves until Ctrl-C or SIGTERM. A bad setting, an unreadable
keystore or manifest, or a taken port is one line on stderr and exit status 1, never a traceback.

``egov serve add-caller NAME --allow PERMISSION...`` adds a caller (or gives it a new key) and
prints its API key once; the callers file keeps only the key's SHA-256 and is written 0600.
``egov serve callers`` lists them, ``egov serve remove-caller NAME`` removes one.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from adapters.core.settings import Settings


def _settings() -> Settings:
    """The run's settings (:mod:`cli.settings`; a bad one is one line naming it, from the ``egov`` group)."""
    from cli.settings import current_settings

    return current_settings()


def _callers_file(given: Path | None) -> Path:
    return given if given is not None else _settings().service_callers_file


_CALLERS_FILE = click.option("--callers-file", type=click.Path(dir_okay=False, path_type=Path),
                             help="callers file (default: EGOV_SERVICE_CALLERS_FILE)")


@click.group("serve", invoke_without_command=True)
@click.option("--host", help="address to listen on (default: EGOV_SERVICE_HOST, 127.0.0.1)")
@click.option("--port", type=click.IntRange(0, 65535),
              help="TCP port (default: EGOV_SERVICE_PORT, 8800; 0: a free one)")
@click.option("--workers", type=click.IntRange(1, 64),
              help="service processes on the port (default: EGOV_SERVICE_WORKERS, 1)")
@click.pass_context
def serve_group(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the service: JSON API, ShEP proxy, /metrics, /healthz, /readyz (docs/service.md)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    host = host or settings.service_host
    port = settings.service_port if port is None else port
    workers = settings.service_workers if workers is None else workers
    if workers > 1:
        _serve_processes(ctx, host, port, workers)
        return
    from adapters.core.errors import EgovError
    from service.app import create_app
    from service.runtime import ServiceRuntime
    from service.server import ServiceServer, bind

    runtime = None
    try:
        listening = bind(host, port)
        try:
            runtime = ServiceRuntime.from_settings(settings)
            server = ServiceServer(create_app(runtime), host, port, listening=listening)
        except BaseException:
            listening.close()
            raise
    except EgovError as exc:
        if runtime is not None:
            runtime.close()
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    click.echo(f"egov service listening on {server.url} (API {server.url}/api/v1, docs {server.url}/docs, "
               f"metrics {server.url}/metrics); Ctrl-C stops it")
    # uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again under the handlers
    # it found: these let the command close the runtime and exit 0 instead of dying of the signal
    # (SIGINT is set explicitly: a shell starting a background job sets it to "ignored"). A signal
    # that comes before uvicorn has put its own handlers in place asks the server to stop, so it is
    # never lost (a SIGTERM right after the line above used to leave the service running).
    signal.signal(signal.SIGTERM, lambda *_: server.ask_to_stop())
    signal.signal(signal.SIGINT, lambda *_: server.ask_to_stop())
    try:
        server.run()
    finally:
        runtime.close()
    click.echo("egov service stopped")


def _serve_processes(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """``workers`` processes on one port (:mod:`service.processes`). The settings are
    checked here first, by building the runtime once, so that a bad one is one line and exit status
    1 as with one process; each process then builds its own from the same ``EGOV_*`` settings (the
    command line's logging options are handed to them as variables)."""
    import os

    from adapters.core.errors import EgovError
    from service.processes import bind_processes, serve_processes
    from service.runtime import ServiceRuntime

    root = ctx.find_root().params
    if root.get("log_level"):
        os.environ["EGOV_LOG_LEVEL"] = str(root["log_level"]).upper()
    if root.get("log_json") is not None:
        os.environ["EGOV_LOG_JSON"] = str(bool(root["log_json"])).lower()
    try:
        sockets = bind_processes(host, port, workers)
        try:
            ServiceRuntime.from_settings(_settings()).close()
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
    except EgovError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sockets[0].getsockname()[1]}"
    click.echo(f"egov service listening on {url} ({workers} processes; API {url}/api/v1, docs {url}/docs, "
               f"metrics {url}/metrics); Ctrl-C stops it")
    try:
        serve_processes(sockets)
    except EgovError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    click.echo("egov service stopped")


@serve_group.command("add-caller")
@click.argument("name")
@click.option("--allow", "allow", multiple=True, required=True,
              help="a permission '<service>:<operation>', wildcards allowed (repeat the option)")
@_CALLERS_FILE
def add_caller_cmd(name: str, allow: tuple[str, ...], callers_file: Path | None) -> None:
    """Add caller NAME (or give it a new key); print its API key once."""
    from adapters.core.errors import EgovError
    from service.callers import add_caller

    path = _callers_file(callers_file)
    try:
        key = add_caller(path, name, allow)
    except EgovError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    click.echo(f"caller {name} may: {', '.join(allow)}")
    click.echo(f"API key (shown once, only its SHA-256 is kept in {path}):")
    click.echo(key)


@serve_group.command("remove-caller")
@click.argument("name")
@_CALLERS_FILE
def remove_caller_cmd(name: str, callers_file: Path | None) -> None:
    """Remove caller NAME (its key stops working at once)."""
    from adapters.core.errors import EgovError
    from service.callers import remove_caller

    try:
        removed = remove_caller(_callers_file(callers_file), name)
    except EgovError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    if not removed:
        raise click.ClickException(f"no caller named {name}")
    click.echo(f"caller {name} removed")


@serve_group.command("callers")
@_CALLERS_FILE
def callers_cmd(callers_file: Path | None) -> None:
    """List the callers and what each may do."""
    from adapters.core.errors import EgovError
    from service.callers import read_callers

    try:
        content = read_callers(_callers_file(callers_file))
    except EgovError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    if not content.callers:
        click.echo(f"no callers in {_callers_file(callers_file)} (add one: egov serve add-caller NAME --allow ...)")
    for caller in content.callers:
        click.echo(f"{caller.name:<24} {', '.join(caller.allow)}")
