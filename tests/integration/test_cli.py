"""The `returns-inventory` command against a real database, as an operator runs it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial

import pytest
from click.testing import CliRunner

from returns_inventory.cli import main
from returns_inventory.persistence.tables import stock_balances
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.forecast_runs import RunRequest, start_run
from returns_inventory.services.grading import grade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return, get_return
from returns_inventory.services.run_guard import RUN_LEASE
from returns_inventory.services.stock import adjust_stock
from returns_inventory.services.tokens import authenticate
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale, weekly_sock_sales


@pytest.fixture
def uow(committing_db):
    return partial(UnitOfWork, committing_db)


@pytest.fixture
def run(committing_db, tmp_path):
    """run("verify-ledger") -> click Result, with the command pointed at the test database."""
    url = committing_db.engine.url.render_as_string(hide_password=False)
    env = {"RI_DATABASE_URL": url, "RI_INSTANCE_PATH": str(tmp_path / "instance"),
           "RI_SECRET_KEY": "cli-test"}

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def _stock(uow, *counts):
    add_location(uow, "WH1")
    for size, quantity in counts:
        add_item(uow, "TEE-BLK", size)
        adjust_stock(uow, sku="TEE-BLK", size=size, location="WH1", condition="sellable",
                     quantity=quantity, reason="count", actor="cli-test")


def test_token_create_prints_a_working_token_once(run, uow):
    result = run("token", "create", "--name", "erp", "--role", "integrator")
    assert result.exit_code == 0
    secret = result.stdout.strip()
    token = authenticate(uow, secret)
    assert (token.name, token.role.value, token.actor) == ("erp", "integrator", "token:erp")
    with uow() as work:
        [stored] = work.tokens.list()
    assert secret not in repr(stored)  # only the hash and a short prefix are kept
    assert secret.startswith(stored.prefix)


@pytest.mark.parametrize("args", [["--role", "boss"], ["--name", " "]])
def test_token_create_refuses_a_bad_role_or_name(run, uow, args):
    defaults = {"--name": "erp", "--role": "planner"}
    defaults.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = run("token", "create", *[x for pair in defaults.items() for x in pair])
    assert result.exit_code != 0
    with uow() as work:
        assert work.tokens.list() == []


def test_token_revoke_of_a_name_with_no_active_token_says_so_and_fails(run, uow):
    assert run("token", "create", "--name", "erp", "--role", "integrator").exit_code == 0
    assert run("token", "revoke", "--name", "erp").stdout == "revoked 1 token(s)\n"
    again = run("token", "revoke", "--name", "erp")
    assert again.exit_code == 1
    assert again.stderr == ("error: no active token is named 'erp' "
                            "(returns-inventory token list shows them)\n")
    assert again.stdout == ""


def test_verify_ledger_is_clean_after_ordinary_movements(run, uow):
    _stock(uow, ("M", 5), ("L", 3))
    result = run("verify-ledger")
    assert result.exit_code == 0, result.output
    assert "ledger ok: 2 balances" in result.stdout


def test_verify_ledger_fails_naming_each_balance_edited_behind_its_back(run, uow):
    _stock(uow, ("M", 5), ("L", 3), ("S", 1))
    with uow() as work:
        work.connection.execute(stock_balances.update().values(on_hand=stock_balances.c.on_hand + 2)
                                .where(stock_balances.c.on_hand != 1))
        work.commit()
    result = run("verify-ledger")
    assert result.exit_code == 1
    assert "TEE-BLK M @ WH1, sellable): on_hand 7 vs ledger 5" in result.stderr
    assert "TEE-BLK L @ WH1, sellable): on_hand 5 vs ledger 3" in result.stderr
    assert "TEE-BLK S" not in result.stderr
    assert "2 of 3 balances do not match the ledger" in result.stderr


def test_db_upgrade_is_safe_to_run_again(run):
    first, again = run("db", "upgrade"), run("db", "upgrade")
    assert first.exit_code == again.exit_code == 0
    assert first.stdout == again.stdout


def test_a_forecast_run_from_the_cli_is_recorded_as_the_operators(run, uow):
    _stock(uow, ("M", 5))
    result = run("forecast", "run", "--as-of", "2026-11-23")
    assert result.exit_code == 0, result.output
    with uow() as work:
        [recorded] = work.planning.list_runs(offset=0, limit=5)[0]
    assert recorded["actor"].startswith("cli:") and recorded["trigger"] == "cli"


@pytest.mark.parametrize(("variable", "value"), [("RI_PAGE_SIZE_MAX", "abc"),
                                                 ("RI_MAX_REQUEST_BYTES", "lots"),
                                                 ("RI_LOG_LEVEL", "LOUD")])
def test_a_bad_setting_is_one_line_naming_it_not_a_traceback(tmp_path, variable, value):
    env = {"RI_INSTANCE_PATH": str(tmp_path / "instance"), variable: value}
    result = CliRunner().invoke(main, ["db", "current"], env=env)
    assert result.exit_code == 1
    assert variable in result.output and "Traceback" not in result.output
    assert result.output.startswith("Error: configuration:")


def test_demo_logins_go_to_the_file_asked_for_and_are_printed_once(run, tmp_path):
    logins = tmp_path / "demo-logins.txt"
    result = run("demo", "load", "--skus", "3", "--logins-file", str(logins))
    assert result.exit_code == 0, result.output
    kept = dict(line.split() for line in logins.read_text().splitlines())
    assert set(kept) == {"grader", "planner", "admin"}
    assert logins.stat().st_mode & 0o777 == 0o600
    # scripts/run prints the file on every start; the load itself names it, not the passwords.
    assert not any(password in result.output for password in kept.values())
    assert f"kept in {logins}" in result.output


def test_forecast_clear_run_ends_a_stuck_run_and_frees_its_leases(run, uow, committing_db):
    weekly_sock_sales(uow, date(2026, 11, 16))
    settings = Settings.load(env={}, database_url=str(committing_db.engine.url))
    stuck = start_run(uow, settings, RunRequest(as_of=date(2026, 11, 23), actor="job:x",
                                                runner="gone-host:7"))
    result = run("forecast", "clear-run", str(stuck))
    assert result.exit_code == 0, result.output
    assert f"run {stuck} failed: cleared by hand by cli:" in result.stdout
    with uow() as work:
        assert work.planning.run(stuck)["status"] == "failed"
        lease = work.leases.get(RUN_LEASE)
    expires = lease["expires_at"]
    assert (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) <= datetime.now(UTC)
    again = run("forecast", "clear-run", str(stuck))
    assert again.exit_code == 2 and "nothing to clear" in again.stderr


def test_settle_refunds_settles_graded_returns_once_without_a_scheduler(run, uow):
    policies = Policies.from_settings(Settings.load(env={}))
    item_id = add_item(uow, "TEE-BLK", "M")
    add_sale(uow, item_id, add_location(uow, "WH1"), quantity=1)
    view = authorize_return(uow, policies, order_ref="SO-1", actor="erp", address_ref="A-1",
                            lines=[ReturnLineRequest(line_ref="1", quantity=1,
                                                     reason="too_small")])
    [unit] = receive_units(uow, rma=view.rma, location="WH1", actor="dock",
                           lines=[{"line_no": 1, "quantity": 1}], policies=policies)
    grade_unit(uow, policies, unit_id=unit.unit_id, grade="A", actor="grader")
    assert get_return(uow, view.rma).settling
    first, again = run("settle-refunds"), run("settle-refunds")
    assert (first.exit_code, again.exit_code) == (0, 0)
    assert first.stdout.strip() == "settled 1 return(s)"
    assert again.stdout.strip() == "settled 0 return(s)"  # a return is settled once
    assert not get_return(uow, view.rma).settling


def test_a_forecast_run_refused_up_front_prints_its_error_alone(run):
    result = run("forecast", "run", "--as-of", "2026-11-23")  # nothing imported yet
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no warehouse to replenish")
    # the bar names the stage it stopped in, not a label of its own on a line before
    assert "forecast run" not in result.output
