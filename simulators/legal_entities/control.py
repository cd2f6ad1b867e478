"""Control API of the Legal Entities register (JSON), mounted on the gateway simulator's router.

- ``GET    /_control/legal-entities[?status=&form=]`` → ``{"count", "organisations": [summary...]}``
- ``GET    /_control/legal-entities/{bin}``           → the full record
- ``PUT    /_control/legal-entities/{bin}``           → add or replace a record (body: the record)
- ``DELETE /_control/legal-entities/{bin}``           → remove it
- ``POST   /_control/legal-entities/reset``           → reload the fixtures file
"""

from __future__ import annotations

from pydantic import ValidationError

from simulators.common.httpserver import Request, Response, Router
from simulators.legal_entities.records import OrganisationRecord
from simulators.legal_entities.state import LegalEntitiesState

PREFIX = "/_control/legal-entities"


def _summary(o: OrganisationRecord) -> dict[str, object]:
    return {"bin": o.bin, "short_name_ru": o.short_name_ru, "status": o.reg_status.code, "form": o.org_form.code,
            "kato": o.address.kato, "parent_bin": o.parent_bin}


def install_register_control(router: Router, state: LegalEntitiesState, prefix: str = PREFIX) -> None:
    def get(req: Request) -> Response:
        key = req.path[len(prefix):].strip("/")
        if key:
            found = state.get(key)
            if found is None:
                return Response.json({"error": "not-found", "bin": key}, 404)
            return Response.json(found.model_dump(mode="json"))
        items = [o for o in state if (req.param("status") in (None, o.reg_status.code))
                 and (req.param("form") in (None, o.org_form.code))]
        return Response.json({"count": len(items), "organisations": [_summary(o) for o in items]})

    def put(req: Request) -> Response:
        key = req.path[len(prefix):].strip("/")
        try:
            record = OrganisationRecord.model_validate_json(req.body)
        except ValidationError as exc:
            return Response.json({"error": "bad-request", "message": str(exc)}, 400)
        if record.bin != key:
            return Response.json({"error": "bad-request", "message": f"record BIN {record.bin} is not {key}"}, 400)
        state.put(record)
        return Response.json(record.model_dump(mode="json"))

    def delete(req: Request) -> Response:
        state.remove(req.path[len(prefix):].strip("/"))
        return Response.json({"count": len(state)})

    def reset(req: Request) -> Response:
        state.reset()
        return Response.json({"count": len(state)})

    router.add("GET", prefix, get)
    router.add("PUT", prefix, put)
    router.add("DELETE", prefix, delete)
    router.add("POST", f"{prefix}/reset", reset)
