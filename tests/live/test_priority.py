"""Real-time scheduling is asked for around a live loop and given back after it."""

from __future__ import annotations

import os

import pytest

from genseq.live.priority import realtime_scheduling


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="no POSIX scheduling calls on this system")
def test_scheduling_is_normal_again_after_the_block():
    before = os.sched_getscheduler(0)
    with realtime_scheduling() as note:
        assert note
        if note == "real-time scheduling on":
            assert os.sched_getscheduler(0) == os.SCHED_RR
    assert os.sched_getscheduler(0) == before == os.SCHED_OTHER


def test_not_enabled_asks_for_nothing():
    with realtime_scheduling(False) as note:
        assert note == ""


def test_the_heap_is_frozen_only_inside_the_block():
    import gc

    from genseq.live.priority import frozen_heap

    with frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
