"""``_Reader.child`` answers from an index of the children: the same element ``find`` returns."""

from __future__ import annotations

from lxml import etree

from adapters.elicense.answers import EL_NS, _Reader


def _node() -> etree._Element:
    node = etree.Element(f"{{{EL_NS}}}Application")
    node.append(etree.Comment("note"))
    etree.SubElement(node, f"{{{EL_NS}}}Code").text = "  first  "
    etree.SubElement(node, f"{{{EL_NS}}}Code").text = "second"
    etree.SubElement(node, "{urn:other}Name").text = "other namespace"
    etree.SubElement(node, f"{{{EL_NS}}}Name")
    inner = etree.SubElement(node, f"{{{EL_NS}}}Inner")
    etree.SubElement(inner, f"{{{EL_NS}}}Deep").text = "deep"
    return node


def test_child_is_what_find_returns() -> None:
    node = _node()
    reader = _Reader(node)
    for name in ("Code", "Name", "Inner", "Deep", "Missing", "note"):
        assert reader.child(name) is node.find(f"{{{EL_NS}}}{name}")


def test_reading_helpers_over_the_index() -> None:
    reader = _Reader(_node())
    assert reader.opt("Code") == "first"
    assert reader.opt("Name") is None
    assert reader.opt("Deep") is None
    assert reader.sub("Inner").req("Deep") == "deep"
    assert [c.text for c in reader.children("Code")] == ["  first  ", "second"]
    other = _Reader(_node(), ns="urn:other")
    assert other.opt("Name") == "other namespace" and other.opt("Code") is None
