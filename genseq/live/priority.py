"""Timing for the live loops: real-time scheduling where the system allows it, and a frozen heap.

Audio programs (JACK, DAWs) ask for real-time scheduling too: on a busy machine an ordinary process
may wake several milliseconds late, which players hear as jitter; a round-robin real-time thread
wakes on time. The loops sleep between events and spin at most a millisecond before one, so they
never hold a core. The heap is frozen (gc.freeze) once the model is loaded: a full collection
otherwise walks every object torch and the rest left behind (about 180,000: 200 ms on a busy
machine) at a moment nobody chose; frozen, a collection sees only what the loop made since."""

from __future__ import annotations

import contextlib
import gc
import os

PRIORITY = 10  # low among real-time priorities (1-99): audio servers usually run higher


def request_realtime() -> str:
    """Put this thread (and the threads it starts from now on) on SCHED_RR; says what happened."""
    policy = getattr(os, "SCHED_RR", None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return "real-time scheduling is not available on this system"
    try:
        os.sched_setscheduler(0, policy, os.sched_param(PRIORITY))
    except (OSError, ValueError):
        return "real-time scheduling not permitted (timing may suffer on a busy machine)"
    return "real-time scheduling on"


def back_to_normal() -> None:
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_OTHER"):
        try:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        except (OSError, ValueError):
            pass


@contextlib.contextmanager
def frozen_heap():
    """Collections in the block leave alone what existed before it."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def realtime_scheduling(enabled: bool = True):
    """Real-time scheduling for the block (and the threads started in it) and a frozen heap, then
    back to normal; yields what request_realtime said ("" when not enabled)."""
    if not enabled:
        yield ""
        return
    with frozen_heap():
        note = request_realtime()
        try:
            yield note
        finally:
            back_to_normal()
