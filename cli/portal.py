"""The portal beside the simulators of ``egov sim up``: started on the landscape's manifest, its pages
signing through the NCALayer at ``ncalayer_url`` (``egov ncalayer``; docs/portal.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.portal import PortalServer

DEFAULT_PORT = 8783


def start_on_landscape(manifest: Path, *, port: int = DEFAULT_PORT,
                       ncalayer_url: str | None = None) -> PortalServer:
    """The portal on 127.0.0.1:``port`` (a free port when 0), talking to the landscape of ``manifest``
    through the adapters. Stop it with ``.stop()`` (its clients are closed with it)."""
    from harness.landscape import Landscape
    from procedure.clients import ProcedureClients
    from simulators.portal import DEFAULT_NCALAYER_URL, PortalBackends, PortalServer

    land = Landscape.attach(manifest)
    backends = PortalBackends(ProcedureClients(land.endpoints), land.bank)
    return PortalServer(backends, ncalayer_url=ncalayer_url or DEFAULT_NCALAYER_URL, port=port,
                        close_backends=True).start()
