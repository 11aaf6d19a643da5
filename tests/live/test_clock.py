"""The clocks: fake time runs actions in order as it passes; fast-forward skips the waiting only."""

from __future__ import annotations

import time

import pytest

from genseq.live.clock import FakeClock, FastForwardClock, SystemClock


def test_fake_time_moves_only_when_waiting_and_runs_actions_in_order():
    clock, seen = FakeClock(), []
    clock.at(2.0, lambda: seen.append(("b", clock.now())))
    clock.at(1.0, lambda: seen.append(("a", clock.now())))
    clock.at(1.0, lambda: seen.append(("a2", clock.now())))
    clock.sleep_until(1.5)
    assert seen == [("a", 1.0), ("a2", 1.0)] and clock.now() == 1.5
    clock.advance(1.0)
    assert seen[-1] == ("b", 2.0) and clock.now() == 2.5


def test_an_action_that_raises_stops_time_where_it_happened():
    clock = FakeClock()

    def ctrl_c():
        raise KeyboardInterrupt

    clock.at(3.0, ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        clock.sleep_until(10.0)
    assert clock.now() == 3.0


def test_fast_forward_skips_waits_but_counts_work():
    clock = FastForwardClock()
    start = clock.now()
    clock.sleep_until(start + 3600.0)
    assert clock.now() - start >= 3600.0
    began = time.perf_counter()
    SystemClock().sleep_until(time.perf_counter() + 0.002, precise=True)
    assert time.perf_counter() - began >= 0.002
