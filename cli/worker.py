"""``egov worker``: run licensing flows' tasks from the task queue (docs/service.md, "Workers").

``egov worker [--threads N]`` consumes the tasks ``egov serve`` sends through the broker
(``EGOV_BROKER_URL``): flow steps, the status-notice pump, PDF rendering; and sweeps the flow store
for flows no task carries. Start as many as the load needs, on any host that reaches the broker,
the database, the systems and the flows' files. A bad setting, no broker, or a keystore or manifest
that cannot be read is one line on stderr and exit status 1; SIGTERM or Ctrl-C stops it gracefully
(running steps end, their flows move on) with exit status 0.
"""

from __future__ import annotations

import click

from cli.serve import _settings


@click.command("worker")
@click.option("--threads", type=click.IntRange(1, 64), help="task threads (default: EGOV_WORKER_THREADS, 4)")
def worker_cmd(threads: int | None) -> None:
    """Run the flows' tasks from the broker (EGOV_BROKER_URL) until Ctrl-C or SIGTERM."""
    from adapters.core.errors import EgovError
    from cli.serving import wait_until_stopped
    from workers import BrokerWorker

    settings = _settings()
    if threads is not None:
        settings = settings.model_copy(update={"worker_threads": threads})
    try:
        worker = BrokerWorker(settings).start()
    except EgovError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    click.echo(f"egov worker: {settings.worker_threads} threads on the broker {_redacted(settings.broker_url)}; "
               "Ctrl-C stops it")
    try:
        wait_until_stopped()
    finally:
        worker.stop()
    click.echo("egov worker stopped")


def _redacted(url: str | None) -> str:
    """The broker URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    if not url:
        return "-"
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
