"""Status notices: each status change of an application, told to the ministry through the gateway.

:func:`status_notice` builds the ``StatusNotice`` of an application's latest status;
:func:`publish_notice` signs it with the E-licensing system's key and publishes it (service
``STATUS_NOTIFICATION_SERVICE_ID``, message type ``NOTIFICATION``, correlated by the application's
number). A failure to publish does not undo the status change: it is returned, for the backend to
record beside the notice (QA reads both through the control API).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from lxml import etree

from adapters.contracts.elicense import STATUS_NAMES, STATUS_NOTIFICATION_SERVICE_ID
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import SigningService
from simulators.elicense import documents as docs
from simulators.elicense.models import Application

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """What the backend needs of the gateway simulator (``GatewaySimulator.publish``)."""

    def publish(self, recipient_id: str, service_id: str, message_type: str, data: etree._Element,
                correlation_id: str | None = None) -> str: ...


@dataclass(frozen=True)
class Published:
    """The outcome of publishing one notice: the gateway's message id, or the error that stopped it."""

    message_id: str | None = None
    error: str | None = None


def status_notice(app: Application) -> etree._Element:
    """The ``StatusNotice`` of ``app``'s latest status (the last entry of its history), unsigned."""
    status, changed_at, comment = app.history[-1]
    return docs.build_status_notice(number=app.number, status=status, status_name=STATUS_NAMES[status][1],
                                    status_name_kz=STATUS_NAMES[status][0],
                                    changed_at=changed_at, licensor_code=app.licensor_code,
                                    applicant=app.data["applicant"]["iin_bin"],
                                    licence_number=app.licence_number, comment=comment)


def publish_notice(notice: etree._Element, number: str, *, signer: SigningService, publisher: Publisher,
                   recipient_id: str) -> Published:
    """Sign ``notice`` (of application ``number``) and publish it to ``recipient_id``; any failure is
    logged and returned, never raised."""
    try:
        signed = parse_xml(signer.sign_document(notice), what="status notice")
        return Published(message_id=publisher.publish(recipient_id, STATUS_NOTIFICATION_SERVICE_ID,
                                                      "NOTIFICATION", signed, number))
    except Exception as exc:  # the status changed anyway; the failure is recorded for QA
        log.warning("status notice of %s not published: %s", number, exc)
        return Published(error=str(exc))
