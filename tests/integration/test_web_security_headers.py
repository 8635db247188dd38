"""Security headers on pages and API answers; Secure cookies and HSTS for TLS (both databases)."""

from __future__ import annotations

import re

import pytest

from returns_inventory import create_app
from tests.integration.web_support import hidden, log_in

PAGES = ["/login", "/station", "/planner", "/planner/returns", "/planner/runs", "/api/v1/docs"]


def _app(settings, db, **changes):
    app = create_app(settings.replace(**changes))
    app.extensions["ri.database"].dispose()
    app.extensions["ri.database"] = db
    app.config["TESTING"] = True
    return app


def _assert_protected(response):
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def _open(client, uow_factory, path):
    if path != "/login":  # logged in, the login page only redirects
        log_in(client, uow_factory, "admin")
    page = client.get(path)
    assert page.status_code == 200
    return page


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_sent_with_the_security_headers(client, uow_factory, path):
    _assert_protected(client.get(path))  # before logging in: the redirect to /login too
    _assert_protected(_open(client, uow_factory, path))


@pytest.mark.parametrize("path", PAGES)
def test_no_page_carries_inline_script_or_style_the_policy_would_refuse(
        client, uow_factory, path):
    html = _open(client, uow_factory, path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert " style=" not in html and "<style" not in html


def test_api_answers_and_errors_carry_them_too(client, auth):
    _assert_protected(client.get("/api/v1/stock", headers=auth("planner")))
    _assert_protected(client.get("/api/v1/stock"))  # the 401 problem document


def test_by_default_cookies_are_not_secure_and_no_hsts_is_sent(client, uow_factory):
    log_in(client, uow_factory, "grader")
    response = client.get("/station")
    assert "Strict-Transport-Security" not in response.headers
    assert client.get_cookie("session").secure is False


def test_secure_cookies_marks_the_session_cookie_secure_and_sends_hsts(settings, db):
    client = _app(settings, db, secure_cookies=True).test_client()
    page = client.get("/login", base_url="https://bench.example")
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = page.headers["Set-Cookie"]  # the session holding the login form's token
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forwarded_addresses_count_only_behind_trusted_proxies(settings, db, uow_factory):
    # Without a trusted proxy, X-Forwarded-For is the client's own word: a guesser cannot use it
    # to get past the per-address throttle.
    limited = dict(login_max_failures_per_address=2, login_max_failures_per_username=0)
    direct = _app(settings, db, **limited).test_client()
    for n in range(3):
        page = direct.get("/login").get_data(as_text=True)
        answer = direct.post("/login", headers={"X-Forwarded-For": f"203.0.113.{n}"}, data={
            "username": f"guess{n}", "password": "x", "csrf_token": hidden(page, "csrf_token")})
    assert answer.status_code == 429
    # Behind one trusted proxy, the proxy's X-Forwarded-For names the client.
    proxied = _app(settings, db, trusted_proxies=1, **limited).test_client()
    page = proxied.get("/login").get_data(as_text=True)
    answer = proxied.post("/login", headers={"X-Forwarded-For": "198.51.100.7"}, data={
        "username": "guess9", "password": "x", "csrf_token": hidden(page, "csrf_token")})
    assert answer.status_code == 401
