"""The one signing service and the one verification service (XML-DSig, WS-Security).

One configuration type (:class:`SignatureConfig`) serves both sides. See docs/signing.md.
"""

from __future__ import annotations

from adapters.core.xmlsig.backends import EcdsaBackend, RsaBackend, SignerBackend
from adapters.core.xmlsig.config import SignatureConfig
from adapters.core.xmlsig.replay import ReplayCache
from adapters.core.xmlsig.signer import SigningService
from adapters.core.xmlsig.verifier import VerificationService, VerifiedDocument, VerifiedEnvelope

__all__ = [
    "EcdsaBackend",
    "ReplayCache",
    "RsaBackend",
    "SignatureConfig",
    "SignerBackend",
    "SigningService",
    "VerificationService",
    "VerifiedDocument",
    "VerifiedEnvelope",
]
