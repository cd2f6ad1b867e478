"""``/api/v1/licences``, ``/api/v1/applications`` and ``/api/v1/elicense/indicators``: E-licensing.

Licences are public records (search, the signed licence, its PDF). An application's status and
decision are read through the service's E-licensing employee (``EGOV_ELICENSE_EMPLOYEE_LOGIN``),
who sees the applications of their licensor. The survey's indicators come from E-licensing's report
call, per service and per licensor over a period. Every signed document returned was verified first:
signature, certificate chain, validity and revocation, the first head's role and the issuing body's BIN.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from adapters.core.errors import ValidationError
from adapters.core.trust.subject import SignerInfo
from adapters.elicense import ApplicationInfo, LicenseSearch, SignedLicence, SurveyIndicator
from adapters.elicense.models import Licence, RefusalLetter, UniversalLicense
from procedure.models import Service
from procedure.names import Names, service_names
from procedure.survey import indicator_report
from service.auth import require, runtime_of
from service.headers import SIGNER, header_value
from service.licence_pdf import licence_pdf
from service.routes import API_PREFIX
from service.threadpool import blocking

router = APIRouter(prefix=API_PREFIX, tags=["E-licensing"])

LicenceNumber = Annotated[str, Path(min_length=1, max_length=64, description="the licence number")]


class LicenceSearchAnswer(BaseModel):
    total_count: int = Field(description="licences matching, over every page")
    page: int
    page_size: int
    licences: list[UniversalLicense]


class LicenceAnswer(BaseModel):
    """A licence whose signature and signer were verified."""

    number: str
    status: str | None = Field(default=None, description="registry status: ACTIVE, REISSUED...")
    licence: Licence
    signer: SignerInfo


class RefusalAnswer(BaseModel):
    letter: RefusalLetter
    signer: SignerInfo


class ApplicationAnswer(BaseModel):
    """An application, its status history, and its decision once there is one (verified)."""

    application: ApplicationInfo
    service: Names | None = Field(default=None, description="the application's service by its code, in Kazakh and "
                                                            "Russian (its status, type and category come named)")
    licence: LicenceAnswer | None = None
    refusal: RefusalAnswer | None = None


def _licence_answer(signed: SignedLicence) -> LicenceAnswer:
    return LicenceAnswer(number=signed.licence.number, status=signed.status, licence=signed.licence,
                         signer=signed.signer)


def _signer_header(signed: SignedLicence) -> dict[str, str]:
    return {SIGNER: header_value(signed.signer.describe())} if isinstance(signed.signer, SignerInfo) else {}


@router.get("/licences", response_model=LicenceSearchAnswer, summary="Search licences",
            dependencies=[Depends(require("elicense:search"))])
@blocking
def search_licences(
        request: Request,
        number: Annotated[str | None, Query(max_length=64, description="licence number")] = None,
        licensor: Annotated[str | None, Query(max_length=32, description="licensor code")] = None,
        name: Annotated[str | None, Query(max_length=500, description="licensee name (part of it)")] = None,
        iin_bin: Annotated[str | None, Query(pattern=r"^\d{12}$", description="licensee BIN or IIN")] = None,
        issue_date: Annotated[dt.date | None, Query(description="issue date")] = None,
        page: Annotated[int, Query(ge=0, description="page index, from 0")] = 0,
        page_size: Annotated[int, Query(ge=1, le=100)] = 20) -> LicenceSearchAnswer:
    """At least one of number, licensor, name, iin_bin, issue_date."""
    if not any((number, licensor, name, iin_bin, issue_date)):
        raise ValidationError("query", "give at least one of number, licensor, name, iin_bin, issue_date")
    found = runtime_of(request).clients.elicense.search(LicenseSearch(
        number=number, licensor_code=licensor, name=name, iin_bin=iin_bin, issue_date=issue_date,
        page_index=page, page_size=page_size))
    return LicenceSearchAnswer(total_count=found.total_count, page=page, page_size=page_size,
                               licences=list(found.licenses))


@router.get("/licences/{number}", response_model=LicenceAnswer, summary="A licence, verified",
            dependencies=[Depends(require("elicense:licence"))])
@blocking
def licence(request: Request, number: LicenceNumber) -> LicenceAnswer:
    return _licence_answer(runtime_of(request).clients.elicense.get_licence(number))


@router.get("/licences/{number}/xml", summary="The signed licence (XML, as signed)", response_class=Response,
            dependencies=[Depends(require("elicense:licence"))],
            responses={200: {"content": {"application/xml": {}}, "description": "the signed licence, verified"}})
@blocking
def licence_xml(request: Request, number: LicenceNumber) -> Response:
    """The exact bytes E-licensing signed (verify them again with ``egov verify`` or ``xmlsec1``)."""
    signed = runtime_of(request).clients.elicense.get_licence(number)
    return Response(signed.xml, media_type="application/xml", headers=_signer_header(signed))


@router.get("/licences/{number}/pdf", summary="The licence as PDF", response_class=Response,
            dependencies=[Depends(require("elicense:licence"))],
            responses={200: {"content": {"application/pdf": {}}, "description": "the licence for people"}})
@blocking
def licence_as_pdf(request: Request, number: LicenceNumber) -> Response:
    """Rendered from the verified licence, in Kazakh and Russian."""
    signed = runtime_of(request).clients.elicense.get_licence(number)
    headers = {"Content-Disposition": f'attachment; filename="licence-{signed.licence.number}.pdf"',
               **_signer_header(signed)}
    return Response(licence_pdf(signed.licence), media_type="application/pdf", headers=headers)


@router.get("/applications/{number}", response_model=ApplicationAnswer, summary="An application's status and decision",
            dependencies=[Depends(require("elicense:application"))])
@blocking
def application(request: Request, number: Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,32}$",
                                                                description="the application number")]
                ) -> ApplicationAnswer:
    """Read as the service's E-licensing employee (503 EGOV110 when none is configured; 403 ELC103
    for an application of another licensor)."""
    runtime = runtime_of(request)
    details = runtime.employee.run(lambda session: runtime.clients.elicense.get_application(session, number))
    refusal = details.refusal
    try:
        service = service_names(details.application.service_code)
    except KeyError:  # a service this version does not know: the code alone
        service = None
    return ApplicationAnswer(
        application=details.application, service=service,
        licence=_licence_answer(details.licence) if details.licence is not None else None,
        refusal=RefusalAnswer(letter=refusal.letter, signer=refusal.signer) if refusal is not None else None)


class IndicatorTotalsAnswer(BaseModel):
    answers: int
    satisfied: int
    partly_satisfied: int
    not_satisfied: int
    share: str = Field(description="satisfied or partly satisfied, of all answers (decimal, four digits)")


class KazakhRussian(BaseModel):
    kk: str
    ru: str


class NamedIndicators(BaseModel):
    name: KazakhRussian | None = Field(
        description="the service's or licensor's names (null for a code not in the catalogue)")
    quality: IndicatorTotalsAnswer = Field(description="question 1: the service's process and result")
    accessibility: IndicatorTotalsAnswer = Field(description="question 2: the information about the procedure")


class Period(BaseModel):
    since: dt.date | None = Field(alias="from")
    until: dt.date | None = Field(alias="to")


class IndicatorsAnswer(BaseModel):
    """The survey's two indicators per service and per licensor (appendix 4 of each regulation)."""

    period: Period
    by_service: dict[str, NamedIndicators] = Field(description="by the service's catalogue code (S1…S5)")
    by_licensor: dict[str, NamedIndicators] = Field(description="by the licensor's code")
    indicators: list[SurveyIndicator] = Field(description="E-licensing's counts per service, licensor and question")


@router.get("/elicense/indicators", response_model=IndicatorsAnswer, summary="The survey's indicators",
            dependencies=[Depends(require("elicense:search"))])
@blocking
def survey_indicators(
        request: Request,
        since: Annotated[dt.date | None, Query(description="first day (inclusive, UTC)")] = None,
        until: Annotated[dt.date | None, Query(description="last day (inclusive, UTC)")] = None,
        service: Annotated[str | None, Query(max_length=32, description="service: S1…S5 or our name (school…)")] = None,
        licensor: Annotated[str | None, Query(max_length=32, description="licensor code")] = None,
) -> IndicatorsAnswer:
    """Quality and accessibility per service and per licensor over a period, from E-licensing's
    report call (``GetSurveyIndicators``), with the services' and licensors' names in Kazakh and Russian."""
    if since is not None and until is not None and since > until:
        raise ValidationError("since", f"the period starts ({since}) after it ends ({until})")
    code = None
    if service is not None:
        try:
            code = service_names(service).code
        except (KeyError, ValueError):
            raise ValidationError("service", f"no service {service!r}: give S1…S5 or one of "
                                             f"{', '.join(s.value for s in Service)}") from None
    client = runtime_of(request).clients.elicense
    counted = client.survey_indicators(code, licensor_code=licensor, first_day=since, last_day=until)
    report = indicator_report(counted, client.get_catalogue(), first_day=since, last_day=until)
    return IndicatorsAnswer.model_validate({**report, "indicators": counted})
