"""The licensing procedure: the regulation's two diagrams run over the external systems.

The regulation's two diagrams as data (:mod:`.diagrams`), a persisted, crash-safe runner
(:mod:`.machine`, :mod:`.store`), the 30-working-day deadline (:mod:`.calendar`), the
qualification rules (:mod:`.qualification`) and the PDF documents (:mod:`.documents`).
The steps (:mod:`.steps`: :mod:`.portal`, :mod:`.provider`, :mod:`.decision`) talk to the systems
through ports (:mod:`.ports`, provided by :mod:`.clients`) and read only the flow's request
(:mod:`.application`, whose secrets are references: :mod:`.credentials`) and what earlier steps
stored. Those modules are imported by name, not re-exported here.
"""

from __future__ import annotations

from procedure.calendar import is_working_day, review_deadline, working_days_between
from procedure.diagrams import DIAGRAM_PORTAL, DIAGRAM_PROVIDER, Diagram, get_diagram
from procedure.documents import render_licence_pdf, render_refusal_letter_pdf
from procedure.machine import FlowContext, FlowResult, FlowRunner, Outcome, describe, to_mermaid
from procedure.models import (
    ApplicationDocuments,
    FlowStatus,
    LicenceView,
    MissingDocument,
    Operation,
    QualificationResult,
    RefusalLetterView,
    Service,
)
from procedure.qualification import evaluate, load_rules, qualification_step
from procedure.store import FlowStore

__all__ = [
    "DIAGRAM_PORTAL",
    "DIAGRAM_PROVIDER",
    "ApplicationDocuments",
    "Diagram",
    "FlowContext",
    "FlowResult",
    "FlowRunner",
    "FlowStatus",
    "FlowStore",
    "LicenceView",
    "MissingDocument",
    "Operation",
    "Outcome",
    "QualificationResult",
    "RefusalLetterView",
    "Service",
    "describe",
    "evaluate",
    "get_diagram",
    "is_working_day",
    "load_rules",
    "qualification_step",
    "render_licence_pdf",
    "render_refusal_letter_pdf",
    "review_deadline",
    "to_mermaid",
    "working_days_between",
]
