"""The licensing procedure over its ports: one implementation per step of both diagrams.

:class:`ProcedureSteps` gives the :class:`~procedure.machine.FlowRunner` one callable per step of
Diagram 1 (portal, :mod:`procedure.portal`) and Diagram 2 (provider's employee,
:mod:`procedure.provider`), sharing registration, the qualification check and the decision
(:mod:`procedure.decision`), for the operations issue, re-issue, duplicate and appendix.

The steps read only real input: the flow's :class:`~procedure.application.Application` and the
data earlier steps stored. Secrets are resolved from their references when a step logs in or loads
a key, and kept in memory only (:class:`~procedure.logins.Logins`).

Crash safety: every external change passes ``ctx.idempotency_key`` (payment clientReference,
registration key, decision key) and what a later step re-sends (the signed application) is kept in
the flow's data, so a flow resumed after a crash, in this process or another one, never pays,
registers or issues twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.core.settings import Settings
from procedure.application import Application
from procedure.calendar import DEFAULT_OFFICE_HOURS, REVIEW_WORKING_DAYS
from procedure.decision import DecisionSteps
from procedure.diagrams import Diagram, get_diagram
from procedure.fees import Fees
from procedure.logins import Logins
from procedure.machine import FlowResult, FlowRunner, StepFn, StepObserver, StepRun
from procedure.models import FlowRecord
from procedure.portal import PortalSteps
from procedure.ports import ProcedurePorts
from procedure.provider import ProviderSteps
from procedure.qualification import RuleSet, default_rules, qualification_step
from procedure.store import FlowStore

__all__ = ["ProcedureSteps"]


class ProcedureSteps:
    """Step implementations of both diagrams over ``ports``; one instance serves many flows
    (and threads). ``notice_deadline``: seconds the result step waits for the status notices;
    ``payment_deadline``: seconds Condition 2 waits for the bank's answer; ``review_working_days``
    and ``office_hours``: the review deadline and the office's hours (:meth:`from_settings` takes
    them from ``EGOV_REVIEW_WORKING_DAYS`` and ``EGOV_OFFICE_HOURS``)."""

    def __init__(self, ports: ProcedurePorts, *, rules: RuleSet | None = None, fees: Fees | None = None,
                 notice_deadline: float = 5.0, payment_deadline: float = 10.0,
                 review_working_days: int = REVIEW_WORKING_DAYS, office_hours: str = DEFAULT_OFFICE_HOURS) -> None:
        self.ports = ports
        self.rules = rules or default_rules()
        self.fees = fees or Fees()
        self.logins = Logins(ports.elicense)
        self.portal = PortalSteps(ports, self.logins, self.fees, payment_deadline=payment_deadline)
        self.provider = ProviderSteps(ports, self.logins)
        self.decision = DecisionSteps(ports, self.logins, notice_deadline=notice_deadline,
                                      review_working_days=review_working_days, office_hours=office_hours)
        qualification = qualification_step(self.rules, key="documents")
        p, e, d = self.portal, self.provider, self.decision
        self._tables: dict[str, dict[str, StepFn]] = {
            "portal": {"1": p.register_on_portal, "C1": p.authorise, "3": p.fill_and_attach, "4": p.pay,
                       "C2": p.paid, "6": p.select_certificate, "C3": p.check_certificate, "8": p.sign,
                       "9": d.register, "C4": qualification, "10": d.refuse, "11": d.result},
            "provider": {"1": e.log_in, "C1": e.authorise, "3": e.enter_applicant, "4": e.ask_legal_entities,
                         "C2": e.applicant_present, "6": e.fill_and_attach, "7": d.register, "C3": qualification,
                         "8": d.refuse, "9": d.result},
        }

    @classmethod
    def from_settings(cls, ports: ProcedurePorts, settings: Settings, *,
                      rules: RuleSet | None = None) -> ProcedureSteps:
        """The steps as every deployment runs them: fees, waits, the review deadline and the office's
        hours from ``settings`` (the harness, ``egov serve`` and ``egov worker`` build them here)."""
        return cls(ports, rules=rules, fees=Fees.from_settings(settings),
                   notice_deadline=settings.flow_notice_wait_seconds,
                   payment_deadline=settings.flow_payment_wait_seconds,
                   review_working_days=settings.review_working_days, office_hours=settings.office_hours)

    def steps(self, diagram: Diagram | str) -> dict[str, StepFn]:
        """Step id → implementation, for ``diagram``."""
        d = get_diagram(diagram) if isinstance(diagram, str) else diagram
        return dict(self._tables[d.id])

    def runner(self, diagram: Diagram | str, store: FlowStore, *,
               observers: Sequence[StepObserver] = ()) -> FlowRunner:
        d = get_diagram(diagram) if isinstance(diagram, str) else diagram
        journal = self.ports.journal
        return FlowRunner(d, self._tables[d.id], store, clock=self.ports.clock, observers=observers,
                          step_scope=journal.batch if journal is not None else None)

    def start(self, application: Application, store: FlowStore, *, flow_id: str | None = None,
              observers: Sequence[StepObserver] = ()) -> FlowResult:
        """Run a new flow of ``application`` to its end (the request is the flow's initial data)."""
        runner = self.runner(application.diagram_id, store, observers=observers)
        return runner.start(service=application.service.value, operation=application.operation.value,
                            data=application.flow_data(), flow_id=flow_id)

    def create(self, application: Application, store: FlowStore, *, flow_id: str | None = None) -> FlowRecord:
        """Record a new flow of ``application`` at its diagram's first step, without running it."""
        return self.runner(application.diagram_id, store).create(
            service=application.service.value, operation=application.operation.value,
            data=application.flow_data(), flow_id=flow_id)

    def run_step(self, flow_id: str, store: FlowStore, *,
                 observers: Sequence[StepObserver] = ()) -> StepRun | None:
        """Run the stored flow's current step only (see :meth:`FlowRunner.run_step`)."""
        flow = store.get_flow(flow_id)
        return self.runner(flow.diagram, store, observers=observers).run_step(flow_id)

    def resume(self, flow_id: str, store: FlowStore, *, observers: Sequence[StepObserver] = ()) -> FlowResult:
        """Continue a stored flow from the step it stopped at (see :meth:`FlowRunner.resume`)."""
        flow = store.get_flow(flow_id)
        return self.runner(flow.diagram, store, observers=observers).resume(flow_id)
