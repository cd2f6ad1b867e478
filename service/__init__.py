"""``egov serve``: the organisation's long-running service for the e-government systems.

In the manner of an X-Road security server: one process that signs, sends, retries, journals and
monitors every exchange, called by the organisation's own systems over plain HTTP (a JSON API with
OpenAPI, and a ShEP proxy taking the gateway's unsigned SOAP messages). ``docs/service.md``.

Public names: :func:`create_app`, :class:`ServiceRuntime`, :class:`ServiceServer`.
"""

from __future__ import annotations

from service.app import create_app
from service.runtime import ServiceRuntime
from service.server import ServiceServer

__all__ = ["ServiceRuntime", "ServiceServer", "create_app"]
