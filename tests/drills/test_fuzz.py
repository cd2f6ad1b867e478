"""Fuzz drill (hypothesis): hostile input to parse_xml, verify_envelope and verify_document.

The only allowed outcomes are a typed ``EgovError`` or success, and success only when what the
signature covers is exactly what was signed (the exclusive c14n of the verified Body / document
equals the original's): any other exception (TypeError, IndexError, lxml or cryptography errors)
is a bug. Derandomized (fixed seeds, no example database) so CI runs are reproducible; about
25,000 cases by default, ``EGOV_DRILL_SCALE`` multiplies every count (docs/drills.md).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.core.clock import FrozenClock
from adapters.core.errors import EgovError, MalformedXmlError
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlparse import NS, parse_xml
from adapters.core.xmlsig import SignatureConfig, SigningService, VerificationService, VerifiedDocument
from simulators.pki import IssuedKey, TestPKI
from tests.drills import scaled
from tests.drills.generators import random_document, random_envelope
from tests.drills.hostile import NAMESPACE_SWAPS, SNIPPETS, Corpus, CorpusSet, sections_of, tag_boundaries
from tests.drills.xmlsec_ref import XmlsecReference

# A drill is bounded by its case count (EGOV_DRILL_SCALE), not by time: thousands of cases on a
# loaded shared machine outlast the 120 s that catches a hung ordinary test.
pytestmark = pytest.mark.timeout(600)

BIN = "940140000385"
IIN = "871008401427"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
CORPUS_SIZE = 6


def drill(examples: int) -> Callable[[Any], Any]:
    return settings(max_examples=scaled(examples), deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


@pytest.fixture(scope="module")
def key(pki: TestPKI) -> IssuedKey:
    return pki.issue(iin=IIN, bin=BIN)


@pytest.fixture(scope="module")
def verifier(pki: TestPKI, key: IssuedKey) -> VerificationService:
    _settle_now(key)
    clock = FrozenClock(NOW)
    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate], revocation=None, clock=clock)
    return VerificationService(validator, clock=clock)


def _settle_now(key: IssuedKey) -> None:
    """Pin the drill's clock at or after the key's start of validity: in a long run the session's
    PKI issues the key minutes after this module was imported."""
    global NOW
    NOW = max(NOW, key.certificate.not_valid_before_utc.replace(microsecond=0) + dt.timedelta(seconds=1))


def _c14n(element: etree._Element) -> bytes:
    return bytes(etree.tostring(element, method="c14n", exclusive=True))


@pytest.fixture(scope="module")
def corpus(key: IssuedKey, verifier: VerificationService) -> CorpusSet:
    """Valid signed envelopes and documents, by us and by xmlsec, checked to verify untouched."""
    clock = FrozenClock(NOW)
    signers = [SigningService(key.key_material, clock=clock),
               SigningService(key.key_material, SignatureConfig(token_reference="binary-security-token"), clock=clock)]
    reference = XmlsecReference.from_key(key.private_key, key.certificate)
    made: list[Corpus] = []
    for index in range(CORPUS_SIZE):
        rng = random.Random(9000 + index)
        envelope = random_envelope(rng, allow_soap12=False).xml
        document = random_document(rng)
        uri = f"#{document.root_id}" if document.root_id else ""
        if index % 2:
            signed_envelope = reference.sign_envelope(envelope, created=NOW)
            signed_document = reference.sign_document(document.xml, reference_uri=uri)
        else:
            signed_envelope = signers[index % 4 // 2].sign_envelope(envelope)
            signed_document = signers[0].sign_document(document.xml, reference_uri=uri)
        body = verifier.verify_envelope(signed_envelope, expect_bin=BIN).body
        made.append(Corpus("envelope", signed_envelope, _c14n(body), sections_of(signed_envelope)))
        content = verifier.verify_document(signed_document, expect_iin=IIN).root
        made.append(Corpus("document", signed_document, _c14n(content), sections_of(signed_document)))
    return CorpusSet(made)


def _outcome(verifier: VerificationService, item: Corpus, data: bytes) -> None:
    """Verify ``data`` as ``item``'s kind; a success must carry exactly the signed content."""
    try:
        if item.kind == "envelope":
            verified_body = verifier.verify_envelope(data).body
        else:
            result: VerifiedDocument = verifier.verify_document(data)
            verified_body = result.root
    except EgovError:
        return
    assert _c14n(verified_body) == item.signed_c14n, "accepted with signed content changed"


# --------------------------------------------------------------------------- parse_xml

@drill(4000)
@given(st.binary(max_size=600))
def test_parse_xml_random_bytes(data: bytes) -> None:
    with contextlib.suppress(EgovError):
        parse_xml(data)


XMLISH = st.sampled_from([
    b"<", b">", b"/>", b"</a>", b"<a>", b"<a ", b'x="1"', b"xmlns:p='urn:p'", b"<p:a>", b"</p:a>", b"text",
    b"\xd2\x9a\xd0\xb0", b"&amp;", b"&lt;", b"&#1178;", b"&e;", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b"<?pi x?>", b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>', b" ", b"\n", b"\x00",
    *SNIPPETS[:18]])


@drill(4000)
@given(st.lists(XMLISH, max_size=30), st.booleans())
def test_parse_xml_token_soup(tokens: list[bytes], huge: bool) -> None:
    try:
        root = parse_xml(b"".join(tokens), allow_huge=huge)
    except EgovError:
        return
    # accepted: never a DTD, never an expanded entity
    assert root.getroottree().docinfo.doctype == ""
    assert b"boom" not in etree.tostring(root)


@drill(1500)
@given(st.text(max_size=200))
def test_parse_xml_random_text(text: str) -> None:
    with contextlib.suppress(EgovError):
        parse_xml(text)


def test_parse_xml_lone_surrogate_is_malformed() -> None:
    with pytest.raises(MalformedXmlError, match="UTF-8"):
        parse_xml("<a>\ud800</a>")


# --------------------------------------------------------------------------- verification of garbage

@drill(1500)
@given(st.binary(max_size=400), st.booleans())
def test_verify_random_bytes(verifier: VerificationService, data: bytes, envelope: bool) -> None:
    try:
        if envelope:
            verifier.verify_envelope(data)
        else:
            verifier.verify_document(data)
    except EgovError:
        pass
    else:  # pragma: no cover - random bytes carrying a valid signature would be news
        pytest.fail("random bytes verified")


# --------------------------------------------------------------------------- mutated signed inputs

MUTATION = st.tuples(
    st.sampled_from(("flip", "delete", "truncate", "insert", "insert-section", "swap-namespace")),
    st.integers(min_value=0, max_value=2**31), st.integers(min_value=0, max_value=2**31))


def _mutate(item: Corpus, data: bytes, kind: str, a: int, b: int) -> bytes:
    if not data:
        return data
    if kind == "flip":
        pos = a % len(data)
        return data[:pos] + bytes([data[pos] ^ (1 << (b % 8))]) + data[pos + 1:]
    if kind == "delete":
        pos = a % len(data)
        return data[:pos] + data[pos + 1 + b % 16:]
    if kind == "truncate":
        return data[:a % len(data)]
    boundaries = tag_boundaries(data) or [0]
    pos = boundaries[a % len(boundaries)]
    if kind == "insert":
        return data[:pos] + SNIPPETS[b % len(SNIPPETS)] + data[pos:]
    if kind == "insert-section":
        return data[:pos] + item.sections[b % len(item.sections)] + data[pos:]
    old, new = NAMESPACE_SWAPS[b % len(NAMESPACE_SWAPS)]
    return data.replace(old, new, 1 + a % 3)


@drill(6000)
@given(st.integers(min_value=0, max_value=2 * CORPUS_SIZE - 1), st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_signed_inputs(verifier: VerificationService, corpus: CorpusSet, index: int,
                               mutations: list[tuple[str, int, int]]) -> None:
    item = corpus[index]
    data = item.data
    for kind, a, b in mutations:
        data = _mutate(item, data, kind, a, b)
    _outcome(verifier, item, data)


# --------------------------------------------------------------------------- tree-level attacks

def _elements(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(etree.Element))


def _attack(root: etree._Element, op: str, a: int, b: int) -> None:
    elements = _elements(root)
    target = elements[a % len(elements)]
    other = elements[b % len(elements)]
    if op == "text":
        target.text = (target.text or "") + "ә"
    elif op == "attribute":
        wsu_id = f"{{{NS['wsu']}}}Id"
        target.set("Id" if b % 2 else wsu_id, other.get("Id") or other.get(wsu_id) or "x")
    elif op == "remove" and (parent := target.getparent()) is not None:
        parent.remove(target)
    elif op == "duplicate" and target.getparent() is not None:
        target.addnext(etree.fromstring(etree.tostring(target, encoding="UTF-8", with_tail=False)))
    elif op == "move" and target.getparent() is not None and target not in set(other.iterancestors()) \
            and target is not other:
        other.append(target)
    elif op == "wrap" and target.getparent() is not None:
        # the classic wrapping attack: the signed element moves into a wrapper, a forged one takes its place
        forged = etree.fromstring(etree.tostring(target, encoding="UTF-8", with_tail=False))
        for node in forged.iter(etree.Element):
            node.text = "forged"
        wrapper = etree.SubElement(root, "{urn:evil}Wrapper")
        target.addprevious(forged)
        wrapper.append(target)
    elif op == "rename-ns":
        target.tag = "{urn:evil}" + etree.QName(target).localname
    elif op == "many-attributes":
        for i in range(b % 3000):
            target.set(f"a{i}", "x")
    elif op == "empty-signature-value":
        for value in root.iter(f"{{{NS['ds']}}}SignatureValue", f"{{{NS['ds']}}}DigestValue"):
            value.text = base64.b64encode(b"\x00" * (b % 70)).decode() if b % 2 else "!!not base64!!"


ATTACK = st.tuples(
    st.sampled_from(("text", "attribute", "remove", "duplicate", "move", "wrap", "rename-ns", "many-attributes",
                     "empty-signature-value")),
    st.integers(min_value=0, max_value=2**31), st.integers(min_value=0, max_value=2**31))


@drill(3000)
@given(st.integers(min_value=0, max_value=2 * CORPUS_SIZE - 1), st.lists(ATTACK, min_size=1, max_size=3))
def test_tree_attacks_on_signed_inputs(verifier: VerificationService, corpus: CorpusSet, index: int,
                                       attacks: list[tuple[str, int, int]]) -> None:
    item = corpus[index]
    root = etree.fromstring(item.data)
    for op, a, b in attacks:
        _attack(root, op, a, b)
    _outcome(verifier, item, etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def test_corpus_verifies_untouched(verifier: VerificationService, corpus: CorpusSet) -> None:
    """The mutation drills start from inputs that are accepted, so refusals are the mutations' doing."""
    assert len(corpus) == 2 * CORPUS_SIZE
    for item in corpus:
        _outcome(verifier, item, item.data)
        if item.kind == "envelope":
            assert _c14n(verifier.verify_envelope(item.data).body) == item.signed_c14n
        else:
            assert _c14n(verifier.verify_document(item.data).root) == item.signed_c14n
