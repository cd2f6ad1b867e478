"""The fault kinds a simulator plays and what each does: a module of its own, so that ``egov sim``
lists them without loading the fault machinery (:mod:`simulators.common.faults`)."""

from __future__ import annotations

from typing import Literal

__all__ = ["KIND_HELP", "FaultKind"]

FaultKind = Literal[
    "latency", "drip", "http_status", "soap_fault", "status_code", "reset", "empty", "empty_body", "garbage",
    "truncated", "malformed_xml", "invalid_signature", "missing_signature", "expired_timestamp",
]

KIND_HELP: dict[str, str] = {
    "latency": "fixed latency_ms plus random 0..jitter_ms, then the normal answer",
    "drip": "the answer's body sent slowly, drip_chunk bytes every drip_interval_ms",
    "http_status": "a bare HTTP error (http_status, e.g. 500 or 503), no SOAP",
    "soap_fault": "a SOAP Fault with error code `code` (default SCE909)",
    "status_code": "a signed answer whose status code is `code` (gateway simulators)",
    "reset": "TCP reset, nothing sent",
    "empty": "connection closed without a byte",
    "empty_body": "HTTP 200 with an empty body",
    "garbage": "bytes that are not HTTP, then close",
    "truncated": "headers announce the full length, half the body is sent, then close",
    "malformed_xml": "HTTP 200 with XML that is not well-formed",
    "invalid_signature": "the answer is signed, then changed (digest no longer matches)",
    "missing_signature": "the answer is sent unsigned",
    "expired_timestamp": "the answer is signed with a Timestamp already expired",
}
"""What each :data:`FaultKind` does (``egov sim fault add --help`` shows it)."""
