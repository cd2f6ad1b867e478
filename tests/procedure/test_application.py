"""The flow's request: consistent for its diagram and operation, stored as references, read back whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest

from adapters.core.errors import ValidationError
from procedure.application import (
    APPLICATION_KEY,
    ApplicantIdentity,
    Application,
    AttachmentFile,
    Officer,
    PortalCredentials,
)
from procedure.credentials import KeyRef, SecretRef, write_secret
from procedure.models import Operation, ProvidedDocument, Service


@pytest.fixture
def parts(tmp_path: Path) -> dict[str, Any]:
    def key(name: str) -> KeyRef:
        return KeyRef(path=str(tmp_path / f"{name}.p12"), password=write_secret(tmp_path / f"{name}.pw", f"{name}-pw"))

    identity = ApplicantIdentity(bin="940140000385", name="«Болашақ» ЖШС", name_ru="ТОО «Болашак»",
                                 postal_index="010000", city_kato="711000000", city_name="Астана",
                                 street_ru="ул. Бейбітшілік", street_kz="Бейбітшілік к.", house="1")
    portal = PortalCredentials(first_time=True, password=write_secret(tmp_path / "portal", "portal-pw"),
                               auth_key=key("auth"), sign_key=key("sign"))
    officer = Officer(login="lic01.officer", password=SecretRef(env="EGOV_TEST_OFFICER"), licensor_code="LIC01",
                      key=key("officer"))
    return {"service": Service.SCHOOL, "applicant": identity, "portal": portal, "officer": officer}


def test_the_stored_request_holds_references_not_secrets(parts: dict[str, Any]) -> None:
    app = Application(**parts, documents=(ProvidedDocument(code="application", attributes={"form": "issue"}),),
                      facts={"teachers_share": 0.7}, attachments=(AttachmentFile(name="a.pdf", path="/scans/a.pdf"),))
    stored = json.dumps(app.flow_data())
    assert not any(pw in stored for pw in ("portal-pw", "auth-pw", "sign-pw", "officer-pw"))
    assert '"env": "EGOV_TEST_OFFICER"' in stored
    again = Application.of_flow(json.loads(stored))
    assert again == app
    assert again.on_portal().password.resolve() == "portal-pw"
    assert (again.service_code, again.diagram_id) == ("S4", "portal")
    documents = again.submitted_documents()
    assert (documents.service, documents.operation) == (Service.SCHOOL, Operation.ISSUE)
    assert documents.document("application") is not None and documents.facts == {"teachers_share": 0.7}


def test_diagram_1_needs_the_portal_credentials_and_diagram_2_has_none(parts: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError, match="portal credentials are required"):
        Application(**{**parts, "portal": None})
    with pytest.raises(pydantic.ValidationError, match="provider's employee: no portal credentials"):
        Application(**parts, diagram=2)
    provider = Application(**{**parts, "portal": None}, diagram=2)
    assert provider.diagram_id == "provider"
    with pytest.raises(ValidationError, match="Diagram 2 application has no portal credentials"):
        provider.on_portal()


def test_the_operation_and_the_existing_licence_agree(parts: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError, match="reissue needs the number of the existing licence"):
        Application(**parts, operation=Operation.REISSUE)
    with pytest.raises(pydantic.ValidationError, match="not issued against an existing licence"):
        Application(**parts, licence_number="KZ00LAA00000001")
    assert Application(**parts, operation=Operation.DUPLICATE, licence_number="KZ00LAA00000001").licence_number


def test_attachment_names_are_unique_and_nothing_unknown_is_kept(parts: dict[str, Any]) -> None:
    twice = (AttachmentFile(name="a.pdf", path="/1/a.pdf"), AttachmentFile(name="a.pdf", path="/2/a.pdf"))
    with pytest.raises(pydantic.ValidationError, match="same file name"):
        Application(**parts, attachments=twice)
    with pytest.raises(pydantic.ValidationError, match="fault"):
        Application(**parts, fault="not-paid")  # type: ignore[call-arg]


def test_a_flow_without_a_request_says_so() -> None:
    with pytest.raises(ValidationError, match="holds no application") as caught:
        Application.of_flow({"scenario": {}})
    assert caught.value.field == APPLICATION_KEY
