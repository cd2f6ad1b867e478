"""What an applicant brings: the documents and facts for a service and operation, and their scans.

Complete documents meet every rule of the rule set; incomplete ones (how a scenario plays
``qualification-not-met``) are the two cases of the regulation's sample refusal letter: the
application form is "an application to restore licence data" and the licence-fee payment document
is missing. The scans are small PDF-like files written to disk; the flow's request names them.
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


def application_documents(service: Service, operation: Operation, *, complete: bool = True,
                          rules: RuleSet | None = None) -> ApplicationDocuments:
    """The documents and facts an applicant brings for ``service`` and ``operation``: every rule of
    ``rules`` met when ``complete``, otherwise the sample refusal letter's two faults."""
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
            facts[rule.fact] = max(rule.at_least, 0.65) if rule.percent else rule.at_least
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
