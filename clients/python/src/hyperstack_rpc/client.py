"""The synchronous client: a caller reads its own answer from the server when nobody else is reading (see ``reading``)."""

from __future__ import annotations

import itertools
import os
import logging
import queue
import subprocess
import threading
from types import TracebackType
from typing import IO, Any, Callable, Dict, Iterator, Mapping, Optional, Sequence, Set, Tuple, Type, Union

from . import calls
from .calls import KEEP, DescriptionArg
from .errors import (
    ClientClosed,
    HyperstackError,
    MethodNotFound,
    ProtocolError,
    ServerDied,
    Timeout,
    error_from_response,
)
from .framing import encode_message
from .launch import StderrTail, build_command
from .listeners import Listeners, Tracer, classify
from .models import ApiKey, Deleted, GeneratedKey, KeyChange, KeyList
from .reading import OutputReader

__all__ = ["Client", "ChangeStream"]

log = logging.getLogger("hyperstack_rpc")

_END = object()  # queued to a ChangeStream when the client closes


class _PendingCall:
    """One call waiting for its answer; resolved exactly once, by whoever pops it from ``Client._pending``."""

    __slots__ = ("method", "owner", "done", "_result", "_error")

    def __init__(self, method: str) -> None:
        self.method = method
        #: The thread that made the call; resolving someone else's call must wake them.
        self.owner = threading.get_ident()
        self.done = False
        self._result: Any = None
        self._error: Optional[BaseException] = None

    def resolve(self, result: Any) -> None:
        self._result = result
        self.done = True

    def fail(self, error: BaseException) -> None:
        self._error = error
        self.done = True

    def outcome(self) -> Any:
        """The result, or raise the error; only once ``done``."""
        if self._error is not None:
            raise self._error
        return self._result


class Client:
    """A running ``hyperstack-rpc`` server and a blocking JSON-RPC connection to it.

    Constructing a ``Client`` spawns the server and performs the ``initialize``
    handshake; ``close()`` (or leaving a ``with`` block) sends ``shutdown`` and
    ``exit`` and reaps the process. Methods may be called from several threads
    at once. Notification callbacks run on whichever thread is reading the
    server's output (a caller waiting for its answer, or the client's background
    reader when no call is waiting) and must not call back into the client (that
    would wait on the thread that has to deliver the answer; the client raises
    ``RuntimeError`` instead).

    ``timeout`` is the default per-call timeout in seconds (``None``: wait as
    long as the server lives). A server that dies never leaves a call hanging:
    every pending and later call raises :class:`ServerDied`.
    """

    def __init__(
        self,
        binary: Optional[str] = None,
        *,
        sandbox: bool = False,
        sandbox_state: Optional[str] = None,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        extra_args: Sequence[str] = (),
        env: Optional[Mapping[str, Optional[str]]] = None,
        timeout: Optional[float] = None,
        startup_timeout: float = 30.0,
        shutdown_grace: float = 3.0,
        client_name: str = "hyperstack-rpc-python",
        trace: Optional[Tracer] = None,
        cwd: Optional[str] = None,
    ) -> None:
        argv, child_env = build_command(
            binary,
            sandbox=sandbox,
            sandbox_state=sandbox_state,
            api_key=api_key,
            base_url=base_url,
            extra_args=extra_args,
            env=env,
        )
        self.argv: Tuple[str, ...] = tuple(argv)
        self._default_timeout = timeout
        self._grace = shutdown_grace
        self._trace = trace
        self._listeners = Listeners()
        self._tail = StderrTail()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: Dict[int, _PendingCall] = {}
        self._abandoned: Set[int] = set()
        self._streams: Set[ChangeStream] = set()
        self._failure: Optional[Callable[[], HyperstackError]] = None
        self._closed = False
        self._closing = False
        self._disconnected = threading.Event()

        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env,
            cwd=cwd,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None and self._proc.stderr is not None
        self._stdin: IO[bytes] = self._proc.stdin
        self._stdin_fd = self._stdin.fileno()
        self._stdout: IO[bytes] = self._proc.stdout
        self._stderr: IO[bytes] = self._proc.stderr
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name=f"hyperstack-rpc-stderr-{self._proc.pid}", daemon=True
        )
        self._output = OutputReader(self._stdout.fileno(), self._dispatch, self._on_output_end)
        self._reader = threading.Thread(
            target=self._output.run_background, name=f"hyperstack-rpc-reader-{self._proc.pid}", daemon=True
        )
        self._stderr_thread.start()
        self._reader.start()

        try:
            result = self.request("initialize", calls.initialize_params(client_name), timeout=startup_timeout)
            if not isinstance(result, dict):
                raise ProtocolError(f"initialize result should be an object but is {result!r}")
            #: ``initialize``'s answer: ``serverInfo`` and ``capabilities``.
            self.server_info: Dict[str, Any] = result
            self.notify("initialized", {})
        except BaseException:
            self._abort()
            raise

    # ----------------------------------------------------------------- lifecycle

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._proc.pid

    @property
    def returncode(self) -> Optional[int]:
        """The server's exit status once it has been reaped (Popen convention), else ``None``."""
        return self._proc.returncode

    @property
    def stderr_tail(self) -> Tuple[str, ...]:
        """The last (up to 50) lines the server wrote to stderr."""
        return self._tail.lines()

    @property
    def stderr_bytes(self) -> int:
        """How many bytes of stderr have been drained from the server so far."""
        return self._tail.total_bytes

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def close(self) -> None:
        """Shut the server down politely (``shutdown`` then ``exit``) and reap it, killing it after the grace period.

        Idempotent. Pending calls raise :class:`ClientClosed`.
        """
        with self._lock:
            if self._closed or self._closing:
                return
            self._closing = True
        if not self._disconnected.is_set():
            try:
                self.request("shutdown", None, timeout=self._grace)
                self.notify("exit")
            except (HyperstackError, OSError) as exc:
                log.debug("polite shutdown failed (%s); the server will be stopped", exc)
        self._finish()

    def _abort(self) -> None:
        """Stop at once (failed startup): no handshake, kill."""
        with self._lock:
            self._closing = True
        self._kill()
        self._finish()

    def _finish(self) -> None:
        try:
            with self._write_lock:
                self._stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=self._grace)
        except subprocess.TimeoutExpired:
            log.warning("hyperstack-rpc (pid %d) did not exit within %g s; killing it", self._proc.pid, self._grace)
            self._kill()
        self._reader.join(timeout=self._grace + 5)
        self._stderr_thread.join(timeout=5)
        with self._lock:
            self._closed = True
            pending = list(self._pending.values())
            self._pending.clear()
            streams = list(self._streams)
        for call in pending:
            call.fail(ClientClosed(f"the client was closed while {call.method} was pending"))
        self._output.signal()
        for stream in streams:
            stream._push(_END)
        for pipe in (self._stdout, self._stderr):
            try:
                pipe.close()
            except OSError:
                pass

    def _kill(self) -> None:
        if self._proc.poll() is None:
            try:
                self._proc.kill()
            except OSError:
                pass
        self._proc.wait()

    # ------------------------------------------------------------------- calling

    def request(self, method: str, params: Any = None, timeout: Optional[float] = None) -> Any:
        """Call ``method`` and return its raw ``result``.

        ``timeout`` (seconds) overrides the client default for this call. On
        timeout the client sends ``$/cancelRequest``, ignores the late answer and
        raises :class:`Timeout`. Error responses raise the :class:`RpcError`
        subclass for their code.
        """
        if self._output.on_reading_thread:
            raise RuntimeError("a notification callback cannot call the client: it runs on the thread that reads answers")
        wait = self._default_timeout if timeout is None else timeout
        call = _PendingCall(method)
        with self._lock:
            self._check_usable(method)
            request_id = next(self._ids)
            self._pending[request_id] = call
        message: Dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        if self._output.wait_until(lambda: call.done, wait):
            return call.outcome()
        with self._lock:
            still_pending = self._pending.pop(request_id, None) is not None
            if still_pending:
                self._abandoned.add(request_id)
        if not still_pending:  # the answer (or the server's death) won the race
            self._output.wait_until(lambda: call.done, None)
            return call.outcome()
        try:
            self.notify("$/cancelRequest", {"id": request_id})
        except HyperstackError:
            pass
        assert wait is not None
        raise Timeout.after(method, wait)

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer is expected)."""
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        with self._lock:
            self._check_usable(method)
        self._send(message)

    def _check_usable(self, method: str) -> None:
        # Called with self._lock held.
        if self._closed:
            raise ClientClosed(f"cannot send {method}: the client is closed")
        if self._failure is not None:
            raise self._failure()

    def _send(self, message: Dict[str, Any]) -> None:
        if self._trace is not None:
            self._trace("send", message)
        frame = encode_message(message)
        try:
            with self._write_lock:
                # Straight to the descriptor: no buffer to copy into and flush. The check is under
                # the lock that close() takes too, so a recycled descriptor number is never written.
                if self._stdin.closed:
                    raise ValueError("the server's stdin is closed")
                view = memoryview(frame)
                while view:
                    view = view[os.write(self._stdin_fd, view) :]
        except (OSError, ValueError):
            # The pipe broke: the server is gone. Wait for the reader to reap it so the error can say why.
            self._disconnected.wait(timeout=self._grace + 5)
            with self._lock:
                failure = self._failure
            if failure is not None:
                raise failure() from None
            raise ServerDied(self._proc.poll(), self._tail.lines()) from None

    # ------------------------------------------------------------------- reading

    def _on_output_end(self, broken: Optional[ProtocolError]) -> None:
        """The server's output ended or broke the protocol (called once, on the reading thread)."""
        if broken is not None:
            log.error("hyperstack-rpc broke the protocol, stopping it: %s", broken)
            self._kill()
        self._on_disconnect(broken)

    def _on_disconnect(self, broken: Optional[ProtocolError]) -> None:
        try:
            status = self._proc.wait(timeout=self._grace)
        except subprocess.TimeoutExpired:
            log.warning("hyperstack-rpc closed its output but kept running; killing it")
            self._kill()
            status = self._proc.returncode
        self._stderr_thread.join(timeout=5)
        tail = self._tail.lines()

        def failure() -> HyperstackError:
            if broken is not None:
                return ProtocolError(str(broken))
            return ServerDied(status, tail)

        with self._lock:
            self._failure = failure
            pending = list(self._pending.values())
            self._pending.clear()
            streams = list(self._streams)
        self._disconnected.set()
        for call in pending:
            call.fail(failure())
        self._output.signal()
        for stream in streams:
            stream._push(failure())

    def _dispatch(self, message: Dict[str, Any]) -> None:
        if self._trace is not None:
            self._trace("recv", message)
        if "method" not in message and "id" in message and (("result" in message) != ("error" in message)):
            self._resolve(message)  # the common case, without a call to classify
            return
        kind = classify(message)
        if kind == "response":
            self._resolve(message)
        elif kind == "notification":
            change, _results = self._listeners.deliver(message["method"], message.get("params"))
            if change is not None:
                with self._lock:
                    streams = list(self._streams)
                for stream in streams:
                    stream._push(change)
        elif kind == "request":
            # The protocol defines no server-to-client requests; answer so the server is not left waiting.
            error = {"code": MethodNotFound.CODE, "message": f"the Python client offers no method {message['method']!r}"}
            try:
                self._send({"jsonrpc": "2.0", "id": message["id"], "error": error})
            except HyperstackError:
                pass
        else:
            log.warning("ignoring a message that is neither request, response nor notification: %r", message)

    def _resolve(self, message: Dict[str, Any]) -> None:
        request_id = message["id"]
        with self._lock:
            entry = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
            if entry is None:
                if request_id in self._abandoned:
                    self._abandoned.discard(request_id)  # the late answer to a timed-out call
                    return
        if entry is None:
            log.warning("ignoring a response to unknown request id %r: %r", request_id, message)
            return
        if "error" in message:
            try:
                entry.fail(error_from_response(message["error"]))
            except ProtocolError as exc:
                entry.fail(exc)
        else:
            entry.resolve(message["result"])
        if entry.owner != threading.get_ident():
            self._output.signal()

    def _drain_stderr(self) -> None:
        read1 = getattr(self._stderr, "read1", self._stderr.read)
        try:
            while True:
                chunk = read1(65536)
                if not chunk:
                    break
                self._tail.feed(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self._tail.finish()

    # ------------------------------------------------------------ notifications

    def on_change(self, callback: Callable[[KeyChange], Any]) -> Callable[[], None]:
        """Call ``callback(change)`` for every ``apiKeys.didChange``; returns a function that unregisters it.

        The callback runs on the thread reading the server's output, before the
        answer of the call that caused the change is delivered.
        """
        return self._listeners.add_change(callback)

    def on_notification(self, method: str, callback: Callable[[Any], Any]) -> Callable[[], None]:
        """Call ``callback(params)`` for every notification named ``method``; returns an unregister function."""
        return self._listeners.add_notification(method, callback)

    def changes(self, timeout: Optional[float] = None) -> "ChangeStream":
        """Iterate over ``apiKeys.didChange`` notifications from now on.

        Subscribes immediately, so changes caused by calls made after this
        returns are never missed. Iteration ends when no change arrives for
        ``timeout`` seconds (``None``: never) or when the client closes; it raises
        :class:`ServerDied` if the server dies.
        """
        stream = ChangeStream(self, timeout)
        with self._lock:
            if self._closed:
                stream._push(_END)
            elif self._failure is not None:
                stream._push(self._failure())
            else:
                self._streams.add(stream)
        return stream

    def _unsubscribe(self, stream: "ChangeStream") -> None:
        with self._lock:
            self._streams.discard(stream)

    # ----------------------------------------------------------------- typed API

    def list(self, refresh: bool = False, max_age: Optional[float] = None, *, timeout: Optional[float] = None) -> KeyList:
        """``apiKeys.list``: the keys, from cache unless ``refresh`` or older than ``max_age`` seconds."""
        return KeyList.from_json(self.request("apiKeys.list", calls.list_params(refresh, max_age), timeout))

    def generate(self, name: str, description: Optional[str] = None, *, timeout: Optional[float] = None) -> GeneratedKey:
        """``apiKeys.generate``: create a key; the result holds its secret, which is never shown again."""
        return GeneratedKey.from_json(self.request("apiKeys.generate", calls.generate_params(name, description), timeout))

    def update(
        self, id: int, name: str, description: DescriptionArg = KEEP, *, timeout: Optional[float] = None
    ) -> ApiKey:
        """``apiKeys.update``: rename a key; ``description=None`` clears it, the default :data:`KEEP` leaves it."""
        result = self.request("apiKeys.update", calls.update_params(id, name, description), timeout)
        if not isinstance(result, dict):
            raise ProtocolError(f"apiKeys.update result should be an object but is {result!r}")
        return ApiKey.from_json(result.get("key"), "result.key")

    def delete(self, id: int, *, timeout: Optional[float] = None) -> Deleted:
        """``apiKeys.delete``: remove a key."""
        return Deleted.from_json(self.request("apiKeys.delete", {"id": id}, timeout))

    def watch(self, interval: float, *, timeout: Optional[float] = None) -> float:
        """``apiKeys.watch``: poll upstream every ``interval`` seconds (0 stops); returns the interval in force."""
        return calls.parse_watch(self.request("apiKeys.watch", {"interval": interval}, timeout))

    def ping(self, *, timeout: Optional[float] = None) -> None:
        """``$/ping``: check the server is alive and answering."""
        calls.check_ping(self.request("$/ping", None, timeout))


class ChangeStream(Iterator[KeyChange]):
    """An iterator over a :class:`Client`'s ``apiKeys.didChange`` notifications (see :meth:`Client.changes`).

    Buffers every change since it was created. ``close()`` (or a ``with``
    block) stops the subscription.
    """

    def __init__(self, client: Client, timeout: Optional[float]) -> None:
        self._client = client
        self._timeout = timeout
        self._queue: "queue.Queue[Union[KeyChange, BaseException, object]]" = queue.Queue()
        self._done = False

    def _push(self, item: Union[KeyChange, BaseException, object]) -> None:
        self._queue.put(item)

    def __iter__(self) -> "ChangeStream":
        return self

    def __next__(self) -> KeyChange:
        change = self._take(self._timeout)
        if change is None:
            self.close()
            raise StopIteration
        return change

    def get(self, timeout: Optional[float] = None) -> Optional[KeyChange]:
        """The next change, waiting at most ``timeout`` seconds (default: the stream's); ``None`` if none came.

        Unlike iteration, running out of time does not end the stream.
        """
        return self._take(self._timeout if timeout is None else timeout)

    def _take(self, timeout: Optional[float]) -> Optional[KeyChange]:
        if self._done:
            return None
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(item, KeyChange):
            return item
        self.close()
        if isinstance(item, BaseException):
            raise item
        return None

    def close(self) -> None:
        """Stop receiving changes."""
        self._done = True
        self._client._unsubscribe(self)

    def __enter__(self) -> "ChangeStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
