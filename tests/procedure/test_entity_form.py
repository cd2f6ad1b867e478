"""Diagram 2, step 6: the form from the Legal Entities register's answer, differences shown."""

from __future__ import annotations

from procedure.application import ApplicantIdentity
from procedure.entity_form import form_applicant

REGISTER = {"name_ru": "ТОО «Білім» № 7", "name_kz": "«Білім» ЖШС", "leader": "Ахметов Ерлан Серикович",
            "kato": "551010000", "postal_index": "140000", "city_name": "Павлодар", "street_ru": "ул. Ленина",
            "street_kz": "Ленин көш.", "house": "12"}


def brought(**changes: str) -> ApplicantIdentity:
    fields = {"bin": "120240012345", "name": "«Білім» ЖШС", "name_ru": "ТОО «Білім» № 7", "postal_index": "140000",
              "city_kato": "551010000", "city_name": "Павлодар", "street_ru": "ул. Ленина", "street_kz": "Ленин көш.",
              "house": "12", "head_name": "АХМЕТОВ ЕРЛАН СЕРИКОВИЧ", "phone": "+7 7182 000000"}
    return ApplicantIdentity.model_validate({**fields, **changes})


def test_what_was_brought_matches_the_register() -> None:
    form, mismatches = form_applicant(brought(), REGISTER)
    assert mismatches == []
    assert form.head_name == "АХМЕТОВ ЕРЛАН СЕРИКОВИЧ" and form.phone == "+7 7182 000000"


def test_differences_are_shown_and_the_form_takes_the_registers_values() -> None:
    form, mismatches = form_applicant(brought(house="14", head_name="ИВАНОВ ИВАН", name="«Bilim» ЖШС"), REGISTER)
    assert mismatches == [
        {"field": "name", "register": "«Білім» ЖШС", "brought": "«Bilim» ЖШС"},
        {"field": "head_name", "register": "АХМЕТОВ ЕРЛАН СЕРИКОВИЧ", "brought": "ИВАНОВ ИВАН"},
        {"field": "house", "register": "12", "brought": "14"}]
    assert (form.name, form.head_name, form.house) == ("«Білім» ЖШС", "АХМЕТОВ ЕРЛАН СЕРИКОВИЧ", "12")
    assert form.bin == "120240012345" and form.phone == "+7 7182 000000"  # completed with what was brought


def test_a_field_not_brought_is_filled_without_a_mismatch() -> None:
    form, mismatches = form_applicant(brought(head_name=""), REGISTER)
    assert mismatches == [] and form.head_name == "АХМЕТОВ ЕРЛАН СЕРИКОВИЧ"
