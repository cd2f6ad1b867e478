"""The one verification service: WS-Security envelopes and enveloped XML-DSig documents.

Checks run in a fixed order, and the first failing rule is reported: structure (wrapping,
missing or malformed signature, algorithms) → what the references cover → digests → signature
value → timestamp and replay → certificate (delegated to the CertificateValidator). A KeyInfo
certificate is never trusted on its own.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from lxml import etree

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError, RefusalReason, SignatureRefused
from adapters.core.trust.subject import SignerInfo, describe_certificate, signer_info
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import algorithms as alg
from adapters.core.xmlsig.backends import digest, verify_value
from adapters.core.xmlsig.config import DEFAULT_CONFIG, SignatureConfig
from adapters.core.xmlsig.keyinfo import certificates_from_key_info
from adapters.core.xmlsig.references import canonicalize, element_id, index_ids, reference_octets
from adapters.core.xmlsig.replay import ReplayCache
from adapters.core.xmlsig.signature import ParsedSignature, parse_signature
from adapters.core.xmlsig.wsse import TimestampInfo, read_timestamp, soap_ns

_DS_SIGNATURE = f"{{{alg.DS_NS}}}Signature"
_WSSE_SECURITY = f"{{{alg.WSSE_NS}}}Security"


@dataclass(frozen=True)
class VerifiedEnvelope:
    """A WS-Security envelope whose signature, timestamp and signer were accepted."""

    envelope: etree._Element
    body: etree._Element
    signer: SignerInfo
    timestamp_created: dt.datetime | None
    certificate: x509.Certificate


@dataclass(frozen=True)
class VerifiedDocument:
    """An enveloped-signed document that was accepted.

    ``root`` is a copy of the document without the verified ds:Signature (what the application
    reads); ``signed_root`` is the document as received.
    """

    root: etree._Element
    signed_root: etree._Element
    signer: SignerInfo
    certificate: x509.Certificate




def _name(element: etree._Element) -> str:
    q = etree.QName(element)
    ident = element_id(element)
    return f"<{q.localname}>" + (f" (Id {ident})" if ident else "")


class VerificationService:
    """Verifies with one trust configuration. Thread-safe (the replay cache is locked)."""

    def __init__(self, validator: CertificateValidator | None, config: SignatureConfig = DEFAULT_CONFIG, *,
                 replay_cache: ReplayCache | None = None, clock: Clock = SYSTEM_CLOCK,
                 trust_any_certificate: bool = False, allow_huge: bool = False) -> None:
        """``validator`` is a ``CertificateValidator``; ``None`` needs ``trust_any_certificate=True``
        (tests and tools only: the signer is then whoever the KeyInfo says)."""
        if validator is None and not trust_any_certificate:
            raise ConfigurationError("VerificationService needs a CertificateValidator; pass "
                                     "trust_any_certificate=True only in tests and tools", setting="validator")
        self._validator = validator
        self._config = config
        self._replay = replay_cache
        self._clock = clock
        self._allow_huge = allow_huge

    @property
    def config(self) -> SignatureConfig:
        return self._config

    # ------------------------------------------------------------------ envelopes

    def verify_envelope(self, data: bytes | etree._Element, *, expect_bin: str | None = None,
                        expect_iin: str | None = None, usage: Literal["sign", "auth"] | None = "sign",
                        required_roles: Sequence[str] = ()) -> VerifiedEnvelope:
        root = self._root(data, "envelope")
        try:
            ns = soap_ns(root)
        except SignatureRefused as exc:
            raise SignatureRefused(RefusalReason.MALFORMED, exc.detail) from None
        body = self._single_body(root, ns)
        headers = [c for c in root if c.tag == f"{{{ns}}}Header"]
        if len(headers) > 1:
            raise SignatureRefused(RefusalReason.WRAPPING, f"the envelope has {len(headers)} soap:Header elements")
        ids = index_ids(root)
        securities = headers[0].findall(_WSSE_SECURITY) if headers else []
        if not securities:
            raise SignatureRefused(RefusalReason.MISSING_SIGNATURE, "no soap:Header/wsse:Security")
        if len(securities) > 1:
            raise SignatureRefused(RefusalReason.MALFORMED,
                                   f"{len(securities)} wsse:Security headers; exactly one is accepted")
        security = securities[0]
        signatures = security.findall(_DS_SIGNATURE)
        if not signatures:
            raise SignatureRefused(RefusalReason.MISSING_SIGNATURE, "wsse:Security holds no ds:Signature")
        if len(signatures) > 1:
            raise SignatureRefused(RefusalReason.MALFORMED,
                                   f"wsse:Security holds {len(signatures)} ds:Signature elements")
        parsed = parse_signature(signatures[0], self._config)
        timestamp = read_timestamp(security)

        targets = self._targets(parsed, ids, root)
        if not any(self._covers(t, body) for t in targets):
            labels = ", ".join(r.label for r in parsed.references)
            raise SignatureRefused(RefusalReason.REFERENCE_COVERAGE,
                                   f"the signed references ({labels}) do not cover soap:Body"
                                   f"{' (Id ' + str(element_id(body)) + ')' if element_id(body) else ''}")
        if timestamp is not None and self._config.sign_timestamp and \
                not any(self._covers(t, timestamp.element) for t in targets):
            labels = ", ".join(r.label for r in parsed.references)
            raise SignatureRefused(RefusalReason.REFERENCE_COVERAGE,
                                   f"the signed references ({labels}) do not cover wsu:Timestamp "
                                   f"(Id {timestamp.id})")
        self._check_digests(parsed, targets)
        certificates = certificates_from_key_info(parsed.key_info, ids)
        self._check_value(parsed, certificates[0])
        self._check_timestamp(timestamp, parsed)
        signer = self._signer(certificates, usage=usage, required_roles=required_roles,
                              expect_bin=expect_bin, expect_iin=expect_iin)
        return VerifiedEnvelope(root, body, signer, timestamp.created if timestamp else None, certificates[0])

    # ------------------------------------------------------------------ documents

    def verify_document(self, data: bytes | etree._Element, *, expect_bin: str | None = None,
                        expect_iin: str | None = None, usage: Literal["sign", "auth"] | None = "sign",
                        required_roles: Sequence[str] = ()) -> VerifiedDocument:
        root = self._root(data, "document")
        ids = index_ids(root)
        signatures = [c for c in root if c.tag == _DS_SIGNATURE]
        if not signatures:
            raise SignatureRefused(RefusalReason.MISSING_SIGNATURE,
                                   f"no enveloped ds:Signature as a child of the root {_name(root)}")
        if len(signatures) > 1:
            raise SignatureRefused(RefusalReason.MALFORMED,
                                   f"the root {_name(root)} holds {len(signatures)} ds:Signature elements")
        signature = signatures[0]
        parsed = parse_signature(signature, self._config)
        targets = self._targets(parsed, ids, root)
        if not any(t is root for t in targets):
            labels = ", ".join(r.label for r in parsed.references)
            raise SignatureRefused(RefusalReason.REFERENCE_COVERAGE,
                                   f"the signed references ({labels}) do not cover the root {_name(root)}")
        self._check_digests(parsed, targets)
        certificates = certificates_from_key_info(parsed.key_info, ids)
        self._check_value(parsed, certificates[0])
        signer = self._signer(certificates, usage=usage, required_roles=required_roles,
                              expect_bin=expect_bin, expect_iin=expect_iin)
        content = copy.deepcopy(root)
        content.remove(content[root.index(signature)])
        return VerifiedDocument(content, root, signer, certificates[0])

    # ------------------------------------------------------------------ steps

    def _root(self, data: bytes | etree._Element, what: str) -> etree._Element:
        if isinstance(data, bytes | str):
            return parse_xml(data, allow_huge=self._allow_huge, what=what)
        if data.getparent() is not None:
            # a document embedded in a larger tree (e.g. the business data inside a Body) is
            # verified as the standalone document it was signed as
            return copy.deepcopy(data)
        return data

    @staticmethod
    def _single_body(root: etree._Element, ns: str) -> etree._Element:
        tag = f"{{{ns}}}Body"
        direct = [c for c in root if c.tag == tag]
        anywhere = list(root.iter(tag))
        if len(direct) != 1:
            raise SignatureRefused(RefusalReason.WRAPPING,
                                   f"the envelope has {len(direct)} soap:Body children; exactly one is accepted")
        if len(anywhere) != 1:
            stray = next(b for b in anywhere if b is not direct[0])
            parent = stray.getparent()
            where = _name(parent) if parent is not None else "?"
            raise SignatureRefused(RefusalReason.WRAPPING,
                                   f"a second soap:Body {_name(stray)} under {where}: only the Body "
                                   "directly under soap:Envelope is read")
        return direct[0]

    @staticmethod
    def _targets(parsed: ParsedSignature, ids: Mapping[str, etree._Element],
                 root: etree._Element) -> list[etree._Element]:
        targets: list[etree._Element] = []
        for ref in parsed.references:
            if ref.uri == "":
                targets.append(root)
                continue
            target = ids.get(ref.uri[1:])
            if target is None:
                raise SignatureRefused(RefusalReason.MALFORMED, f"{ref.label} points to no element",
                                       reference=ref.uri)
            targets.append(target)
        return targets

    @staticmethod
    def _covers(target: etree._Element, element: etree._Element) -> bool:
        node: etree._Element | None = element
        while node is not None:
            if node is target:
                return True
            node = node.getparent()
        return False

    @staticmethod
    def _check_digests(parsed: ParsedSignature, targets: Sequence[etree._Element]) -> None:
        for ref, target in zip(parsed.references, targets, strict=True):
            try:
                octets = reference_octets(target, ref.transforms, whole_document=ref.uri == "",
                                          signature=parsed.element)
            except ValueError as exc:
                raise SignatureRefused(RefusalReason.MALFORMED, f"{ref.label}: {exc}") from exc
            if digest(ref.digest_method, octets) != ref.digest_value:
                raise SignatureRefused(RefusalReason.DIGEST_MISMATCH, f"digest mismatch for {ref.label}",
                                       reference=ref.uri, index=ref.index)

    @staticmethod
    def _check_value(parsed: ParsedSignature, certificate: x509.Certificate) -> None:
        octets = canonicalize(parsed.signed_info, parsed.canonicalization)
        if not verify_value(certificate, parsed.signature_method, octets, parsed.value):
            raise SignatureRefused(RefusalReason.SIGNATURE_MISMATCH,
                                   "the SignatureValue does not verify with the KeyInfo "
                                   f"{describe_certificate(certificate)}",
                                   certificate=f"{certificate.serial_number:x}")

    def _check_timestamp(self, timestamp: TimestampInfo | None, parsed: ParsedSignature) -> None:
        if timestamp is None:
            if self._config.require_timestamp:
                raise SignatureRefused(RefusalReason.TIMESTAMP_MISSING, "wsse:Security holds no wsu:Timestamp")
            return
        now = self._clock.now()
        skew = dt.timedelta(seconds=self._config.clock_skew)
        ttl = dt.timedelta(seconds=self._config.timestamp_ttl)
        if timestamp.created > now + skew:
            raise SignatureRefused(RefusalReason.TIMESTAMP_FUTURE,
                                   f"wsu:Timestamp {timestamp.id}: Created {timestamp.created.isoformat()} is "
                                   f"more than {self._config.clock_skew:g} s ahead of {now.isoformat()}")
        expiry = timestamp.created + ttl
        if timestamp.expires is not None:
            expiry = min(expiry, timestamp.expires)
        if now - skew > expiry:
            raise SignatureRefused(RefusalReason.TIMESTAMP_EXPIRED,
                                   f"wsu:Timestamp {timestamp.id}: expired at {expiry.isoformat()} "
                                   f"(now {now.isoformat()}, TTL {self._config.timestamp_ttl:g} s, "
                                   f"skew {self._config.clock_skew:g} s)")
        if self._replay is not None:
            key = f"{timestamp.id}|{base64.b64encode(parsed.value).decode()}"
            if self._replay.check_and_remember(key, expiry + skew):
                raise SignatureRefused(RefusalReason.REPLAY,
                                       f"wsu:Timestamp {timestamp.id} with the same SignatureValue was "
                                       "already accepted", timestamp=timestamp.id)

    def _signer(self, certificates: Sequence[x509.Certificate], *, usage: Literal["sign", "auth"] | None,
                required_roles: Sequence[str], expect_bin: str | None, expect_iin: str | None) -> SignerInfo:
        certificate = certificates[0]
        if self._validator is not None:
            return self._validator.validate(
                certificate, chain=tuple(certificates[1:]), usage=usage, required_roles=tuple(required_roles),
                expect_bin=expect_bin, expect_iin=expect_iin, at=self._clock.now())
        signer = signer_info(certificate)
        if expect_bin is not None and signer.bin != expect_bin:
            raise SignatureRefused(RefusalReason.BIN_MISMATCH,
                                   f"{describe_certificate(certificate)} carries BIN {signer.bin}, "
                                   f"expected {expect_bin}")
        if expect_iin is not None and signer.iin != expect_iin:
            raise SignatureRefused(RefusalReason.IIN_MISMATCH,
                                   f"{describe_certificate(certificate)} carries IIN {signer.iin}, "
                                   f"expected {expect_iin}")
        return signer
