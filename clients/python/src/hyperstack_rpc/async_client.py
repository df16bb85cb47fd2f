"""The asyncio client: a thin I/O shell around the session, on asyncio subprocess streams.

The protocol state (ids, waiters, answers, notifications, failure) is the sans-I/O
:class:`~hyperstack_rpc.session.Session`, and the options and the I/O-free surface come from
:class:`~hyperstack_rpc.client_base.ClientBase`, exactly as for :class:`~hyperstack_rpc.Client`.
What is left here is the asyncio I/O: a reader task, a stderr task, futures and cancellation.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from types import TracebackType
from typing import Any, AsyncIterator, Optional, Set, Type, TypeVar

from . import calls
from .calls import KEEP, Call, DescriptionArg, SecretFileArg
from .client_base import ClientBase
from .errors import HyperstackError, ProtocolError, Timeout
from .models import ApiKey, Deleted, GeneratedKey, KeyChange, KeyList
from .session import ChangeSubscription, Event, MustReply, Notified

__all__ = ["AsyncClient", "AsyncChangeStream"]

log = logging.getLogger("hyperstack_rpc")

T = TypeVar("T")


class _FutureWaiter:
    """A call's future, as the session's waiter; a future already cancelled is left alone."""

    __slots__ = ("method", "future")

    def __init__(self, method: str, future: "asyncio.Future[Any]") -> None:
        self.method = method
        self.future = future

    def resolve(self, result: Any) -> None:
        if not self.future.done():
            self.future.set_result(result)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


class AsyncClient(ClientBase[_FutureWaiter]):
    """A running ``hyperstack-rpc`` server and an asyncio JSON-RPC connection to it.

    Nothing is spawned until ``await client.start()`` or ``async with
    AsyncClient(...) as client``; ``await client.close()`` (or leaving the block)
    sends ``shutdown`` and ``exit`` and reaps the process, killing it after
    ``shutdown_grace`` seconds. Use it from one event loop only. Notification
    callbacks run in the reader task; a callback may return an awaitable, which
    is scheduled as a task. Options are those of :class:`~hyperstack_rpc.Client`.
    """

    def _open(self) -> None:
        self._background: Set["asyncio.Future[Any]"] = set()
        self._started = False
        self._closing = False
        self._proc: Optional[asyncio.subprocess.Process] = None

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> "AsyncClient":
        """Spawn the server and perform the ``initialize`` handshake. Returns ``self``."""
        if self._started:
            raise RuntimeError("this AsyncClient was already started")
        self._started = True
        # Created here, not in __init__: before Python 3.10 these bind to the loop current at creation.
        self._write_lock = asyncio.Lock()
        self._disconnected = asyncio.Event()
        self._proc = await self._launch.spawn()
        assert self._proc.stdin is not None and self._proc.stdout is not None and self._proc.stderr is not None
        self._stdin = self._proc.stdin
        self._stdout = self._proc.stdout
        self._stderr = self._proc.stderr
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        self._reader_task = asyncio.ensure_future(self._read_loop())
        try:
            self.server_info = await self._call(calls.initialize(self._client_name), self._startup_timeout)
            await self.notify("initialized", {})
        except BaseException:
            await self._abort()
            raise
        return self

    def _process(self) -> asyncio.subprocess.Process:
        if self._proc is None:
            raise RuntimeError("the AsyncClient has not been started; use 'async with' or 'await client.start()'")
        return self._proc

    async def __aenter__(self) -> "AsyncClient":
        return await self.start()

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Shut the server down politely (``shutdown`` then ``exit``) and reap it, killing it after the grace period.

        Idempotent. Pending calls raise :class:`ClientClosed`.
        """
        if self._session.closed or self._closing or self._proc is None:
            return
        self._closing = True
        if not self._disconnected.is_set():
            try:
                await self.request("shutdown", None, timeout=self._grace)
                await self.notify("exit")
            except (HyperstackError, OSError) as exc:
                log.debug("polite shutdown failed (%s); the server will be stopped", exc)
        await self._finish()

    async def _abort(self) -> None:
        self._closing = True
        await self._kill()
        await self._finish()

    async def _finish(self) -> None:
        proc = self._process()
        try:
            self._stdin.close()
        except OSError:
            pass
        try:
            await asyncio.wait_for(proc.wait(), self._grace)
        except asyncio.TimeoutError:
            log.warning("hyperstack-rpc (pid %d) did not exit within %g s; killing it", proc.pid, self._grace)
            await self._kill()
        for task in (self._reader_task, self._stderr_task):
            try:
                await asyncio.wait_for(asyncio.shield(task), self._grace + 5)
            except (asyncio.TimeoutError, Exception) as exc:  # never let cleanup mask the caller's error
                log.debug("background task did not finish cleanly: %r", exc)
        self._session.close()

    async def _kill(self) -> None:
        proc = self._process()
        if proc.returncode is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            log.error("hyperstack-rpc (pid %d) survived SIGKILL for 10 s", proc.pid)

    # ------------------------------------------------------------------- calling

    async def request(self, method: str, params: Any = None, timeout: Optional[float] = None) -> Any:
        """Call ``method`` and return its raw ``result``.

        ``timeout`` (seconds) overrides the client default for this call. On
        timeout, or if the awaiting task is cancelled, the client sends
        ``$/cancelRequest`` and ignores the late answer; a timeout raises
        :class:`Timeout`. Error responses raise the :class:`RpcError` subclass for
        their code.
        """
        self._check_started()
        wait = self._wait_for(timeout)
        future: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        request_id, frame = self._session.request(method, params, _FutureWaiter(method, future))
        try:
            await self._write(frame)
            return await asyncio.wait_for(asyncio.shield(future), wait)
        except asyncio.TimeoutError:
            cancel = self._session.abandon(request_id)
            if cancel is None:
                return await future  # the answer (or the server's death) won the race
            await self._write_quietly(cancel)
            assert wait is not None
            raise Timeout.after(method, wait) from None
        except asyncio.CancelledError:
            cancel = self._session.abandon(request_id)
            if cancel is not None:
                self._keep(asyncio.ensure_future(self._write_quietly(cancel)))
            raise
        finally:
            if future.done() and not future.cancelled():
                future.exception()  # mark retrieved: no "exception was never retrieved" noise

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer is expected)."""
        self._check_started()
        await self._write(self._session.notification(method, params))

    async def _call(self, call: Call[T], timeout: Optional[float]) -> T:
        return call.parse(await self.request(call.method, call.params, timeout))

    def _check_started(self) -> None:
        if not self._started:
            raise RuntimeError("the AsyncClient has not been started; use 'async with' or 'await client.start()'")

    async def _write(self, frame: bytes) -> None:
        try:
            if self._stdin.is_closing():
                raise BrokenPipeError("the server's stdin is closed")
            self._stdin.write(frame)
            async with self._write_lock:  # concurrent drain() calls are not allowed before Python 3.10
                await self._stdin.drain()
        except (ConnectionError, OSError):
            # The pipe broke: the server is gone. Wait for the reader to reap it so the error can say why.
            try:
                await asyncio.wait_for(self._disconnected.wait(), self._grace + 5)
            except asyncio.TimeoutError:
                pass
            raise self._session.write_failed(self._process().returncode, self._tail.lines()) from None

    async def _write_quietly(self, frame: bytes) -> None:
        """Write a frame nobody waits on (a cancel, an error answer): a dead server is reported elsewhere."""
        try:
            await self._write(frame)
        except HyperstackError:
            pass

    # ------------------------------------------------------------------- reading

    async def _read_loop(self) -> None:
        broken: Optional[ProtocolError] = None
        session = self._session
        try:
            while True:
                chunk = await self._stdout.read(65536)
                if not chunk:
                    session.end_of_output()  # a frame cut off by the end is a protocol error
                    break
                session.feed(chunk)
                while True:
                    event = session.next_event()
                    if event is None:
                        break
                    self._on_event(event)
        except ProtocolError as exc:
            broken = exc
        except (ConnectionError, OSError):
            pass
        if broken is not None:
            log.error("hyperstack-rpc broke the protocol, stopping it: %s", broken)
            await self._kill()
        await self._on_disconnect(broken)

    def _on_event(self, event: "Event[_FutureWaiter]") -> None:
        """React to what the session made of a message: run awaitable callback results, answer requests."""
        if type(event) is Notified:
            for result in event.results:
                if inspect.isawaitable(result):
                    self._keep(asyncio.ensure_future(result))
        elif type(event) is MustReply:
            self._keep(asyncio.ensure_future(self._write_quietly(event.frame)))

    async def _on_disconnect(self, broken: Optional[ProtocolError]) -> None:
        proc = self._process()
        try:
            await asyncio.wait_for(proc.wait(), self._grace)
        except asyncio.TimeoutError:
            log.warning("hyperstack-rpc closed its output but kept running; killing it")
            await self._kill()
        try:
            await asyncio.wait_for(asyncio.shield(self._stderr_task), 5)
        except asyncio.TimeoutError:
            pass
        self._session.disconnect(proc.returncode, self._tail.lines(), broken)
        self._disconnected.set()

    async def _drain_stderr(self) -> None:
        try:
            while True:
                chunk = await self._stderr.read(65536)
                if not chunk:
                    break
                self._tail.feed(chunk)
        except (ConnectionError, OSError):
            pass
        finally:
            self._tail.finish()

    def _keep(self, task: "asyncio.Future[Any]") -> None:
        """Hold a reference to a background task until it ends, logging its failure."""
        self._background.add(task)

        def done(finished: "asyncio.Future[Any]") -> None:
            self._background.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("background task failed: %r", finished.exception())

        task.add_done_callback(done)

    # ------------------------------------------------------------ notifications

    def changes(self, timeout: Optional[float] = None) -> "AsyncChangeStream":
        """Iterate (``async for``) over ``apiKeys.didChange`` notifications from now on.

        Subscribes immediately. Iteration ends when no change arrives for
        ``timeout`` seconds (``None``: never) or when the client closes; it raises
        :class:`ServerDied` if the server dies.
        """
        return self._subscribe(AsyncChangeStream(self, timeout))

    # ----------------------------------------------------------------- typed API

    async def list(
        self, refresh: bool = False, max_age: Optional[float] = None, *, timeout: Optional[float] = None
    ) -> KeyList:
        """``apiKeys.list``: the keys, from cache unless ``refresh`` or older than ``max_age`` seconds."""
        return await self._call(calls.list_keys(refresh, max_age), timeout)

    async def generate(
        self,
        name: str,
        description: Optional[str] = None,
        *,
        secret_file: SecretFileArg = None,
        timeout: Optional[float] = None,
    ) -> GeneratedKey:
        """``apiKeys.generate``: create a key; the result holds its secret, which is never shown again.

        With ``secret_file``, the server writes the secret to that new file (mode 0600; a relative
        path lands in its ``--secrets-dir``) and the result has ``secret_file`` and no secret; see
        :meth:`Client.generate`.
        """
        return await self._call(calls.generate(name, description, secret_file), timeout)

    async def update(
        self, id: int, name: str, description: DescriptionArg = KEEP, *, timeout: Optional[float] = None
    ) -> ApiKey:
        """``apiKeys.update``: rename a key; ``description=None`` clears it, the default :data:`KEEP` leaves it."""
        return await self._call(calls.update(id, name, description), timeout)

    async def delete(self, id: int, *, timeout: Optional[float] = None) -> Deleted:
        """``apiKeys.delete``: remove a key."""
        return await self._call(calls.delete(id), timeout)

    async def watch(self, interval: float, *, timeout: Optional[float] = None) -> float:
        """``apiKeys.watch``: poll upstream every ``interval`` seconds (0 stops); returns the interval in force."""
        return await self._call(calls.watch(interval), timeout)

    async def ping(self, *, timeout: Optional[float] = None) -> None:
        """``$/ping``: check the server is alive and answering."""
        await self._call(calls.ping(), timeout)


class AsyncChangeStream(ChangeSubscription, AsyncIterator[KeyChange]):
    """An async iterator over an :class:`AsyncClient`'s ``apiKeys.didChange`` notifications.

    Buffers every change since it was created. ``close()`` (or ``with`` /
    ``async with``) stops the subscription.
    """

    _queue: "asyncio.Queue[object]"

    def __init__(self, client: AsyncClient, timeout: Optional[float]) -> None:
        super().__init__(client._session, timeout, asyncio.Queue())

    def __aiter__(self) -> "AsyncChangeStream":
        return self

    async def __anext__(self) -> KeyChange:
        change = await self._take(self._timeout)
        if change is None:
            self.close()
            raise StopAsyncIteration
        return change

    async def get(self, timeout: Optional[float] = None) -> Optional[KeyChange]:
        """The next change, waiting at most ``timeout`` seconds (default: the stream's); ``None`` if none came.

        Unlike iteration, running out of time does not end the stream.
        """
        return await self._take(self._timeout if timeout is None else timeout)

    async def _take(self, timeout: Optional[float]) -> Optional[KeyChange]:
        if self._done:
            return None
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            return None
        return self._settle(item)

    def __enter__(self) -> "AsyncChangeStream":
        return self

    async def __aenter__(self) -> "AsyncChangeStream":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()
