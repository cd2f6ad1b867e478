""""My permit documents" (memo, steps 4 and 5): an applicant's licences with their appendices, each
with its documents, and the appendix request started from a licence.

The list is E-licensing's search by the applicant's IIN/BIN (the search's "View" is
:func:`view`: the signed licence with all its appendices, verified, as the registry holds it now);
:func:`write_documents` writes each licence's signed XML and PDF (the same files a flow writes);
:func:`appendix_request` turns one of them into the request for a new appendix ("қосымшаларды
қайта рәсімдеу" from the permit document's page).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from adapters.elicense import LicenseSearch, SignedLicence, UniversalLicenseResponse
from procedure.application import Application, AttachmentFile
from procedure.artefacts import write_licence
from procedure.models import ApplicationDocuments, Operation

__all__ = ["PermitDocument", "PermitRegistry", "appendix_request", "my_permit_documents", "view",
           "write_documents"]

PAGE = 100


class PermitRegistry(Protocol):
    """What "My permit documents" needs of E-licensing: its search and its licences."""

    def search(self, criteria: LicenseSearch | None = None, **kwargs: Any) -> UniversalLicenseResponse: ...

    def get_licence(self, number: str) -> SignedLicence: ...


@dataclass(frozen=True)
class PermitDocument:
    """One licence of the applicant: its registry status and the signed licence with its appendices."""

    number: str
    status: str
    signed: SignedLicence

    @property
    def appendices(self) -> list[int]:
        return [a.number for a in self.signed.licence.appendices]


def view(registry: PermitRegistry, number: str) -> PermitDocument:
    """The search's "View": the licence with all its appendices, as E-licensing holds it (verified)."""
    signed = registry.get_licence(number)
    return PermitDocument(number=number, status=signed.status or "", signed=signed)


def my_permit_documents(registry: PermitRegistry, iin_bin: str) -> list[PermitDocument]:
    """Every licence the registry holds for ``iin_bin``, each viewed, in the registry's order."""
    numbers: list[str] = []
    page = 0
    while True:
        found = registry.search(LicenseSearch(iin_bin=iin_bin, page_index=page, page_size=PAGE))
        numbers += [lic.number for lic in found.licenses]
        if len(numbers) >= found.total_count or not found.licenses:
            break
        page += 1
    return [view(registry, number) for number in numbers]


def write_documents(out_dir: Path, permits: list[PermitDocument]) -> list[tuple[Path, Path]]:
    """Each licence's signed XML and PDF in ``out_dir`` (``licence-<number>.xml`` / ``.pdf``)."""
    return [write_licence(out_dir, permit.signed) for permit in permits]


def appendix_request(template: Application, permit: PermitDocument, documents: ApplicationDocuments,
                     attachments: tuple[AttachmentFile, ...]) -> Application:
    """The request for a new appendix to ``permit``'s licence: the applicant, officer and channel of
    ``template`` (an earlier request of the same applicant), the appendix's documents and scans."""
    licensee = permit.signed.licence.licensee.iin_bin
    if licensee != template.applicant.bin:
        raise ValueError(f"licence {permit.number} belongs to {licensee}, not to {template.applicant.bin}")
    if documents.operation is not Operation.APPENDIX:
        raise ValueError(f"the documents are for a {documents.operation.value}, not for an appendix")
    return template.model_copy(update={
        "operation": Operation.APPENDIX, "licence_number": permit.number, "documents": tuple(documents.documents),
        "facts": documents.facts, "attachments": attachments})
