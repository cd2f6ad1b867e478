"""Diagram 2, step 6: the employee's form filled from the Legal Entities register's answer.

The register is the source for who the applicant is (name, BIN, address, head); what the applicant
brought on paper completes it (phone) and is compared with it: every field where the two differ
is a mismatch shown to the employee (the step's detail and the flow's data), and the form carries
the register's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.legal_entities import Organisation
from procedure.application import ApplicantIdentity

__all__ = ["Mismatch", "form_applicant", "register_record"]

Mismatch = dict[str, str]
"""``{"field", "register", "brought"}``."""


def register_record(org: Organisation) -> dict[str, Any]:
    """The register's answer as the flow keeps it (the fields the form takes)."""
    a = org.address
    return {"name_ru": org.full_name_ru, "name_kz": org.full_name_kz, "leader": org.leader.full_name,
            "kato": a.kato, "postal_index": a.zip_code, "city_name": a.city_ru, "street_ru": a.street_ru,
            "street_kz": a.street_kz, "house": a.building}


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def form_applicant(brought: ApplicantIdentity, register: Mapping[str, Any]) -> tuple[ApplicantIdentity, list[Mismatch]]:
    """The applicant as the form shows it: the register's name, address and head, the rest as
    brought; and the fields where what was brought differs from the register."""
    taken = {"name": "name_kz", "name_ru": "name_ru", "head_name": "leader", "postal_index": "postal_index",
             "city_kato": "kato", "city_name": "city_name", "street_ru": "street_ru", "street_kz": "street_kz",
             "house": "house"}
    fields = {name: str(register[key]) for name, key in taken.items() if register.get(key)}
    if "head_name" in fields:
        fields["head_name"] = fields["head_name"].upper()
    mismatches = [{"field": name, "register": str(value), "brought": str(getattr(brought, name))}
                  for name, value in fields.items()
                  if getattr(brought, name) and not _same(str(getattr(brought, name)), str(value))]
    return brought.model_copy(update=fields), mismatches
