"""Control API of the E-licensing simulator (JSON under ``/_control/``), for QA and tests.

- ``POST /_control/reset``                 → empty state (employees re-seeded), no faults, empty journal
- ``POST /_control/seed``                  → ``{"employees": [{"login", "password", "licensor_code", "name"?}],
                                              "applicants": [{"certificate": <base64 DER>, "password"}]}``
- ``GET  /_control/applications[?status=]`` → every application (number, status, applicant, licensor, history)
- ``GET  /_control/applications/<number>`` → one application
- ``GET  /_control/licences``              → the licence registry
- ``GET  /_control/notifications``         → status notices and their gateway message ids (or errors)
- ``GET  /_control/catalogue``             → services, licensors (with the seeded employee logins), territories
- ``/_control/faults`` and ``/_control/journal`` → the shared fault and journal APIs
"""

from __future__ import annotations

import base64
from typing import Any

from simulators.common.faults import FaultInjector, install_fault_control
from simulators.common.httpserver import Request, Response, Router
from simulators.common.request_journal import RequestJournal, install_journal_control
from simulators.elicense import catalogue as cat
from simulators.elicense.backend import ElicenseBackend
from simulators.elicense.errors import ElicenseFault
from simulators.elicense.models import Application, SearchCriteria


def application_json(app: Application) -> dict[str, Any]:
    return {"number": app.number, "type": app.app_type, "channel": app.channel, "service": app.service_code,
            "status": app.status, "applicant": app.data["applicant"]["iin_bin"],
            "applicant_name": app.data["applicant"]["name"], "licensor": app.licensor_code,
            "submitted_at": app.submitted_at.isoformat(), "registered_at": app.registered_at.isoformat(),
            "licence_number": app.licence_number, "target_licence": app.target_licence,
            "history": [{"status": s, "at": at.isoformat(), "comment": c} for s, at, c in app.history]}


def install_control(router: Router, backend: ElicenseBackend, injector: FaultInjector,
                    journal: RequestJournal) -> None:
    def reset(req: Request) -> Response:
        backend.reset()
        injector.reset()
        journal.reset()
        return Response.json({"reset": True})

    def seed(req: Request) -> Response:
        try:
            data = req.json() or {}
            for emp in data.get("employees", []):
                backend.add_employee(emp["login"], emp["password"], emp["licensor_code"], emp.get("name"))
            registered = [backend.register_applicant(base64.b64decode(a["certificate"]), a["password"])[0]
                          for a in data.get("applicants", [])]
        except (ValueError, KeyError, TypeError, ElicenseFault) as exc:
            return Response.json({"error": str(exc)}, 400)
        return Response.json({"employees": len(data.get("employees", [])), "applicants": registered})

    def applications(req: Request) -> Response:
        number = req.path.rstrip("/").rsplit("/", 1)[-1]
        if number.isdigit():
            try:
                return Response.json(application_json(backend.application(number)))
            except ElicenseFault as exc:
                return Response.json({"error": str(exc)}, 404)
        items = backend.list_applications(None, req.param("status"))
        return Response.json({"count": len(items), "applications": [application_json(a) for a in items]})

    def licences(req: Request) -> Response:
        total, found = backend.search(SearchCriteria(page_size=10_000))
        return Response.json({"count": total, "licences": [
            {"number": lic.number, "iin_bin": lic.iin_bin, "licensee": lic.licensee_name,
             "licensor": lic.licensor_code, "status": lic.status, "kind": lic.kind,
             "issue_date": lic.issue_date.isoformat(), "application": lic.application_number,
             "appendices": lic.data["appendices"]} for lic in found]})

    def notifications(req: Request) -> Response:
        return Response.json({"notifications": backend.notifications()})

    def catalogue(req: Request) -> Response:
        return Response.json({
            "activity": {"code": cat.ACTIVITY_CODE, **cat.ACTIVITY_NAMES},
            "services": [{"code": s.code, "name": s.name_en, "licensor_level": s.licensor_level,
                          "sub_types": [st.code for st in s.sub_types]} for s in cat.SERVICES],
            "licensors": [{"code": lic.code, "bin": lic.bin, "name": lic.name_en, "territory": lic.territory_code,
                           "head_iin": lic.head_iin, "head_name": lic.head_name,
                           "employee_login": f"{lic.code.lower()}.officer"} for lic in cat.licensors()],
            "territories": [{"code": t.code, "kind": t.kind, "name": t.name_en} for t in cat.TERRITORIES]})

    router.add("POST", "/_control/reset", reset)
    router.add("POST", "/_control/seed", seed)
    router.add("GET", "/_control/applications", applications)
    router.add("GET", "/_control/licences", licences)
    router.add("GET", "/_control/notifications", notifications)
    router.add("GET", "/_control/catalogue", catalogue)
    install_fault_control(router, injector)
    install_journal_control(router, journal)
