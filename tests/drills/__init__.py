"""Hostile-input drills: generators of documents and envelopes, a python-xmlsec reference, mutations.

The drills (``tests/drills/test_differential.py``, ``tests/drills/test_fuzz.py``) run bounded in the
default test run; ``EGOV_DRILL_SCALE`` multiplies their case counts for long runs (docs/drills.md).
"""

from __future__ import annotations

import os

from adapters.core.errors import ConfigurationError


def drill_scale() -> int:
    """``EGOV_DRILL_SCALE`` (a positive integer, default 1): how many times the default case counts to run."""
    raw = os.environ.get("EGOV_DRILL_SCALE", "1").strip() or "1"
    try:
        scale = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"EGOV_DRILL_SCALE must be a positive integer, got {raw!r}",
                                 setting="EGOV_DRILL_SCALE") from exc
    if scale < 1:
        raise ConfigurationError(f"EGOV_DRILL_SCALE must be a positive integer, got {raw!r}",
                                 setting="EGOV_DRILL_SCALE")
    return scale


def scaled(count: int) -> int:
    """``count`` multiplied by the drill scale."""
    return count * drill_scale()
