"""The WS-Security header of the gateway's profile: wsse:Security and wsu:Timestamp."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from lxml import etree

from adapters.core.errors import RefusalReason, SignatureRefused
from adapters.core.xmlsig import algorithms as alg

WSSE = f"{{{alg.WSSE_NS}}}"
WSU = f"{{{alg.WSU_NS}}}"
WSU_ID = f"{WSU}Id"


def format_time(moment: dt.datetime) -> str:
    """xsd:dateTime in UTC with milliseconds and a Z, as WS-Security implementations write it."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_time(text: str | None, what: str) -> dt.datetime:
    raw = (text or "").strip()
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SignatureRefused(RefusalReason.MALFORMED, f"{what} {raw!r} is not an xsd:dateTime") from exc
    if value.tzinfo is None:
        raise SignatureRefused(RefusalReason.MALFORMED, f"{what} {raw!r} has no time zone")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise SignatureRefused(RefusalReason.MALFORMED, f"{what} {raw!r} is out of range in UTC") from exc


_ENVELOPE_TAGS = {f"{{{ns}}}Envelope": ns for ns in (alg.SOAP11_NS, alg.SOAP12_NS)}


def soap_ns(envelope: etree._Element) -> str:
    ns = _ENVELOPE_TAGS.get(envelope.tag) if isinstance(envelope.tag, str) else None
    if ns is None:
        raise SignatureRefused(RefusalReason.MALFORMED, f"root element {envelope.tag} is not a soap:Envelope")
    return ns


def ensure_security(envelope: etree._Element) -> etree._Element:
    """The envelope's ``soap:Header/wsse:Security`` (mustUnderstand="1"), created when absent."""
    ns = soap_ns(envelope)
    header = envelope.find(f"{{{ns}}}Header")
    if header is None:
        header = etree.Element(f"{{{ns}}}Header")
        envelope.insert(0, header)
    security = header.find(f"{WSSE}Security")
    if security is None:
        security = etree.SubElement(header, f"{WSSE}Security", nsmap={"wsse": alg.WSSE_NS, "wsu": alg.WSU_NS})
    security.set(f"{{{ns}}}mustUnderstand", "1")
    return security


def ensure_id(element: etree._Element, prefix: str) -> str:
    """The element's ``wsu:Id``, set to ``<prefix>-<uuid>`` when it has none."""
    current = element.get(WSU_ID)
    if current:
        return str(current)
    value = f"{prefix}-{uuid.uuid4()}"
    element.set(WSU_ID, value)
    return value


def add_timestamp(security: etree._Element, now: dt.datetime, ttl: float) -> etree._Element:
    """A fresh ``wsu:Timestamp`` (Created = now, Expires = now + ttl) as the first child of Security."""
    for old in security.findall(f"{WSU}Timestamp"):
        security.remove(old)
    timestamp = etree.Element(f"{WSU}Timestamp", nsmap={"wsu": alg.WSU_NS})
    timestamp.set(WSU_ID, f"TS-{uuid.uuid4()}")
    etree.SubElement(timestamp, f"{WSU}Created").text = format_time(now)
    etree.SubElement(timestamp, f"{WSU}Expires").text = format_time(now + dt.timedelta(seconds=ttl))
    security.insert(0, timestamp)
    return timestamp


@dataclass(frozen=True)
class TimestampInfo:
    element: etree._Element
    id: str | None
    created: dt.datetime
    expires: dt.datetime | None


def read_timestamp(security: etree._Element) -> TimestampInfo | None:
    found = security.findall(f"{WSU}Timestamp")
    if not found:
        return None
    if len(found) > 1:
        raise SignatureRefused(RefusalReason.MALFORMED, "wsse:Security holds more than one wsu:Timestamp")
    timestamp = found[0]
    created_el = timestamp.find(f"{WSU}Created")
    if created_el is None:
        raise SignatureRefused(RefusalReason.MALFORMED, "wsu:Timestamp has no wsu:Created")
    expires_el = timestamp.find(f"{WSU}Expires")
    return TimestampInfo(
        timestamp, timestamp.get(WSU_ID), parse_time(created_el.text, "wsu:Created"),
        parse_time(expires_el.text, "wsu:Expires") if expires_el is not None else None)
