"""The one signature configuration shared by the signing and the verification service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from adapters.core.errors import ConfigurationError
from adapters.core.xmlsig import algorithms as alg

TokenReference = Literal["key-identifier", "binary-security-token"]


@dataclass(frozen=True)
class SignatureConfig:
    """How we sign and what we accept. Immutable; insecure choices fail at construction."""

    signature_algorithm: str = alg.RSA_SHA256
    """SignatureMethod URI used when signing with an RSA key (the gateway's profile: RSA-SHA256)."""

    ecdsa_signature_algorithm: str = alg.ECDSA_SHA256
    """SignatureMethod URI used when signing with an EC key."""

    digest_algorithm: str = alg.SHA256
    """DigestMethod URI of every Reference we create."""

    canonicalization: str = alg.EXC_C14N
    """CanonicalizationMethod of SignedInfo and the one transform of every Reference (exclusive c14n)."""

    timestamp_ttl: float = 300.0
    """Seconds between wsu:Created and wsu:Expires when signing; the longest age accepted when verifying."""

    clock_skew: float = 60.0
    """Seconds of clock difference tolerated: Created may be this far in the future, Expires this far past."""

    token_reference: TokenReference = "key-identifier"
    """KeyInfo style of WS-Security signatures: ``key-identifier`` (the gateway's profile,
    ``wsse:SecurityTokenReference/wsse:KeyIdentifier`` holding the certificate) or
    ``binary-security-token`` (a ``wsse:BinarySecurityToken`` referenced from KeyInfo)."""

    sign_timestamp: bool = True
    """Sign the wsu:Timestamp along with the Body; when verifying, require it to be signed."""

    require_timestamp: bool = True
    """When verifying envelopes, refuse one without a wsu:Timestamp."""

    accepted_signature_algorithms: frozenset[str] = alg.SECURE_SIGNATURES
    """SignatureMethod URIs accepted when verifying."""

    accepted_digest_algorithms: frozenset[str] = alg.SECURE_DIGESTS
    """DigestMethod URIs accepted when verifying."""

    allow_insecure: bool = False
    """Explicit opt-in to SHA-1 based algorithms (old counterparts only). Off by default."""

    def __post_init__(self) -> None:
        insecure = alg.INSECURE_SIGNATURES | alg.INSECURE_DIGESTS
        chosen = {self.signature_algorithm, self.ecdsa_signature_algorithm, self.digest_algorithm}
        accepted = self.accepted_signature_algorithms | self.accepted_digest_algorithms
        bad = sorted((chosen | accepted) & insecure)
        if bad and not self.allow_insecure:
            raise ConfigurationError(
                f"insecure signature algorithm(s) {', '.join(bad)} refused; set allow_insecure=True "
                "only for counterparts that cannot do better", setting="signature_algorithm")
        if self.signature_algorithm not in alg.RSA_SIGNATURES | {alg.RSA_SHA1}:
            raise ConfigurationError(
                f"signature_algorithm {self.signature_algorithm} is not an RSA algorithm we implement",
                setting="signature_algorithm")
        if self.ecdsa_signature_algorithm not in alg.ECDSA_SIGNATURES | {alg.ECDSA_SHA1}:
            raise ConfigurationError(
                f"ecdsa_signature_algorithm {self.ecdsa_signature_algorithm} is not an ECDSA algorithm "
                "we implement", setting="ecdsa_signature_algorithm")
        if self.digest_algorithm not in alg.SECURE_DIGESTS | alg.INSECURE_DIGESTS:
            raise ConfigurationError(f"digest_algorithm {self.digest_algorithm} is unknown",
                                     setting="digest_algorithm")
        if self.canonicalization not in (alg.EXC_C14N, alg.C14N):
            raise ConfigurationError(f"canonicalization {self.canonicalization} is not supported for "
                                     "signing", setting="canonicalization")
        if self.token_reference not in ("key-identifier", "binary-security-token"):
            raise ConfigurationError(f"token_reference {self.token_reference!r} is unknown",
                                     setting="token_reference")
        if self.timestamp_ttl <= 0 or self.clock_skew < 0:
            raise ConfigurationError("timestamp_ttl must be positive and clock_skew not negative",
                                     setting="timestamp_ttl")


DEFAULT_CONFIG = SignatureConfig()
"""The gateway's profile: RSA-SHA256, SHA-256, exclusive c14n, KeyIdentifier, signed Timestamp."""
