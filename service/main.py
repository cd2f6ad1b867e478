"""The service from the settings alone, as a uvicorn factory (``service.main:app_from_settings``).

``uvicorn --factory service.main:app_from_settings --workers N --no-access-log`` starts N worker
processes, each with its own runtime (clients, journal connection, breakers); set
``PROMETHEUS_MULTIPROC_DIR`` so that ``/metrics`` adds up every worker's counters
(:mod:`service.metrics`). ``egov serve --workers N`` runs it the same way, each process on a socket
of its own (:mod:`service.processes`).
"""

from __future__ import annotations

from fastapi import FastAPI

from adapters.core.logs import configure_logging
from adapters.core.settings import load_settings
from service.app import create_app
from service.runtime import ServiceRuntime


def app_from_settings() -> FastAPI:
    """A new runtime from the ``EGOV_*`` settings and the app that owns it (closed on shutdown);
    the project's logs as the settings say (JSON by default)."""
    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(ServiceRuntime.from_settings(settings), close_runtime=True)
