"""The E-licensing portal in a browser: the applicant's pages (Diagram 1 as the user's memo walks
it, in Kazakh and Russian), signing through NCALayer, and the licensor's desk (Diagram 2 and the
decisions). Server-rendered pages over the project's adapters; ``egov portal`` and ``egov sim up``
start it (docs/portal.md)."""

from simulators.portal.backends import PortalBackends
from simulators.portal.server import DEFAULT_NCALAYER_URL, PortalServer

__all__ = ["DEFAULT_NCALAYER_URL", "PortalBackends", "PortalServer"]
