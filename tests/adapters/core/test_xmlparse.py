import pytest

from adapters.core.errors import MalformedXmlError, UnsafeXmlError
from adapters.core.xmlparse import parse_xml

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<data>&secret;</data>"""

XXE_PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd"> %remote;]>
<data/>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""


@pytest.mark.parametrize("doc", [XXE, XXE_PARAMETER, BILLION_LAUGHS])
def test_dtd_and_entities_are_refused(doc: bytes) -> None:
    with pytest.raises(UnsafeXmlError) as err:
        parse_xml(doc, what="request")
    assert "request" in str(err.value) and "DTD" in str(err.value)
    assert err.value.context["reason"] == "dtd"


def test_size_limit() -> None:
    with pytest.raises(UnsafeXmlError, match="over the limit"):
        parse_xml(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)


def test_huge_text_node_only_where_allowed() -> None:
    doc = b"<attachment>" + b"QUJD" * (3 * 1024 * 1024) + b"</attachment>"  # 12 MB text node
    with pytest.raises(UnsafeXmlError, match="parser's limit"):
        parse_xml(doc, max_bytes=20 * 1024 * 1024)
    assert len(parse_xml(doc, allow_huge=True).text or "") == 12 * 1024 * 1024


@pytest.mark.parametrize("doc", [b"", b"   ", b"<a><b></a>", b"not xml"])
def test_malformed(doc: bytes) -> None:
    with pytest.raises(MalformedXmlError):
        parse_xml(doc)


def test_comments_and_pis_are_dropped() -> None:
    root = parse_xml(b"<a><!-- c --><?pi x?><b>1</b></a>")
    assert [child.tag for child in root] == ["b"]
