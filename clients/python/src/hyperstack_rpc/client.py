"""The synchronous client: a thin I/O shell around the session, whose callers read their own answers.

The protocol state (ids, waiters, answers, notifications, failure) is the sans-I/O
:class:`~hyperstack_rpc.session.Session`; the options and the I/O-free surface come from
:class:`~hyperstack_rpc.client_base.ClientBase`. What is left here is the blocking I/O: a
process, a write lock, and the reader of ``reading`` (a caller waiting for its answer reads the
pipe itself when nobody else is reading).
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import threading
from types import TracebackType
from typing import IO, Any, Iterator, Optional, Type, TypeVar

from . import calls
from .calls import KEEP, Call, DescriptionArg, SecretFileArg
from .client_base import ClientBase
from .errors import ClientClosed, HyperstackError, ProtocolError, Timeout
from .models import ApiKey, Deleted, GeneratedKey, KeyChange, KeyList
from .reading import OutputReader
from .session import Answered, ChangeSubscription, Event, MustReply

__all__ = ["Client", "ChangeStream"]

log = logging.getLogger("hyperstack_rpc")

T = TypeVar("T")


class _PendingCall:
    """One call waiting for its answer; resolved exactly once, by the session."""

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


class Client(ClientBase[_PendingCall]):
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

    def _open(self) -> None:
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closing = False
        self._disconnected = threading.Event()
        self._proc = self._launch.popen()
        assert self._proc.stdin is not None and self._proc.stdout is not None and self._proc.stderr is not None
        self._stdin: IO[bytes] = self._proc.stdin
        self._stdin_fd = self._stdin.fileno()
        self._stdout: IO[bytes] = self._proc.stdout
        self._stderr: IO[bytes] = self._proc.stderr
        self._stderr_thread = threading.Thread(
            target=self._tail.drain, args=(self._stderr,), name=f"hyperstack-rpc-stderr-{self._proc.pid}", daemon=True
        )
        self._output = OutputReader(self._stdout.fileno(), self._session, self._on_event, self._on_output_end)
        self._reader = threading.Thread(
            target=self._output.run_background, name=f"hyperstack-rpc-reader-{self._proc.pid}", daemon=True
        )
        self._stderr_thread.start()
        self._reader.start()
        try:
            self.server_info = self._call(calls.initialize(self._client_name), self._startup_timeout)
            self.notify("initialized", {})
        except BaseException:
            self._abort()
            raise

    # ----------------------------------------------------------------- lifecycle

    def _process(self) -> "subprocess.Popen[bytes]":
        return self._proc

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
            if self._session.closed or self._closing:
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
        self._session.close()
        self._output.signal()
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
        wait = self._wait_for(timeout)
        call = _PendingCall(method)
        request_id, frame = self._session.request(method, params, call)
        self._write(frame)
        if self._output.wait_until(lambda: call.done, wait):
            return call.outcome()
        cancel = self._session.abandon(request_id)
        if cancel is None:  # the answer (or the server's death) won the race
            self._output.wait_until(lambda: call.done, None)
            return call.outcome()
        self._write_quietly(cancel)
        assert wait is not None
        raise Timeout.after(method, wait)

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer is expected)."""
        self._write(self._session.notification(method, params))

    def _call(self, call: Call[T], timeout: Optional[float]) -> T:
        return call.parse(self.request(call.method, call.params, timeout))

    def _write(self, frame: bytes) -> None:
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
            raise self._session.write_failed(self._proc.poll(), self._tail.lines()) from None

    def _write_quietly(self, frame: bytes) -> None:
        """Write a frame nobody waits on (a cancel, an error answer): a dead server is reported elsewhere."""
        try:
            self._write(frame)
        except HyperstackError:
            pass

    # ------------------------------------------------------------------- reading

    def _on_event(self, event: "Event[_PendingCall]") -> None:
        """React to what the session made of a message (on the reading thread)."""
        if type(event) is Answered:
            if event.waiter.owner != threading.get_ident():
                self._output.signal()
        elif type(event) is MustReply:
            self._write_quietly(event.frame)

    def _on_output_end(self, broken: Optional[ProtocolError]) -> None:
        """The server's output ended or broke the protocol (called once, on the reading thread)."""
        if broken is not None:
            log.error("hyperstack-rpc broke the protocol, stopping it: %s", broken)
            self._kill()
        try:
            status = self._proc.wait(timeout=self._grace)
        except subprocess.TimeoutExpired:
            log.warning("hyperstack-rpc closed its output but kept running; killing it")
            self._kill()
            status = self._proc.returncode
        self._stderr_thread.join(timeout=5)
        self._session.disconnect(status, self._tail.lines(), broken)
        self._disconnected.set()
        self._output.signal()

    # ------------------------------------------------------------ notifications

    def changes(self, timeout: Optional[float] = None) -> "ChangeStream":
        """Iterate over ``apiKeys.didChange`` notifications from now on.

        Subscribes immediately, so changes caused by calls made after this
        returns are never missed. Iteration ends when no change arrives for
        ``timeout`` seconds (``None``: never) or when the client closes; it raises
        :class:`ServerDied` if the server dies.
        """
        return self._subscribe(ChangeStream(self, timeout))

    # ----------------------------------------------------------------- typed API

    def list(self, refresh: bool = False, max_age: Optional[float] = None, *, timeout: Optional[float] = None) -> KeyList:
        """``apiKeys.list``: the keys, from cache unless ``refresh`` or older than ``max_age`` seconds."""
        return self._call(calls.list_keys(refresh, max_age), timeout)

    def generate(
        self,
        name: str,
        description: Optional[str] = None,
        *,
        secret_file: SecretFileArg = None,
        timeout: Optional[float] = None,
    ) -> GeneratedKey:
        """``apiKeys.generate``: create a key; the result holds its secret, which is never shown again.

        With ``secret_file``, the server writes the secret to that **new** file instead (mode 0600,
        never overwriting) and the result has ``secret_file``, the absolute path, and ``secret=None``,
        so the secret never crosses the pipe or a ``trace=`` hook. A relative path resolves inside
        the server's ``--secrets-dir``; an absolute one must lie under it or an ``--allow-secrets-in``
        directory. A refused path raises :class:`InvalidParams` (``data["field"] == "secretFile"``)
        before any key is created; :class:`SecretNotWritten` (1505) means the key was created but
        the write failed: delete ``exc.key_id``. :attr:`supports_secret_file` says whether the server
        takes it (older servers answer -32602).
        """
        return self._call(calls.generate(name, description, secret_file), timeout)

    def update(
        self, id: int, name: str, description: DescriptionArg = KEEP, *, timeout: Optional[float] = None
    ) -> ApiKey:
        """``apiKeys.update``: rename a key; ``description=None`` clears it, the default :data:`KEEP` leaves it."""
        return self._call(calls.update(id, name, description), timeout)

    def delete(self, id: int, *, timeout: Optional[float] = None) -> Deleted:
        """``apiKeys.delete``: remove a key."""
        return self._call(calls.delete(id), timeout)

    def watch(self, interval: float, *, timeout: Optional[float] = None) -> float:
        """``apiKeys.watch``: poll upstream every ``interval`` seconds (0 stops); returns the interval in force."""
        return self._call(calls.watch(interval), timeout)

    def ping(self, *, timeout: Optional[float] = None) -> None:
        """``$/ping``: check the server is alive and answering."""
        self._call(calls.ping(), timeout)


class ChangeStream(ChangeSubscription, Iterator[KeyChange]):
    """An iterator over a :class:`Client`'s ``apiKeys.didChange`` notifications (see :meth:`Client.changes`).

    Buffers every change since it was created. ``close()`` (or a ``with``
    block) stops the subscription.
    """

    _queue: "queue.Queue[object]"

    def __init__(self, client: Client, timeout: Optional[float]) -> None:
        super().__init__(client._session, timeout, queue.Queue())

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
            return self._settle(self._queue.get(timeout=timeout))
        except queue.Empty:
            return None

    def __enter__(self) -> "ChangeStream":
        return self
