"""The report as JUnit XML, for CI systems (one ``testsuite`` per system, one ``testcase`` per check)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from conformance.report import Report

__all__ = ["junit_xml", "write_junit"]


def junit_xml(report: Report) -> bytes:
    suites = etree.Element("testsuites", name="egov conformance", tests=str(len(report.results)),
                           failures=str(len(report.failed)))
    systems: dict[str, etree._Element] = {}
    for result in report.results:
        suite = systems.get(result.system)
        if suite is None:
            suite = systems[result.system] = etree.SubElement(suites, "testsuite", name=result.system)
        case = etree.SubElement(suite, "testcase", classname=f"conformance.{result.system}", name=result.name,
                                time=f"{result.seconds:.3f}")
        case.set("file", result.endpoint)
        if result.verdict == "failed":
            failure = etree.SubElement(case, "failure", message=result.detail[:500], type="ContractViolation")
            failure.text = result.detail
        elif result.verdict == "skipped":
            etree.SubElement(case, "skipped", message=result.detail[:500])
        else:
            out = etree.SubElement(case, "system-out")
            out.text = result.detail
    for suite in systems.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
        suite.set("skipped", str(sum(c.find("skipped") is not None for c in cases)))
        suite.set("time", f"{sum(float(c.get('time', '0')) for c in cases):.3f}")
    return bytes(etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def write_junit(report: Report, path: Path) -> Path:
    path.write_bytes(junit_xml(report))
    return path
