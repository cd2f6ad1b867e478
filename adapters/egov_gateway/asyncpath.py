"""The async channel's polling calls (``getMessages``, ``sendDeliveryNotification``,
``getMessageStatus``) without zeep's per-call (de)serialisation.

The same idea as :mod:`adapters.egov_gateway.fastpath` for ``SendMessage``: zeep renders each
request **once** from the packaged WSDL with every field present (so element names, order and
namespaces are zeep's), and each call copies that template and fills the values in, writing them
as zeep's ``String``/``Int`` types would. Values of another Python type than the ones zeep writes
plainly (``str``; ``int`` for ``maxCount``) are not handled here: the caller then renders with zeep,
as before.

Answers are read with lxml from the payload that already passed the signature check and the
schema. Anything this reader does not vouch for (another element, attributes on the fields,
``xsi:`` attributes anywhere, comments inside a value, a date zeep's parser must judge) returns
None, and the caller reads the answer with zeep's ``deserialize``, as before.
``tests/test_client_fast2_async.py`` checks both directions against zeep itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from adapters.core.errors import ConfigurationError
from adapters.egov_gateway.fastpath import index_path, node_at, render_template, xml_string

ASYNC_INTERFACES_NS = "http://bip.bee.kz/AsyncChannel/v10/Interfaces"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# Placeholder values the templates are rendered with (never sent: every one is overwritten or removed)
_MARK = "\u2063fill\u2063"
_MARK_INT = 7

_HAS_XSI = etree.XPath(f"boolean(descendant-or-self::*/@*[namespace-uri()='{_XSI_NS}'])")


@dataclass(frozen=True)
class Field:
    """One request field: its path under ``request`` and whether zeep leaves it out when None."""

    path: str
    optional: bool
    integer: bool = False


_SENDER = {"sender/senderId": Field("sender/senderId", False), "sender/password": Field("sender/password", True)}

#: The fields of each operation's ``request``, as the WSDL's types declare them
OPERATION_FIELDS: dict[str, dict[str, Field]] = {
    "getMessages": {
        **_SENDER,
        "serviceId": Field("serviceId", True), "messageType": Field("messageType", True),
        "correlationId": Field("correlationId", True), "maxCount": Field("maxCount", True, integer=True),
    },
    "sendDeliveryNotification": {**_SENDER, "messageId": Field("messageId", False)},
    "getMessageStatus": {**_SENDER, "messageId": Field("messageId", False)},
}


def _nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{"sender/senderId": x}`` → ``{"sender": {"senderId": x}}`` (zeep's request shape)."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        *parents, leaf = path.split("/")
        node = out
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return out


def zeep_request(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``request`` argument of zeep's ``create_message`` for flat ``values``."""
    return _nested(values)


def fillable(operation: str, values: Mapping[str, Any]) -> bool:
    """Whether the template writes ``values`` exactly as zeep would (else: render with zeep)."""
    fields = OPERATION_FIELDS[operation]
    for name, value in values.items():
        spec = fields.get(name)
        if spec is None:
            return False
        if value is None:
            if not spec.optional:
                return False  # zeep decides how a missing required element fails
        elif spec.integer:
            if type(value) is not int:
                return False
        elif type(value) is not str:
            return False
    return True


@dataclass(frozen=True)
class CallTemplate:
    """An async request envelope rendered once by zeep, with paths to the fields filled per call."""

    operation: str
    envelope: etree._Element
    paths: dict[str, tuple[int, ...]]

    @classmethod
    def from_zeep(cls, client: Any, operation: str) -> CallTemplate:
        fields = OPERATION_FIELDS[operation]
        marks = {name: (_MARK_INT if spec.integer else _MARK) for name, spec in fields.items()}
        envelope = render_template(client, operation, zeep_request(marks))
        request = envelope.find(".//request")
        if request is None:
            raise ConfigurationError(f"AsyncChannel.wsdl did not produce {operation}/request")
        paths: dict[str, tuple[int, ...]] = {}
        for name, spec in fields.items():
            found = request.find(spec.path)
            if found is None:
                raise ConfigurationError(f"AsyncChannel.wsdl did not produce {operation}/request/{spec.path}")
            paths[name] = index_path(envelope, found)
        return cls(operation, envelope, paths)

    def build(self, values: Mapping[str, Any]) -> etree._Element:
        """A fresh envelope (``xmlns:wsu`` declared) as ``create_message`` renders it; ``values``
        must pass :func:`fillable`. Fields not named in ``values`` are left out, as None would be."""
        envelope = self.envelope.__copy__()
        # resolved before anything is removed, while the copy has exactly the template's shape
        nodes = {name: node_at(envelope, path) for name, path in self.paths.items()}
        for name, node in nodes.items():
            value = values.get(name)
            if value is None:
                parent = node.getparent()
                assert parent is not None
                parent.remove(node)
            else:
                # zeep's String/Int write str(value); an empty string renders as <x/>
                node.text = xml_string(value) or None
        return envelope


# --------------------------------------------------------------------------- reading the answer

@dataclass(frozen=True)
class StatusFields:
    """A ``sendDeliveryNotification``/``getMessageStatus`` answer as zeep would hand it over."""

    message_id: str | None
    message_state: str | None
    status_code: str | None
    status_message: str | None
    status_date: dt.datetime
    response_date: dt.datetime


@dataclass(frozen=True)
class MessageFields:
    """One ``messages`` item of a ``getMessages`` answer as zeep would hand it over."""

    message_id: str | None
    correlation_id: str | None
    service_id: str | None
    message_type: str | None
    route_id: str | None
    message_date: dt.datetime
    sender_id: str | None
    properties: tuple[tuple[str | None, str | None], ...]
    node: etree._Element


class _Unusual(Exception):
    """Something this reader does not vouch for: zeep reads the answer."""


def _leaf(element: etree._Element) -> str | None:
    """The text zeep's simple types read from ``element`` (None when empty)."""
    if not isinstance(element.tag, str) or element.keys() or len(element):
        raise _Unusual
    text: str | None = element.text
    return text


def _leaves(element: etree._Element, nested: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Child tag → text (or → list of child elements for the tags in ``nested``)."""
    if element.keys():
        raise _Unusual
    out: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            raise _Unusual
        if tag in nested:
            out.setdefault(tag, []).append(child)
        elif tag in out:
            raise _Unusual
        else:
            out[tag] = _leaf(child)
    return out


def _date(text: str | None, parse_datetime: Callable[[str], Any]) -> dt.datetime:
    if text is None:
        raise _Unusual
    try:
        value = parse_datetime(text)
    except Exception as exc:  # zeep's reading decides how such a date fails
        raise _Unusual from exc
    if not isinstance(value, dt.datetime):
        raise _Unusual
    return value


def _response(payload: etree._Element, operation: str) -> etree._Element:
    if payload.tag != f"{{{ASYNC_INTERFACES_NS}}}{operation}Response" or payload.keys() or _HAS_XSI(payload):
        raise _Unusual
    children = [child for child in payload]
    if len(children) != 1 or children[0].tag != "response":
        raise _Unusual
    return children[0]


def read_status_answer(payload: etree._Element, operation: str,
                       parse_datetime: Callable[[str], Any]) -> StatusFields | None:
    """The fields of a schema-valid status answer of ``operation``, or None to let zeep read it."""
    try:
        fields = _leaves(_response(payload, operation), frozenset({"status"}))
        statuses = fields.get("status")
        if not statuses or len(statuses) != 1:
            raise _Unusual
        status = _leaves(statuses[0])
        return StatusFields(
            message_id=fields.get("messageId"), message_state=fields.get("messageState"),
            status_code=status.get("statusCode"), status_message=status.get("statusMessage"),
            status_date=_date(status.get("statusDate"), parse_datetime),
            response_date=_date(fields.get("responseDate"), parse_datetime))
    except _Unusual:
        return None


def read_messages_answer(payload: etree._Element,
                         parse_datetime: Callable[[str], Any]) -> list[MessageFields] | None:
    """The messages of a schema-valid ``getMessages`` answer, or None to let zeep read it."""
    try:
        response = _response(payload, "getMessages")
        fields = _leaves(response, frozenset({"messages"}))
        _date(fields.get("responseDate"), parse_datetime)  # zeep parses it too: an odd one goes to zeep
        out: list[MessageFields] = []
        for node in fields.get("messages", []):
            if node.keys():
                raise _Unusual
            info_nodes = [child for child in node if child.tag == "messageInfo"]
            if len(info_nodes) != 1:
                raise _Unusual
            info = _leaves(info_nodes[0], frozenset({"sender", "properties"}))
            senders = info.get("sender")
            if not senders or len(senders) != 1:
                raise _Unusual
            sender = _leaves(senders[0])
            properties = []
            for prop in info.get("properties", []):
                kv = _leaves(prop)
                properties.append((kv.get("key"), kv.get("value")))
            out.append(MessageFields(
                message_id=info.get("messageId"), correlation_id=info.get("correlationId"),
                service_id=info.get("serviceId"), message_type=info.get("messageType"),
                route_id=info.get("routeId"), message_date=_date(info.get("messageDate"), parse_datetime),
                sender_id=sender.get("senderId"), properties=tuple(properties), node=node))
        return out
    except _Unusual:
        return None
