"""Licence issuing as a pure function (``simulators.elicense.issuing.issue_licence``).

Per application type: an issue makes a new licence of the application; a re-issue a new licence
replacing the named one and keeping its appendices; a duplicate the named licence again, dated as a
duplicate; an appendix the named licence with one more appendix. No database, no clock: the day and
the registry sequence are arguments, so the same inputs give the same licence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from adapters.contracts.elicense import el, validate
from simulators.elicense import catalogue as cat
from simulators.elicense.issuing import (
    IssuedLicence,
    global_unique_number,
    issue_licence,
    licence_number,
)
from simulators.elicense.models import Application, Licence

TODAY = dt.date(2026, 3, 2)
ISSUED_ON = dt.date(2025, 9, 1)
APPLICANT_BIN = "940140000385"
ADDRESS = {"postal_index": "010000", "city_kato": "710000000", "city_name": "Astana", "street_ru": "Mangilik El",
           "house": "8", "flat": None}


def _committee() -> cat.Licensor:
    licensor = cat.licensor(cat.COMMITTEE_CODE)
    assert licensor is not None
    return licensor


def _application(app_type: str, *, target: str | None = None, sub_types: tuple[str, ...] = ("ED010100",),
                 name: str = "«Қаһарман» өнер колледжі", number: str = "12000001") -> Application:
    data: dict[str, Any] = {"applicant": {"iin_bin": APPLICANT_BIN, "name": name, "address": ADDRESS},
                            "sub_types": list(sub_types)}
    now = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    return Application(number=number, channel="portal", app_type=app_type, service_code="S1", target_licence=target,
                       data=data, territory_code=cat.COUNTRY_CODE, licensor_code=cat.COMMITTEE_CODE,
                       submitted_at=now, registered_at=now, status="IN_PROGRESS", licence_number=None,
                       licence_document=None, refusal_document=None, history=(("IN_PROGRESS", now, None),))


def _existing(*, kind: str = "ORIGINAL", duplicate_date: dt.date | None = None) -> Licence:
    """A stored licence with two appendices, special conditions and a validity end."""
    appendices = [{"number": 1, "issue_date": ISSUED_ON.isoformat(), "sub_types": ["ED010100"]},
                  {"number": 2, "issue_date": "2025-12-01", "sub_types": ["ED010200"]}]
    return Licence(number="KZ00LAA00000005", global_unique_number="25090100000005", iin_bin=APPLICANT_BIN,
                   licensee_name="old name", licensor_code=cat.COMMITTEE_CODE, service_code="S1",
                   activity_code=cat.ACTIVITY_CODE, issue_date=ISSUED_ON, validity_end=dt.date(2030, 9, 1),
                   status="ACTIVE", kind=kind, duplicate_date=duplicate_date, document=b"<Licence/>",
                   application_number="12000000",
                   data={"address": "old address", "territory_code": cat.COUNTRY_CODE, "appendices": appendices,
                         "special_conditions": "evening classes only", "validity_start": "2025-09-02",
                         "previous": None})


def _document(issued: IssuedLicence) -> etree._Element:
    doc = issued.document()
    validate(doc, what="licence")  # the unsigned licence is schema-valid (the signature is optional there)
    return doc


def _text(doc: etree._Element, path: str) -> str | None:
    text: str | None = doc.findtext("/".join(el(p) for p in path.split("/")))
    return text


def test_issue_makes_a_new_licence_of_the_application() -> None:
    issued = issue_licence(_application("ISSUE", sub_types=("ED010100", "ED010300")), _committee(), today=TODAY,
                           sequence=7, target=None)
    assert issued.new and issued.sequence == 7
    assert issued.number == "KZ00LAA00000007" and issued.global_unique_number == "26030200000007"
    assert issued.kind == "ORIGINAL" and issued.previous_number is None
    assert (issued.issue_date, issued.validity_start, issued.validity_end) == (TODAY, TODAY, None)
    assert issued.duplicate_date is None
    assert issued.special_conditions == "none"
    assert issued.appendices == ({"number": 1, "issue_date": "2026-03-02", "sub_types": ["ED010100", "ED010300"]},)
    assert (issued.iin_bin, issued.licensee_name) == (APPLICANT_BIN, "«Қаһарман» өнер колледжі")
    assert issued.licensee_address == "010000, Astana, Mangilik El, 8"
    assert issued.data == {"address": "010000, Astana, Mangilik El, 8", "territory_code": cat.COUNTRY_CODE,
                           "appendices": list(issued.appendices), "special_conditions": "none",
                           "validity_start": "2026-03-02", "previous": None}
    doc = _document(issued)
    assert _text(doc, "Number") == "KZ00LAA00000007" and _text(doc, "Kind") == "ORIGINAL"
    assert doc.find(el("PreviousLicenceNumber")) is None and doc.find(el("ValidityEndDate")) is None
    assert [c.text for c in doc.iterfind(f"{el('Appendices')}/{el('Appendix')}/{el('SubType')}/{el('Code')}")] \
        == ["ED010100", "ED010300"]


def test_issue_takes_the_decisions_conditions_and_validity_end() -> None:
    issued = issue_licence(_application("ISSUE"), _committee(), today=TODAY, sequence=1, target=None,
                           special_conditions="day classes", validity_end=dt.date(2031, 1, 1))
    assert (issued.special_conditions, issued.validity_end) == ("day classes", dt.date(2031, 1, 1))
    assert _text(_document(issued), "ValidityEndDate") == "2031-01-01"


def test_a_departments_licence_number_carries_its_region() -> None:
    almaty = cat.licensor("DKSO75")
    assert almaty is not None
    assert licence_number(almaty, 42) == "KZ75LAA00000042"
    assert licence_number(_committee(), 42) == "KZ00LAA00000042"
    assert global_unique_number(dt.date(2012, 11, 5), 42) == "12110500000042"


def test_reissue_replaces_the_named_licence_keeping_its_appendices() -> None:
    target = _existing()
    issued = issue_licence(_application("REISSUE", target=target.number, sub_types=("ED010400",),
                                        name="ТОО «Новое имя»"), _committee(), today=TODAY, sequence=9,
                           target=target)
    assert issued.new and issued.number == "KZ00LAA00000009" and issued.number != target.number
    assert issued.kind == "REISSUED" and issued.previous_number == target.number
    assert issued.licensee_name == "ТОО «Новое имя»"
    assert (issued.issue_date, issued.validity_start) == (TODAY, TODAY)
    # special conditions and validity end are the decision's, not inherited
    assert issued.special_conditions == "none" and issued.validity_end is None
    assert [a["number"] for a in issued.appendices] == [1, 2, 3]
    assert issued.appendices[:2] == tuple(target.data["appendices"])
    assert issued.appendices[2] == {"number": 3, "issue_date": "2026-03-02", "sub_types": ["ED010400"]}
    assert issued.data["previous"] == target.number
    assert _text(_document(issued), "PreviousLicenceNumber") == target.number


def test_reissue_without_sub_types_adds_no_appendix() -> None:
    target = _existing()
    issued = issue_licence(_application("REISSUE", target=target.number, sub_types=()), _committee(),
                           today=TODAY, sequence=3, target=target)
    assert issued.appendices == tuple(target.data["appendices"])


def test_duplicate_is_the_named_licence_again_dated_as_a_duplicate() -> None:
    target = _existing(kind="REISSUED")
    issued = issue_licence(_application("DUPLICATE", target=target.number, sub_types=()), _committee(),
                           today=TODAY, sequence=99, target=target)
    assert not issued.new and issued.sequence is None  # the sequence given is not used
    assert (issued.number, issued.global_unique_number) == (target.number, target.global_unique_number)
    assert issued.kind == "DUPLICATE" and issued.duplicate_date == TODAY
    assert issued.issue_date == ISSUED_ON and issued.validity_start == dt.date(2025, 9, 2)
    assert issued.special_conditions == "evening classes only" and issued.validity_end == dt.date(2030, 9, 1)
    assert issued.appendices == tuple(target.data["appendices"])
    assert issued.previous_number is None and issued.data["previous"] is None
    doc = _document(issued)
    assert _text(doc, "IssueDate") == "2025-09-01" and _text(doc, "ValidityStartDate") == "2025-09-02"


def test_duplicate_takes_the_decisions_conditions_and_validity_end_when_given() -> None:
    target = _existing()
    issued = issue_licence(_application("DUPLICATE", target=target.number, sub_types=()), _committee(),
                           today=TODAY, sequence=None, target=target, special_conditions="weekends",
                           validity_end=dt.date(2029, 1, 1))
    assert (issued.special_conditions, issued.validity_end) == ("weekends", dt.date(2029, 1, 1))


def test_appendix_adds_one_to_the_named_licence_keeping_kind_and_duplicate_date() -> None:
    target = _existing(kind="DUPLICATE", duplicate_date=dt.date(2026, 1, 15))
    issued = issue_licence(_application("APPENDIX", target=target.number, sub_types=("ED010300",)), _committee(),
                           today=TODAY, sequence=None, target=target)
    assert not issued.new and issued.number == target.number
    assert issued.kind == "DUPLICATE" and issued.duplicate_date == dt.date(2026, 1, 15)
    assert issued.issue_date == ISSUED_ON
    assert [a["number"] for a in issued.appendices] == [1, 2, 3]
    assert issued.appendices[2] == {"number": 3, "issue_date": "2026-03-02", "sub_types": ["ED010300"]}
    assert len(_document(issued).findall(f"{el('Appendices')}/{el('Appendix')}")) == 3


def test_the_same_inputs_give_the_same_licence() -> None:
    target = _existing()
    app = _application("REISSUE", target=target.number)
    first = issue_licence(app, _committee(), today=TODAY, sequence=4, target=target)
    assert issue_licence(app, _committee(), today=TODAY, sequence=4, target=target) == first
    assert etree.tostring(first.document()) == etree.tostring(first.document())


@pytest.mark.parametrize(("app_type", "sequence", "target", "missing"), [
    ("ISSUE", None, None, "registry sequence"),
    ("REISSUE", 1, None, "licence it names"),
    ("DUPLICATE", None, None, "licence it names"),
    ("APPENDIX", None, None, "licence it names"),
])
def test_missing_inputs_are_refused(app_type: str, sequence: int | None, target: Licence | None,
                                    missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        issue_licence(_application(app_type), _committee(), today=TODAY, sequence=sequence, target=target)
