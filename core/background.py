"""Consuming a stream on a worker thread while the calling thread produces it.

An upload is produced by reading and parsing the request body (Python code on the request
thread) and consumed by encrypting and writing it (libsodium and file writes, which release the
GIL). Running the two on separate threads lets them overlap on separate cores; handing over
large pieces keeps the number of GIL hand-overs low (benches/upload.py).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: How often a blocked hand-over checks whether the other side has stopped (seconds).
_POLL = 0.05


class ProducerFailed(Exception):
    """Raised inside the consumer when the producing side failed; the consumer should clean
    up (e.g. delete a partial file) and let it propagate."""


class _End:
    pass


class _Abandon:
    pass


_END = _End()
_ABANDON = _Abandon()


def consume_in_background(
    items: Iterable[T],
    consume: Callable[[Iterator[T]], R],
    *,
    depth: int = 4,
    name: str = "candor-consumer",
) -> R:
    """Return ``consume(iterator over items)``, with `consume` running on a worker thread.

    The calling thread pulls `items` and hands each one over; at most `depth` items wait
    between the two threads, so memory stays bounded. If pulling `items` raises, the
    consumer's iterator raises :class:`ProducerFailed`, the worker is joined and the
    original exception propagates. If `consume` raises, the caller stops pulling and that
    exception propagates. Either way nothing keeps running after this returns.
    """
    handover: queue.Queue[Any] = queue.Queue(maxsize=depth)
    outcome: dict[str, Any] = {}

    def handed_over() -> Iterator[T]:
        while True:
            item = handover.get()
            if item is _END:
                return
            if item is _ABANDON:
                raise ProducerFailed("the producing side failed")
            yield item

    # Set by the worker when `consume` has returned or raised. Waited on instead of
    # Thread.join/is_alive: in CPython 3.11 an interrupt during join() can mark a thread
    # that is still running as stopped.
    done = threading.Event()

    def work() -> None:
        try:
            outcome["result"] = consume(handed_over())
        except BaseException as exc:  # handed to the calling thread below
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    complete = True
    try:
        for item in items:
            if not _hand_over(handover, item, done):
                complete = False  # the consumer stopped; its error is raised below
                break
        _hand_over(handover, _END, done)
        while not done.wait(_POLL):
            pass
    except BaseException:
        # The producer failed, or a signal interrupted this thread (even while it waited
        # for the end): the consumer must have stopped before the caller cleans up after it.
        _stop(handover, done)
        worker.join()  # it has only to return from work() now
        raise
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    if not complete or not _only_end_left(handover):
        raise RuntimeError("the consumer returned before the end of the stream")
    return outcome["result"]  # type: ignore[no-any-return]


def _stop(handover: queue.Queue[Any], done: threading.Event) -> None:
    """Tell the worker to give up and wait until it has, even through interrupts (re-raised
    afterwards): a second Ctrl-C must not leave it writing to a file that its caller is
    about to remove."""
    told = False
    interrupted: BaseException | None = None
    while not done.is_set():
        try:
            if told:
                done.wait(_POLL)
            else:
                handover.put(_ABANDON, timeout=_POLL)
                told = True
        except queue.Full:
            continue
        except BaseException as exc:
            interrupted = interrupted or exc
    if interrupted is not None:
        raise interrupted


def _only_end_left(handover: queue.Queue[Any]) -> bool:
    """True if nothing but (at most) the end mark is still waiting in the queue."""
    while True:
        try:
            item = handover.get_nowait()
        except queue.Empty:
            return True
        if item is not _END:
            return False


def _hand_over(handover: queue.Queue[Any], item: object, done: threading.Event) -> bool:
    """Put `item` in the queue unless the worker has ended; return whether it was put."""
    while True:
        try:
            handover.put(item, timeout=_POLL)
            return True
        except queue.Full:
            if done.is_set():
                return False
