"""What a backend behind the gateway sees and answers. Backends register explicitly with
:meth:`GatewaySimulator.register_backend`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from lxml import etree

from adapters.contracts.gateway_codes import CODES, SUCCESS


@dataclass(frozen=True)
class BackendRequest:
    """One message routed to a backend. ``data`` is the element inside ``requestData/data``
    (``messageData/data`` on the async channel), a copy the backend may keep."""

    service_id: str
    message_id: str
    correlation_id: str | None
    sender_id: str
    properties: dict[str, str]
    data: etree._Element | None
    message_type: str = "REQUEST"
    channel: Literal["sync", "async"] = "sync"
    route_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class BackendResponse:
    """A backend's answer: the business data and the gateway status to report."""

    data: etree._Element | None = None
    status_code: str = SUCCESS
    status_message: str = field(default=CODES[SUCCESS].meaning)


class GatewayBackend(Protocol):
    """A system behind the gateway. May raise an ``EgovError`` (e.g. ``NotFoundError``,
    ``BusinessError``, ``SignatureRefused`` for the business-data signature): the gateway maps it to
    a status code (``adapters.contracts.gateway_codes.code_for_backend_error``)."""

    def handle(self, request: BackendRequest) -> BackendResponse: ...


class EchoBackend:
    """Answers with ``<echo>`` wrapping a copy of the request data; counts calls per messageId."""

    ECHO_NS = "urn:egov-adapters:test:echo"

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self.calls: list[BackendRequest] = []

    def handle(self, request: BackendRequest) -> BackendResponse:
        with self._lock:
            self.calls.append(request)
        echo = etree.Element(f"{{{self.ECHO_NS}}}echo", nsmap={"e": self.ECHO_NS})
        echo.set("messageId", request.message_id)
        echo.set("serviceId", request.service_id)
        if request.data is not None:
            echo.append(_copy(request.data))
        return BackendResponse(data=echo)

    def count(self, message_id: str | None = None) -> int:
        with self._lock:
            return sum(1 for c in self.calls if message_id is None or c.message_id == message_id)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()


def _copy(element: etree._Element) -> etree._Element:
    import copy

    return copy.deepcopy(element)
