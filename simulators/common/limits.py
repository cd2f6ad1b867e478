"""What the simulators' HTTP runners accept, and the status a request beyond it gets."""

from __future__ import annotations

MAX_BODY_BYTES = 64 * 1024 * 1024  # 30 MB of attachments in base64 plus the envelope
"""Largest request body, declared or (chunked) received (else 413)."""
MAX_LINE_BYTES = 65536
"""Longest request line (else 414) or header line (else 431), as the standard library's server."""
MAX_HEADERS = 100
"""Most header lines in one request (else 431), as the standard library's server."""
MAX_HEAD_BYTES = 4 * MAX_LINE_BYTES
"""Longest request head, request line and header lines together (else 431; 414 when the request
line alone is over :data:`MAX_LINE_BYTES`)."""
METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD"})
"""Methods served (else 501)."""
