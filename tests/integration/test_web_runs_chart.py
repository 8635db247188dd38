"""The runs page draws how long runs took, so a run getting slower is seen, not read."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.integration.web_support import log_in


@pytest.fixture
def planner(client, uow_factory):
    return log_in(client, uow_factory, "planner")


def test_the_runs_page_charts_the_durations_of_finished_runs(client, uow_factory, planner):
    assert 'id="run-durations"' not in client.get("/planner/runs").get_data(as_text=True)
    with uow_factory() as uow:
        for status in ("succeeded", "failed"):
            run_id = uow.planning.start_run(as_of=date(2026, 11, 23), executor="local",
                                            workers=1, trigger="schedule", actor="job:nightly")
            uow.planning.finish_run(run_id, status=status)
        uow.commit()
    html = client.get("/planner/runs").get_data(as_text=True)
    chart = re.search(r'<section[^>]*id="run-durations".*?</section>', html, re.S).group(0)
    assert 'aria-label="How long forecast runs took, by when they started"' in chart
    assert "Succeeded" in chart and "Failed" in chart
    assert "Seconds" in chart  # runs of a moment are not drawn as 0.01 minutes
    assert "style=" not in chart
    assert chart.count('r="3"/>') == 2  # one dot per finished run
    # The same figures as text, for a screen reader or a keyboard.
    figures = chart[chart.index('class="chart-figures"'):]
    assert figures.count('<th scope="row">Run ') == 2
    assert "succeeded" in figures and "failed" in figures


def test_a_single_run_is_one_labelled_dot_on_the_day_it_ran(client, uow_factory, planner):
    with uow_factory() as uow:
        run_id = uow.planning.start_run(as_of=date(2026, 11, 23), executor="local",
                                        workers=1, trigger="schedule", actor="job:nightly")
        uow.planning.finish_run(run_id, status="succeeded")
        uow.commit()
    html = client.get("/planner/runs").get_data(as_text=True)
    chart = re.search(r'<section[^>]*id="run-durations".*?</section>', html, re.S).group(0)
    [dot] = re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="3"/>', chart)
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', chart).group(1))
    assert abs(float(dot) - (64 + width - 12) / 2) < 1  # in the middle, where its day is
    # One tick, under the dot, saying when it ran (not minutes either side of nothing).
    ticks = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" '
                       r'fill="#5b6570">([^<]+)</text>', chart)
    assert len(ticks) == 1 and abs(float(ticks[0][0]) - float(dot)) < 1
    assert re.fullmatch(r"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d", ticks[0][1])
    drawn, legend = chart.split('class="legend"')
    assert not re.search(r'<path d="M[\d.]+,[\d.]+" stroke', drawn)  # no line of one point
    assert "<circle" in legend and "<path" not in legend  # its key is a dot, not a line
    assert "One finished run so far: run" in chart


def test_two_runs_seconds_apart_stay_two_points_on_a_minutes_axis(client, uow_factory, planner):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from returns_inventory.persistence.planning_tables import forecast_runs

    started = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    with uow_factory() as uow:
        for n in range(2):  # run now pressed twice, 20 seconds apart
            run_id = uow.planning.start_run(as_of=date(2026, 11, 23), executor="local",
                                            workers=1, trigger="api", actor="user:pat")
            uow.planning.finish_run(run_id, status="succeeded")
            at = started + timedelta(seconds=20 * n)
            uow.connection.execute(update(forecast_runs).where(forecast_runs.c.id == run_id)
                                   .values(started_at=at, finished_at=at + timedelta(seconds=1)))
        uow.commit()
    html = client.get("/planner/runs").get_data(as_text=True)
    chart = re.search(r'<section[^>]*id="run-durations".*?</section>', html, re.S).group(0)
    dots = re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="3"/>', chart)
    assert len(dots) == 2 and dots[0] != dots[1]  # not stacked on one line of a day's axis
