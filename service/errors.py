"""The service's own leaves of the project's error hierarchy (codes ``EGOV6xx``).

Everything else a route can meet is already an :class:`~adapters.core.errors.EgovError` raised by
an adapter or the trust layer; :mod:`service.error_responses` translates both at the HTTP boundary.
"""

from __future__ import annotations

from typing import Any

from adapters.core.errors import EgovError


class ServiceError(EgovError):
    """A request the service itself refuses (not an external system)."""

    code = "EGOV600"


class Unauthenticated(ServiceError):
    """No API key, or a key that belongs to no caller (HTTP 401)."""

    code = "EGOV601"


class Forbidden(ServiceError):
    """The caller is known but not allowed this operation (HTTP 403)."""

    code = "EGOV602"

    def __init__(self, caller: str, permission: str) -> None:
        super().__init__(f"caller {caller!r} is not allowed {permission!r}", caller=caller, permission=permission)
        self.permission = permission


class RouteNotFound(ServiceError):
    """No route at this path (HTTP 404)."""

    code = "EGOV603"


class MethodNotAllowed(ServiceError):
    """The path exists, the method does not (HTTP 405)."""

    code = "EGOV604"


class RequestTooLarge(ServiceError):
    """The request body is over ``EGOV_SERVICE_MAX_REQUEST_BYTES`` (HTTP 413)."""

    code = "EGOV605"

    def __init__(self, limit: int | None = None, **context: Any) -> None:
        over = f"over {limit} bytes" if limit is not None else "too large"
        super().__init__(f"request body {over} (EGOV_SERVICE_MAX_REQUEST_BYTES)", limit=limit, **context)


class SigningDisabled(ServiceError):
    """Signing with the organisation's key was asked while ``EGOV_SERVICE_SIGNING_ENABLED`` is off (HTTP 403)."""

    code = "EGOV607"


class BadRequest(ServiceError):
    """The request cannot be read at all (HTTP 400), e.g. a body FastAPI could not parse."""

    code = "EGOV608"


class InternalError(ServiceError):
    """An unexpected failure inside the service (HTTP 500); the log has the details under the request id."""

    code = "EGOV699"
