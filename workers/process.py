"""The two ways to run the tasks: ``egov worker`` processes on a broker, or ``egov serve``'s threads.

- :class:`BrokerWorker` (``egov worker``, ``EGOV_BROKER_URL`` set): the handlers declared as
  Dramatiq actors on Redis, a Dramatiq worker with ``EGOV_WORKER_THREADS`` threads consuming
  them, and the sweep. Any number of such processes, on any host that reaches the broker, the
  database and the systems (and the flows' files).
- :class:`FlowTasks` for the service: with a broker, the service only sends (:attr:`dispatch`);
  without one it runs the same handlers on a :class:`~workers.queue.ThreadQueue` in its own
  process, with the sweep, over its own clients, so ``egov serve`` alone runs flows.
"""

from __future__ import annotations

import logging

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError
from adapters.core.settings import Settings
from procedure.clients import ProcedureClients
from workers.broker import BrokerQueue
from workers.dispatch import FlowDispatch
from workers.queue import TaskQueue, ThreadQueue
from workers.runtime import WorkerRuntime
from workers.sweeper import Sweeper
from workers.tasks import Tasks

__all__ = ["BrokerWorker", "FlowTasks"]

log = logging.getLogger("workers.process")


def _heartbeat_seconds(settings: Settings) -> float:
    """A worker silent for twice the lease is dead for the broker too."""
    return max(2 * settings.worker_lease_seconds, 5.0)


class BrokerWorker:
    """An ``egov worker`` process's machinery: :meth:`start`, then :meth:`stop` (graceful)."""

    def __init__(self, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> None:
        if not settings.broker_url:
            raise ConfigurationError("egov worker needs a broker: set EGOV_BROKER_URL (redis://host:port/db); "
                                     "without one, egov serve runs the flows itself", setting="broker_url")
        self.queue = BrokerQueue(settings.broker_url, heartbeat_seconds=_heartbeat_seconds(settings))
        try:
            self.runtime = WorkerRuntime.build(settings, self.queue, clock=clock)
        except BaseException:
            self.queue.close()
            raise
        self.tasks = Tasks(self.runtime)
        self.queue.declare(self.tasks.handlers())
        self.worker = self.queue.worker(settings.worker_threads)
        self.sweeper = Sweeper(self.runtime)

    def start(self) -> BrokerWorker:
        self.worker.start()
        self.sweeper.start()
        return self

    def stop(self) -> None:
        """Stop taking messages, let the running tasks end, close everything."""
        self.sweeper.stop()
        self.worker.stop(timeout=30_000)
        self.queue.close()
        self.runtime.close()


class FlowTasks:
    """The service's side of the tasks: :attr:`dispatch` to start and resume flows, and, without a
    broker, the in-process pool running them. :meth:`close` when the service stops."""

    def __init__(self, settings: Settings, clients: ProcedureClients, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.mode = "broker" if settings.broker_url else "in-process"
        self._threads: ThreadQueue | None = None
        self._broker: BrokerQueue | None = None
        queue: TaskQueue
        if settings.broker_url:
            queue = self._broker = BrokerQueue(settings.broker_url, heartbeat_seconds=_heartbeat_seconds(settings))
        else:
            queue = self._threads = ThreadQueue(settings.worker_threads)
        self.runtime = WorkerRuntime.build(settings, queue, clients=clients, clock=clock)
        self.dispatch = FlowDispatch(self.runtime)
        self.sweeper: Sweeper | None = None
        if self._threads is not None:
            self._threads.bind(Tasks(self.runtime).handlers())
            self.sweeper = Sweeper(self.runtime).start()

    def broker_reachable(self) -> bool | None:
        """Whether the broker answers (None: no broker, the tasks run in this process)."""
        return self._broker.ping() if self._broker is not None else None

    def close(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
        if self._threads is not None:
            self._threads.close(wait=True)
        if self._broker is not None:
            self._broker.close()
        self.runtime.close()
