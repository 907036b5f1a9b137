"""gunicorn's threaded worker, made safe against slow clients.

gunicorn's `gthread` worker gives a connection a thread as soon as its first byte arrives,
and the thread then blocks, without any limit, until the headers (and later the body) are in.
Forty connections trickling a header line a minute kept every thread busy and the portal
unreachable, and nothing ever closed them. The onion service reaches gunicorn without nginx,
so the proxy cannot be the only protection. This worker:

- reads each request's head, and a body of at most SMALL_BODY bytes, in the worker's event
  loop, without a thread, and hands the connection to a thread only once that has arrived.
  A client that takes longer than `header_timeout` seconds for it is disconnected;
- gives every socket an idle timeout (`idle_timeout`): a read or write that waits longer for
  the client fails, which ends the request (an upload is then refused: web.request_body). A
  slow but steady upload (a reporter on Tor at 50 KB/s) never waits that long, however long
  it takes in all;
- on a graceful stop, gives a request still arriving STOP_GRACE seconds more, not the rest of
  its `header_timeout`: otherwise a trickling client kept a stop waiting up to 20 s, even
  with no request being served. Requests already in a thread finish as gunicorn allows.

Larger bodies still stream into a thread (uploads are encrypted as they arrive, never written
to disk in clear), so `candor serve` runs more threads than CPU work needs; CPU-heavy work is
bounded separately (core.kdf_slots). The subclass relies on gunicorn's internals: the
dependency is pinned to the versions tests/cli/test_http_worker.py checks.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.workers.gthread import TConn, ThreadWorker

#: A body up to this size (a form without files) is read before a thread is given.
SMALL_BODY = 64 * 1024
#: More head than gunicorn would ever accept (its line and header limits): hand over, so that
#: gunicorn's parser refuses it with its own error.
MAX_HEAD = 128 * 1024
#: How long a stopping worker still waits for requests arriving in the event loop. A short
#: grace rather than closing them at once: a client whose head (or small form) is already on
#: its way is answered, with "Connection: close", as gunicorn answers one arriving on a
#: kept-alive connection (it lingers those 2 s too: STOP_KEEPALIVE_LINGER); a trickling
#: client cannot hold the stop longer.
STOP_GRACE = 2.0
_END_OF_HEAD = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d{1,12})[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding:", re.I | re.M)


class TimedSocket(socket.socket):
    """A client socket whose blocking mode is a timeout: no read or write waits for the
    client longer than `idle_timeout` seconds."""

    idle_timeout: float = 60.0

    @classmethod
    def adopt(cls, sock: socket.socket, idle_timeout: float) -> TimedSocket:
        """Take over an accepted socket's descriptor."""
        timed = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        timed.idle_timeout = idle_timeout
        return timed

    def setblocking(self, flag: bool) -> None:
        """gunicorn switches sockets to blocking for its threads: make that a timeout."""
        if flag:
            self.settimeout(self.idle_timeout)
        else:
            super().setblocking(False)

    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send everything, failing only when one write waits `idle_timeout` for the client
        (Python's own sendall limits the whole call: a slow, steady download would be cut)."""
        view = memoryview(data).cast("B")
        while view:
            sent = self.send(view, flags)
            view = view[sent:]


def head_complete(data: bytes) -> bool:
    """Whether `data` holds a whole request head, and its body if that is small and of known
    length (otherwise the body streams in the thread)."""
    end = data.find(_END_OF_HEAD)
    if end < 0:
        return len(data) >= MAX_HEAD
    head = data[:end]
    if _CHUNKED.search(head):
        return True
    length = _CONTENT_LENGTH.search(head)
    if length is None:
        return True
    size = int(length.group(1))
    return size > SMALL_BODY or len(data) - end - len(_END_OF_HEAD) >= size


class _Arriving:
    """A connection whose request is still arriving in the event loop."""

    def __init__(self, conn: TConn, deadline: float) -> None:
        self.conn = conn
        self.deadline = deadline
        self.data = bytearray()


class SlowClientSafeWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, with heads read in the event loop and idle timeouts on every socket."""

    header_timeout: float = 20.0
    idle_timeout: float = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arriving: dict[int, _Arriving] = {}
        #: When the requests still arriving are cut, once the worker stops (`alive` False).
        self._stop_deadline: float | None = None

    def accept(self, listener: socket.socket) -> None:
        """A new connection waits in the event loop for its request, without a thread."""
        try:
            client, address = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        self.nr_conns += 1
        timed = TimedSocket.adopt(client, self.idle_timeout)
        self._await_request(TConn(self.cfg, timed, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection's next request, too, arrives in the event loop."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_request(conn)

    def enqueue_req(self, conn: TConn) -> None:
        """Only a connection whose request has arrived gets a thread. gunicorn also calls
        this for a kept-alive connection that already holds the start of its next request
        (pipelined): that start goes back to the event loop, under a fresh header deadline."""
        if getattr(conn, "candor_ready", False):
            conn.candor_ready = False
            super().enqueue_req(conn)
            return
        self._await_request(conn, conn.parser.unreader.take_buffered())

    def finish_request(self, conn: TConn, fs: Any) -> None:
        """Closing a finished connection politely waits up to 2 s for the client (gunicorn's
        close_graceful): done in a thread, not in the event loop that reads every head. Also
        while stopping, when every request ends so: in the loop, each close held up the heads
        arriving within STOP_GRACE, and the stop, up to 2 s per request."""
        if not fs.cancelled() and fs.exception() is None and fs.result() is False:
            self.nr_conns -= 1
            self.tpool.submit(conn.close, True)
            return
        super().finish_request(conn, fs)

    def _await_request(self, conn: TConn, already: bytes = b"") -> None:
        conn.sock.setblocking(False)
        deadline = time.monotonic() + self.header_timeout
        if self._stop_deadline is not None:  # a kept-alive client's next request, while stopping
            deadline = min(deadline, self._stop_deadline)
        arriving = _Arriving(conn, deadline)
        arriving.data += already
        if already and head_complete(already):
            self._hand_over(arriving)
            return
        self._arriving[conn.sock.fileno()] = arriving
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self._on_request_bytes, arriving))

    def _on_request_bytes(self, arriving: _Arriving, _sock: socket.socket) -> None:
        conn = arriving.conn
        try:
            data = conn.sock.recv(SMALL_BODY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(arriving)
            return
        arriving.data += data
        if head_complete(bytes(arriving.data)):
            self._hand_over(arriving)

    def _forget(self, arriving: _Arriving) -> None:
        self._arriving.pop(arriving.conn.sock.fileno(), None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(arriving.conn.sock)

    def _drop(self, arriving: _Arriving) -> None:
        self._forget(arriving)
        self.nr_conns -= 1
        arriving.conn.close()

    def _hand_over(self, arriving: _Arriving) -> None:
        """Give the connection, with what has arrived, to a thread."""
        self._forget(arriving)
        conn = arriving.conn
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(arriving.data))
        conn.data_ready = True
        conn.candor_ready = True
        self.enqueue_req(conn)

    def murder_pending(self) -> None:
        """Also disconnect clients that took too long to send their request, or, once the
        worker stops, that have not sent it within STOP_GRACE."""
        super().murder_pending()
        now = time.monotonic()
        # Checked here, in the event loop, rather than in the signal handler (which could run
        # while the loop changes `_arriving`); this also covers `alive` turned False by
        # max_requests. gunicorn calls this right after the signal's wake-up.
        if not self.alive and self._stop_deadline is None:
            self._stop_deadline = now + STOP_GRACE
            for waiting in self._arriving.values():
                waiting.deadline = min(waiting.deadline, self._stop_deadline)
        for arriving in [a for a in self._arriving.values() if a.deadline <= now]:
            self._drop(arriving)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """While stopping, wake up when the grace of the requests still arriving ends: gunicorn
        would otherwise wait up to a second more before murder_pending."""
        if self._stop_deadline is not None and self._arriving:
            timeout = min(timeout, max(self._stop_deadline - time.monotonic(), 0.0))
        super().wait_for_and_dispatch_events(timeout)


def configure(header_timeout: float, idle_timeout: float) -> None:
    """Set the timeouts before gunicorn forks its workers (they inherit the class)."""
    SlowClientSafeWorker.header_timeout = header_timeout
    SlowClientSafeWorker.idle_timeout = idle_timeout
