"""An HTTP answer, read completely."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters.core.errors import HttpStatusError


@dataclass(frozen=True)
class HttpResult:
    """An HTTP answer whose body was read completely."""

    status: int
    headers: Mapping[str, str]
    """The answer's headers (from the network transport: looked up case-insensitively)."""
    body: bytes
    url: str
    elapsed: float = 0.0
    """Seconds from sending the request to the end of the answer's headers."""

    @property
    def content_type(self) -> str:
        return str(self.headers.get("Content-Type", ""))

    def raise_for_status(self) -> HttpResult:
        """This result, or :class:`HttpStatusError` for a status of 400 or more."""
        if self.status >= 400:
            snippet = self.body[:200].decode("utf-8", "replace")
            raise HttpStatusError(self.status, f"HTTP {self.status} from {self.url}: {snippet}",
                                  url=self.url)
        return self
