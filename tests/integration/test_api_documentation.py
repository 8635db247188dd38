"""The OpenAPI document is the ERP teams' contract; the docs page must work offline."""

from __future__ import annotations

import re

import pytest

MUTATING = {"post", "put", "patch", "delete"}


@pytest.fixture
def spec(client, auth):
    response = client.get("/api/v1/openapi.json", headers=auth("integrator"))
    assert response.status_code == 200
    return response.get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in MUTATING | {"get"}:
                yield path, method, operation


def test_every_api_route_is_documented(app, spec):
    api_rules = {
        re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and not rule.rule.startswith("/api/v1/docs")
        and rule.rule != "/api/v1/openapi.json"
    }
    documented = {path for path in spec["paths"]}
    assert api_rules - documented == set()
    assert {"/healthz", "/readyz"} <= documented


def test_every_protected_operation_needs_the_bearer_token_and_lists_its_problems(spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"][
            "securitySchemes"]["bearer"]["description"]}
    assert spec["security"] == [{"bearer": []}]
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for name in ("Unauthorized", "Forbidden", "NotFound", "Conflict", "ContentTooLarge",
                 "ValidationFailed"):
        content = spec["components"]["responses"][name]["content"]
        assert content == {"application/problem+json": {"schema": problem_ref}}
    checked = 0
    for path, method, operation in _operations(spec):
        if path in {"/healthz", "/readyz"}:
            assert operation["security"] == []
            continue
        checked += 1
        assert any(code.startswith("2") for code in operation["responses"]), (path, method)
        assert {"401", "403"} <= set(operation["responses"]), (path, method)
        if method in MUTATING:
            assert {"404", "409", "413", "422"} <= set(operation["responses"]), (path, method)
            assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
    assert checked >= 5


def test_the_problem_schema_names_the_field_at_fault(spec):
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)
    field_error = spec["components"]["schemas"]["FieldErrorOut"]["properties"]
    assert {"field", "reason", "row"} <= set(field_error)


def test_the_adjustment_body_and_answers_are_described_by_schemas(spec):
    operation = spec["paths"]["/api/v1/stock/adjustments"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AdjustmentIn"}
    assert set(spec["components"]["schemas"]["AdjustmentIn"]["required"]) >= {
        "sku", "size", "location", "quantity", "reason"}
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]


def test_the_docs_page_loads_swagger_ui_from_this_server(client, auth):
    headers = auth("grader")
    page = client.get("/api/v1/docs", headers=headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/openapi.json" in html
    assert "//" not in html.replace("http://", "").replace("https://", "").split("<body>")[0] \
        or "cdn" not in html.lower()
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f'"/api/v1/docs/assets/{asset}"' in html
        response = client.get(f"/api/v1/docs/assets/{asset}", headers=headers)
        assert response.status_code == 200 and len(response.data) > 1000, asset


def test_only_swagger_ui_files_are_served_from_the_assets_route(client, auth):
    headers = auth("grader")
    assert client.get("/api/v1/docs/assets/index.html", headers=headers).status_code == 404
    response = client.get("/api/v1/docs/assets/../../__init__.py", headers=headers)
    assert response.status_code == 404
