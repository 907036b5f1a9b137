"""A fair queue for Argon2id: at most N derivations at once in this process, first come first
served, each waiting a bounded time.

Why not a per-minute budget: a budget shared by everyone (the portal keeps no address) is spent
by whoever asks fastest, so four threads guessing receipt codes locked every reporter out. A
queue instead serves everyone in arrival order at the speed the CPU allows: a flood slows a
reporter down by the requests ahead of them, and only a wait longer than `max_wait` is turned
away (with the friendly "busy" page). Receipt codes carry about 90 bits, so the queue, not a
budget, is what guessing runs into: the CPU bound (cores / one Argon2id per second).

Why a bound on the queue's length: each waiter holds one of the server's request threads.
Unbounded, a flood of guesses could park every thread in the queue, and a reporter's
follow-up page, which needs no Argon2id, would wait for a thread behind them. With at most
`max_waiting` waiters, the other threads stay free for such requests; a newcomer beyond it
is told "busy" at once instead of waiting.
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class SlotsBusy(Exception):
    """No slot freed within the wait; `retry_after` is a suggested wait in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"all Argon2id slots busy; retry after {retry_after} s")
        self.retry_after = retry_after


class KdfSlots:
    """`slots` concurrent holders; waiters are served strictly in arrival order."""

    def __init__(self, slots: int, max_wait: float, max_waiting: int | None = None) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        if max_waiting is not None and max_waiting < 0:
            raise ValueError("max_waiting must not be negative")
        self.slots = slots
        self.max_wait = max_wait
        #: Longest queue (None: unbounded); a caller who would exceed it is refused at once.
        self.max_waiting = max_waiting
        self._lock = threading.Lock()
        self._free = slots
        #: One event per waiter, oldest first; a freed slot is handed to the oldest directly,
        #: so that a newcomer can never overtake someone already waiting.
        self._waiters: deque[threading.Event] = deque()

    @property
    def waiting(self) -> int:
        """How many callers are queued (for tests and benchmarks)."""
        with self._lock:
            return len(self._waiters)

    def _acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            if self.max_waiting is not None and len(self._waiters) >= self.max_waiting:
                raise SlotsBusy(self._retry_after())
            ticket = threading.Event()
            self._waiters.append(ticket)
        if ticket.wait(self.max_wait):
            return
        with self._lock:
            if ticket.is_set():  # handed a slot just as the wait ended: keep it
                return
            self._waiters.remove(ticket)
        raise SlotsBusy(self._retry_after())

    def _retry_after(self) -> int:
        return max(1, math.ceil(self.max_wait / 2))

    def _release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # the slot passes on without being freed
            else:
                self._free += 1

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of the block; SlotsBusy after `max_wait` seconds."""
        self._acquire()
        try:
            yield
        finally:
            self._release()

    def run(self, work: Callable[[], T]) -> T:
        """`work()` inside a slot."""
        with self.slot():
            return work()


def default_slots() -> int:
    """One slot per core the process may use: more would only make each derivation slower."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)
