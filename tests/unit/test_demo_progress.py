"""The demo load's progress: said often enough to show it is working, never a flood."""

from __future__ import annotations

from returns_inventory.demo.load import every


def test_progress_is_said_at_most_once_per_interval_but_always_at_a_phase_s_ends():
    now = [0.0]
    said: list[str] = []
    tell = every(3.0, said.append, clock=lambda: now[0])
    for day in range(1, 11):  # a day of receipts per second
        tell(f"day {day} of 10", day in (1, 10))
        now[0] += 1.0
    assert said == ["day 1 of 10", "day 4 of 10", "day 7 of 10", "day 10 of 10"]
