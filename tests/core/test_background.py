"""consume_in_background: a producer on the calling thread, a consumer on a worker thread."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import pytest

from core.background import ProducerFailed, consume_in_background


def test_consumer_gets_every_item_in_order_on_another_thread():
    caller = threading.get_ident()
    seen_on = []

    def consume(items: Iterator[int]) -> list[int]:
        seen_on.append(threading.get_ident())
        return list(items)

    assert consume_in_background(range(10_000), consume, depth=1) == list(range(10_000))
    assert seen_on and seen_on[0] != caller


def test_empty_stream():
    assert consume_in_background([], list) == []


def test_at_most_depth_items_wait_between_the_threads():
    pulled = 0
    gap = []

    def produce() -> Iterator[int]:
        nonlocal pulled
        for i in range(50):
            pulled += 1
            yield i

    def consume(items: Iterator[int]) -> int:
        total = 0
        for item in items:
            if item == 0:
                # Let the producer run ahead as far as it can: until it has pulled five
                # (however slow the machine), then a while longer to see it stop there.
                deadline = time.monotonic() + 10
                while pulled < 5 and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.2)
                gap.append(pulled)
            total += item
        return total

    assert consume_in_background(produce(), consume, depth=3) == sum(range(50))
    # One item in the consumer's hands, three in the queue, one pulled and waiting to go in.
    assert gap == [5]


def test_producer_failure_reaches_the_consumer_and_the_caller():
    consumer_saw = []

    def produce() -> Iterator[bytes]:
        yield b"a"
        yield b"b"
        raise OSError("client went away")

    def consume(items: Iterator[bytes]) -> None:
        try:
            for _ in items:
                pass
        except ProducerFailed as exc:
            consumer_saw.append(exc)
            raise

    before = threading.active_count()
    with pytest.raises(OSError, match="went away"):
        consume_in_background(produce(), consume)
    assert len(consumer_saw) == 1
    assert threading.active_count() == before  # the worker was joined


def test_keyboard_interrupt_in_the_producer_propagates():
    def produce() -> Iterator[int]:
        yield 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        consume_in_background(produce(), list)


def test_consumer_failure_stops_the_producer():
    pulled = 0

    def produce() -> Iterator[int]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield i

    def consume(items: Iterator[int]) -> None:
        for item in items:
            if item == 10:
                raise ValueError("disk full")

    before = threading.active_count()
    with pytest.raises(ValueError, match="disk full"):
        consume_in_background(produce(), consume, depth=2)
    assert pulled < 20  # not the whole million
    assert threading.active_count() == before


def test_consumer_returning_early_is_an_error_not_a_silent_truncation():
    def consume(items: Iterator[int]) -> int:
        return next(items)

    with pytest.raises(RuntimeError, match="before the end"):
        consume_in_background(range(100), consume, depth=2)
    with pytest.raises(RuntimeError, match="before the end"):
        consume_in_background(range(2), consume, depth=4)  # both fit in the queue


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Python's own SIGINT handler, as in a terminal: a process a non-interactive shell starts
    in the background ignores SIGINT (POSIX), and `_thread.interrupt_main()` then does
    nothing (this test failed under `nohup bash .ci/run &`)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("signals", [1, 2])
@pytest.mark.usefixtures("ctrl_c_raises")
def test_interrupts_while_waiting_still_wait_for_the_consumer(signals: int):
    """Ctrl-C (once, or again while cleaning up) during the final wait: the consumer, e.g.
    a blob writer in its last fsync, has ended before the exception reaches the caller."""
    import _thread

    finished = threading.Event()

    def consume(items: Iterator[int]) -> int:
        for _ in items:
            pass
        # The caller has handed over everything and waits for the end. Interrupting from
        # here (not from timers) keeps every signal inside the call however slow the machine.
        for _ in range(signals):
            _thread.interrupt_main()
            time.sleep(0.15)
        time.sleep(0.3)
        finished.set()
        return 1

    with pytest.raises(KeyboardInterrupt):
        consume_in_background([1, 2, 3], consume)
    assert finished.is_set()
