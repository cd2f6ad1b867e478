"""The business payload the signing benches send: one place for bench a's signed call, bench e's
gateway load and their smoke tests."""

from __future__ import annotations

from lxml import etree

APP_NS = "urn:egov-adapters:bench:application"


def application_data() -> etree._Element:
    """A small business payload (a licence application summary, ~1 KB)."""
    app = etree.Element(f"{{{APP_NS}}}application", nsmap={"app": APP_NS})
    for name, value in (("applicantBin", "940140000385"), ("licenceType", "EDU-HIGHER"),
                        ("subtype", "bachelor"), ("region", "ASTANA"), ("submitted", "2024-05-02T10:00:00Z")):
        etree.SubElement(app, f"{{{APP_NS}}}{name}").text = value
    docs = etree.SubElement(app, f"{{{APP_NS}}}attachments")
    for i in range(6):
        att = etree.SubElement(docs, f"{{{APP_NS}}}attachment", id=f"att-{i}", mediaType="application/pdf")
        att.set("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        att.text = f"document-{i}.pdf"
    return app
