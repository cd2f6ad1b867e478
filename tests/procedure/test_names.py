"""Names for people of a flow's codes: one table, the E-licensing contract's, which the simulator's
catalogue answers with too."""

from __future__ import annotations

import pytest

from procedure.application import SERVICE_CODES
from procedure.models import Operation, Service
from procedure.names import CATEGORY, operation_names, service_names, status_names
from simulators.elicense.catalogue import SERVICES


def test_every_service_is_named_as_the_catalogue_names_it() -> None:
    catalogue = {s.code: s for s in SERVICES}
    for service in Service:
        names = service_names(service)
        assert names.code == SERVICE_CODES[service] and service_names(names.code) == names
        assert (names.kk, names.ru) == (catalogue[names.code].name_kz, catalogue[names.code].name_ru)
        assert names.shown() == f"{names.kk} / {names.ru}" and names.shown("kk") == names.kk


def test_operations_statuses_and_the_category() -> None:
    assert {operation_names(o).code for o in Operation} == {"ISSUE", "REISSUE", "DUPLICATE", "APPENDIX"}
    assert operation_names("reissue").kk == "Лицензияны қайта ресімдеуге өтініш"
    assert status_names("REFUSED").as_dict() == {"code": "REFUSED", "kk": "беруден бас тарту шешімі қабылданды",
                                                 "ru": "принято решение об отказе в выдаче"}
    assert CATEGORY.shown("kk") == "Қызмет түріне лицензия"


def test_an_unknown_code_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no status named 'DONE'; known: SENT, IN_PROGRESS, ISSUED, REFUSED"):
        status_names("DONE")
    with pytest.raises(KeyError, match="no service named 'S9'"):
        service_names("S9")
