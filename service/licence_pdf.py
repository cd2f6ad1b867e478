"""A verified licence as the PDF people read (Kazakh and Russian), rendered by :mod:`procedure.documents`."""

from __future__ import annotations

from adapters.elicense.models import Licence
from procedure.documents import render_licence_pdf
from procedure.models import AppendixView, LicenceView, SubType


def licence_view(licence: Licence) -> LicenceView:
    """The licence's fields as the PDF shows them."""
    return LicenceView(
        number=licence.number, licensee_name=licence.licensee.name, licensee_bin=licence.licensee.iin_bin,
        special_conditions_ru=licence.special_conditions if licence.special_conditions != "none" else "",
        issuing_body_kk=licence.issuing_body.name_kz, issuing_body_ru=licence.issuing_body.name_ru,
        head_name=licence.head.full_name, issue_date=licence.issue_date, issue_place=licence.territory.name_ru,
        appendices=[AppendixView(number=str(a.number),
                                 subtypes=[SubType(code=st.code, name_kk=st.name_kz, name_ru=st.name_ru)
                                           for st in a.sub_types])
                    for a in licence.appendices])


def licence_pdf(licence: Licence) -> bytes:
    """The licence's PDF, rendered in the calling thread (the same bytes every time)."""
    return render_licence_pdf(licence_view(licence))
