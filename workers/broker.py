"""The distributed queue: Dramatiq over Redis (``EGOV_BROKER_URL=redis://host:port/db``).

:class:`BrokerQueue` sends a task as a Dramatiq message on the queue :data:`~workers.queue.QUEUE_NAME`
(a delayed one on Dramatiq's delay queue), without the sender declaring any actor: ``egov serve``
only sends. :meth:`BrokerQueue.declare` binds the handlers as actors (in ``egov worker``), and
:meth:`BrokerQueue.worker` gives the Dramatiq worker consuming them with N threads.

Dramatiq's Redis broker acknowledges a message once its actor returned; a message whose worker
died unacknowledged is re-queued by another worker's maintenance after the heartbeat timeout
(at least once). A broker that restarts without persistence loses what it held: the flows are in
the flow store, and the workers' sweep (:mod:`workers.sweeper`) queues them again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

from workers.errors import QueueUnavailable
from workers.queue import QUEUE_NAME

__all__ = ["BrokerQueue"]

TASK_TIME_LIMIT_MS = 15 * 60 * 1000
"""A task running longer is interrupted (the longest step waits minutes at most)."""
MAX_DELIVERY_RETRIES = 5
"""Dramatiq's own retries, for a handler that raised (the flow store unreachable...); a step's
failure is the handler's business, not an exception."""


class BrokerQueue:
    """Tasks as Dramatiq messages on Redis. ``heartbeat_seconds``: a worker silent this long is
    dead and its unacknowledged messages are re-queued."""

    def __init__(self, url: str, *, heartbeat_seconds: float = 60.0) -> None:
        client = redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=15.0,
                                      health_check_interval=5, retry_on_timeout=True)
        middleware = [AgeLimit(), TimeLimit(time_limit=TASK_TIME_LIMIT_MS), ShutdownNotifications(), Callbacks(),
                      Pipelines(), Retries(max_retries=MAX_DELIVERY_RETRIES, min_backoff=1000, max_backoff=60_000)]
        self.url = url
        self.broker = RedisBroker(client=client, middleware=middleware,  # type: ignore[no-untyped-call]
                                  heartbeat_timeout=int(heartbeat_seconds * 1000))

    def send(self, task: str, *args: Any, delay: float = 0.0) -> None:
        message: dramatiq.Message[Any] = dramatiq.Message(queue_name=QUEUE_NAME, actor_name=task, args=args,
                                                          kwargs={}, options={})
        try:
            self.broker.enqueue(message, delay=int(delay * 1000) if delay > 0 else None)
        except (redis.RedisError, OSError) as exc:
            raise QueueUnavailable(f"the broker did not take task {task}: {type(exc).__name__}: {exc}",
                                   task=task) from exc

    def declare(self, handlers: Mapping[str, Callable[..., None]]) -> None:
        """Bind each handler as the actor of its task name on this broker (the worker's side)."""
        for name, handler in handlers.items():
            dramatiq.actor(actor_name=name, queue_name=QUEUE_NAME, broker=self.broker)(handler)

    def worker(self, threads: int) -> dramatiq.Worker:
        """A Dramatiq worker consuming the declared actors' queue with ``threads`` threads (not started)."""
        return dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=1000)

    def ping(self) -> bool:
        try:
            return bool(self.broker.client.ping())
        except (redis.RedisError, OSError):
            return False

    def close(self) -> None:
        self.broker.close()
