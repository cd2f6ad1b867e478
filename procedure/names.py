"""Names for people, in Kazakh and Russian, of the codes a flow carries: its service, its operation
(the application's type), the application's category and the memo's statuses.

Codes stay as they are on the wire and in a flow's data; these names are what a person reads (the
CLI's output, the service's answers). The tables are E-licensing's contract's
(:mod:`adapters.contracts.elicense`: the same names the E-licensing simulator answers with in
``GetCatalogue``, the application information and the status notices), so nothing is named twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters.contracts.elicense import APPLICATION_TYPE_NAMES, CATEGORY_NAME, SERVICE_NAMES, STATUS_NAMES
from procedure.application import SERVICE_CODES
from procedure.models import Operation, Service

__all__ = ["CATEGORY", "LANGUAGES", "FlowNames", "Language", "Names", "flow_names", "operation_names", "service_names",
           "status_names"]

Language = Literal["kk", "ru"]
LANGUAGES: tuple[Language, ...] = ("kk", "ru")


class Names(BaseModel):
    """A code and its Kazakh and Russian names."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="as on the wire (empty for the category, which has none)")
    kk: str
    ru: str

    def shown(self, language: Language | None = None) -> str:
        """The name in ``language``, or both as "kk / ru" when none is chosen."""
        if language is None:
            return f"{self.kk} / {self.ru}"
        return self.kk if language == "kk" else self.ru

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "kk": self.kk, "ru": self.ru}


class FlowNames(BaseModel):
    """What a person reads about a flow: its service, application type, category and, once E-licensing
    decided, the application's status (the memo's)."""

    model_config = ConfigDict(frozen=True)

    service: Names
    application_type: Names
    category: Names
    application_status: Names | None = Field(default=None, description="once decided (issued or refused)")

    def labelled(self) -> list[tuple[str, Names]]:
        shown = [("service", self.service), ("application type", self.application_type), ("category", self.category)]
        if self.application_status is not None:
            shown.append(("application status", self.application_status))
        return shown


def _names(code: str, table: dict[str, tuple[str, str]], what: str) -> Names:
    try:
        kk, ru = table[code]
    except KeyError:
        raise KeyError(f"no {what} named {code!r}; known: {', '.join(table)}") from None
    return Names(code=code, kk=kk, ru=ru)


_OURS = frozenset(s.value for s in Service)


def service_names(service: Service | str) -> Names:
    """A service, by our name (``school``) or its catalogue code (``S4``); the code given is the catalogue's."""
    code = SERVICE_CODES[Service(service)] if service in _OURS else str(service)
    return _names(code, SERVICE_NAMES, "service")


def operation_names(operation: Operation | str) -> Names:
    """The application's type of an operation (``issue`` → ``ISSUE``, "Лицензия және қосымшаларды беруге өтініш")."""
    return _names(Operation(operation).value.upper(), APPLICATION_TYPE_NAMES, "application type")


def status_names(code: str) -> Names:
    """One of the memo's statuses by its code on the wire (``SENT``, ``IN_PROGRESS``, ``ISSUED``, ``REFUSED``)."""
    return _names(code, STATUS_NAMES, "status")


CATEGORY = Names(code="", kk=CATEGORY_NAME[0], ru=CATEGORY_NAME[1])
"""The applications' one category, a licence for a kind of activity (no code: E-licensing sends its names)."""


def flow_names(service: str, operation: str, data: Mapping[str, Any]) -> FlowNames:
    """A flow's names from its service, operation and data (the decision step records the status's code)."""
    status = data.get("application_status")
    code = status.get("code") if isinstance(status, Mapping) else None
    return FlowNames(service=service_names(service), application_type=operation_names(operation), category=CATEGORY,
                     application_status=status_names(str(code)) if code else None)
