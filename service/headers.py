"""Informative headers of the service's answers, and how a value is made fit for HTTP."""

from __future__ import annotations

SIGNER = "X-Egov-Signer"
"""Who signed what is handed back (the verified signer's one-line description)."""
MESSAGE_ID = "X-Egov-Message-ID"
"""The gateway messageId of a proxied message."""
ATTEMPTS = "X-Egov-Attempts"
"""How many attempts the exchange took (the same messageId on each)."""


def header_value(text: str) -> str:
    """HTTP header values are Latin-1: anything else (Cyrillic names) is escaped as ``\\uXXXX``."""
    return text.encode("latin-1", "backslashreplace").decode("latin-1")
