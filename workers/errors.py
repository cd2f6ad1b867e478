"""The task queue's leaves of the project's error hierarchy (codes ``EGOV7xx``)."""

from __future__ import annotations

from adapters.core.errors import EgovError

__all__ = ["QueueUnavailable", "TaskQueueError"]


class TaskQueueError(EgovError):
    """A task could not be handed to the queue."""

    code = "EGOV700"


class QueueUnavailable(TaskQueueError):
    """The broker did not take the message (down, restarting, unreachable). Retryable: the flow is
    in the store, and a worker's sweep queues it again."""

    code = "EGOV701"
    retryable = True
