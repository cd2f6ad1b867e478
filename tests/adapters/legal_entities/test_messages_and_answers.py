"""The Legal Entities register's request document (``messages``) and answer reader (``answers``):
the request is what the schema and the register's own reader accept; the reader takes every
fixture organisation, and what it cannot read is an ``InvalidResponseError`` naming the field.
(GBD UL has no WSDL: the schema is the contract, so there is no zeep oracle here.)"""

from __future__ import annotations

import pytest
from lxml import etree

from adapters.contracts import schema_errors
from adapters.core.errors import InvalidResponseError
from adapters.legal_entities import answers, messages
from simulators.legal_entities import DEFAULT_FIXTURES, load_fixtures
from simulators.legal_entities.wire import build_response, read_request


@pytest.mark.parametrize(("by", "number"), [("BIN", "940140000385"), ("IIN", "871008401427")])
def test_lookup_request_is_what_the_schema_and_the_register_accept(by: str, number: str) -> None:
    request = messages.lookup_request("940140000385", number, by=by)
    assert schema_errors(answers.GBDUL_XSD, request) == []
    seen = read_request(request)
    assert (seen.kind, seen.requestor_bin, seen.number) == (by, "940140000385", number)


def test_every_fixture_organisation_is_read() -> None:
    records = load_fixtures(DEFAULT_FIXTURES).organisations
    assert records
    for record in records:
        response = build_response("00", record)
        assert schema_errors(answers.GBDUL_XSD, response) == []
        assert answers.read_status(response)[0] == "00"
        organisation = answers.read_organisation(response)
        assert organisation is not None
        assert (organisation.bin, organisation.full_name_ru, organisation.registration_date) == (
            record.bin, record.full_name_ru, record.registration_date)


def test_a_date_that_cannot_be_read_is_an_invalid_answer_naming_the_field() -> None:
    response = build_response("00", load_fixtures(DEFAULT_FIXTURES).organisations[0])
    registered = response.find(f".//{messages.q('RegistrationDate')}")
    assert registered is not None
    registered.text = "01.02.2003"
    with pytest.raises(InvalidResponseError) as info:
        answers.read_organisation(response)
    assert info.value.context["field"] == "RegistrationDate"


def test_a_response_without_status_is_an_invalid_answer() -> None:
    response = etree.Element(messages.q("Response"))
    with pytest.raises(InvalidResponseError, match="no Status"):
        answers.read_status(response)
