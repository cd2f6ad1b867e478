"""What an applicant brings: the documents and facts for a service and operation, and their scans.

Complete documents meet every rule of the service's rule set; incomplete ones (how a scenario
plays ``qualification-not-met``) carry the cases of the regulation's sample refusal letter: the
application form is "an application to restore licence data", the licence-fee payment document is
missing (a flow that paid the fee at Condition 2 has it all the same), and every declared staff
share is below its rule's threshold. The declared values vary with ``variant`` (the demo passes a
number of the applicant's BIN), above the threshold or below it, so that runs differ and both
outcomes occur for every service. The scans are small PDF-like files written to disk; the flow's
request names them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from procedure.application import AttachmentFile
from procedure.models import ApplicationDocuments, Operation, ProvidedDocument, Service
from procedure.qualification import RuleSet, default_rules

__all__ = ["application_documents", "write_scans"]


def declared_share(at_least: float, *, complete: bool, variant: int) -> float:
    """A declared share: 5 to 25 points above ``at_least`` (at most 1) when ``complete``, else 5 to
    20 points below it (at least 0), chosen by ``variant``."""
    if complete:
        return round(min(1.0, at_least + 0.05 * (1 + variant % 5)), 2)
    return round(max(0.0, at_least - 0.05 * (1 + variant % 4)), 2)


def application_documents(service: Service, operation: Operation, *, complete: bool = True,
                          rules: RuleSet | None = None, variant: int = 0) -> ApplicationDocuments:
    """The documents and facts an applicant brings for ``service`` and ``operation``: every rule of
    ``rules`` met when ``complete``, otherwise the sample refusal letter's faults and the declared
    shares below their thresholds (``variant`` varies the declared values)."""
    rule_set = rules or default_rules()
    documents: list[ProvidedDocument] = []
    facts: dict[str, Any] = {}
    for rule in rule_set.rules_for(service, operation):
        if rule.document is not None:
            attributes: dict[str, Any] = {}
            for check in rule.checks:
                if "equals" in check.model_fields_set:
                    expected = check.equals
                    attributes[check.attribute] = (expected.replace("{operation}", operation.value)
                                                   if isinstance(expected, str) else expected)
            documents.append(ProvidedDocument(code=rule.document, attributes=attributes))
        if rule.fact is not None and rule.at_least is not None:
            facts[rule.fact] = (declared_share(rule.at_least, complete=complete, variant=variant) if rule.percent
                                else rule.at_least if complete else rule.at_least - 1)
    if not complete:
        documents = [d for d in documents if d.code != "licence_fee_payment"]
        documents = [ProvidedDocument(code=d.code, attributes={**d.attributes, "form": "restore-licence-data"})
                     if d.code == "application" else d for d in documents]
    return ApplicationDocuments(service=service, operation=operation, documents=documents, facts=facts)


def scan(code: str, owner: str) -> bytes:
    """The simulated scan of document ``code`` brought by ``owner``."""
    return f"%PDF-1.4\n% scan of {code} brought by {owner}\n".encode()


def write_scans(documents: ApplicationDocuments, owner: str, directory: Path) -> tuple[AttachmentFile, ...]:
    """One scanned file per document, ``<code>.pdf`` in ``directory`` (replaced whole when written
    again: a flow reading it sees a complete file)."""
    directory.mkdir(parents=True, exist_ok=True)
    files: list[AttachmentFile] = []
    for d in documents.documents:
        name = f"{d.code}.pdf"
        target = (directory / name).resolve()
        content = scan(d.code, owner)
        if not target.is_file() or target.read_bytes() != content:
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            os.replace(temporary, target)
        files.append(AttachmentFile(name=name, path=str(target)))
    return tuple(files)
