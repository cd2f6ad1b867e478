"""The flow's input: what a caller brings to one licensing flow, kept in the flow store as it is.

An :class:`Application` says which service and operation, which diagram (1: the applicant on the
portal; 2: the provider's employee), who applies (identity and address), which officer of the
licensor handles it, the existing licence for a re-issue, duplicate or appendix, the documents and
facts provided and the attachments as file references. Passwords and key passwords are
:class:`~procedure.credentials.SecretRef`\\ s: the stored request holds no secret, so a worker
can resume the flow from the store and the deployment's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.core.errors import ValidationError
from procedure.credentials import KeyRef, SecretRef
from procedure.models import ApplicationDocuments, Operation, ProvidedDocument, Service

__all__ = ["APPLICATION_KEY", "DIAGRAM_IDS", "SERVICE_CODES", "ApplicantIdentity", "Application", "AttachmentFile",
           "DiagramNumber", "Officer", "PortalCredentials"]

APPLICATION_KEY = "application"
"""Where the flow's data keeps the request."""

DiagramNumber = Literal[1, 2]

DIAGRAM_IDS: dict[int, str] = {1: "portal", 2: "provider"}
"""The regulation's diagram number → the id of :mod:`procedure.diagrams`."""

SERVICE_CODES: dict[Service, str] = {
    Service.HIGHER_POSTGRADUATE: "S1",
    Service.RELIGIOUS: "S2",
    Service.TECHNICAL_VOCATIONAL: "S3",
    Service.SCHOOL: "S4",
    Service.REPUBLICAN_BUDGET: "S5",
}
"""Our services and their codes in the E-licensing catalogue."""


class ApplicantIdentity(BaseModel):
    """The legal entity applying, as the application form names it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bin: str
    name: str
    """Name as written on the application (and so on the licence and the refusal letter)."""
    name_ru: str
    """Name in Russian (the payer's name of the fee order)."""
    postal_index: str
    city_kato: str
    city_name: str
    street_ru: str
    street_kz: str
    house: str
    phone: str = "+7 7172 000000"
    head_name: str = ""
    """The head (first executive): a refusal letter is addressed to them by name."""


class PortalCredentials(BaseModel):
    """The applicant's means on the portal (Diagram 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_time: bool = False
    """The applicant has no portal account yet: it registers at step 1 (first time only)."""
    password: SecretRef
    """The password the applicant typed (with ``auth_key``'s certificate it logs in)."""
    auth_key: KeyRef
    """AUTH_RSA256: the certificate the applicant logs in with."""
    sign_key: KeyRef
    """RSA256: signs the application (the certificate Condition 3 checks)."""


class Officer(BaseModel):
    """The licensor's employee in E-licensing: enters the application in Diagram 2, takes it into
    work and decides in both diagrams."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    login: str
    password: SecretRef
    """The password the employee typed."""
    licensor_code: str
    key: KeyRef
    """The employee's EDS (carries the licensor's BIN): signs applications entered in Diagram 2."""


class AttachmentFile(BaseModel):
    """A document's file (an electronic document in Diagram 1, a scan of paper in Diagram 2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """File name as E-licensing receives it."""
    path: str
    """Where the file is: readable by any worker that may resume the flow."""


class Application(BaseModel):
    """One flow's request. The steps read it and the data earlier steps stored, nothing else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: Service
    operation: Operation = Operation.ISSUE
    diagram: DiagramNumber = 1
    applicant: ApplicantIdentity
    portal: PortalCredentials | None = None
    """Diagram 1 only: the applicant works on the portal; in Diagram 2 the employee does."""
    officer: Officer
    licence_number: str | None = None
    """The existing licence a re-issue, duplicate or appendix is about."""
    documents: tuple[ProvidedDocument, ...] = ()
    facts: dict[str, Any] = Field(default_factory=dict)
    """Facts the qualification rules check (e.g. the share of qualified teachers)."""
    attachments: tuple[AttachmentFile, ...] = ()
    special_conditions: str = ""
    """Special conditions of the licence's validity the applicant asks for (the licence carries them)."""

    @model_validator(mode="after")
    def _consistent(self) -> Application:
        if self.diagram == 1 and self.portal is None:
            raise ValueError("Diagram 1 runs on the portal: the applicant's portal credentials are required")
        if self.diagram == 2 and self.portal is not None:
            raise ValueError("Diagram 2 is run by the provider's employee: no portal credentials of the applicant")
        if self.operation is not Operation.ISSUE and not self.licence_number:
            raise ValueError(f"operation {self.operation.value} needs the number of the existing licence")
        if self.operation is Operation.ISSUE and self.licence_number:
            raise ValueError("a new licence is not issued against an existing licence number")
        names = [a.name for a in self.attachments]
        if len(names) != len(set(names)):
            raise ValueError("two attachments have the same file name")
        return self

    @classmethod
    def of_flow(cls, data: Mapping[str, Any]) -> Application:
        """The request kept in a flow's data."""
        raw = data.get(APPLICATION_KEY)
        if raw is None:
            raise ValidationError(APPLICATION_KEY, "the flow's data holds no application")
        return cls.model_validate(raw)

    def flow_data(self) -> dict[str, Any]:
        """The flow's initial data: the request, as the store keeps it."""
        return {APPLICATION_KEY: self.model_dump(mode="json")}

    @property
    def service_code(self) -> str:
        return SERVICE_CODES[self.service]

    @property
    def diagram_id(self) -> str:
        return DIAGRAM_IDS[self.diagram]

    def on_portal(self) -> PortalCredentials:
        """The portal credentials (Diagram 1)."""
        if self.portal is None:
            raise ValidationError("portal", f"a Diagram {self.diagram} application has no portal credentials")
        return self.portal

    def submitted_documents(self) -> ApplicationDocuments:
        """The documents and facts, as the qualification check reads them."""
        return ApplicationDocuments(service=self.service, operation=self.operation,
                                    documents=list(self.documents), facts=dict(self.facts))
