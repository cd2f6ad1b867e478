"""Adapter of the E-licensing system: authorisation, catalogue, signed applications with attachments
by digest, statuses (and their notifications through the gateway), decisions, signed licences,
search (UniversalLicense) and the quality survey.

Requests are built with lxml in ``messages.py``, answers read with lxml in ``answers.py`` after the
response pipeline's schema check (signed documents: after their signature): the one way to build
and the one way to read of every adapter, chosen and explained in :mod:`adapters.egov_gateway`. The
tests check them against zeep's reading of ``wsdl/elicense/elicense.wsdl``.
"""

from __future__ import annotations

from adapters.contracts.elicense import ATTACHMENTS_MAX_TOTAL_BYTES
from adapters.elicense.client import ElicenseClient
from adapters.elicense.errors import (
    AttachmentDigestMismatch,
    AttachmentError,
    AttachmentMissing,
    AttachmentsTooLarge,
    AuthorisationDenied,
    ElicenseValidationError,
    PaymentMissing,
)
from adapters.elicense.models import (
    Address,
    Applicant,
    ApplicationDetails,
    ApplicationForm,
    ApplicationInfo,
    AttachmentContent,
    Catalogue,
    LicenseSearch,
    MissingDocument,
    Payment,
    Session,
    SignedLicence,
    SignedRefusal,
    StatusNotice,
    SurveyAnswer,
    SurveyIndicator,
    UniversalLicenseResponse,
)
from adapters.elicense.notifications import StatusNotificationConsumer

__all__ = [
    "ATTACHMENTS_MAX_TOTAL_BYTES",
    "Address",
    "Applicant",
    "ApplicationDetails",
    "ApplicationForm",
    "ApplicationInfo",
    "AttachmentContent",
    "AttachmentDigestMismatch",
    "AttachmentError",
    "AttachmentMissing",
    "AttachmentsTooLarge",
    "AuthorisationDenied",
    "Catalogue",
    "ElicenseClient",
    "ElicenseValidationError",
    "LicenseSearch",
    "MissingDocument",
    "Payment",
    "PaymentMissing",
    "Session",
    "SignedLicence",
    "SignedRefusal",
    "StatusNotice",
    "StatusNotificationConsumer",
    "SurveyAnswer",
    "SurveyIndicator",
    "UniversalLicenseResponse",
]
