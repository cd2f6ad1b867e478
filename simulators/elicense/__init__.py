"""E-licensing simulator: state (``backend``), wire format (``soap``), control API (``control``)."""

from simulators.elicense.backend import BackendConfig, ElicenseBackend, FeeSchedule
from simulators.elicense.server import ElicenseSimulator

__all__ = ["BackendConfig", "ElicenseBackend", "ElicenseSimulator", "FeeSchedule"]
