"""The OpenAPI document: valid OpenAPI 3.x (openapi-spec-validator, against the OpenAPI
specification's own schema) naming every route, its security and its errors; and the docs page served."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from service.app import API_VERSION
from tests.service.conftest import Running

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
OPEN = {"/healthz", "/readyz", "/metrics"}
ROUTES = {
    ("/api/v1/legal-entities/{bin}", "get"),
    ("/api/v1/payments", "post"), ("/api/v1/payments", "get"), ("/api/v1/payments/{order_id}", "get"),
    ("/api/v1/payments/{order_id}/receipt", "get"), ("/api/v1/payments/{order_id}/cancel", "post"),
    ("/api/v1/licences", "get"), ("/api/v1/licences/{number}", "get"), ("/api/v1/licences/{number}/xml", "get"),
    ("/api/v1/licences/{number}/pdf", "get"), ("/api/v1/applications/{number}", "get"),
    ("/api/v1/elicense/indicators", "get"),
    ("/api/v1/flows", "post"), ("/api/v1/flows", "get"), ("/api/v1/flows/{flow_id}", "get"),
    ("/api/v1/flows/{flow_id}/resume", "post"),
    ("/api/v1/trust/certificate", "post"), ("/api/v1/trust/verify", "post"), ("/api/v1/trust/sign", "post"),
    ("/shep/sync", "post"), ("/shep/async", "post"),
    ("/healthz", "get"), ("/readyz", "get"), ("/metrics", "get"),
}
"""Every route of the service (the tests of each call it with a good and a bad request)."""


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_the_schema_is_openapi_3_with_every_route(service: Running) -> None:
    answer = service.get("/openapi.json", caller=None)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    spec = answer.json()
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises, naming the place, when the document breaks the OpenAPI specification
    assert spec["info"]["title"] and spec["info"]["version"] == API_VERSION
    assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": spec["components"]["securitySchemes"]["APIKeyHeader"]["description"]}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method in METHODS}
    assert documented == ROUTES
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation["responses"], (path, method)
            assert operation.get("summary"), (path, method)
            if path in OPEN:
                assert "security" not in operation, path
            else:
                assert operation["security"] == [{"APIKeyHeader": []}], (path, method)
            if path.startswith("/api/v1/"):
                assert {"401", "403", "422", "502"} <= set(operation["responses"]), (path, method)
    for ref in _refs(spec):  # every reference resolves
        assert _resolve(spec, ref) is not None
    error = spec["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "retryable"}


def test_the_docs_page_is_served(service: Running) -> None:
    answer = service.get("/docs", caller=None)
    assert answer.status_code == 200 and "text/html" in answer.headers["content-type"]
    assert "/openapi.json" in answer.text

