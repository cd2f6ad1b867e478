"""Status notifications from E-licensing, consumed from the gateway's async channel.

E-licensing pushes each status change as a signed ``StatusNotice`` (messageType NOTIFICATION,
serviceId ``ElicenseStatusNotification``, correlationId = application number). The consumer pulls
them with ``getMessages``, verifies each notice's signature, and only then acknowledges it with
``sendDeliveryNotification``: a notice that fails verification is not acknowledged and raises, so
it is neither lost nor silently accepted. A notice about another application than its message's
correlationId says (a signed notice replayed under another application's number) is refused too.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from adapters.contracts.elicense import STATUS_NOTIFICATION_SERVICE_ID, el, validate
from adapters.core.errors import InvalidResponseError
from adapters.core.soap import require_match
from adapters.elicense import answers
from adapters.elicense.models import StatusNotice


class StatusNotificationConsumer:
    """Pulls, verifies and acknowledges E-licensing status notices.

    ``gateway`` is an ``adapters.egov_gateway.GatewayClient``; ``verification`` a
    ``VerificationService`` (``expect_bin`` pins the E-licensing system's BIN, when known).
    """

    def __init__(self, gateway: Any, verification: Any, *, expect_bin: str | None = None) -> None:
        self._gateway = gateway
        self._verification = verification
        self._expect_bin = expect_bin

    def fetch(self, *, application_number: str | None = None, acknowledge: bool = True) -> list[StatusNotice]:
        """Notices waiting now (possibly none), oldest first."""
        messages = self._gateway.get_messages(service_id=STATUS_NOTIFICATION_SERVICE_ID,
                                              message_type="NOTIFICATION", correlation_id=application_number)
        return self._accept(messages, acknowledge)

    def wait(self, *, application_number: str | None = None, deadline: float = 30.0,
             acknowledge: bool = True) -> list[StatusNotice]:
        """Poll until at least one notice arrives (``DeadlineExceededError`` after ``deadline`` s)."""
        messages = self._gateway.poll_messages(service_id=STATUS_NOTIFICATION_SERVICE_ID,
                                               message_type="NOTIFICATION", correlation_id=application_number,
                                               deadline=deadline, acknowledge=False)
        return self._accept(messages, acknowledge)

    def _accept(self, messages: list[Any], acknowledge: bool) -> list[StatusNotice]:
        notices = [self.parse(m) for m in messages]
        if acknowledge:
            for notice in notices:
                self._gateway.send_delivery_notification(notice.message_id)
        return sorted(notices, key=lambda n: n.changed_at)

    def parse(self, message: Any) -> StatusNotice:
        """Verify and read one async message holding a signed StatusNotice."""
        data: etree._Element | None = message.data
        if data is None:
            raise InvalidResponseError(f"notification {message.message_id} carries no data", field="messageData")
        verified = self._verification.verify_document(data, expect_bin=self._expect_bin)
        if verified.root.tag != el("StatusNotice"):
            raise InvalidResponseError(f"notification {message.message_id} holds "
                                       f"<{etree.QName(verified.root).localname}>, not <StatusNotice>",
                                       field="messageData")
        validate(verified.signed_root, what="status notice")
        notice = answers.status_notice(verified.root, message_id=message.message_id, signer=verified.signer)
        # the contract: a notice travels under correlationId = its application number
        require_match(f"notification {message.message_id}", "correlationId", notice.application_number,
                      message.correlation_id)
        return notice
