"""Reading the server's output for the synchronous client: whoever waits, reads.

A caller waiting for its answer takes the *baton* (the right to read the pipe) when
nobody holds it and reads frames itself, dispatching every message it meets on the way,
until its own answer has arrived. The answer then costs no hand-over from another thread,
which on a small machine is a third of a cached call's time. A background thread takes
the baton only when data arrives while no caller is reading, so notifications are still
delivered when the client is idle and the server's death is noticed at once.

Callers that find the baton taken wait on a condition that is signalled whenever a call
is resolved or the baton is put down, so a fast answer is never stuck behind a slow one.

The bytes read go straight into the client's sans-I/O :class:`~hyperstack_rpc.session.Session`,
which cuts them into frames and resolves the calls; this module only decides who reads when.
"""

from __future__ import annotations

import math
import os
import select
import threading
import time
from typing import Any, Callable, Optional

from .errors import ProtocolError
from .session import Event, Session

__all__ = ["OutputReader"]

_CHUNK = 65536
#: How long callers must leave the pipe alone before the background thread watches it.
#: A notification that arrives just after a call is delivered at most this much later.
_IDLE_GRACE = 0.002


class OutputReader:
    """Reads the server's output from ``fd`` on whichever thread holds the baton, into ``session``.

    ``on_event`` is called with what the session made of each message, on the reading thread, in order.
    ``on_end`` is called once, on the reading thread, when the output ends (``None``) or
    breaks the protocol (the :class:`ProtocolError`); after it nobody reads again.
    """

    def __init__(
        self,
        fd: int,
        session: "Session[Any]",
        on_event: Callable[["Event[Any]"], None],
        on_end: Callable[[Optional[ProtocolError]], None],
    ) -> None:
        self._fd = fd
        self._session = session
        self._on_event = on_event
        self._on_end = on_end
        # Used only by the baton holder, one thread at a time (poll objects must not be shared
        # by concurrent callers); the idle background thread waits with select instead.
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self._changed = threading.Condition(threading.Lock())
        self._baton_held = False
        #: Threads blocked on ``_changed`` that must hear of every change; nobody is notified
        #: when this is zero, so a lone caller's calls cost no wake-ups at all.
        self._waiters = 0
        self._last_put_down = 0.0
        self._ended = False
        self._local = threading.local()

    @property
    def on_reading_thread(self) -> bool:
        """True while the current thread holds the baton (notification callbacks run there)."""
        return getattr(self._local, "reading", False)

    def signal(self) -> None:
        """Wake waiting callers: a call was resolved or the client's state changed."""
        with self._changed:
            if self._waiters:
                self._changed.notify_all()

    def _wait(self, timeout: Optional[float]) -> None:
        """With ``_changed`` held: wait for a change, counted as a waiter so that one is signalled."""
        self._waiters += 1
        try:
            self._changed.wait(timeout)
        finally:
            self._waiters -= 1

    def wait_until(self, done: Callable[[], bool], timeout: Optional[float]) -> bool:
        """Read (or wait for whoever reads) until ``done()``; False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done():
            with self._changed:
                # After the end nobody reads: on_end fails every pending call and signals.
                while (self._baton_held or self._ended) and not done():
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return done()
                    self._wait(remaining)
                if done():
                    return True
                self._baton_held = True
            try:
                finished = self._read(done, deadline)
            finally:
                self._put_down()
            if not finished:
                return done()
        return True

    def run_background(self) -> None:
        """The background thread: read whatever arrives while no caller is reading, until the end.

        It watches the pipe only once callers have left it alone for ``_IDLE_GRACE``: in a
        run of calls each caller reads for itself, and a watcher woken by every answer
        would only compete with them for the processor.
        """
        while True:
            with self._changed:
                while True:
                    if self._ended:
                        return
                    if self._baton_held:
                        # Not counted as a waiter: a run of calls should not wake this thread
                        # after each one. It looks again after a while instead.
                        self._changed.wait(_IDLE_GRACE * 10)
                        continue
                    quiet = time.monotonic() - self._last_put_down
                    if quiet >= _IDLE_GRACE:
                        break
                    self._changed.wait(_IDLE_GRACE - quiet)
            try:
                ready, _, _ = select.select([self._fd], [], [], _IDLE_GRACE * 50)
            except (OSError, ValueError):
                return  # the pipe was closed under us by close()
            if not ready:
                continue
            with self._changed:
                while self._baton_held and not self._ended:
                    self._wait(None)
                if self._ended:
                    return
                self._baton_held = True
            try:
                self._read(None, None)
            finally:
                self._put_down()

    # ------------------------------------------------------------------ internal

    def _put_down(self) -> None:
        self._local.reading = False
        with self._changed:
            self._baton_held = False
            self._last_put_down = time.monotonic()
            if self._waiters:
                self._changed.notify_all()

    def _read(self, done: Optional[Callable[[], bool]], deadline: Optional[float]) -> bool:
        """With the baton: dispatch frames until ``done()`` (or, for the background thread, until
        nothing more is readable). Returns False when the deadline passed or the output ended."""
        self._local.reading = True
        session = self._session
        try:
            while True:
                if session.pending_bytes:
                    self._dispatch_buffered(done)
                if done is not None and done():
                    # Leave no whole frame behind: the background thread wakes only for new bytes.
                    if session.pending_bytes:
                        self._dispatch_buffered(None)
                    return True
                if done is None:
                    wait: Optional[float] = 0
                elif deadline is None:
                    wait = None
                else:
                    wait = max(deadline - time.monotonic(), 0)
                    if wait == 0:
                        return False
                if not self._readable(wait):
                    return done is None
                chunk = os.read(self._fd, _CHUNK)
                if not chunk:
                    session.end_of_output()  # a frame cut off by the end is a protocol error
                    self._end(None)
                    return False
                session.feed(chunk)
        except ProtocolError as exc:
            self._end(exc)
            return False
        except (OSError, ValueError):
            self._end(None)  # the pipe was closed under us by close()
            return False

    def _dispatch_buffered(self, done: Optional[Callable[[], bool]]) -> None:
        next_event = self._session.next_event
        while done is None or not done():
            event = next_event()
            if event is None:
                return
            self._on_event(event)

    def _readable(self, timeout: Optional[float]) -> bool:
        """Whether the pipe has data (or its end) within ``timeout`` seconds (``None``: wait)."""
        return bool(self._poll.poll(None if timeout is None else math.ceil(timeout * 1000)))

    def _end(self, broken: Optional[ProtocolError]) -> None:
        with self._changed:
            if self._ended:
                return
            self._ended = True
        self._on_end(broken)
