"""Numbers typed into the pages' addresses and forms that the database could not hold."""

from __future__ import annotations

from tests.integration.web_support import log_in

HUGE = "99999999999999999999"


def test_a_page_number_past_any_page_shows_the_first_page(client, uow_factory):
    log_in(client, uow_factory, "planner")
    for path in (f"/planner/runs?page={HUGE}", f"/planner?page={HUGE}"):
        assert client.get(path).status_code == 200, path


def test_an_id_past_any_row_is_not_found(client, uow_factory):
    log_in(client, uow_factory, "planner")
    assert client.get(f"/planner/suggestions/{HUGE}").status_code == 404
    assert client.get(f"/planner/runs/{HUGE}").status_code == 404
