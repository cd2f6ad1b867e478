"""Which revocation sources a certificate is checked against: a value of the settings as much as of
the checker (:mod:`adapters.core.trust.revocation`), kept apart from the checker so that the settings
do not import the HTTP transport the checker fetches with."""

from __future__ import annotations

import enum


class RevocationPolicy(enum.StrEnum):
    OCSP = "ocsp"
    CRL = "crl"
    OCSP_THEN_CRL = "ocsp-then-crl"
    NONE = "none"
