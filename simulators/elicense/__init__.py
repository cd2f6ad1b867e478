"""E-licensing simulator: state (``backend``, the facade over ``models``, ``queries``, ``conditions``,
``issuing``, ``notices``), wire format (``soap``), control API (``control``), assembled on one server
(``server``); started in a landscape by ``factory`` (with the licensors' ``head_keys``)."""

from simulators.elicense.backend import ElicenseBackend
from simulators.elicense.models import BackendConfig, FeeSchedule
from simulators.elicense.server import ElicenseSimulator

__all__ = ["BackendConfig", "ElicenseBackend", "ElicenseSimulator", "FeeSchedule"]
