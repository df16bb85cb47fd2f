"""The asyncio client: the same surface as :class:`~hyperstack_rpc.Client`, on asyncio subprocess streams."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
from types import TracebackType
from typing import Any, AsyncIterator, Callable, Dict, Mapping, Optional, Sequence, Set, Tuple, Type, Union

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
from .framing import FrameBuffer, decode_body, encode_message
from .launch import StderrTail, build_command
from .listeners import Listeners, Tracer, classify
from .models import ApiKey, Deleted, GeneratedKey, KeyChange, KeyList

__all__ = ["AsyncClient", "AsyncChangeStream"]

log = logging.getLogger("hyperstack_rpc")

_END = object()  # queued to an AsyncChangeStream when the client closes


class AsyncClient:
    """A running ``hyperstack-rpc`` server and an asyncio JSON-RPC connection to it.

    Nothing is spawned until ``await client.start()`` or ``async with
    AsyncClient(...) as client``; ``await client.close()`` (or leaving the block)
    sends ``shutdown`` and ``exit`` and reaps the process, killing it after
    ``shutdown_grace`` seconds. Use it from one event loop only. Notification
    callbacks run in the reader task; a callback may return an awaitable, which
    is scheduled as a task. Options are those of :class:`~hyperstack_rpc.Client`.
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
        self._env = child_env
        self._cwd = cwd
        self._client_name = client_name
        self._default_timeout = timeout
        self._startup_timeout = startup_timeout
        self._grace = shutdown_grace
        self._trace = trace
        self._listeners = Listeners()
        self._tail = StderrTail()
        self._ids = itertools.count(1)
        self._pending: Dict[int, Tuple[str, "asyncio.Future[Any]"]] = {}
        self._abandoned: Set[int] = set()
        self._streams: Set[AsyncChangeStream] = set()
        self._background: Set["asyncio.Future[Any]"] = set()
        self._failure: Optional[Callable[[], HyperstackError]] = None
        self._started = False
        self._closed = False
        self._closing = False
        self._proc: Optional[asyncio.subprocess.Process] = None
        self._frames = FrameBuffer()
        #: ``initialize``'s answer (``serverInfo``, ``capabilities``), once started.
        self.server_info: Dict[str, Any] = {}

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> "AsyncClient":
        """Spawn the server and perform the ``initialize`` handshake. Returns ``self``."""
        if self._started:
            raise RuntimeError("this AsyncClient was already started")
        self._started = True
        # Created here, not in __init__: before Python 3.10 these bind to the loop current at creation.
        self._write_lock = asyncio.Lock()
        self._disconnected = asyncio.Event()
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
            cwd=self._cwd,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None and self._proc.stderr is not None
        self._stdin = self._proc.stdin
        self._stdout = self._proc.stdout
        self._stderr = self._proc.stderr
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        self._reader_task = asyncio.ensure_future(self._read_loop())
        try:
            result = await self.request(
                "initialize", calls.initialize_params(self._client_name), timeout=self._startup_timeout
            )
            if not isinstance(result, dict):
                raise ProtocolError(f"initialize result should be an object but is {result!r}")
            self.server_info = result
            await self.notify("initialized", {})
        except BaseException:
            await self._abort()
            raise
        return self

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._process().pid

    @property
    def returncode(self) -> Optional[int]:
        """The server's exit status once it has been reaped (Popen convention), else ``None``."""
        return self._process().returncode

    @property
    def stderr_tail(self) -> Tuple[str, ...]:
        """The last (up to 50) lines the server wrote to stderr."""
        return self._tail.lines()

    @property
    def stderr_bytes(self) -> int:
        """How many bytes of stderr have been drained from the server so far."""
        return self._tail.total_bytes

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
        if self._closed or self._closing or self._proc is None:
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
        self._closed = True
        pending = list(self._pending.values())
        self._pending.clear()
        for method, future in pending:
            if not future.done():
                future.set_exception(ClientClosed(f"the client was closed while {method} was pending"))
        for stream in list(self._streams):
            stream._push(_END)

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
        self._check_usable(method)
        wait = self._default_timeout if timeout is None else timeout
        request_id = next(self._ids)
        future: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (method, future)
        message: Dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            await self._send(message)
            return await asyncio.wait_for(asyncio.shield(future), wait)
        except asyncio.TimeoutError:
            if not self._abandon(request_id):
                return await future  # the answer (or the server's death) won the race
            await self._cancel_remote(request_id)
            assert wait is not None
            raise Timeout.after(method, wait) from None
        except asyncio.CancelledError:
            if self._abandon(request_id):
                self._keep(asyncio.ensure_future(self._cancel_remote(request_id)))
            raise
        finally:
            if future.done() and not future.cancelled():
                future.exception()  # mark retrieved: no "exception was never retrieved" noise

    def _abandon(self, request_id: int) -> bool:
        if self._pending.pop(request_id, None) is None:
            return False
        self._abandoned.add(request_id)
        return True

    async def _cancel_remote(self, request_id: int) -> None:
        try:
            await self.notify("$/cancelRequest", {"id": request_id})
        except HyperstackError:
            pass

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer is expected)."""
        self._check_usable(method)
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)

    def _check_usable(self, method: str) -> None:
        if not self._started:
            raise RuntimeError("the AsyncClient has not been started; use 'async with' or 'await client.start()'")
        if self._closed:
            raise ClientClosed(f"cannot send {method}: the client is closed")
        if self._failure is not None:
            raise self._failure()

    async def _send(self, message: Dict[str, Any]) -> None:
        if self._trace is not None:
            self._trace("send", message)
        frame = encode_message(message)
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
            if self._failure is not None:
                raise self._failure() from None
            raise ServerDied(self._process().returncode, self._tail.lines()) from None

    # ------------------------------------------------------------------- reading

    async def _read_frame(self) -> Optional[Dict[str, Any]]:
        while True:
            body = self._frames.next_body()
            if body is not None:
                return decode_body(body)
            chunk = await self._stdout.read(65536)
            if not chunk:
                self._frames.check_complete()
                return None
            self._frames.feed(chunk)

    async def _read_loop(self) -> None:
        broken: Optional[ProtocolError] = None
        try:
            while True:
                message = await self._read_frame()
                if message is None:
                    break
                if self._trace is not None:
                    self._trace("recv", message)
                self._dispatch(message)
        except ProtocolError as exc:
            broken = exc
        except (ConnectionError, OSError):
            pass
        if broken is not None:
            log.error("hyperstack-rpc broke the protocol, stopping it: %s", broken)
            await self._kill()
        await self._on_disconnect(broken)

    async def _on_disconnect(self, broken: Optional[ProtocolError]) -> None:
        proc = self._process()
        try:
            await asyncio.wait_for(proc.wait(), self._grace)
        except asyncio.TimeoutError:
            log.warning("hyperstack-rpc closed its output but kept running; killing it")
            await self._kill()
        status = proc.returncode
        try:
            await asyncio.wait_for(asyncio.shield(self._stderr_task), 5)
        except asyncio.TimeoutError:
            pass
        tail = self._tail.lines()

        def failure() -> HyperstackError:
            if broken is not None:
                return ProtocolError(str(broken))
            return ServerDied(status, tail)

        self._failure = failure
        pending = list(self._pending.values())
        self._pending.clear()
        self._disconnected.set()
        for _method, future in pending:
            if not future.done():
                future.set_exception(failure())
        for stream in list(self._streams):
            stream._push(failure())

    def _dispatch(self, message: Dict[str, Any]) -> None:
        kind = classify(message)
        if kind == "response":
            self._resolve(message)
        elif kind == "notification":
            change, results = self._listeners.deliver(message["method"], message.get("params"))
            for result in results:
                if inspect.isawaitable(result):
                    self._keep(asyncio.ensure_future(result))
            if change is not None:
                for stream in list(self._streams):
                    stream._push(change)
        elif kind == "request":
            # The protocol defines no server-to-client requests; answer so the server is not left waiting.
            error = {"code": MethodNotFound.CODE, "message": f"the Python client offers no method {message['method']!r}"}
            self._keep(asyncio.ensure_future(self._send({"jsonrpc": "2.0", "id": message["id"], "error": error})))
        else:
            log.warning("ignoring a message that is neither request, response nor notification: %r", message)

    def _resolve(self, message: Dict[str, Any]) -> None:
        request_id = message["id"]
        entry = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
        if entry is None:
            if request_id in self._abandoned:
                self._abandoned.discard(request_id)  # the late answer to a timed-out or cancelled call
            else:
                log.warning("ignoring a response to unknown request id %r: %r", request_id, message)
            return
        _method, future = entry
        if future.done():
            return
        if "error" in message:
            try:
                future.set_exception(error_from_response(message["error"]))
            except ProtocolError as exc:
                future.set_exception(exc)
        else:
            future.set_result(message["result"])

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

    def on_change(self, callback: Callable[[KeyChange], Any]) -> Callable[[], None]:
        """Call ``callback(change)`` for every ``apiKeys.didChange``; returns a function that unregisters it.

        The callback runs in the reader task, before the answer of the call that
        caused the change is delivered. If it returns an awaitable, that is run as a task.
        """
        return self._listeners.add_change(callback)

    def on_notification(self, method: str, callback: Callable[[Any], Any]) -> Callable[[], None]:
        """Call ``callback(params)`` for every notification named ``method``; returns an unregister function."""
        return self._listeners.add_notification(method, callback)

    def changes(self, timeout: Optional[float] = None) -> "AsyncChangeStream":
        """Iterate (``async for``) over ``apiKeys.didChange`` notifications from now on.

        Subscribes immediately. Iteration ends when no change arrives for
        ``timeout`` seconds (``None``: never) or when the client closes; it raises
        :class:`ServerDied` if the server dies.
        """
        stream = AsyncChangeStream(self, timeout)
        if self._closed:
            stream._push(_END)
        elif self._failure is not None:
            stream._push(self._failure())
        else:
            self._streams.add(stream)
        return stream

    def _unsubscribe(self, stream: "AsyncChangeStream") -> None:
        self._streams.discard(stream)

    # ----------------------------------------------------------------- typed API

    async def list(
        self, refresh: bool = False, max_age: Optional[float] = None, *, timeout: Optional[float] = None
    ) -> KeyList:
        """``apiKeys.list``: the keys, from cache unless ``refresh`` or older than ``max_age`` seconds."""
        return KeyList.from_json(await self.request("apiKeys.list", calls.list_params(refresh, max_age), timeout))

    async def generate(
        self, name: str, description: Optional[str] = None, *, timeout: Optional[float] = None
    ) -> GeneratedKey:
        """``apiKeys.generate``: create a key; the result holds its secret, which is never shown again."""
        result = await self.request("apiKeys.generate", calls.generate_params(name, description), timeout)
        return GeneratedKey.from_json(result)

    async def update(
        self, id: int, name: str, description: DescriptionArg = KEEP, *, timeout: Optional[float] = None
    ) -> ApiKey:
        """``apiKeys.update``: rename a key; ``description=None`` clears it, the default :data:`KEEP` leaves it."""
        result = await self.request("apiKeys.update", calls.update_params(id, name, description), timeout)
        if not isinstance(result, dict):
            raise ProtocolError(f"apiKeys.update result should be an object but is {result!r}")
        return ApiKey.from_json(result.get("key"), "result.key")

    async def delete(self, id: int, *, timeout: Optional[float] = None) -> Deleted:
        """``apiKeys.delete``: remove a key."""
        return Deleted.from_json(await self.request("apiKeys.delete", {"id": id}, timeout))

    async def watch(self, interval: float, *, timeout: Optional[float] = None) -> float:
        """``apiKeys.watch``: poll upstream every ``interval`` seconds (0 stops); returns the interval in force."""
        return calls.parse_watch(await self.request("apiKeys.watch", {"interval": interval}, timeout))

    async def ping(self, *, timeout: Optional[float] = None) -> None:
        """``$/ping``: check the server is alive and answering."""
        calls.check_ping(await self.request("$/ping", None, timeout))


class AsyncChangeStream(AsyncIterator[KeyChange]):
    """An async iterator over an :class:`AsyncClient`'s ``apiKeys.didChange`` notifications.

    Buffers every change since it was created. ``close()`` (or ``with`` /
    ``async with``) stops the subscription.
    """

    def __init__(self, client: AsyncClient, timeout: Optional[float]) -> None:
        self._client = client
        self._timeout = timeout
        self._queue: "asyncio.Queue[Union[KeyChange, BaseException, object]]" = asyncio.Queue()
        self._done = False

    def _push(self, item: Union[KeyChange, BaseException, object]) -> None:
        self._queue.put_nowait(item)

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

    def __enter__(self) -> "AsyncChangeStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    async def __aenter__(self) -> "AsyncChangeStream":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()
