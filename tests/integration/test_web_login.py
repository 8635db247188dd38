"""Logging in to the web pages: sessions, roles, and refusing forged forms (both databases)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from returns_inventory.cli_users import user_command
from returns_inventory.services.users import authenticate_user, create_user, disable_user
from tests.integration.web_support import PASSWORD, hidden, log_in


def test_the_login_page_is_public_and_other_pages_send_browsers_to_it(client):
    assert client.get("/login").status_code == 200
    assert client.get("/assets/web.css").status_code == 200
    response = client.get("/station")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/station"


def test_api_callers_without_a_token_still_get_a_401_problem_document(client):
    response = client.get("/api/v1/stock", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_logged_in_browser_opening_a_page_that_does_not_exist_gets_a_page_in_words(
        client, uow_factory):
    log_in(client, uow_factory, "planner")
    response = client.get("/planner/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html" and "There is no such page here." in response.text
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert (api.status_code, api.mimetype) == (404, "application/problem+json")


def test_a_browser_opening_the_api_docs_is_sent_to_log_in_first(client):
    response = client.get("/api/v1/docs", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/api/v1/docs"


def test_a_grader_logs_in_lands_on_the_station_and_logs_out(client, uow_factory):
    log_in(client, uow_factory, "grader")
    start = client.get("/")
    assert start.status_code == 302 and start.headers["Location"] == "/station"
    page = client.get("/station").get_data(as_text=True)
    assert "Grader One" in page and "Log out" in page
    out = client.post("/logout", data={"csrf_token": hidden(page, "csrf_token")})
    assert out.status_code == 303 and out.headers["Location"] == "/login"
    assert client.get("/station").status_code == 303


def test_a_session_lasts_one_shift_not_flasks_default_month(client, uow_factory):
    log_in(client, uow_factory, "grader")
    cookie = client.get_cookie("session")
    lasts = cookie.expires - datetime.now(UTC)
    assert timedelta(hours=11, minutes=59) < lasts <= timedelta(hours=12)
    # The signature's age is checked against the same limit, whatever the cookie claims.
    assert client.application.permanent_session_lifetime == timedelta(hours=12)


def test_after_login_the_person_returns_to_the_page_they_asked_for(client, uow_factory):
    create_user(uow_factory, username="gina", role="grader", password=PASSWORD)
    page = client.get("/login?next=/station%3Fcode%3DX").get_data(as_text=True)
    response = client.post("/login", data={
        "username": "Gina", "password": PASSWORD, "next": hidden(page, "next"),
        "csrf_token": hidden(page, "csrf_token"),
    })
    assert response.headers["Location"] == "/station?code=X"


@pytest.mark.parametrize("target", [
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example/",
    # Browsers strip tabs and newlines, turning these into //evil.example.
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r/evil.example/",
])
def test_next_never_leads_off_the_site(client, uow_factory, target):
    create_user(uow_factory, username="gina", role="grader", password=PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={
        "username": "gina", "password": PASSWORD, "next": target,
        "csrf_token": hidden(page, "csrf_token"),
    })
    assert response.headers["Location"] == "/"
    # Already logged in, the login page sends them on at once: the same rule applies.
    again = client.get("/login", query_string={"next": target})
    assert again.headers["Location"] == "/"


def test_a_wrong_password_is_refused_in_words_without_saying_which_part_was_wrong(
        client, uow_factory):
    create_user(uow_factory, username="gina", role="grader", password=PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    for username, password in [("gina", "wrong password"), ("nobody", PASSWORD)]:
        response = client.post("/login", data={
            "username": username, "password": password, "csrf_token": hidden(page, "csrf_token"),
        })
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert "do not match an active user" in html
        # The username is kept, so the cursor waits in the password, the field to retype.
        assert "autofocus" in re.search(r'<input id="password"[^>]*>', html).group(0)
        assert "autofocus" not in re.search(r'<input id="username"[^>]*>', html).group(0)
    assert client.get("/station").status_code == 303


def test_a_login_form_without_its_token_is_refused(client, uow_factory):
    create_user(uow_factory, username="gina", role="grader", password=PASSWORD)
    client.get("/login")
    response = client.post("/login", data={"username": "gina", "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    forged = client.post("/login", data={"username": "gina", "password": PASSWORD,
                                         "csrf_token": "made-up"})
    assert forged.status_code == 400
    assert client.get("/station").status_code == 303


def test_logging_out_needs_the_form_token_too(client, uow_factory):
    log_in(client, uow_factory, "grader")
    assert client.post("/logout").status_code == 400
    assert client.get("/station").status_code == 200


def test_a_disabled_person_cannot_log_in_and_their_open_session_ends(client, uow_factory):
    log_in(client, uow_factory, "grader", username="gina")
    disable_user(uow_factory, username="gina")
    assert client.get("/station").status_code == 303
    assert authenticate_user(uow_factory, "gina", PASSWORD) is None


def test_passwords_are_stored_hashed(uow_factory):
    create_user(uow_factory, username="gina", role="grader", password=PASSWORD)
    with uow_factory() as uow:
        stored = uow.users.by_username("gina").password_hash
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_a_logged_in_person_reads_the_api_and_its_docs_from_the_browser(client, uow_factory):
    log_in(client, uow_factory, "planner")
    assert client.get("/api/v1/docs").status_code == 200
    response = client.get("/api/v1/stock")
    assert response.status_code == 200 and response.is_json


def test_a_session_changes_nothing_through_the_api_without_the_csrf_header(
        client, uow_factory):
    log_in(client, uow_factory, "grader")
    response = client.post("/api/v1/units/U000/grade", json={"grade": "A"})
    assert response.status_code == 403
    assert response.json["type"].endswith("csrf-token-missing")
    token = hidden(client.get("/station").get_data(as_text=True), "csrf_token")
    with_header = client.post("/api/v1/units/U000/grade", json={"grade": "A"},
                              headers={"X-CSRF-Token": token})
    assert with_header.status_code == 404  # past the guard: the unit simply does not exist


def test_a_refused_csrf_token_does_not_use_up_the_idempotency_key(client, uow_factory):
    log_in(client, uow_factory, "grader")
    keyed = {"Idempotency-Key": "grade-U000"}
    refused = client.post("/api/v1/units/U000/grade", json={"grade": "A"}, headers=keyed)
    assert refused.status_code == 403
    token = hidden(client.get("/station").get_data(as_text=True), "csrf_token")
    retried = client.post("/api/v1/units/U000/grade", json={"grade": "A"},
                          headers={**keyed, "X-CSRF-Token": token})
    assert retried.status_code == 404 and "Idempotent-Replayed" not in retried.headers


def test_bearer_token_clients_need_no_csrf_token(client, auth):
    response = client.post("/api/v1/units/U000/grade", json={"grade": "A"},
                           headers=auth("grader"))
    assert response.status_code == 404


def test_a_planner_is_refused_the_grading_station_in_words(client, uow_factory):
    log_in(client, uow_factory, "planner")
    response = client.get("/station")
    assert response.status_code == 403
    assert "Not for your role" in response.get_data(as_text=True)


def test_the_user_command_creates_lists_and_disables_people(app, uow_factory):
    runner = app.test_cli_runner()
    created = runner.invoke(user_command, [
        "create", "--username", "gina", "--role", "grader", "--display-name", "Gina B",
        "--password", PASSWORD])
    assert created.exit_code == 0, created.output
    assert authenticate_user(uow_factory, "gina", PASSWORD).display_name == "Gina B"
    again = runner.invoke(user_command, [
        "create", "--username", "gina", "--role", "grader", "--password", PASSWORD])
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(user_command, [
        "create", "--username", "max", "--role", "grader", "--password", "short"])
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    prompted = runner.invoke(user_command, ["create", "--username", "pia", "--role", "planner"],
                             input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(user_command, ["list"])
    assert "gina\tgrader\tGina B\tactive" in listed.output
    assert runner.invoke(user_command, ["disable", "--username", "gina"]).exit_code == 0
    assert authenticate_user(uow_factory, "gina", PASSWORD) is None
