"""A scenario played: the flow's request its actors bring, with its fault played through them.

The procedure's steps only read the request and the systems' answers, so every fault is played
outside them:

- ``not-authorised``: the actor types a wrong password (Diagram 1: the applicant, whose portal
  account was registered with the right one; Diagram 2: the employee);
- ``not-paid``: the applicant's card is short of funds, and the bank declines the order;
- ``qualification-not-met``: the applicant brings incomplete documents;
- ``cert-expired``, ``cert-revoked``, ``cert-other-bin``: the PKI issued such a signing key, and
  ``absent-from-le``, ``liquidated``: the Legal Entities register's seed says so
  (:meth:`~harness.landscape.Landscape.apply_fault`, when the scenario is made).
"""

from __future__ import annotations

from harness.documents import application_documents, write_scans
from harness.landscape import Landscape
from harness.scenario import Fault, Scenario
from procedure.application import Application, PortalCredentials
from procedure.qualification import RuleSet

__all__ = ["application"]


def application(scenario: Scenario, land: Landscape, *, rules: RuleSet | None = None) -> Application:
    """The request of ``scenario``'s actors (files written, the world set for its fault)."""
    fault, applicant = scenario.fault, scenario.applicant
    documents = application_documents(scenario.service, scenario.operation,
                                      complete=fault is not Fault.QUALIFICATION_NOT_MET, rules=rules,
                                      variant=int(applicant.bin[-4:-1]))
    attachments = write_scans(documents, applicant.bin, land.workdir / "scans" / applicant.bin)
    mistyped = fault is Fault.NOT_AUTHORISED
    portal = None
    if scenario.diagram == 1:
        if mistyped:
            land.register_on_portal(applicant)
        if fault is Fault.NOT_PAID:
            land.bank.short_of_funds(applicant.bin)
        portal = PortalCredentials(first_time=land.first_time_on_portal(applicant),
                                   password=applicant.typed_password(mistyped=mistyped),
                                   auth_key=applicant.auth_key, sign_key=applicant.sign_key)
    officer = scenario.officer.officer(mistyped=mistyped and scenario.diagram == 2)
    return Application(service=scenario.service, operation=scenario.operation, diagram=scenario.diagram,
                       applicant=applicant.identity, portal=portal, officer=officer,
                       licence_number=scenario.licence_number, documents=tuple(documents.documents),
                       facts=documents.facts, attachments=attachments)
