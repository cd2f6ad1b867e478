"""The documents a service asks for, in the page's language: the qualification rules of the procedure
(``procedure/data/qualification_rules.yaml``, seeded from the regulations' refusal letter). The wizard
lists them at the attachments step; the desk offers them as the rows of a refusal."""

from __future__ import annotations

from procedure.application import SERVICE_CODES
from procedure.models import Operation
from procedure.qualification import default_rules


def required_documents(service_code: str, app_type: str, lang: str) -> list[str]:
    """Names of the requirements of ``service_code`` (E-licensing's code) for ``app_type``; none for an
    unknown service."""
    service = next((s for s, code in SERVICE_CODES.items() if code == service_code), None)
    if service is None:
        return []
    rules = default_rules().rules_for(service, Operation(app_type.lower()))
    return [rule.name.kk if lang == "kk" else rule.name.ru for rule in rules]
