"""Licence issuing: what a decision to issue makes of an application, as a pure function.

:func:`issue_licence` takes everything it judges as arguments (the application, its licensor, the
registry sequence of a new number, the day, the licence the application names) and returns the
licence's fields; it reads no database and no clock, and signs nothing. The backend allocates the
sequence, stores the fields, and signs :meth:`IssuedLicence.document` with the licensor head's key.

Per application type:

- ISSUE: a new licence (new number), kind ORIGINAL, issued and valid from the day; its first
  appendix lists the application's sub-types;
- REISSUE: a new licence (new number), kind REISSUED, replacing the named licence (which the backend
  marks REISSUED); it keeps that licence's appendices, the application's sub-types (if any) forming
  one more; special conditions and validity end are the decision's, not inherited;
- DUPLICATE: the named licence again (same number, issue date and validity start), kind DUPLICATE,
  dated as a duplicate on the day;
- APPENDIX: the named licence with one more appendix listing the application's sub-types (kind and
  duplicate date unchanged).

Special conditions are the decision's when it gives them, else the application's (the applicant
asked for them), else for ISSUE and REISSUE "none"; for DUPLICATE and APPENDIX the decision's or
application's special conditions and the decision's validity end, when given, replace the licence's.
The licensee (IIN/BIN, name, address) is always the application's applicant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lxml import etree

from simulators.elicense import catalogue as cat
from simulators.elicense import documents as docs
from simulators.elicense.models import Application, Licence

NEW_NUMBER_TYPES = frozenset({"ISSUE", "REISSUE"})
"""Application types whose licence gets a new registry number (the others change the named licence)."""
NO_SPECIAL_CONDITIONS = "none"


@dataclass(frozen=True)
class IssuedLicence:
    """The fields of a licence as a decision to issue gives them (unsigned)."""

    number: str
    global_unique_number: str
    sequence: int | None
    """Registry sequence of a new licence; None when the decision changes the named licence."""
    kind: str
    """ORIGINAL | REISSUED | DUPLICATE (an appendix keeps the licence's kind)."""
    application_number: str
    previous_number: str | None
    """The licence a re-issue replaces."""
    iin_bin: str
    licensee_name: str
    licensee_address: str
    licensor: cat.Licensor
    service_code: str
    territory: cat.Territory
    special_conditions: str
    issue_date: dt.date
    validity_start: dt.date
    validity_end: dt.date | None
    duplicate_date: dt.date | None
    appendices: tuple[dict[str, Any], ...]
    """``{"number", "issue_date" (ISO), "sub_types" (codes)}``, numbered from 1."""

    @property
    def new(self) -> bool:
        """True: a new registry entry; False: the named licence, changed."""
        return self.sequence is not None

    @property
    def data(self) -> dict[str, Any]:
        """The licence's details stored beside its columns (JSON)."""
        return {"address": self.licensee_address, "territory_code": self.territory.code,
                "appendices": list(self.appendices), "special_conditions": self.special_conditions,
                "validity_start": self.validity_start.isoformat(), "previous": self.previous_number}

    def document(self) -> etree._Element:
        """The licence document (unsigned)."""
        svc = cat.service(self.service_code)
        assert svc is not None
        return docs.build_licence(
            number=self.number, global_number=self.global_unique_number, kind=self.kind,
            application_number=self.application_number, previous_number=self.previous_number,
            licensee={"iin_bin": self.iin_bin, "name": self.licensee_name, "address": self.licensee_address},
            special_conditions=self.special_conditions, lic=self.licensor, issue_date=self.issue_date,
            validity_start=self.validity_start, validity_end=self.validity_end,
            duplicate_date=self.duplicate_date, territory=self.territory,
            appendices=list(self.appendices), sub_types={st.code: st for st in svc.sub_types})


def licence_number(licensor: cat.Licensor, sequence: int) -> str:
    """``KZ<licensor's two digits: 00 for the Committee, else its region's>LAA<sequence, 8 digits>``."""
    region = "00" if licensor.code == cat.COMMITTEE_CODE else licensor.code[-2:]
    return f"KZ{region}LAA{sequence:08d}"


def global_unique_number(day: dt.date, sequence: int) -> str:
    """``<day as YYMMDD><sequence, 8 digits>``."""
    return f"{day:%y%m%d}{sequence:08d}"


def issue_licence(app: Application, licensor: cat.Licensor, *, today: dt.date, sequence: int | None,
                  target: Licence | None, special_conditions: str | None = None,
                  validity_end: dt.date | None = None) -> IssuedLicence:
    """The licence a decision to issue ``app`` gives (see the module's rules per application type).

    ``sequence``: the registry's next sequence, needed when ``app.app_type`` is in
    ``NEW_NUMBER_TYPES`` (ignored otherwise); ``target``: the licence the application names
    (``app.target_licence``), needed for REISSUE, DUPLICATE and APPENDIX; ``today``: the decision's
    day. ``ValueError`` when one needed is missing.
    """
    applicant = app.data["applicant"]
    special_conditions = special_conditions or app.data.get("special_conditions") or None
    territory = cat.territory(app.territory_code)
    if territory is None:
        raise ValueError(f"application {app.number}: territory {app.territory_code} is not in the directory")
    new_appendix = {"issue_date": today.isoformat(), "sub_types": app.data["sub_types"]}
    common: dict[str, Any] = {
        "application_number": app.number, "iin_bin": applicant["iin_bin"], "licensee_name": applicant["name"],
        "licensee_address": docs.address_line(applicant["address"]), "licensor": licensor,
        "service_code": app.service_code, "territory": territory}
    if app.app_type != "ISSUE" and target is None:
        raise ValueError(f"application {app.number} ({app.app_type}) needs the licence it names")
    if app.app_type in NEW_NUMBER_TYPES:
        if sequence is None:
            raise ValueError(f"application {app.number} ({app.app_type}) needs a registry sequence")
        previous = target if app.app_type == "REISSUE" else None
        appendices = list(previous.data["appendices"]) if previous is not None else []
        if app.data["sub_types"]:
            appendices.append({"number": len(appendices) + 1, **new_appendix})
        return IssuedLicence(
            number=licence_number(licensor, sequence), global_unique_number=global_unique_number(today, sequence),
            sequence=sequence, kind="REISSUED" if previous is not None else "ORIGINAL",
            previous_number=previous.number if previous is not None else None,
            special_conditions=special_conditions or NO_SPECIAL_CONDITIONS, issue_date=today,
            validity_start=today, validity_end=validity_end, duplicate_date=None, appendices=tuple(appendices),
            **common)
    assert target is not None
    appendices = list(target.data["appendices"])
    if app.app_type == "APPENDIX":
        appendices.append({"number": len(appendices) + 1, **new_appendix})
    duplicate = app.app_type == "DUPLICATE"
    return IssuedLicence(
        number=target.number, global_unique_number=target.global_unique_number, sequence=None,
        kind="DUPLICATE" if duplicate else target.kind, previous_number=None,
        special_conditions=special_conditions or target.data["special_conditions"],
        issue_date=target.issue_date, validity_start=dt.date.fromisoformat(target.data["validity_start"]),
        validity_end=validity_end or target.validity_end,
        duplicate_date=today if duplicate else target.duplicate_date, appendices=tuple(appendices), **common)
