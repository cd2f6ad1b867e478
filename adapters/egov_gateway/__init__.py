"""Adapter of the e-Government gateway (ShEP): sync and async channels, signed both ways.

One way to build and one way to read, the same in every adapter of this project:

- requests are built with lxml from typed values, one function per operation, in
  ``messages.py``: the WSDL's element names, order and namespaces, optional fields left out when
  None;
- answers are read with lxml, one function per answer, in ``answers.py``, from the payload that
  :class:`adapters.core.soap.ResponsePipeline` hands over (HTTP status → Fault → signature →
  schema): the readers convert what the schema has already checked into the models, and whatever
  they cannot convert, or the model refuses, is an ``InvalidResponseError`` naming the field.

zeep is the WSDL's interpreter where that serves: in the tests, which check every builder against
zeep's ``create_message`` (canonical XML) and every reader against its ``deserialize``, so that a
builder or reader drifting from the WSDL fails a test. It is not imported at run time and sends
nothing. Why this way round: one code path per direction instead of a fast path with a zeep
fallback; the order of the checks stays the pipeline's (zeep's own reply handling checks
signatures before Faults, and its deserialisation would check again what the schema checked);
building and reading a message with lxml costs a fraction of zeep's per-call rendering and
parsing; and the same idiom serves the contracts zeep does not describe (the GBD UL documents
inside the gateway's data).
"""

from __future__ import annotations

from adapters.contracts.gateway_codes import CODES, SUCCESS, GatewayCode, lookup
from adapters.egov_gateway.client import GatewayClient
from adapters.egov_gateway.errors import GatewayFaultError, StatusCodeError
from adapters.egov_gateway.models import AsyncMessage, GatewayStatus, MessageStatus, SendReceipt, SyncResponse

__all__ = [
    "CODES",
    "SUCCESS",
    "AsyncMessage",
    "GatewayClient",
    "GatewayCode",
    "GatewayFaultError",
    "GatewayStatus",
    "MessageStatus",
    "SendReceipt",
    "StatusCodeError",
    "SyncResponse",
    "lookup",
]
