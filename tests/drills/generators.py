"""Seeded generators of varied XML documents and unsigned SOAP envelopes, written as text.

Written by hand rather than through lxml so that the serialized forms vary the way real
counterparts' output does: default and prefixed namespaces (used, unused, redeclared,
undeclared with ``xmlns=""``), attributes in any order and with either quote, ``<a/>`` and
``<a></a>``, CDATA sections, character references, comments, Cyrillic and Kazakh text, tabs,
CRs and newlines, ``xml:lang``/``xml:space``, and Ids (``Id``, ``ID``, ``id``, ``wsu:Id``) on
varying elements and in varying attribute positions. Every output is well-formed and every Id
value is unique.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from adapters.core.xmlparse import NS

WSU_NS = NS["wsu"]
SOAP11_NS = NS["soap"]
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"

ID_NAMES: tuple[str, ...] = ("Id", "ID", "id", "wsu:Id")
"""The Id attributes both our verifier and the python-xmlsec reference recognise."""

_LOCAL_NAMES = ("Data", "item", "Request", "b-c", "x.y", "Запись", "Мекенжай", "Өтініш", "ҚұжатНөмірі",
                "_u", "BIN", "IIN", "Сумма", "a", "Ғимарат")
_ATTR_NAMES = ("name", "type", "lang", "code", "Атауы", "v", "z", "a1", "ұзындық", "ref")
_URIS = ("urn:test:gbdul", "urn:kz:gov:licence", "http://bip.bee.kz/SyncChannel/v10/Types",
         "http://example.kz/ns/%D2%9A%D0%B0%D0%B7%D0%B0%D2%9B", "urn:a", "urn:b", "urn:ns:with%20escape")
_PREFIXES = ("a", "b", "ns1", "tns", "q", "ж", "kz")
_WORDS = ("Қазақстан", "Республикасы", "Алматы", "әғқңөұүһі", "ӘҒҚҢӨҰҮҺІ", "лицензия", "ТОО «Тест»",
          "940140000385", "871008401427", "16180.00", "hello", "a&b", "x<y", "1 > 0", "\"quoted\"",
          "it's", "tab\there", "  spaced  ", "line\nbreak", "cr\r\nlf", "€", "😀", "]]", "]]>")


def escape_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(value: str, quote: str) -> str:
    out = value.replace("&", "&amp;").replace("<", "&lt;")
    out = out.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")
    return out.replace(quote, "&quot;" if quote == '"' else "&apos;")


def random_words(rng: random.Random, most: int = 3) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, most)))


@dataclass
class _Context:
    rng: random.Random
    ids: list[str] = field(default_factory=list)
    counter: int = 0
    max_depth: int = 4
    wsu_declared: bool = False

    def new_id(self) -> str:
        self.counter += 1
        value = f"n{self.counter}-{self.rng.randrange(16**6):06x}"
        self.ids.append(value)
        return value


def _text_node(ctx: _Context) -> str:
    rng = ctx.rng
    kind = rng.random()
    if kind < 0.55:
        return escape_text(random_words(rng))
    if kind < 0.7:
        words = random_words(rng).replace("]]>", "]]")
        return f"<![CDATA[{words}]]>"
    if kind < 0.8:
        return rng.choice(("&#1178;&#1201;", "&#x4E2D;", "&#9;", "&#13;", "&#xD;&#xA;", "&lt;&gt;&amp;", "&quot;"))
    if kind < 0.9:
        return f"<!-- {rng.choice(('комментарий', 'note', '-'))} -->"
    return rng.choice((" ", "\n  ", "\t", "\r\n", ""))


def _attributes(ctx: _Context, scope: dict[str, str], *, id_name: str | None, id_value: str | None,
                id_first: bool) -> list[str]:
    rng = ctx.rng
    attrs: list[str] = []
    expanded: set[tuple[str, str]] = set()
    for _ in range(rng.randint(0, 4)):
        name = rng.choice(_ATTR_NAMES)
        prefix = rng.choice([None, None, *scope]) if scope else None
        uri = scope[prefix] if prefix else ""
        if (uri, name) in expanded:
            continue
        expanded.add((uri, name))
        quote = rng.choice(('"', "'"))
        qname = f"{prefix}:{name}" if prefix else name
        attrs.append(f"{qname}={quote}{escape_attr(random_words(rng, 2), quote)}{quote}")
    if rng.random() < 0.15 and ("xml", "lang") not in expanded:
        attrs.append(f'xml:lang="{rng.choice(("kk", "ru", "en"))}"')
    if rng.random() < 0.05:
        attrs.append(f'xml:space="{rng.choice(("preserve", "default"))}"')
    if id_name is not None and id_value is not None:
        if id_name == "wsu:Id" and not ctx.wsu_declared:
            attrs.append(f'xmlns:wsu="{WSU_NS}"')
        item = f'{id_name}="{id_value}"'
        attrs.insert(0 if id_first else len(attrs), item)
    if rng.random() < 0.3:
        rng.shuffle(attrs)
    return attrs


def _element(ctx: _Context, depth: int, scope: dict[str, str], *, root_id: tuple[str, str] | None = None) -> str:
    rng = ctx.rng
    scope = dict(scope)
    decls: list[str] = []
    # namespace declarations: new prefixes (used or not), default namespace changes
    for _ in range(rng.choice((0, 0, 0, 1, 2))):
        prefix = rng.choice(_PREFIXES)
        uri = rng.choice(_URIS)
        if f"xmlns:{prefix}=" in " ".join(decls):
            continue
        decls.append(f'xmlns:{prefix}="{uri}"')
        scope[prefix] = uri
    if rng.random() < 0.2:
        decls.append(rng.choice((f'xmlns="{rng.choice(_URIS)}"', 'xmlns=""')))
    element_prefix = rng.choice([None, None, *scope]) if scope else None
    name = f"{element_prefix}:{rng.choice(_LOCAL_NAMES)}" if element_prefix else rng.choice(_LOCAL_NAMES)
    id_name: str | None
    id_value: str | None
    if root_id is not None:
        id_name, id_value = root_id
    elif rng.random() < 0.15:
        id_name, id_value = rng.choice(ID_NAMES), ctx.new_id()
    else:
        id_name = id_value = None
    attrs = _attributes(ctx, scope, id_name=id_name, id_value=id_value, id_first=rng.random() < 0.5)
    if id_name == "wsu:Id" and not ctx.wsu_declared:
        # declared on this element only: restore the flag for siblings after the subtree
        ctx.wsu_declared = True
        inner = _content(ctx, depth, scope)
        ctx.wsu_declared = False
    else:
        inner = _content(ctx, depth, scope)
    head = " ".join([name, *decls, *attrs])
    if not inner and rng.random() < 0.5:
        return f"<{head}/>"
    return f"<{head}>{inner}</{name}>"


def _content(ctx: _Context, depth: int, scope: dict[str, str]) -> str:
    rng = ctx.rng
    if depth >= ctx.max_depth or rng.random() < 0.15:
        return "" if rng.random() < 0.4 else _text_node(ctx)
    parts: list[str] = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.6:
            parts.append(_element(ctx, depth + 1, scope))
        else:
            parts.append(_text_node(ctx))
    return "".join(parts)


@dataclass(frozen=True)
class GeneratedDocument:
    """A document: its UTF-8 text, and the Id carried by the root (None: sign with ``URI=""``)."""

    xml: bytes
    root_id: str | None
    root_id_name: str | None


def random_document(rng: random.Random) -> GeneratedDocument:
    """A business document with a random tree; its root carries an Id in about half of the cases."""
    ctx = _Context(rng, max_depth=rng.randint(1, 4))
    root_id = (rng.choice(ID_NAMES), ctx.new_id()) if rng.random() < 0.5 else None
    scope: dict[str, str] = {}
    body = _element(ctx, 0, scope, root_id=root_id)
    prolog = rng.choice(("", '<?xml version="1.0" encoding="UTF-8"?>\n', "<?xml version='1.0'?>", "\n"))
    epilog = rng.choice(("", "\n", "<!-- after -->"))
    return GeneratedDocument((prolog + body + epilog).encode("utf-8"),
                             root_id[1] if root_id else None, root_id[0] if root_id else None)


@dataclass(frozen=True)
class GeneratedEnvelope:
    """An unsigned SOAP envelope (no wsse:Security yet), with the namespace and prefix it uses."""

    xml: bytes
    soap_ns: str
    prefix: str | None
    body_id: str | None


def random_envelope(rng: random.Random, *, allow_soap12: bool = True) -> GeneratedEnvelope:
    """An envelope with a random Body payload, optionally a Header with unrelated blocks."""
    ctx = _Context(rng, max_depth=rng.randint(1, 4))
    soap = SOAP12_NS if allow_soap12 and rng.random() < 0.2 else SOAP11_NS
    prefix = rng.choice(("soapenv", "soap", "S", "SOAP-ENV", "е", None))
    q = f"{prefix}:" if prefix else ""
    decl = f'xmlns:{prefix}="{soap}"' if prefix else f'xmlns="{soap}"'
    extra = " ".join(f'xmlns:{p}="{rng.choice(_URIS)}"' for p in rng.sample(_PREFIXES, rng.randint(0, 2)))
    wsu_on_root = rng.random() < 0.3
    root_decls = " ".join(x for x in (decl, extra, f'xmlns:wsu="{WSU_NS}"' if wsu_on_root else "") if x)
    header = ""
    if rng.random() < 0.6:
        blocks = "".join(
            f'<h{i}:Info xmlns:h{i}="urn:header:{i}">{escape_text(random_words(rng))}</h{i}:Info>'
            for i in range(rng.randint(0, 2)))
        header = f"<{q}Header>{blocks}</{q}Header>" if blocks or rng.random() < 0.5 else f"<{q}Header/>"
    body_id = ctx.new_id() if rng.random() < 0.3 else None
    body_attr = ""
    if body_id is not None:
        body_attr = f' wsu:Id="{body_id}"' if wsu_on_root else f' xmlns:wsu="{WSU_NS}" wsu:Id="{body_id}"'
    ctx.wsu_declared = wsu_on_root
    payload = "".join(_element(ctx, 1, {}) for _ in range(rng.randint(1, 2)))
    ws = rng.choice(("", "\n", "\n  "))
    text = (f"<{q}Envelope {root_decls}>{ws}{header}{ws}<{q}Body{body_attr}>{payload}</{q}Body>{ws}"
            f"</{q}Envelope>")
    prolog = rng.choice(("", '<?xml version="1.0" encoding="UTF-8"?>'))
    return GeneratedEnvelope((prolog + text).encode("utf-8"), soap, prefix, body_id)
