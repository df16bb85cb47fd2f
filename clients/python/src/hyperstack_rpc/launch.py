"""How the server process is found and started, and how its stderr is remembered.

Shared by the synchronous and asyncio clients so both find and spawn the server
identically (and so does the client test suite: it finds binaries with :func:`locate`), and by
the ``hyperstack-rpc`` command the platform wheel installs (:mod:`hyperstack_rpc._command`).
The API key travels only in the child's environment (``HYPERSTACK_API_KEY``): a command
line is visible to every user via ``ps``. So it does with ``remote``: ``--remote`` names a
socket, never a credential; the forwarder hands the key to the daemon over that socket.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import IO, Deque, List, Mapping, Optional, Sequence, Tuple

__all__ = [
    "BINARY_ENV",
    "DEFAULT_BINARY",
    "REMOTE_ENV",
    "remote_args",
    "repository_root",
    "bundled",
    "locate",
    "resolve_binary",
    "Launch",
    "StderrTail",
]

#: Environment variable that overrides which server binary is spawned.
BINARY_ENV = "HYPERSTACK_RPC_BIN"
#: The name looked up on ``PATH`` when nothing else says where the server is.
DEFAULT_BINARY = "hyperstack-rpc"
#: Environment variable the server itself reads when no ``--remote`` is given (``auto``, ``unix:PATH``, ``off``).
REMOTE_ENV = "HYPERSTACK_RPC_REMOTE"
#: The build configurations of a checkout, in the order they are looked in.
BUILD_CONFIGURATIONS = ("debug", "release")
#: Where the platform wheel carries the release binaries (``make wheel``); absent otherwise.
BUNDLE_DIR = Path(__file__).resolve().parent / "_bin"


def repository_root() -> Optional[Path]:
    """The hyperstack-rpc checkout this package runs from, or ``None`` for an installed copy.

    ``clients/python/src/hyperstack_rpc`` sits four levels below the root; the root is only
    believed when it holds the Swift package, so a copy in site-packages never matches.
    """
    root = Path(__file__).resolve().parents[4]
    if (root / "Package.swift").is_file() and (root / "clients" / "python").is_dir():
        return root
    return None


def bundled(name: str) -> Optional[Path]:
    """Where the platform wheel put the release binary ``name`` (``hyperstack_rpc/_bin/``), or ``None``.

    Only ``make wheel`` fills that folder; a checkout or a pure install
    (``pip install ./clients/python``) has none.
    """
    path = BUNDLE_DIR / name
    return path if os.path.lexists(path) else None


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def locate(name: str, env_var: str, explicit: Optional[str] = None) -> str:
    """Find an executable: ``explicit``, else ``$env_var``, else the bundled binary, else ``PATH``.

    An explicit value or the variable may be a path (it must then be executable) or a name
    looked up on ``PATH``. The bundled binary is the one the platform wheel carries
    (:func:`bundled`); it is used as it is or not at all: a bundled file that is not
    executable is an error, not a reason to run some other version found on ``PATH``.

    Between the bundled binary and ``PATH``, and only when this package runs from a checkout
    of the repository (:func:`repository_root`), comes the checkout's own build
    (``.build/debug``, then ``.build/release``): that is how the repository's tests, demos and
    benchmarks find a fresh ``swift build`` with nothing installed. A checkout never holds a
    bundled binary and an installed copy never sees a checkout, so for an installed package the
    order is exactly explicit, variable, bundled, ``PATH``, and the checkout's build can never
    shadow what a wheel carries. Raises :class:`FileNotFoundError` saying what was tried and
    how to fix it.
    """
    candidate = explicit or os.environ.get(env_var)
    if candidate:
        if os.sep in candidate or (os.altsep and os.altsep in candidate):
            if not _executable(candidate):
                raise FileNotFoundError(
                    f"{name} not found or not executable at {candidate!r}; build it (swift build) or point {env_var} at it"
                )
            return candidate
        found = shutil.which(candidate)
        if found is None:
            raise FileNotFoundError(f"{candidate!r} is not on PATH; install {name}, or set {env_var} to its path")
        return found
    carried = bundled(name)
    if carried is not None:
        if not _executable(str(carried)):
            raise FileNotFoundError(
                f"the {name} bundled with this package at {str(carried)!r} is not an executable file; "
                f"reinstall the wheel, or set {env_var} to another {name}"
            )
        return str(carried)
    root = repository_root()
    tried = []
    if root is not None:
        for configuration in BUILD_CONFIGURATIONS:
            built = root / ".build" / configuration / name
            if _executable(str(built)):
                return str(built)
            tried.append(str(built))
    found = shutil.which(name)
    if found is None:
        where = f" (nor built at {' or '.join(tried)})" if tried else ""
        raise FileNotFoundError(
            f"{name!r} is not on PATH{where}, and this copy of hyperstack_rpc carries no server (only the "
            f"platform wheel does); install the wheel or {name}, run swift build in a checkout, or set "
            f"{env_var} to its path"
        )
    return found


def resolve_binary(binary: Optional[str] = None) -> str:
    """Find the server: ``binary`` (path or name on PATH), else ``$HYPERSTACK_RPC_BIN``, else the bundled binary, else PATH."""
    return locate(DEFAULT_BINARY, BINARY_ENV, binary)


def remote_args(remote: Optional[str]) -> List[str]:
    """The server's ``--remote`` arguments for a client's ``remote=`` option; raises :class:`ValueError` for a bad one.

    ``None`` adds nothing: the server runs standalone, unless the environment it inherits sets
    ``HYPERSTACK_RPC_REMOTE`` (the server reads that itself). ``"auto"`` shares the per-machine
    daemon, starting it when none runs; ``"unix:PATH"`` uses the daemon listening on ``PATH``,
    with no auto-start. The value is checked here, before anything is spawned, so a typo is an
    error at the call that made it rather than a server that exits with a usage message.
    """
    if remote is None:
        return []
    socket = remote[len("unix:") :] if isinstance(remote, str) and remote.startswith("unix:") else None
    if remote == "auto" or (socket and "\0" not in socket):
        return ["--remote", remote]
    raise ValueError(
        f"remote must be None (standalone, or ${REMOTE_ENV} if set), 'auto' (the shared daemon, started when "
        f"needed) or 'unix:PATH' (the daemon listening on PATH), not {remote!r}"
    )


class Launch:
    """A resolved way to start the server (argv, environment, directory); spawns it for either client.

    The clients' options, with their defaults, are declared once, on the clients' shared
    constructor (:class:`~hyperstack_rpc.client_base.ClientBase`); :meth:`build` turns them into
    a command line and an environment.
    """

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Optional[str] = None) -> None:
        self.argv: Tuple[str, ...] = tuple(argv)
        self.env = dict(env)
        self.cwd = cwd

    @classmethod
    def build(
        cls,
        binary: Optional[str],
        *,
        sandbox: bool,
        sandbox_state: Optional[str],
        api_key: Optional[str],
        access_token: Optional[str],
        base_url: Optional[str],
        remote: Optional[str],
        extra_args: Sequence[str],
        env: Optional[Mapping[str, Optional[str]]],
        cwd: Optional[str],
    ) -> "Launch":
        """Find the binary (:func:`resolve_binary`) and assemble the child's argv and environment.

        ``env`` entries are laid over this process's environment; a value of ``None``
        removes that variable. ``sandbox_state`` implies ``sandbox``. The API key goes into the
        environment, never the command line, and so does the access token (``HYPERSTACK_ACCESS_TOKEN``,
        which ``apiKeys.generate`` prefers). ``remote`` is checked by :func:`remote_args` first,
        so a bad value fails even where no server binary is installed.
        """
        if isinstance(extra_args, (str, bytes)):
            raise TypeError("extra_args must be a sequence of arguments, not a single string")
        remote_argv = remote_args(remote)
        argv = [resolve_binary(binary), "--framing", "lsp", *remote_argv]
        if sandbox or sandbox_state is not None:
            argv.append("--sandbox")
        if sandbox_state is not None:
            argv += ["--sandbox-state", os.fspath(sandbox_state)]
        if base_url is not None:
            argv += ["--base-url", base_url]
        argv += list(extra_args)

        child_env = dict(os.environ)
        for name, value in (env or {}).items():
            if value is None:
                child_env.pop(name, None)
            else:
                child_env[name] = value
        if api_key is not None:
            child_env["HYPERSTACK_API_KEY"] = api_key
        if access_token is not None:
            child_env["HYPERSTACK_ACCESS_TOKEN"] = access_token
        return cls(argv, child_env, cwd)

    def popen(self) -> "subprocess.Popen[bytes]":
        """Start the server with a pipe on each of its standard streams (for the synchronous client)."""
        pipe = subprocess.PIPE
        return subprocess.Popen(self.argv, stdin=pipe, stdout=pipe, stderr=pipe, env=self.env, cwd=self.cwd)

    async def spawn(self) -> asyncio.subprocess.Process:
        """Start the server with a pipe on each of its standard streams (for the asyncio client)."""
        pipe = asyncio.subprocess.PIPE
        return await asyncio.create_subprocess_exec(
            *self.argv, stdin=pipe, stdout=pipe, stderr=pipe, env=self.env, cwd=self.cwd
        )


class StderrTail:
    """The last lines the server wrote to stderr, for error messages.

    Fed raw chunks by a reader that drains the pipe continuously, so a chatty
    server never blocks on a full pipe. Thread-safe.
    """

    def __init__(self, max_lines: int = 50, max_line_chars: int = 400) -> None:
        self._lines: Deque[str] = deque(maxlen=max_lines)
        self._partial = bytearray()
        self._max_line_chars = max_line_chars
        self._lock = threading.Lock()
        self.total_bytes = 0

    def feed(self, chunk: bytes) -> None:
        """Add bytes read from the pipe."""
        with self._lock:
            self.total_bytes += len(chunk)
            self._partial += chunk
            *complete, rest = bytes(self._partial).split(b"\n")
            for raw in complete:
                self._lines.append(self._decode(raw))
            # An endless line must not grow without bound: keep its end only.
            self._partial = bytearray(rest[-(self._max_line_chars * 4) :])

    def drain(self, pipe: IO[bytes]) -> None:
        """Read ``pipe`` until it closes (the synchronous client runs this on a thread of its own)."""
        read1 = getattr(pipe, "read1", pipe.read)
        try:
            for chunk in iter(lambda: read1(65536), b""):
                self.feed(chunk)
        except (OSError, ValueError):
            pass  # closed under us by close()
        finally:
            self.finish()

    def finish(self) -> None:
        """The pipe closed: keep an unterminated last line too."""
        with self._lock:
            if self._partial:
                self._lines.append(self._decode(bytes(self._partial)))
                self._partial.clear()

    def lines(self) -> Tuple[str, ...]:
        """A snapshot of the remembered lines, oldest first."""
        with self._lock:
            return tuple(self._lines)

    def _decode(self, raw: bytes) -> str:
        line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
        if len(line) > self._max_line_chars:
            line = line[: self._max_line_chars] + "…"
        return line
