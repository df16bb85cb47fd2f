"""Helpers for the MCP end-to-end suites: spawning `hyperstack-rpc mcp` for the official SDK
(through mcp_relay.py, which records the transcript) or over raw pipes, and scanning what was
written for secrets."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from rpc_process import RpcProcess, binary_path

HERE = Path(__file__).resolve().parent
LATEST = "2025-11-25"
TOOLS = {"list_api_keys", "generate_api_key", "update_api_key", "delete_api_key"}


def server_env(state_home: Path, extra: Optional[dict] = None) -> dict:
    """The server's environment: a private XDG_STATE_HOME (so the default secrets directory is
    the test's own), the test-only methods, and `extra`."""
    env = {"XDG_STATE_HOME": str(state_home), "HYPERSTACK_RPC_TEST_METHODS": "1", "PATH": os.environ.get("PATH", "")}
    env.update(extra or {})
    return env


def default_secrets_dir(state_home: Path) -> Path:
    return state_home / "hyperstack-rpc" / "secrets"


class Transcript:
    """What mcp_relay.py recorded for one server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _lines(self, name: str) -> list[dict]:
        path = self.directory / name
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]

    @property
    def from_server(self) -> list[dict]:
        return self._lines("server.jsonl")

    @property
    def from_client(self) -> list[dict]:
        return self._lines("client.jsonl")

    @property
    def stderr(self) -> bytes:
        path = self.directory / "stderr.log"
        return path.read_bytes() if path.exists() else b""

    def raw(self) -> bytes:
        return b"".join((self.directory / name).read_bytes()
                        for name in ("client.jsonl", "server.jsonl", "stderr.log") if (self.directory / name).exists())


def sdk_server(transcript_dir: Path, *args: str, env: Optional[dict] = None):
    """StdioServerParameters for the official SDK: the real binary behind the recording relay."""
    from mcp.client.stdio import StdioServerParameters

    return StdioServerParameters(
        command=sys.executable,
        args=[str(HERE / "mcp_relay.py"), str(transcript_dir), binary_path(), "mcp", *args],
        env=env or {})


def assert_no_secret(secrets: Iterable[str], where: str, data: bytes) -> None:
    """No secret in `data`: raw, JSON-escaped, or as any 8-character run of it."""
    for index, secret in enumerate(s for s in secrets if s):
        forms = {secret.encode(), json.dumps(secret)[1:-1].encode()}
        forms |= {secret[i:i + 8].encode() for i in range(0, max(1, len(secret) - 7))} if len(secret) >= 16 else set()
        for form in forms:
            assert form not in data, f"{where} contains (part of) secret #{index} (value withheld)"


class McpPipe(RpcProcess):
    """`hyperstack-rpc mcp` over raw pipes, for what an SDK would not send: old revisions,
    malformed calls, cancellation seen byte for byte. Ends the polite MCP way: EOF."""

    def __init__(self, *args: str, state_home: Path, env: Optional[dict] = None, **kwargs: Any) -> None:
        super().__init__("mcp", *args, framing="ndjson", env=server_env(state_home, env), validator=None, **kwargs)

    def initialize(self, version: str = LATEST, capabilities: Optional[dict] = None) -> dict:
        result = self.call("initialize", {"protocolVersion": version, "capabilities": capabilities or {},
                                          "clientInfo": {"name": "e2e", "version": "1"}})
        self.notify("notifications/initialized")
        return result

    def tool(self, name: str, arguments: Any = None, timeout: float = 20.0) -> dict:
        """The whole response to a tools/call (result or error)."""
        params: dict = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        return self.request("tools/call", params, timeout=timeout)

    def stop(self) -> int:
        self.close_stdin()
        try:
            return self.wait_exit(timeout=15)
        except Exception:
            self.proc.kill()
            return self.wait_exit()


def launched_pipes(make: Callable[..., "McpPipe"]) -> Iterator[Callable[..., "McpPipe"]]:
    """A fixture body: yields `start(*args, **kwargs)`, which runs `make` and keeps what it made;
    afterwards every server still running is stopped (exit 0) and each stream checked clean."""
    started: list[McpPipe] = []

    def start(*args: str, **kwargs: Any) -> McpPipe:
        process = make(*args, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            assert process.stop() == 0
        process.check_clean()
