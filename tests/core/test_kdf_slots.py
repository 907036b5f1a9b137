"""core.kdf_slots: at most N holders, waiters served in arrival order, a bounded wait and a
bounded queue (so that waiters cannot take every request thread)."""

from __future__ import annotations

import threading
import time

import pytest

from core.kdf_slots import KdfSlots, SlotsBusy


def _wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_never_more_holders_than_slots() -> None:
    slots = KdfSlots(2, max_wait=5)
    lock, holding, most = threading.Lock(), [0], [0]

    def work() -> None:
        with lock:
            holding[0] += 1
            most[0] = max(most[0], holding[0])
        time.sleep(0.01)
        with lock:
            holding[0] -= 1

    threads = [threading.Thread(target=slots.run, args=(work,)) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2


def test_waiters_are_served_in_arrival_order() -> None:
    slots = KdfSlots(1, max_wait=5)
    served: list[int] = []
    release = threading.Event()
    holder = threading.Thread(target=slots.run, args=(release.wait,))
    holder.start()
    _wait_until(lambda: slots._free == 0)
    waiters = []
    for number in range(5):
        waiter = threading.Thread(target=slots.run, args=(lambda n=number: served.append(n),))
        waiter.start()
        waiters.append(waiter)
        _wait_until(lambda n=number: slots.waiting == n + 1)
    release.set()
    for waiter in [holder, *waiters]:
        waiter.join()
    assert served == [0, 1, 2, 3, 4]


def test_a_wait_longer_than_max_wait_is_refused_and_leaves_the_queue() -> None:
    slots = KdfSlots(1, max_wait=0.1)
    with slots.slot():
        with pytest.raises(SlotsBusy) as busy:
            slots.run(lambda: None)
        assert slots.waiting == 0
    assert busy.value.retry_after >= 1
    assert slots.run(lambda: "free again") == "free again"


def test_a_full_queue_refuses_at_once() -> None:
    slots = KdfSlots(1, max_wait=5, max_waiting=2)
    release = threading.Event()
    holder = threading.Thread(target=slots.run, args=(release.wait,))
    holder.start()
    _wait_until(lambda: slots._free == 0)
    queued = [threading.Thread(target=slots.run, args=(lambda: None,)) for _ in range(2)]
    for thread in queued:
        thread.start()
    _wait_until(lambda: slots.waiting == 2)
    started = time.monotonic()
    with pytest.raises(SlotsBusy):
        slots.run(lambda: None)
    assert time.monotonic() - started < 1  # not after max_wait (5 s)
    release.set()
    for thread in [holder, *queued]:
        thread.join()
    assert slots.waiting == 0 and slots._free == 1


def test_a_slot_is_given_back_when_the_work_fails() -> None:
    slots = KdfSlots(1, max_wait=0.1)
    with pytest.raises(ZeroDivisionError):
        slots.run(lambda: 1 / 0)
    assert slots.run(lambda: 1) == 1


def test_a_negative_queue_bound_is_refused() -> None:
    with pytest.raises(ValueError):
        KdfSlots(1, max_wait=1, max_waiting=-1)
