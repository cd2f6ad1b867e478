"""The landscape's identities: who each simulator is, and who our own system is to them.

The simulators' keys are issued by the test PKI to these IINs and BINs (``SYSTEM_IIN`` with each
system's BIN); the landscape (``harness.landscape``) and its manifest name the same values. BINs
that no fixture fixes are the first valid BINs near a fixed serial, so they are the same in every
run.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.core.errors import ConfigurationError, IdentifierError
from adapters.core.identifiers import make_bin

MINISTRY_IIN = "871008401427"
"""IIN on the ministry system's certificate (its PKCS#12 is written to the work directory)."""
MINISTRY_BIN = "940140000385"
"""Our BIN (RequestorBIN at the Legal Entities register; first entry of its fixtures)."""
SENDER_ID = "MINISTRY_EDU"
DEFAULT_SENDER_PASSWORD = "changeit"
KEYSTORE_PASSWORD = "changeit"
KEYSTORE_NAME = "ministry.p12"
KEYSTORE_PASSWORD_FILE = "ministry.p12.password"
SENDER_PASSWORD_FILE = "sender.password"
EMPLOYEE_PASSWORD_FILE = "employee.password"
"""Names of the secret files (0600) under ``<workdir>/secrets`` that the landscape's clients read:
``egov sim up`` prints ``EGOV_*_FILE`` variables naming them, and its manifest references them."""
EMPLOYEE_PASSWORD = "employee-pass"
GATEWAY_IIN = "760212350620"
GATEWAY_BIN = "950341000052"
SYSTEM_IIN = "760212350620"


def _valid_bin(year: int, month: int, serial: int) -> str:
    for s in range(serial, serial + 50):
        try:
            return make_bin(year, month, 4, 0, s)
        except IdentifierError:
            continue
    raise ConfigurationError(f"no valid BIN near serial {serial}")


PAYMENT_GATEWAY_BIN = _valid_bin(2005, 1, 7301)
REGISTER_BIN = _valid_bin(2004, 1, 7401)
ELICENSE_BIN = _valid_bin(2011, 5, 4242)


@dataclass(frozen=True)
class Ministry:
    """Our licensing system as the simulators know it: its sender account at the gateway, its BIN
    (RequestorBIN at the register) and its key, issued by the test PKI and written as PKCS#12."""

    sender_id: str = SENDER_ID
    sender_password: str = DEFAULT_SENDER_PASSWORD
    bin: str = MINISTRY_BIN
    keystore_password: str = KEYSTORE_PASSWORD

    @classmethod
    def from_settings(cls, gateway_section: Mapping[str, Any] | None = None) -> Ministry:
        """The identity the client's settings name (``EGOV_GATEWAY_SENDER_ID``, ``EGOV_REQUESTOR_BIN``);
        the sender password from ``EGOV_GATEWAY_SENDER_PASSWORD``, else the config file's
        ``gateway.sender_password``, else ``changeit`` (the environment wins: it is what the client sends);
        the keystore's password is a new random one (the clients read it from its secret file)."""
        from adapters.core.settings import get_settings

        settings = get_settings()
        configured = (gateway_section or {}).get("sender_password")
        password = (settings.gateway_sender_password.get_secret_value() if settings.gateway_sender_password
                    else str(configured) if configured else DEFAULT_SENDER_PASSWORD)
        return cls(sender_id=settings.gateway_sender_id, sender_password=password, bin=settings.requestor_bin,
                   keystore_password=secrets.token_urlsafe(12))
