"""``/api/v1/legal-entities``: the Legal Entities register (GBD UL), through the gateway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from adapters.legal_entities import LookupOutcome
from service.auth import API_KEY_HEADER, authorise, identify, require, runtime_of
from service.direct_routes import DirectRoute
from service.routes import API_PREFIX
from service.runtime import ServiceRuntime
from service.threadpool import blocking

router = APIRouter(prefix=f"{API_PREFIX}/legal-entities", tags=["Legal Entities"])

BIN_MAX_LENGTH = 32


class LookupAnswer(BaseModel):
    """The typed outcome of a look-up (``outcome.kind``: found, not-found, invalid-bin, liquidated,
    inactive) with the two questions the procedure asks of it."""

    outcome: LookupOutcome
    present: bool = Field(description="the number is in the register (found, liquidated or inactive)")
    eligible: bool = Field(description="registered and active: a licence may be applied for")


@router.get("/{bin}", response_model=LookupAnswer, summary="Look up a BIN",
            dependencies=[Depends(require("legal_entities:lookup"))])
async def lookup(request: Request,
                 bin: Annotated[str, Path(max_length=BIN_MAX_LENGTH,
                                          description="the BIN (a sole proprietor's IIN is accepted)")]
                 ) -> Response:
    """The register's signed answer, verified, as a typed outcome. A number with a wrong check digit
    is answered ``invalid-bin`` without asking the register."""
    # answered in front of the router (DIRECT); this declares it and answers alike
    return await _lookup(runtime_of(request), bin)


@blocking
def _lookup(runtime: ServiceRuntime, bin_value: str) -> Response:
    outcome = runtime.clients.legal_entities.lookup_bin(bin_value)
    answer = LookupAnswer(outcome=outcome, present=outcome.present, eligible=outcome.eligible)
    return Response(answer.model_dump_json(by_alias=True), media_type="application/json")


async def _direct_lookup(request: Request, parameters: Mapping[str, str]) -> Response:
    authorise(identify(request, request.headers.get(API_KEY_HEADER)), "legal_entities:lookup")
    return await _lookup(runtime_of(request), parameters["bin"])


DIRECT = (DirectRoute("GET", f"{router.prefix}/{{bin}}", _direct_lookup, {"bin": f"[^/]{{1,{BIN_MAX_LENGTH}}}"}),)
"""The look-up answered in front of the router (:mod:`service.direct_routes`)."""
