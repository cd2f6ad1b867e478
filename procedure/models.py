"""Data of the licensing procedure: services, operations, flow records and document views.

The view models are what :mod:`procedure.documents` renders; they carry text in Kazakh
and Russian (the two languages of the licence and of the refusal letter) and, where useful for
logs and tests, English.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Service(enum.StrEnum):
    """The five electronic state services of Order No. 467 (one regulation each)."""

    HIGHER_POSTGRADUATE = "higher-postgraduate"      # 1: higher and postgraduate education
    RELIGIOUS = "religious"                          # 2: organisations giving religious education
    TECHNICAL_VOCATIONAL = "technical-vocational"    # 3: technical and vocational education
    SCHOOL = "school"                                # 4: primary, basic and general secondary education
    REPUBLICAN_BUDGET = "republican-budget"          # 5: organisations funded from the republican budget


class Operation(enum.StrEnum):
    """What the applicant asks for: a licence, its re-issue, a duplicate, or an appendix."""

    ISSUE = "issue"
    REISSUE = "reissue"          # қайта ресімдеу
    DUPLICATE = "duplicate"      # телнұсқа
    APPENDIX = "appendix"        # қосымша


class FlowStatus(enum.StrEnum):
    """Where a flow stands. ``completed`` = reached the result step, ``refused`` = a refusal step."""

    RUNNING = "running"
    FAILED = "failed"            # a step raised; the flow can be resumed from the same step
    COMPLETED = "completed"
    REFUSED = "refused"

    @property
    def terminal(self) -> bool:
        return self in (FlowStatus.COMPLETED, FlowStatus.REFUSED)


class NormVerdict(enum.StrEnum):
    """A step's measured duration against the regulation's norm."""

    WITHIN = "within"
    OVER = "over"
    NO_NORM = "no-norm"          # the regulation gives no norm for this step


class Text(BaseModel):
    """One text in the three languages we carry."""

    model_config = ConfigDict(frozen=True)

    kk: str
    ru: str
    en: str


class StepRecord(BaseModel):
    """One step of one flow as persisted: timing, norm comparison and outcome."""

    model_config = ConfigDict(frozen=True)

    flow_id: str
    step: str
    idempotency_key: str
    attempts: int
    first_started_at: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    duration_seconds: float | None = None
    norm_min_seconds: float | None = None
    norm_max_seconds: float | None = None
    norm_verdict: NormVerdict | None = None
    outcome: str | None = None       # "done", "ok", "fail", "refused", "result"
    detail: str = ""
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class FlowRecord(BaseModel):
    """A flow as persisted."""

    model_config = ConfigDict(frozen=True)

    flow_id: str
    service: str
    operation: str
    diagram: str
    current_step: str
    status: FlowStatus
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


# --------------------------------------------------------------------------- qualification

class MissingDocument(BaseModel):
    """A row of the refusal letter's table: a document (requirement) not met, and why."""

    model_config = ConfigDict(frozen=True)

    rule_id: str = ""
    name_kk: str
    name_ru: str
    name_en: str
    comment: str = ""            # English comment (logs, API)
    comment_kk: str = ""
    comment_ru: str = ""


class ProvidedDocument(BaseModel):
    """A document attached to an application: a code from the rule set and its attributes."""

    model_config = ConfigDict(frozen=True)

    code: str
    attributes: dict[str, Any] = Field(default_factory=dict)


class ApplicationDocuments(BaseModel):
    """What an application brings for the qualification check (condition C4 / C3)."""

    service: Service
    operation: Operation = Operation.ISSUE
    documents: list[ProvidedDocument] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)

    def document(self, code: str) -> ProvidedDocument | None:
        for doc in self.documents:
            if doc.code == code:
                return doc
        return None


class QualificationResult(BaseModel):
    """Outcome of the qualification check: ``met`` is True when nothing is missing."""

    model_config = ConfigDict(frozen=True)

    service: Service
    operation: Operation
    met: bool
    missing: list[MissingDocument] = Field(default_factory=list)
    checked: list[str] = Field(default_factory=list)     # rule ids evaluated, in order


# --------------------------------------------------------------------------- document views

class SubType(BaseModel):
    """A sub-type of the licensed activity, listed in an appendix, e.g. SB100100."""

    model_config = ConfigDict(frozen=True)

    code: str
    name_kk: str
    name_ru: str


class AppendixView(BaseModel):
    """An appendix (қосымша) to a licence."""

    model_config = ConfigDict(frozen=True)

    number: str
    licence_number: str = ""     # the licence it belongs to
    issue_date: dt.date | None = None
    subtypes: list[SubType] = Field(default_factory=list)
    premises_address: str = ""


class LicenceView(BaseModel):
    """The electronic licence's fields (regulation, appendix 2), as its signed XML gives them."""

    model_config = ConfigDict(frozen=True)

    number: str
    licensee_name: str
    licensee_bin: str
    activity_type_kk: str = "Білім беру саласындағы қызмет (М65)"
    activity_type_ru: str = "Образовательная деятельность (М65)"
    activity_type_en: str = "Educational activity (M65)"
    special_conditions_kk: str = ""
    special_conditions_ru: str = ""
    issuing_body_kk: str
    issuing_body_ru: str
    head_name: str               # head (authorised person) whose EDS forms the licence
    issue_date: dt.date
    issue_place_kk: str = ""     # the licensor's seat
    issue_place_ru: str = ""
    kind: str = "ORIGINAL"       # ORIGINAL | REISSUED | DUPLICATE
    mark_kk: str = ""            # ТЕЛНҰСҚА (a duplicate), ҚАЙТА РЕСІМДЕЛДІ (re-issued)
    mark_ru: str = ""            # ДУБЛИКАТ, ПЕРЕОФОРМЛЕНА
    previous_number: str = ""    # the licence a re-issue replaces
    duplicate_date: dt.date | None = None
    appendices: list[AppendixView] = Field(default_factory=list)


class RefusalLetterView(BaseModel):
    """The letter refusing an application, with the table of documents not provided.

    The sentences (salutation, the refusal's wording per operation) are the signed letter's own, in
    Kazakh and Russian: the PDF shows what was signed."""

    model_config = ConfigDict(frozen=True)

    letter_date: dt.date
    state_body_kk: str
    state_body_ru: str
    state_body_address_kk: str
    state_body_address_ru: str
    recipient_name: str          # the applicant's head
    recipient_organisation: str = ""
    recipient_address: str = ""
    application_number: str
    sent_date: dt.date
    salutation_kk: str           # "Құрметті …!"
    salutation_ru: str           # "Уважаемый(-ая) …!"
    text_kk: str                 # "Сіздің … өтінішіңізді қанағаттандыруға БАС ТАРТЫЛДЫ."
    text_ru: str                 # "В удовлетворении Вашего заявления … ОТКАЗАНО."
    missing: list[MissingDocument] = Field(default_factory=list)
    signer_name: str = ""
