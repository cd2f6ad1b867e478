"""zeep as the WSDL's interpreter: the oracle every adapter's requests and readers are checked against.

The adapters build requests and read answers with lxml (one way each, the same in every adapter);
these helpers let a test ask zeep what the WSDL says instead: the request ``create_message``
renders for the same values, what ``deserialize`` reads from the same answer, the SOAPAction of
an operation. zeep loads the packaged WSDLs and their schemas from local files only and never
sends anything (:class:`LocalFilesOnly`).
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from lxml import etree

from adapters.contracts import contract_path
from adapters.core.soap import build_envelope


class _Refused(AssertionError):
    """The WSDL interpreter was asked to reach the network."""


def _local_files_only() -> Any:
    from zeep.transports import Transport

    class LocalFilesOnly(Transport):  # type: ignore[misc]
        """Reads local files (the WSDL and the schemas it imports); refuses every URL and every send."""

        def _load_remote_data(self, url: str) -> bytes:
            raise _Refused(f"the WSDL interpreter does not fetch {url}")

        def get(self, address: str, params: Any, headers: Any) -> Any:
            raise _Refused(f"the WSDL interpreter does not send (GET {address})")

        def post(self, address: str, message: Any, headers: Any) -> Any:
            raise _Refused(f"the WSDL interpreter does not send (POST {address})")

    return LocalFilesOnly(timeout=5, operation_timeout=5)


@lru_cache(maxsize=8)
def wsdl(relative: str) -> Any:
    """The zeep client of a packaged WSDL (``wsdl/...``), parsed once per test process."""
    import zeep

    return zeep.Client(str(contract_path(relative)), transport=_local_files_only())


def _port(relative: str, operation: str) -> tuple[Any, Any]:
    """(service proxy, binding operation) of the one port of the WSDL that has ``operation``."""
    client = wsdl(relative)
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            if operation in port.binding._operations:
                return client.bind(service.name, port.name), port.binding._operations[operation]
    raise KeyError(f"{relative} has no operation {operation}")


def operations(relative: str) -> dict[str, str]:
    """Every operation of the WSDL with its SOAPAction."""
    client = wsdl(relative)
    return {name: op.soapaction for service in client.wsdl.services.values() for port in service.ports.values()
            for name, op in port.binding._operations.items()}


def render(relative: str, operation: str, **arguments: Any) -> etree._Element:
    """The request envelope zeep's ``create_message`` renders for ``arguments``."""
    proxy, _ = _port(relative, operation)
    envelope: etree._Element = wsdl(relative).create_message(proxy, operation, **arguments)
    return envelope


def rendered_payload(relative: str, operation: str, **arguments: Any) -> etree._Element:
    """The Body's element of :func:`render`."""
    body = render(relative, operation, **arguments).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None and len(body) == 1
    return body[0]


def deserialize(relative: str, operation: str, payload: etree._Element) -> Any:
    """What zeep's ``deserialize`` reads from an answer whose Body holds ``payload``."""
    _, binding_operation = _port(relative, operation)
    return binding_operation.output.deserialize(build_envelope(copy.deepcopy(payload)))


def c14n(element: etree._Element) -> str:
    """Canonical XML 2.0 with prefixes rewritten: equal for equal documents whatever prefixes they use."""
    return str(etree.canonicalize(element, rewrite_prefixes=True))


def exclusive_c14n(element: etree._Element) -> bytes:
    """Exclusive C14N 1.0 (what the signatures digest): equal only with the same prefixes too."""
    return bytes(etree.tostring(element, method="c14n", exclusive=True))
