"""The client's protocol state, with no I/O: what both the synchronous and the asyncio client run on.

In the manner of h11 or rust-analyzer's ``req_queue.rs``, a :class:`Session` never touches a
pipe, a thread or an event loop. The client shells around it hand it what they read
(:meth:`Session.feed`) and get back :data:`Event` values (:meth:`Session.next_event`); when the
protocol needs bytes sent, the session returns them and the shell writes them. Everything the two
clients used to keep in step by hand lives here once:

- the request ids, the calls waiting for an answer, and the ids given up on (a timed-out or
  cancelled call whose late answer must be swallowed, not logged as unknown);
- framing and decoding (it owns the :class:`~hyperstack_rpc.framing.FrameBuffer`), and the
  classification of each message;
- resolving an answer, including mapping an error response to its exception class;
- notification callbacks and the fan-out of ``apiKeys.didChange`` to every change stream;
- failure: when the server exits, breaks the protocol or the client closes, every waiter and
  every stream hears of it, and every later call raises the same error.

A waiter is whatever the shell waits on (a flag for a blocked thread, a future for a
coroutine); the session only calls its ``resolve`` and ``fail``. The state is guarded by one
lock, because the synchronous client makes calls from many threads; :meth:`feed` and
:meth:`next_event` are for one reader at a time (the shell's reader holds that right).
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable, Dict, Generic, List, Optional, Protocol, Sequence, Set, Tuple, TypeVar, Union

from .errors import ClientClosed, HyperstackError, MethodNotFound, ProtocolError, ServerDied, error_from_response
from .framing import FrameBuffer, decode_body, encode_message
from .listeners import Listeners, Tracer, classify
from .models import KeyChange

__all__ = [
    "Session",
    "Waiter",
    "Subscriber",
    "Answered",
    "Notified",
    "MustReply",
    "Ignored",
    "Event",
    "ChangeSubscription",
    "END",
]

log = logging.getLogger("hyperstack_rpc")

#: Pushed to a change stream when the client closes: iteration simply ends.
END = object()

class Waiter(Protocol):
    """What a shell waits on for one call; resolved or failed exactly once, by the session."""

    @property
    def method(self) -> str:
        """The method called, for error messages."""
        ...

    def resolve(self, result: Any) -> None:
        """The answer's ``result``."""
        ...

    def fail(self, error: BaseException) -> None:
        """The call failed: an error response, a dead server, a closed client."""
        ...


class Subscriber(Protocol):
    """A change stream: the session pushes a :class:`KeyChange`, an exception, or :data:`END`."""

    def _push(self, item: object) -> None:
        ...


W = TypeVar("W", bound=Waiter)


class Answered(Generic[W]):
    """A response arrived and ``waiter`` has been resolved (or failed) with it.

    The shell wakes whoever waits on it, if that is not the thread that read it.
    """

    __slots__ = ("waiter",)

    def __init__(self, waiter: W) -> None:
        self.waiter = waiter


class Notified:
    """A notification was delivered to its callbacks; ``results`` are what they returned.

    The asyncio shell runs any awaitable among them as a task.
    """

    __slots__ = ("method", "results")

    def __init__(self, method: str, results: List[Any]) -> None:
        self.method = method
        self.results = results


class MustReply:
    """The server sent a request (the protocol defines none): ``frame`` is the error answer to write."""

    __slots__ = ("frame",)

    def __init__(self, frame: bytes) -> None:
        self.frame = frame


class Ignored:
    """Nothing to do: the late answer to an abandoned call, an unknown id, or an invalid message."""

    __slots__ = ()


_IGNORED = Ignored()

#: What :meth:`Session.next_event` and :meth:`Session.receive` return.
Event = Union[Answered[W], Notified, MustReply, Ignored]


class Session(Generic[W]):
    """The JSON-RPC state of one connection to ``hyperstack-rpc``: ids, waiters, subscribers, failure.

    ``trace(direction, message)`` sees every message built or received.
    """

    def __init__(self, trace: Optional[Tracer] = None) -> None:
        self._trace = trace
        #: Notification callbacks (``on_change``, ``on_notification``).
        self.listeners = Listeners()
        self._frames = FrameBuffer()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: Dict[int, W] = {}
        self._abandoned: Set[int] = set()
        self._streams: Set[Subscriber] = set()
        self._failure: Optional[Callable[[], HyperstackError]] = None
        self._closed = False

    # ------------------------------------------------------------------ sending

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    @property
    def failed(self) -> bool:
        """True once the connection was lost (:meth:`disconnect`)."""
        return self._failure is not None

    def check_usable(self, method: str) -> None:
        """Raise what a call to ``method`` would raise now: :class:`ClientClosed`, or the connection's failure."""
        if self._closed:
            raise ClientClosed(f"cannot send {method}: the client is closed")
        if self._failure is not None:
            raise self._failure()

    def request(self, method: str, params: Any, waiter: W) -> Tuple[int, bytes]:
        """Register ``waiter`` for a new call; returns its id and the frame to write."""
        with self._lock:
            self.check_usable(method)
            request_id = next(self._ids)
            self._pending[request_id] = waiter
        message: Dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        return request_id, self._frame(message)

    def notification(self, method: str, params: Any = None) -> bytes:
        """The frame of a notification, if the connection is still usable."""
        with self._lock:
            self.check_usable(method)
        return self._notification_frame(method, params)

    def abandon(self, request_id: int) -> Optional[bytes]:
        """Give up on a call (timed out, or its task cancelled): its late answer will be ignored.

        Returns the ``$/cancelRequest`` frame to write, or ``None`` if the answer (or a failure)
        already resolved the call, in which case the caller should take that outcome instead.
        """
        with self._lock:
            if self._pending.pop(request_id, None) is None:
                return None
            self._abandoned.add(request_id)
        return self._notification_frame("$/cancelRequest", {"id": request_id})

    def _notification_frame(self, method: str, params: Any) -> bytes:
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        return self._frame(message)

    def _frame(self, message: Dict[str, Any]) -> bytes:
        if self._trace is not None:
            self._trace("send", message)
        return encode_message(message)

    # ---------------------------------------------------------------- receiving

    def feed(self, data: bytes) -> None:
        """Bytes read from the server's output, in order; cut into frames by :meth:`next_event`."""
        self._frames.feed(data)

    @property
    def pending_bytes(self) -> int:
        """Bytes fed but not yet taken out as a whole frame."""
        return self._frames.pending_bytes

    def next_event(self) -> Optional["Event[W]"]:
        """Handle the next whole frame fed, or return ``None`` until more bytes arrive.

        Raises :class:`ProtocolError` if the bytes cannot be a frame or the body is not a
        JSON-RPC message; the connection is then beyond repair (the shell stops the server).
        """
        body = self._frames.next_body()
        if body is None:
            return None
        return self.receive(decode_body(body))

    def end_of_output(self) -> None:
        """The server's output ended: raise :class:`ProtocolError` if it ended inside a frame."""
        self._frames.check_complete()

    def receive(self, message: Dict[str, Any]) -> "Event[W]":
        """Handle one decoded message: resolve its waiter, or run the callbacks of a notification."""
        if self._trace is not None:
            self._trace("recv", message)
        if "method" not in message and "id" in message and (("result" in message) != ("error" in message)):
            return self._answer(message)  # the common case, without a call to classify
        kind = classify(message)
        if kind == "notification":
            return self._notify(message["method"], message.get("params"))
        if kind == "request":
            # The protocol defines no server-to-client requests; answer so the server is not left waiting.
            error = {"code": MethodNotFound.CODE, "message": f"the Python client offers no method {message['method']!r}"}
            return MustReply(self._frame({"jsonrpc": "2.0", "id": message["id"], "error": error}))
        log.warning("ignoring a message that is neither request, response nor notification: %r", message)
        return _IGNORED

    def _answer(self, message: Dict[str, Any]) -> "Event[W]":
        request_id = message["id"]
        with self._lock:
            waiter = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
            if waiter is None and request_id in self._abandoned:
                self._abandoned.discard(request_id)  # the late answer to a timed-out or cancelled call
                return _IGNORED
        if waiter is None:
            log.warning("ignoring a response to unknown request id %r: %r", request_id, message)
            return _IGNORED
        if "error" in message:
            try:
                waiter.fail(error_from_response(message["error"]))
            except ProtocolError as exc:
                waiter.fail(exc)
        else:
            waiter.resolve(message["result"])
        return Answered(waiter)

    def _notify(self, method: str, params: Any) -> Notified:
        change, results = self.listeners.deliver(method, params)
        if change is not None:
            with self._lock:
                streams = list(self._streams)
            for stream in streams:
                stream._push(change)
        return Notified(method, results)

    # ------------------------------------------------------------ subscriptions

    def subscribe(self, stream: Subscriber) -> None:
        """Start pushing changes to ``stream``; a closed or failed session ends it at once."""
        with self._lock:
            if self._closed:
                stream._push(END)
            elif self._failure is not None:
                stream._push(self._failure())
            else:
                self._streams.add(stream)

    def unsubscribe(self, stream: Subscriber) -> None:
        """Stop pushing to ``stream`` (idempotent)."""
        with self._lock:
            self._streams.discard(stream)

    # ------------------------------------------------------------------ failure

    def disconnect(
        self, exit_status: Optional[int], stderr_tail: Sequence[str], broken: Optional[ProtocolError] = None
    ) -> List[W]:
        """The server is gone (``broken``: because it broke the protocol). Fails every waiter and stream.

        Every later call raises the same error: :class:`ProtocolError`, or :class:`ServerDied`
        with the exit status and the last lines of stderr. Returns the waiters failed, to wake.
        """
        tail = tuple(stderr_tail)

        def failure() -> HyperstackError:
            if broken is not None:
                return ProtocolError(str(broken))
            return ServerDied(exit_status, tail)

        with self._lock:
            self._failure = failure
            pending, streams = self._drain()
        for waiter in pending:
            waiter.fail(failure())
        for stream in streams:
            stream._push(failure())
        return pending

    def close(self) -> List[W]:
        """The client closed: pending calls raise :class:`ClientClosed`, streams end. Returns the waiters failed."""
        with self._lock:
            self._closed = True
            pending, streams = self._drain()
        for waiter in pending:
            waiter.fail(ClientClosed(f"the client was closed while {waiter.method} was pending"))
        for stream in streams:
            stream._push(END)
        return pending

    def _drain(self) -> Tuple[List[W], List[Subscriber]]:
        # Called with self._lock held.
        pending = list(self._pending.values())
        self._pending.clear()
        return pending, list(self._streams)

    def write_failed(self, exit_status: Optional[int], stderr_tail: Sequence[str]) -> HyperstackError:
        """The error for a write that found the pipe broken: the recorded failure, else :class:`ServerDied`."""
        failure = self._failure
        if failure is not None:
            return failure()
        return ServerDied(exit_status, stderr_tail)


class _Queue(Protocol):
    def put_nowait(self, item: object) -> None: ...


class ChangeSubscription:
    """What both change streams share: the subscription, its queue, and what each pushed item means.

    ``queue`` is a ``queue.Queue`` or an ``asyncio.Queue``; a shell's stream adds its way of
    waiting on it. Items are pushed on the thread or task that reads the server's output.
    """

    def __init__(self, session: "Session[Any]", timeout: Optional[float], queue: _Queue) -> None:
        self._session = session
        self._timeout = timeout
        self._queue = queue
        self._done = False

    def _push(self, item: object) -> None:
        self._queue.put_nowait(item)

    def _settle(self, item: object) -> Optional[KeyChange]:
        """A change, or ``None`` for the end (the stream closes); an exception pushed is raised."""
        if isinstance(item, KeyChange):
            return item
        self.close()
        if isinstance(item, BaseException):
            raise item
        return None

    def close(self) -> None:
        """Stop receiving changes."""
        self._done = True
        self._session.unsubscribe(self)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
