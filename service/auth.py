"""Who is calling, and may they: FastAPI dependencies over the callers registry.

A caller sends its API key in ``X-API-Key``. No key or an unknown key: :class:`Unauthenticated`
(401). A known caller without the route's permission: :class:`Forbidden` (403). Both are answered
as JSON errors by :mod:`service.error_responses` (SOAP Faults on the ShEP proxy). The caller's name
goes to ``request.state.caller`` for the access log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from service.callers import Caller
from service.errors import Forbidden, Unauthenticated
from service.runtime import ServiceRuntime

API_KEY_HEADER = "X-API-Key"

api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                              description="the caller's API key (`egov serve add-caller` prints it once)")


def runtime_of(request: Request) -> ServiceRuntime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, ServiceRuntime)
    return runtime


def identify(request: Request, key: str | None) -> Caller:
    """The caller holding ``key``; :class:`Unauthenticated` when there is none."""
    if not key:
        raise Unauthenticated(f"no API key: send it in the {API_KEY_HEADER} header")
    caller = runtime_of(request).callers.authenticate(key)
    if caller is None:
        raise Unauthenticated("unknown API key")
    request.state.caller = caller.name
    return caller


def authorise(caller: Caller, permission: str) -> None:
    """:class:`Forbidden` unless ``caller`` may ``permission``."""
    if not caller.allows(permission):
        raise Forbidden(caller.name, permission)


def require(permission: str) -> Callable[[Request, str | None], Awaitable[Caller]]:
    """A dependency: the authenticated caller, allowed ``permission``."""

    async def dependency(request: Request, key: str | None = Security(api_key_header)) -> Caller:
        caller = identify(request, key)
        authorise(caller, permission)
        return caller

    return dependency


async def authenticated(request: Request, key: str | None = Security(api_key_header)) -> Caller:
    """A dependency: the authenticated caller (the route checks a permission that depends on the request)."""
    return identify(request, key)
