"""The conformance kit: the contract checks the simulators embody, run against any endpoint —
our simulators, or a real test environment with the organisation's keys (``egov conformance``,
``docs/conformance.md``). It uses the adapters only: no simulator, no harness."""

from conformance.junit import junit_xml, write_junit
from conformance.probe import Probe
from conformance.report import CheckFailed, CheckResult, CheckSkipped, Report
from conformance.runner import CHECKS, run_conformance
from conformance.targets import KeyOptions, Targets, endpoints_for

__all__ = ["CHECKS", "CheckFailed", "CheckResult", "CheckSkipped", "KeyOptions", "Probe", "Report", "Targets",
           "endpoints_for", "junit_xml", "run_conformance", "write_junit"]
