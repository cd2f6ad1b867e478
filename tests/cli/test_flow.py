"""``egov flow``: its choices are the harness's, without importing the harness for ``--help``."""

from __future__ import annotations

from cli.flow import FAULTS, OPERATIONS, SERVICES
from harness.scenario import Fault
from procedure.models import Operation, Service


def test_the_commands_choices_are_the_scenarios() -> None:
    assert tuple(f.value for f in Fault) == FAULTS
    assert tuple(s.value for s in Service) == SERVICES
    assert set(OPERATIONS) == {o.value for o in Operation}
