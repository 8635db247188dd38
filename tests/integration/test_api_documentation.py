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
    # The icon too: a browser asks for /favicon.ico otherwise, a 404 in the console.
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                  "favicon-32x32.png"):
        assert f'"/api/v1/docs/assets/{asset}"' in html
        response = client.get(f"/api/v1/docs/assets/{asset}", headers=headers)
        assert response.status_code == 200 and len(response.data) > 500, asset


def test_only_swagger_ui_files_are_served_from_the_assets_route(client, auth):
    headers = auth("grader")
    assert client.get("/api/v1/docs/assets/index.html", headers=headers).status_code == 404
    response = client.get("/api/v1/docs/assets/../../__init__.py", headers=headers)
    assert response.status_code == 404


def _walk(node, path=()):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))


def test_every_bound_in_the_document_is_a_number(spec):
    # "minimum": "0" (a string) made the whole document invalid for generators.
    for path, node in _walk(spec):
        for keyword in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
            if keyword in node and "properties" not in path[-1:]:
                assert isinstance(node[keyword], int | float), (path, keyword, node[keyword])


def test_money_is_documented_as_the_decimal_string_it_is_sent_as(client, auth, spec,
                                                                 uow_factory):
    from tests.factories import add_item

    add_item(uow_factory, "TEE-BLK", "M", price="19.90")
    price = spec["components"]["schemas"]["ItemOut"]["properties"]["price"]
    assert price["type"] == "string" and price["format"] == "decimal"
    sent = client.get("/api/v1/items", headers=auth("planner")).get_json()["data"][0]["price"]
    assert sent == "19.90" and re.fullmatch(price["pattern"], sent)
    min_value = next(p for p in spec["paths"]["/api/v1/replenishment/suggestions"]["get"][
        "parameters"] if p["name"] == "min_value")["schema"]
    assert min_value["type"] == "string" and "minimum" not in min_value
    assert not re.match(min_value["pattern"], "-1") and re.match(min_value["pattern"], "12.5")


def test_the_problem_schema_allows_the_extension_members_problems_carry(spec):
    assert spec["components"]["schemas"]["Problem"]["additionalProperties"] is True


def test_each_operation_declares_the_problems_its_inputs_can_cause(spec):
    for path, method, operation in _operations(spec):
        if path in {"/healthz", "/readyz"}:
            continue
        statuses = set(operation["responses"])
        if "{" in path:
            assert "404" in statuses, (path, method)
        body = operation.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            assert "415" in statuses, (path, method)
        if method in MUTATING:
            assert "400" in statuses, (path, method)  # an Idempotency-Key over 255 characters
        if operation.get("parameters") and any(
                p.get("in") == "query" for p in operation["parameters"] if isinstance(p, dict)):
            assert "422" in statuses, (path, method)
        for status, response in operation["responses"].items():
            if int(status) >= 400 and "$ref" not in response:
                assert response["content"] == {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}, (path, status)
    # A run named in the query may not exist.
    exports = spec["paths"]["/api/v1/replenishment/exports"]["get"]["responses"]
    assert "404" in exports


def test_limits_the_server_enforces_are_declared(spec):
    run_id = next(p for p in spec["paths"]["/api/v1/forecast-runs/{run_id}"]["parameters"]
                  if p["name"] == "run_id")["schema"]
    assert run_id["maximum"] == 2**31 - 1 and run_id["minimum"] == 0
    units = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/units"]["get"]["parameters"]}
    assert (units["after"]["minimum"], units["after"]["maximum"]) == (-(2**31), 2**31 - 1)
    assert units["limit"]["minimum"] == 1 and "maximum" not in units["limit"]  # served capped
    events = {p["name"]: p["schema"]
              for p in spec["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert events["after"]["maximum"] == 2**63 - 1
    analytics = {p["name"]: p["schema"]
                 for p in spec["paths"]["/api/v1/analytics/returns"]["get"]["parameters"]}
    assert re.match(analytics["until"]["pattern"], "2999-12-31")
    assert not re.match(analytics["until"]["pattern"], "3000-01-01")
    quantity = spec["components"]["schemas"]["AdjustmentIn"]["properties"]["quantity"]
    assert quantity["not"] == {"enum": [0]}
    assert spec["components"]["schemas"]["BulkDecisionIn"]["oneOf"] == [
        {"required": ["filter"]}, {"required": ["ids"]}]


def test_a_body_of_optional_fields_is_documented_as_optional(spec):
    assert spec["paths"]["/api/v1/forecast-runs"]["post"]["requestBody"]["required"] is False
    replay = spec["paths"]["/api/v1/webhooks/deliveries/replay"]["post"]
    assert replay["requestBody"]["required"] is False
    assert spec["paths"]["/api/v1/stock/adjustments"]["post"]["requestBody"]["required"] is True


def test_get_on_the_batch_grading_path_is_not_a_unit_lookup(client, auth):
    headers = auth("grader")
    response = client.get("/api/v1/units/grades", headers=headers)
    assert response.status_code == 405
    assert "GET" not in response.headers["Allow"] and "POST" in response.headers["Allow"]
    assert "GET" not in client.options("/api/v1/units/grades", headers=headers).headers["Allow"]
    assert client.get("/api/v1/units/U0000000000", headers=headers).status_code == 404


def test_a_json_boolean_must_be_true_or_false(client, auth):
    response = client.post("/api/v1/webhooks", headers=auth("admin"),
                           json={"url": "https://93.184.215.14/hook"})  # public, no DNS
    webhook = response.get_json()["id"]
    response = client.patch(f"/api/v1/webhooks/{webhook}", headers=auth("admin"),
                            json={"active": 0})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "active"


def test_a_sort_outside_the_documented_syntax_is_refused(client, auth, spec):
    sort = next(p for p in spec["paths"]["/api/v1/replenishment/suggestions"]["get"][
        "parameters"] if p["name"] == "sort")["schema"]["pattern"]
    assert re.match(sort, "-value,sku") and not re.match(sort, "sku,,value")
    response = client.get("/api/v1/replenishment/suggestions?sort=sku,,value",
                          headers=auth("planner"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "sort"
