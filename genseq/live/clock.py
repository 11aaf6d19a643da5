"""Clocks the live loops run on: the real one, a fake one for tests, and a fast-forward one for
benchmarks (computation costs real time, waiting costs none)."""

from __future__ import annotations

import heapq
import itertools
import time
from typing import Callable

SPIN_S = 0.001  # a precise wait sleeps until this close to its deadline, then spins (time.sleep overshoots)


class SystemClock:
    """Monotonic seconds; precise waits end within a few microseconds of their deadline."""

    def now(self) -> float:
        return time.perf_counter()

    def sleep_until(self, deadline: float, precise: bool = False) -> None:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        if not precise:
            time.sleep(remaining)
            return
        if remaining > SPIN_S:
            time.sleep(remaining - SPIN_S)
        while time.perf_counter() < deadline:
            pass


class FakeClock:
    """Time that moves only when the loop waits. `at(t, action)` runs an action once time reaches t
    (a test plays a key, pulls a cable or presses Ctrl-C there); an action may raise."""

    def __init__(self, start: float = 0.0):
        self.time = start
        self.actions: list[tuple[float, int, Callable[[], None]]] = []
        self.order = itertools.count()

    def now(self) -> float:
        return self.time

    def advance(self, seconds: float) -> None:
        """Time spent computing (a test's slow model)."""
        self.sleep_until(self.time + seconds)

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.actions, (when, next(self.order), action))

    def sleep_until(self, deadline: float, precise: bool = False) -> None:
        while self.actions and self.actions[0][0] <= deadline:
            when, _, action = heapq.heappop(self.actions)
            self.time = max(self.time, when)
            action()  # may raise (KeyboardInterrupt): time stops where the action happened
        self.time = max(self.time, deadline)


class FastForwardClock:
    """Real time for computing, none for waiting: a long stream or 200 calls run in the time their
    computation takes, and lateness still shows (a step that computes past its deadline is late)."""

    def __init__(self):
        self.skipped = 0.0

    def now(self) -> float:
        return time.perf_counter() + self.skipped

    def sleep_until(self, deadline: float, precise: bool = False) -> None:
        self.skipped += max(0.0, deadline - self.now())
