"""A request body produced in chunks, with its exact length declared before sending."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from adapters.core.errors import ConfigurationError, ValidationError


class StreamedBodyError(ValidationError):
    """A streamed request body could not be produced as declared (its source failed, or yielded more
    or fewer bytes than the declared length). Local, not a network failure: not retryable.

    ``field`` names the body (e.g. the attachment's file name).
    """

    retryable = False


@dataclass(frozen=True)
class StreamedBody:
    """A request body produced in chunks, with its exact length known before sending.

    ``source`` is called once per iteration (so a retry re-reads the data from the start) and yields
    ``bytes``-like chunks whose lengths add up to ``length``. A transport sends it with
    ``Content-Length: length`` (the simulators' server, like many SOAP stacks, does not read chunked
    bodies), one chunk at a time. Iterating raises :class:`StreamedBodyError` when the source fails
    or its chunks add up to another length (at the latest after the last chunk).
    """

    length: int
    """Total bytes the source yields."""
    source: Callable[[], Iterable[bytes]]
    name: str = "body"
    """What the body is (named in :class:`StreamedBodyError`)."""

    def __post_init__(self) -> None:
        if self.length < 0:
            raise ConfigurationError(f"streamed body {self.name!r}: negative length {self.length}")

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        try:
            for chunk in self.source():
                sent += len(chunk)
                if sent > self.length:
                    raise StreamedBodyError(self.name, f"the source yielded more than the declared "
                                                       f"{self.length} bytes")
                if chunk:
                    yield chunk
        except StreamedBodyError:
            raise
        except Exception as exc:  # the source's own failure (e.g. a file read), not the network's
            raise StreamedBodyError(self.name, f"the source failed after {sent} of {self.length} bytes: "
                                               f"{exc.__class__.__name__}: {exc}") from exc
        if sent != self.length:
            raise StreamedBodyError(self.name, f"the source yielded {sent} bytes, {self.length} were declared")
