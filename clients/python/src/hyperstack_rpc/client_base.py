"""What the synchronous and asyncio clients share above the session and below their I/O.

Both take the same options, find and start the server the same way (:mod:`.launch`), keep the
same :class:`~hyperstack_rpc.session.Session` and the same stderr tail, and offer the same
I/O-free part of the public surface (process facts, notification callbacks). Only reading,
writing, waiting and the process's life differ, and those stay in ``client.py`` and
``async_client.py``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Generic, Mapping, Optional, Protocol, Sequence, Tuple, TypeVar

from .launch import Launch, StderrTail
from .listeners import Tracer
from .models import KeyChange
from .session import ChangeSubscription, Session, Waiter

__all__ = ["ClientBase"]

W = TypeVar("W", bound=Waiter)
S = TypeVar("S", bound=ChangeSubscription)


class _Process(Protocol):
    """What both ``subprocess.Popen`` and ``asyncio.subprocess.Process`` tell about the child."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> Optional[int]: ...


class ClientBase(Generic[W]):
    """The options, the launch, the session and the I/O-free methods of both clients.

    A subclass supplies :meth:`_process` and may start the server in :meth:`_open`, which the
    constructor calls last (the synchronous client spawns there; the asyncio one waits for
    ``start()``, since a constructor cannot await).
    """

    def __init__(
        self,
        binary: Optional[str] = None,
        *,
        sandbox: bool = False,
        sandbox_state: Optional[str] = None,
        api_key: Optional[str] = None,
        access_token: Optional[str] = None,
        base_url: Optional[str] = None,
        remote: Optional[str] = None,
        extra_args: Sequence[str] = (),
        env: Optional[Mapping[str, Optional[str]]] = None,
        timeout: Optional[float] = None,
        startup_timeout: float = 30.0,
        shutdown_grace: float = 3.0,
        client_name: str = "hyperstack-rpc-python",
        trace: Optional[Tracer] = None,
        cwd: Optional[str] = None,
    ) -> None:
        self._launch = Launch.build(
            binary,
            sandbox=sandbox,
            sandbox_state=sandbox_state,
            api_key=api_key,
            access_token=access_token,
            base_url=base_url,
            remote=remote,
            extra_args=extra_args,
            env=env,
            cwd=cwd,
        )
        #: The server's command line (never holds the API key or the access token).
        self.argv: Tuple[str, ...] = self._launch.argv
        self._client_name = client_name
        self._default_timeout = timeout
        self._startup_timeout = startup_timeout
        self._grace = shutdown_grace
        self._tail = StderrTail()
        self._session: Session[W] = Session(trace)
        #: ``initialize``'s answer (``serverInfo``, ``capabilities``), once started.
        self.server_info: Dict[str, Any] = {}
        self._open()

    def _open(self) -> None:
        """Called at the end of the constructor; the synchronous client starts the server here."""

    def _process(self) -> _Process:
        """The child process; raises if there is none yet."""
        raise NotImplementedError

    def _wait_for(self, timeout: Optional[float]) -> Optional[float]:
        """A call's timeout: its own, else the client's default."""
        return self._default_timeout if timeout is None else timeout

    # ---------------------------------------------------------------- process

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._process().pid

    @property
    def returncode(self) -> Optional[int]:
        """The server's exit status once it has been reaped (Popen convention), else ``None``."""
        return self._process().returncode

    @property
    def supports_secret_file(self) -> bool:
        """Whether the server's ``initialize`` answer says ``generate`` takes ``secret_file``."""
        capabilities = self.server_info.get("capabilities")
        api_keys = capabilities.get("apiKeys") if isinstance(capabilities, dict) else None
        return isinstance(api_keys, dict) and api_keys.get("secretFile") is True

    @property
    def stderr_tail(self) -> Tuple[str, ...]:
        """The last (up to 50) lines the server wrote to stderr."""
        return self._tail.lines()

    @property
    def stderr_bytes(self) -> int:
        """How many bytes of stderr have been drained from the server so far."""
        return self._tail.total_bytes

    # ---------------------------------------------------------- notifications

    def on_change(self, callback: Callable[[KeyChange], Any]) -> Callable[[], None]:
        """Call ``callback(change)`` for every ``apiKeys.didChange``; returns a function that unregisters it.

        The callback runs where the server's output is read (a waiting caller's thread or the
        background reader; the asyncio reader task), before the answer of the call that caused
        the change is delivered. In the asyncio client, an awaitable it returns is run as a task.
        """
        return self._session.listeners.add_change(callback)

    def on_notification(self, method: str, callback: Callable[[Any], Any]) -> Callable[[], None]:
        """Call ``callback(params)`` for every notification named ``method``; returns an unregister function."""
        return self._session.listeners.add_notification(method, callback)

    def _subscribe(self, stream: S) -> S:
        self._session.subscribe(stream)
        return stream
