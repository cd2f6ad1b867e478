"""``/api/v1/legal-entities``: the Legal Entities register (GBD UL), through the gateway."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from adapters.legal_entities import LookupOutcome
from service.auth import require, runtime_of
from service.routes import API_PREFIX
from service.threadpool import blocking

router = APIRouter(prefix=f"{API_PREFIX}/legal-entities", tags=["Legal Entities"])


class LookupAnswer(BaseModel):
    """The typed outcome of a look-up (``outcome.kind``: found, not-found, invalid-bin, liquidated,
    inactive) with the two questions the procedure asks of it."""

    outcome: LookupOutcome
    present: bool = Field(description="the number is in the register (found, liquidated or inactive)")
    eligible: bool = Field(description="registered and active: a licence may be applied for")


@router.get("/{bin}", response_model=LookupAnswer, summary="Look up a BIN",
            dependencies=[Depends(require("legal_entities:lookup"))])
@blocking
def lookup(request: Request,
           bin: Annotated[str, Path(max_length=32, description="the BIN (a sole proprietor's IIN is accepted)")]
           ) -> LookupAnswer:
    """The register's signed answer, verified, as a typed outcome. A number with a wrong check digit
    is answered ``invalid-bin`` without asking the register."""
    outcome = runtime_of(request).clients.legal_entities.lookup_bin(bin)
    return LookupAnswer(outcome=outcome, present=outcome.present, eligible=outcome.eligible)
