"""Failed logins are throttled; a session ends server-side at logout or disable (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from returns_inventory.cli_users import user_command
from returns_inventory.domain.errors import TooManyAttempts
from returns_inventory.persistence.people_tables import web_sessions
from returns_inventory.services import users as users_service
from returns_inventory.services.sessions import LoginLimits, log_in, purge_login_records
from returns_inventory.services.users import create_user
from tests.integration.web_support import PASSWORD, hidden

LIMITS = LoginLimits(window_seconds=600, per_username=3, per_address=5)
SHIFT = timedelta(hours=12)


@pytest.fixture
def settings(settings):
    return settings.replace(
        login_window_seconds=LIMITS.window_seconds,
        login_max_failures_per_username=LIMITS.per_username,
        login_max_failures_per_address=LIMITS.per_address,
    )


@pytest.fixture
def gina(uow_factory):
    create_user(uow_factory, username="gina", role="grader", password=PASSWORD)
    return "gina"


def _try(client, username, password, address="10.0.0.1"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    return client.post("/login", environ_base={"REMOTE_ADDR": address}, data={
        "username": username, "password": password, "csrf_token": hidden(page, "csrf_token")})


def _log_out(client):
    page = client.get("/station").get_data(as_text=True)
    out = client.post("/logout", data={"csrf_token": hidden(page, "csrf_token")})
    assert out.status_code == 303


def test_after_too_many_wrong_passwords_even_the_right_one_waits_with_retry_after(client, gina):
    for _ in range(LIMITS.per_username):
        assert _try(client, "gina", "wrong password").status_code == 401
    refused = _try(client, "Gina", PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= LIMITS.window_seconds
    page = refused.get_data(as_text=True)
    assert refused.mimetype == "text/html" and "Too many failed logins" in page
    assert client.get("/station").status_code == 303  # no session was opened
    # Another address guessing the same username is held back too.
    assert _try(client, "gina", PASSWORD, address="10.0.0.2").status_code == 429


def test_a_throttled_attempt_costs_no_password_check(client, gina, monkeypatch):
    for _ in range(LIMITS.per_username):
        _try(client, "gina", "wrong password")
    checked = []
    real = users_service.check_password_hash
    monkeypatch.setattr(users_service, "check_password_hash",
                        lambda *args: checked.append(args) or real(*args))
    assert _try(client, "gina", "another guess").status_code == 429
    assert checked == []


def test_a_successful_login_resets_the_usernames_count(client, gina):
    for _ in range(LIMITS.per_username - 1):
        assert _try(client, "gina", "wrong password").status_code == 401
    assert _try(client, "gina", PASSWORD).status_code == 303
    _log_out(client)
    for _ in range(LIMITS.per_username - 1):
        assert _try(client, "gina", "wrong password").status_code == 401
    assert _try(client, "gina", PASSWORD).status_code == 303


def test_one_address_trying_many_usernames_is_throttled_but_other_addresses_are_not(
        client, gina):
    for n in range(LIMITS.per_address):
        assert _try(client, f"guess{n}", "wrong password").status_code == 401
    assert _try(client, "gina", PASSWORD).status_code == 429
    assert _try(client, "gina", PASSWORD, address="10.0.0.9").status_code == 303


def test_failures_leave_the_window_and_retry_after_says_when(uow_factory, gina):
    start = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    for minute in range(LIMITS.per_username):
        assert log_in(uow_factory, LIMITS, username="gina", password="wrong", address="a",
                      lifetime=SHIFT, now=start + timedelta(minutes=minute)) is None
    later = start + timedelta(minutes=5)
    with pytest.raises(TooManyAttempts) as refused:
        log_in(uow_factory, LIMITS, username="gina", password=PASSWORD, address="a",
               lifetime=SHIFT, now=later)
    # The first of the three failures leaves the window 10 minutes after it: 5 minutes on.
    assert refused.value.retry_after == 300
    person, session_id = log_in(uow_factory, LIMITS, username="gina", password=PASSWORD,
                                address="a", lifetime=SHIFT, now=later + timedelta(seconds=300))
    assert person.username == "gina" and session_id


def test_logging_out_ends_the_session_even_for_a_copy_of_its_cookie(client, gina):
    assert _try(client, "gina", PASSWORD).status_code == 303
    copied = client.get_cookie("session").value
    _log_out(client)
    client.set_cookie("session", copied)
    response = client.get("/station")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_logging_out_on_one_bench_leaves_the_persons_other_sessions_open(app, gina):
    bench, tablet = app.test_client(), app.test_client()
    assert _try(bench, "gina", PASSWORD).status_code == 303
    assert _try(tablet, "gina", PASSWORD).status_code == 303
    _log_out(bench)
    assert tablet.get("/station").status_code == 200


def test_the_user_disable_command_ends_open_sessions_at_once(app, client, gina, uow_factory):
    assert _try(client, "gina", PASSWORD).status_code == 303
    copied = client.get_cookie("session").value
    assert app.test_cli_runner().invoke(user_command, ["disable", "--username", "gina"]
                                        ).exit_code == 0
    with uow_factory() as uow:
        assert uow.connection.execute(web_sessions.select()).all() == []
    client.set_cookie("session", copied)
    assert client.get("/station").status_code == 303


def test_a_session_past_its_expiry_in_the_database_is_refused(client, gina, uow_factory):
    assert _try(client, "gina", PASSWORD).status_code == 303
    with uow_factory() as uow:
        uow.connection.execute(web_sessions.update().values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        uow.commit()
    assert client.get("/station").status_code == 303


def test_housekeeping_forgets_expired_sessions_and_old_failures(uow_factory, gina):
    start = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    log_in(uow_factory, LIMITS, username="gina", password="wrong", address="a",
           lifetime=SHIFT, now=start)
    log_in(uow_factory, LIMITS, username="gina", password=PASSWORD, address="a",
           lifetime=SHIFT, now=start)
    assert purge_login_records(uow_factory, LIMITS, now=start + timedelta(minutes=5)) == 0
    # The address's failure is out of the window; the session has outlived its shift.
    assert purge_login_records(uow_factory, LIMITS, now=start + SHIFT) == 2
