"""Qualification requirements (condition C4 of Diagram 1, C3 of Diagram 2), as data.

The rule sets live in YAML (``data/qualification_rules.yaml`` by default; QA may load another
file with :func:`load_rules`). :meth:`RuleSet.evaluate` checks an application's attached
documents and declared facts and returns the rows of the refusal letter's table.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.core.errors import ConfigurationError, ValidationError
from procedure.machine import FlowContext, Outcome, StepFn
from procedure.models import (
    ApplicationDocuments,
    MissingDocument,
    Operation,
    ProvidedDocument,
    QualificationResult,
    Service,
    Text,
)

SAMPLE_LETTER = "sample-letter"
"""A rule's source: the regulation's sample refusal letter (appendix 2 of each regulation)."""


class AttributeCheck(BaseModel):
    """One check on an attached document's attribute; fails with ``comment``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attribute: str
    equals: Any = None
    not_equals: Any = None
    comment: Text

    @model_validator(mode="after")
    def _one_comparison(self) -> AttributeCheck:
        # Which comparison was *given* (a YAML ``equals: null`` is a valid comparison).
        if ("equals" in self.model_fields_set) == ("not_equals" in self.model_fields_set):
            raise ValueError(f"check on {self.attribute!r}: give exactly one of equals / not_equals")
        return self

    def passes(self, attributes: dict[str, Any], operation: Operation) -> bool:
        actual = attributes.get(self.attribute)
        if "equals" in self.model_fields_set:
            return bool(actual == _expand(self.equals, operation))
        return bool(actual != _expand(self.not_equals, operation))


def _expand(expected: Any, operation: Operation) -> Any:
    return expected.replace("{operation}", operation.value) if isinstance(expected, str) else expected


class Rule(BaseModel):
    """A requirement: a document to attach (with attribute checks) and/or a declared fact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""
    source: str
    """``sample-letter`` (the regulation's sample refusal letter) or ``assumption: <why>``."""
    name: Text
    operations: list[Operation] | None = None
    document: str | None = None
    missing: Text | None = None
    checks: list[AttributeCheck] = Field(default_factory=list)
    fact: str | None = None
    at_least: float | None = None
    percent: bool = False
    undeclared: Text | None = None
    below: Text | None = None

    @property
    def assumed(self) -> bool:
        """True when the seeds are silent on this requirement (the docs list it as an assumption)."""
        return self.source.startswith("assumption")

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.source != SAMPLE_LETTER and not self.source.startswith("assumption: "):
            raise ValueError(f"source {self.source!r}: give {SAMPLE_LETTER!r} or 'assumption: <why>'")
        if self.document is None and self.fact is None:
            raise ValueError("a rule needs a document or a fact")
        if self.document is not None and self.missing is None:
            raise ValueError(f"document rule {self.document!r} needs a 'missing' comment")
        if self.fact is not None and (self.at_least is None or self.undeclared is None
                                      or self.below is None):
            raise ValueError(f"fact rule {self.fact!r} needs at_least, undeclared and below")
        return self

    def applies_to(self, operation: Operation) -> bool:
        return self.operations is None or operation in self.operations

    def evaluate(self, application: ApplicationDocuments) -> Text | None:
        """The comment explaining why the rule is not met, or None when it is."""
        if self.document is not None:
            assert self.missing is not None
            doc = application.document(self.document)
            if doc is None:
                return self.missing
            for check in self.checks:
                if not check.passes(doc.attributes, application.operation):
                    return check.comment
        if self.fact is not None:
            return self._evaluate_fact(application)
        return None

    def _evaluate_fact(self, application: ApplicationDocuments) -> Text | None:
        assert self.fact is not None and self.at_least is not None
        assert self.undeclared is not None and self.below is not None
        raw = application.facts.get(self.fact)
        if raw is None:
            return self.undeclared
        if isinstance(raw, bool):
            raise ValidationError(f"facts.{self.fact}", "must be a number", value=raw)
        try:
            value = float(raw)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"facts.{self.fact}", "must be a number", value=raw) from exc
        if value >= self.at_least:
            return None
        shown = f"{value * 100:.0f} %" if self.percent else f"{value:g}"
        return Text(kk=self.below.kk.replace("{value}", shown), ru=self.below.ru.replace("{value}", shown),
                    en=self.below.en.replace("{value}", shown))


class RuleSet(BaseModel):
    """Rules by id and, per service, the rules that apply in the letter's order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    rules: dict[str, Rule]
    services: dict[Service, list[str]]

    @model_validator(mode="before")
    @classmethod
    def _name_rules(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("rules"), dict):
            data = {**data, "rules": {k: {**v, "id": k} if isinstance(v, dict) else v
                                      for k, v in data["rules"].items()}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        absent = [s.value for s in Service if s not in self.services]
        if absent:
            raise ValueError(f"no rules for services {absent}")
        for service, ids in self.services.items():
            unknown = [i for i in ids if i not in self.rules]
            if unknown:
                raise ValueError(f"service {service.value}: unknown rules {unknown}")
        return self

    def rules_for(self, service: Service, operation: Operation) -> list[Rule]:
        return [r for r in (self.rules[i] for i in self.services[service]) if r.applies_to(operation)]

    def required_documents(self, service: Service, operation: Operation) -> list[Rule]:
        """The document rules of ``service`` for ``operation``: what the applicant must attach."""
        return [r for r in self.rules_for(service, operation) if r.document is not None]

    def evaluate(self, application: ApplicationDocuments) -> QualificationResult:
        missing: list[MissingDocument] = []
        checked: list[str] = []
        for rule in self.rules_for(application.service, application.operation):
            checked.append(rule.id)
            comment = rule.evaluate(application)
            if comment is not None:
                missing.append(MissingDocument(
                    rule_id=rule.id, name_kk=rule.name.kk, name_ru=rule.name.ru, name_en=rule.name.en,
                    comment=comment.en, comment_kk=comment.kk, comment_ru=comment.ru))
        return QualificationResult(service=application.service, operation=application.operation,
                                   met=not missing, missing=missing, checked=checked)


def parse_rules(text: str, *, source: str = "<string>") -> RuleSet:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"qualification rules {source}: not valid YAML: {exc}",
                                 source=source) from exc
    try:
        return RuleSet.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"qualification rules {source}: {where}: {first['msg']}",
                                 source=source, field=where) from exc


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load a rule set from ``path``, or the packaged default rules when ``path`` is None."""
    if path is None:
        return default_rules()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"qualification rules {path}: cannot read: {exc}", source=str(path)) from exc
    return parse_rules(text, source=str(path))


@functools.lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    resource = importlib.resources.files("procedure").joinpath("data/qualification_rules.yaml")
    return parse_rules(resource.read_text(encoding="utf-8"), source="data/qualification_rules.yaml")


def evaluate(application: ApplicationDocuments, rules: RuleSet | None = None) -> QualificationResult:
    """Check an application against ``rules`` (default: the packaged rule set)."""
    return (rules or default_rules()).evaluate(application)


FEE_DOCUMENT = "licence_fee_payment"
"""The document code of the licence fee's payment document in the rule sets."""


def _with_fee_payment(application: ApplicationDocuments, payment: Any) -> ApplicationDocuments:
    """The application with the fee's payment document when the flow confirmed the payment
    (Diagram 1, Condition 2: the payment gateway's signed receipt is the payment document, the memo's
    "payment information"), so that a paid fee is never listed as not provided."""
    if not isinstance(payment, dict) or application.document(FEE_DOCUMENT) is not None:
        return application
    receipt = ProvidedDocument(code=FEE_DOCUMENT, attributes={
        "document_number": payment.get("document_number"), "document_date": payment.get("document_date"),
        "amount": payment.get("amount"), "source": "payment gateway receipt"})
    return application.model_copy(update={"documents": [*application.documents, receipt]})


def qualification_step(rules: RuleSet | None = None, *, key: str = "application") -> StepFn:
    """A ready implementation of condition C4 (Diagram 1) / C3 (Diagram 2).

    Reads the application (an :class:`ApplicationDocuments` as JSON) from the flow's data under
    ``key``; fails the condition when a requirement is not met, keeping the result (the refusal
    letter's rows) in the flow's data under ``"qualification"``.
    """

    def check(ctx: FlowContext) -> Outcome:
        raw = ctx.data.get(key)
        if raw is None:
            raise ValidationError(key, "the flow's data has no application to check")
        try:
            application = ApplicationDocuments.model_validate(raw)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (key, *first["loc"]))
            raise ValidationError(where, first["msg"]) from exc
        result = evaluate(_with_fee_payment(application, ctx.data.get("payment")), rules)
        detail = "; ".join(f"{m.name_en}: {m.comment}" for m in result.missing)
        return Outcome(ok=result.met, detail=detail,
                       data={"qualification": result.model_dump(mode="json")})

    return check
