"""How the server process is found and started, and how its stderr is remembered.

Shared by the synchronous and asyncio clients so both spawn the server
identically. The API key travels only in the child's environment
(``HYPERSTACK_API_KEY``): a command line is visible to every user via ``ps``.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import deque
from typing import Deque, Dict, List, Mapping, Optional, Sequence, Tuple

__all__ = ["BINARY_ENV", "DEFAULT_BINARY", "resolve_binary", "build_command", "StderrTail"]

#: Environment variable that overrides which server binary is spawned.
BINARY_ENV = "HYPERSTACK_RPC_BIN"
#: The name looked up on ``PATH`` when nothing else says where the server is.
DEFAULT_BINARY = "hyperstack-rpc"


def resolve_binary(binary: Optional[str] = None) -> str:
    """Find the server: the explicit ``binary`` (path or name on PATH), else ``$HYPERSTACK_RPC_BIN``, else PATH."""
    candidate = binary or os.environ.get(BINARY_ENV) or DEFAULT_BINARY
    if os.sep in candidate or (os.altsep and os.altsep in candidate):
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            raise FileNotFoundError(
                f"hyperstack-rpc server not found or not executable at {candidate!r}; "
                f"build it (swift build) or point {BINARY_ENV} at it"
            )
        return candidate
    found = shutil.which(candidate)
    if found is None:
        raise FileNotFoundError(
            f"{candidate!r} is not on PATH; install hyperstack-rpc, pass binary=..., or set {BINARY_ENV}"
        )
    return found


def build_command(
    binary: Optional[str] = None,
    *,
    sandbox: bool = False,
    sandbox_state: Optional[str] = None,
    api_key: Optional[str] = None,
    base_url: Optional[str] = None,
    extra_args: Sequence[str] = (),
    env: Optional[Mapping[str, Optional[str]]] = None,
) -> Tuple[List[str], Dict[str, str]]:
    """The argv and environment for the child.

    ``env`` entries are laid over this process's environment; a value of ``None``
    removes that variable. ``sandbox_state`` implies ``sandbox``.
    """
    if isinstance(extra_args, (str, bytes)):
        raise TypeError("extra_args must be a sequence of arguments, not a single string")
    argv = [resolve_binary(binary), "--framing", "lsp"]
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
    return argv, child_env


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
