"""A landscape with the procedure on top: the clients, the flow store, the steps, and scenarios run.

:func:`procedure_env` attaches to a running landscape (its manifest) or starts one for the run;
:class:`ProcedureEnv` makes scenarios (:meth:`~ProcedureEnv.scenario`), plays them into the flow's
request (:mod:`harness.play`) and runs or resumes flows through :class:`~procedure.steps.ProcedureSteps`
over the real adapters, with the landscape's bank as the applicant's bank. Used by ``egov flow``,
``egov demo``, the tests and bench b.

The settings given (``egov``'s one settings object; by default the process's) decide as they do for
``egov serve`` and ``egov worker``: the clients' retry policy, timeouts and circuit breakers
(:func:`procedure.deployment.client_options`), the database when none is given, the metrics port,
the fee and the result step's wait for status notices.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from adapters.core.errors import BusinessError
from adapters.core.settings import Settings, get_settings
from harness import play
from harness.landscape import Landscape
from harness.scenario import Fault, Scenario
from procedure.application import SERVICE_CODES, Application
from procedure.artefacts import ArtefactDirectory
from procedure.clients import ProcedureClients
from procedure.deployment import client_options
from procedure.machine import FlowResult, StepObserver
from procedure.models import FlowStatus, Operation, Service
from procedure.steps import ProcedureSteps
from procedure.store import FlowStore

__all__ = ["ProcedureEnv", "procedure_env"]


@dataclass
class ProcedureEnv:
    """A landscape (started here or attached), the clients, the flow store, and the steps over them.

    ``observers`` watch every flow run here (e.g. progress lines)."""

    landscape: Landscape
    clients: ProcedureClients
    store: FlowStore
    out_dir: Path
    observers: tuple[StepObserver, ...] = ()
    settings: Settings = field(default_factory=get_settings)
    _steps: ProcedureSteps | None = field(default=None, init=False, repr=False)

    @property
    def steps(self) -> ProcedureSteps:
        """The steps of both diagrams over the clients, the landscape's bank and ``out_dir`` (one
        instance: sessions and keys are shared by the flows of this process)."""
        if self._steps is None:
            ports = self.clients.ports(bank=self.landscape.bank, artefacts=ArtefactDirectory(
                self.out_dir, pdf_workers=self.settings.pdf_workers))
            self._steps = ProcedureSteps.from_settings(ports, self.settings)
        return self._steps

    def application(self, scenario: Scenario) -> Application:
        """The flow's request for ``scenario``, its fault played (:func:`harness.play.application`)."""
        return play.application(scenario, self.landscape, rules=self.steps.rules)

    def run(self, scenario: Scenario, *, flow_id: str | None = None,
            observers: Sequence[StepObserver] = ()) -> FlowResult:
        """Run a new flow of ``scenario`` to its end (``observers`` in addition to the env's)."""
        return self.steps.start(self.application(scenario), self.store, flow_id=flow_id,
                                observers=(*self.observers, *observers))

    def resume(self, flow_id: str, *, observers: Sequence[StepObserver] = ()) -> FlowResult:
        """Continue a stored flow from its data (in this process or any other attached to the landscape)."""
        return self.steps.resume(flow_id, self.store, observers=(*self.observers, *observers))

    def scenario(self, service: str, operation: str, diagram: int, fault: Fault, *,
                 prepare: Callable[[FlowResult], None] | None = None) -> Scenario:
        """A scenario with a new applicant; for a re-issue, duplicate or appendix the applicant's
        licence is issued first (a flow of its own, reported to ``prepare``), then the fault's world
        is set up."""
        land = self.landscape
        op = Operation(operation)
        applicant = land.new_applicant(fault=fault if op is Operation.ISSUE else Fault.NONE)
        officer = land.officer(land.licensor_for(SERVICE_CODES[Service(service)], applicant.city_kato).code)
        licence_number = None
        if op is not Operation.ISSUE:
            base = Scenario(service=Service(service), operation=Operation.ISSUE, diagram=diagram,  # type: ignore[arg-type]
                            applicant=applicant, officer=officer)
            issued = self.run(base)
            if prepare is not None:
                prepare(issued)
            if issued.status is not FlowStatus.COMPLETED:
                raise BusinessError(f"the licence to {operation} could not be issued: {issued.detail}",
                                    flow_id=issued.flow_id)
            licence_number = str(issued.data["licence_number"])
            applicant = land.apply_fault(applicant, fault)
        return Scenario(service=Service(service), operation=op, diagram=diagram, fault=fault,  # type: ignore[arg-type]
                        applicant=applicant, officer=officer, licence_number=licence_number)


@contextlib.contextmanager
def procedure_env(*, manifest: Path | None, db: str | None, out_dir: Path,
                  observers: Sequence[StepObserver] = (), metrics_port: int | None = None,
                  settings: Settings | None = None) -> Iterator[ProcedureEnv]:
    """Attach to ``manifest``'s landscape, or start one in a temporary directory for the run; the flow
    state and the journal go to ``db`` or the settings' database (so ``egov flow show`` finds them)."""
    s = settings or get_settings()
    url = db or s.database_url
    with contextlib.ExitStack() as stack:
        if manifest is not None:
            land = Landscape.attach(manifest)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="egov-flow-")))
            land = stack.enter_context(Landscape.start(workdir / "landscape"))
        port = metrics_port if metrics_port is not None else s.metrics_port
        clients = stack.enter_context(ProcedureClients(land.endpoints, database_url=url, options=client_options(s),
                                                       metrics_port=port))
        store = FlowStore.from_url(url)
        stack.callback(store.engine.dispose)
        yield ProcedureEnv(land, clients, store, out_dir, tuple(observers), s)
