"""A verified licence as the PDF people read (Kazakh and Russian), rendered by :mod:`procedure.documents`
from :func:`procedure.artefacts.licence_view`, the one mapping of a licence to its PDF's fields."""

from __future__ import annotations

from adapters.elicense.models import Licence
from procedure.artefacts import licence_view
from procedure.documents import render_licence_pdf


def licence_pdf(licence: Licence) -> bytes:
    """The licence's PDF, rendered in the calling thread (the same bytes every time)."""
    return render_licence_pdf(licence_view(licence))
