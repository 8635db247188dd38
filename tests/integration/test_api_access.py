"""Every route needs a token except the health checks; roles decide what a token may do."""

from __future__ import annotations

import re

import pytest

from returns_inventory.http.auth import PUBLIC_ENDPOINTS

# What anyone may open: the health checks, and the login page with its own CSS and JS.
PUBLIC_RULES = {"/healthz", "/readyz", "/login", "/assets/<path:filename>"}


def _concrete(rule: str) -> str:
    """A URL that matches the rule: every <converter:arg> becomes a value the converter takes."""
    samples = {"int": "1", "bigid": "1", "float": "1.0",
               "uuid": "00000000-0000-0000-0000-000000000001"}
    return re.sub(
        r"<(?:([^:>(]+)(?:\(([^)]*)\))?:)?[^>]+>",
        # <any(csv, xlsx):kind> takes only the words it lists: the first of them.
        lambda m: (m.group(2).split(",")[0].strip() if m.group(1) == "any"
                   else samples.get(m.group(1) or "", "sample")), rule,
    )


def _protected_calls(app):
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC_RULES:
            continue
        calls += [(method, _concrete(rule.rule)) for method in sorted(rule.methods)]
    return calls


def test_the_url_map_has_routes_to_check(app):
    # Guards the walk below: an empty or tiny map would make it pass without proving anything.
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/api/v1/stock", "/api/v1/stock/adjustments", "/api/v1/ledger", "/api/v1/items",
            "/api/v1/locations", "/api/v1/openapi.json", "/api/v1/docs"} <= rules


def test_only_the_reviewed_routes_are_public(app):
    # Marking a view @public (or listing it in auth) must also be a change to this test.
    public = {
        rule.rule for rule in app.url_map.iter_rules()
        if rule.endpoint in PUBLIC_ENDPOINTS
        or getattr(app.view_functions[rule.endpoint], "is_public", False)
    }
    assert public == PUBLIC_RULES


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer ri_not-a-real-token"}, {"Authorization": "Basic YTpi"}],
    ids=["no-token", "wrong-token", "not-bearer"],
)
def test_every_route_but_the_public_ones_refuses_a_caller_without_a_valid_token(
    app, client, headers
):
    let_through = {}
    for method, url in _protected_calls(app):
        response = client.open(url, method=method, headers=headers, json={} if method in {
            "POST", "PUT", "PATCH"} else None)
        if url.startswith("/api/") or url.startswith("/static/"):
            if response.status_code != 401:
                let_through[(method, url)] = response.status_code
                continue
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            if method != "HEAD":
                assert response.get_json()["status"] == 401
        elif not (response.status_code == 401 or (
                response.status_code == 303 and "/login" in response.headers["Location"])):
            # A page sends the person to the login instead; it never shows itself.
            let_through[(method, url)] = response.status_code
    assert let_through == {}
    assert len(_protected_calls(app)) > 20  # the walk really visited the whole map


def test_the_health_checks_answer_without_a_token(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").get_json()["status"] == "ready"


def test_a_revoked_token_is_refused(client, auth, uow_factory):
    headers = auth("planner", name="leaver")
    assert client.get("/api/v1/stock", headers=headers).status_code == 200
    with uow_factory() as uow:
        uow.tokens.revoke("leaver")
        uow.commit()
    assert client.get("/api/v1/stock", headers=headers).status_code == 401


@pytest.mark.parametrize("role", ["grader", "planner", "integrator", "admin"])
def test_every_role_may_read_stock_and_the_documentation(client, auth, role):
    headers = auth(role)
    for url in ("/api/v1/stock", "/api/v1/ledger", "/api/v1/items", "/api/v1/locations",
                "/api/v1/openapi.json", "/api/v1/docs"):
        assert client.get(url, headers=headers).status_code == 200, url


def test_a_grader_may_not_adjust_stock(client, auth):
    response = client.post(
        "/api/v1/stock/adjustments", headers=auth("grader"),
        json={"sku": "TEE-BLK", "size": "M", "location": "WH1", "quantity": 1, "reason": "x"},
    )
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["status"] == 403 and "grader" in problem["detail"]
    assert response.mimetype == "application/problem+json"


def test_a_view_nobody_marked_is_admin_only(app, client, auth):
    # Forgetting @requires_role must fail closed: only an admin gets through.
    @app.get("/api/v1/unmarked")
    def unmarked():
        return {"ok": True}

    assert client.get("/api/v1/unmarked", headers=auth("planner")).status_code == 403
    assert client.get("/api/v1/unmarked", headers=auth("admin")).status_code == 200


def test_a_token_records_when_it_was_last_used(client, auth, uow_factory):
    headers = auth("integrator", name="erp")
    client.get("/api/v1/stock", headers=headers)
    with uow_factory() as uow:
        [token] = [t for t in uow.tokens.list() if t.name == "erp"]
    assert token.last_used_at is not None
