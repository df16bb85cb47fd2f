"""Fixtures that run the REAL hyperstack-rpc (and hyperstack-sandbox) binaries.

Binaries are found the way the client library finds the server, by the one lookup in
``hyperstack_rpc.launch.locate``: $HYPERSTACK_RPC_BIN / $HYPERSTACK_SANDBOX_BIN, else this
repository's .build/debug or .build/release, else PATH. Tests needing a missing binary are
skipped, saying what was tried, except when the CI variable is set: there a missing binary
fails them, so a CI run can never pass by testing nothing. Every message exchanged is recorded and, when
Tests/EndToEnd/protocol_schema.py (and jsonschema) are available, checked
against protocol/openrpc.json at the end of the test. A test that shares a daemon
(``remote="auto"``) takes ``daemon_runtime``: its own runtime directory, so its own daemon,
stopped at teardown.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, NoReturn, Optional, Tuple

import pytest

from hyperstack_rpc.launch import BINARY_ENV, DEFAULT_BINARY, locate

REPO_ROOT = Path(__file__).resolve().parents[3]
SANDBOX_ENV = "HYPERSTACK_SANDBOX_BIN"
#: CI sets this (CI=true): a missing binary is then a failure, not a skip.
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _find(name: str, env_var: str) -> Tuple[Optional[str], str]:
    """The binary's path, or None and the lookup's explanation of what it tried."""
    try:
        return locate(name, env_var), ""
    except FileNotFoundError as exc:
        return None, str(exc)


RPC_BIN, RPC_MISSING = _find(DEFAULT_BINARY, BINARY_ENV)
SANDBOX_BIN, SANDBOX_MISSING = _find("hyperstack-sandbox", SANDBOX_ENV)
SCHEMA_DIR = REPO_ROOT / "Tests" / "EndToEnd"

#: Environment for the server in tests: the test-only methods on.
TEST_ENV = {"HYPERSTACK_RPC_TEST_METHODS": "1"}

#: Generous default per-call timeout so a broken server fails a test instead of hanging it.
CALL_TIMEOUT = 30.0


def _load_validator() -> Tuple[Optional[Any], str]:
    if not (SCHEMA_DIR / "protocol_schema.py").is_file():
        return None, f"{SCHEMA_DIR / 'protocol_schema.py'} does not exist"
    sys.path.insert(0, str(SCHEMA_DIR))
    try:
        import protocol_schema  # type: ignore[import-not-found]

        return protocol_schema.ProtocolValidator.load(REPO_ROOT / "protocol" / "openrpc.json"), ""
    except ImportError as exc:
        return None, f"protocol_schema.py could not be imported: {exc}"
    finally:
        sys.path.remove(str(SCHEMA_DIR))


VALIDATOR, VALIDATOR_MISSING = _load_validator()


def pytest_report_header(config: Any) -> List[str]:
    lines = [f"hyperstack-rpc: {RPC_BIN or RPC_MISSING}", f"hyperstack-sandbox: {SANDBOX_BIN or SANDBOX_MISSING}"]
    lines.append("wire validation: protocol_schema.py" if VALIDATOR else f"wire validation OFF: {VALIDATOR_MISSING}")
    return lines


class Wire:
    """A ``trace=`` hook: records every message both ways, then checks them against the contract."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: List[Dict[str, Any]] = []
        self.received: List[Dict[str, Any]] = []
        self.secrets: List[str] = []
        self.checked = 0

    def __call__(self, direction: str, message: Dict[str, Any]) -> None:
        snapshot = json.loads(json.dumps(message))
        with self._lock:
            (self.sent if direction == "send" else self.received).append(snapshot)

    def sent_method(self, request_id: Any) -> Optional[str]:
        with self._lock:
            for message in self.sent:
                if message.get("id") == request_id and "method" in message:
                    return str(message["method"])
        return None

    def responses_to(self, request_id: int) -> List[Dict[str, Any]]:
        with self._lock:
            return [m for m in self.received if m.get("id") == request_id and "method" not in m]

    def notifications(self, method: str) -> List[Dict[str, Any]]:
        with self._lock:
            return [m for m in self.received if m.get("method") == method and "id" not in m]

    def check(self) -> None:
        """Validate everything recorded; a no-op when the validator is unavailable."""
        if VALIDATOR is None:
            return
        with self._lock:
            sent, received = list(self.sent), list(self.received)
        methods = {m["id"]: m["method"] for m in sent if "id" in m and "method" in m}
        secrets = list(self.secrets)
        for message in received:
            if methods.get(message.get("id")) == "apiKeys.generate":
                key = (message.get("result") or {}).get("key") or {}
                if isinstance(key.get("secret"), str):
                    secrets.append(key["secret"])
        rejected = {m.get("id") for m in received if (m.get("error") or {}).get("code") in (-32601, -32602)}
        for message in sent:
            if "id" in message and message["id"] in rejected:
                continue  # deliberately bad requests (the -32601 / -32602 tests)
            if "id" in message:
                VALIDATOR.check_request(message["method"], message.get("params"))
            else:
                VALIDATOR.check_notification(message, direction="clientToServer")
        for message in received:
            if "method" in message:
                VALIDATOR.check_notification(message, secrets=secrets)
            else:
                VALIDATOR.check_response(methods.get(message.get("id")), message, secrets=secrets)
            self.checked += 1


def missing_binary(reason: str) -> NoReturn:
    """Skip the test, or fail it when CI is set."""
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so a missing binary fails the run instead of skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def rpc_bin() -> str:
    if RPC_BIN is None:
        missing_binary(RPC_MISSING)
    return RPC_BIN


@pytest.fixture
def wire() -> Iterator[Wire]:
    recorder = Wire()
    yield recorder
    recorder.check()


class HttpSandbox:
    """A real ``hyperstack-sandbox`` serving the upstream API over HTTP on a free port."""

    API_KEY = "python-client-test-key"

    def __init__(self, binary: str, *extra_args: str) -> None:
        self.process = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--api-key", self.API_KEY, *extra_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        first: List[bytes] = []
        reader = threading.Thread(target=lambda: first.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=30)
        if not first or not first[0].strip():
            self.process.kill()
            _out, err = self.process.communicate(timeout=10)
            raise RuntimeError(f"hyperstack-sandbox printed no URL; stderr:\n{err.decode(errors='replace')[-2000:]}")
        self.base_url = first[0].decode().strip()
        # Keep draining both pipes so the sandbox never blocks on a full one.
        self._drains = [
            threading.Thread(target=lambda p=pipe: [None for _ in iter(lambda: p.read(65536), b"")], daemon=True)
            for pipe in (self.process.stdout, self.process.stderr)
        ]
        for drain in self._drains:
            drain.start()

    def post(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """Call the upstream API directly, as another tool sharing the account would."""
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"api_key": self.API_KEY, "Content-Type": "application/json", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            parsed: Dict[str, Any] = json.loads(response.read())
            return parsed

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for drain in self._drains:
            drain.join(timeout=5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def sandbox_bin() -> str:
    if SANDBOX_BIN is None:
        missing_binary(SANDBOX_MISSING)
    return SANDBOX_BIN


@pytest.fixture
def http_sandbox() -> Iterator[HttpSandbox]:
    if SANDBOX_BIN is None:
        missing_binary(SANDBOX_MISSING)
    sandbox = HttpSandbox(SANDBOX_BIN)
    try:
        yield sandbox
    finally:
        sandbox.stop()


class DaemonRuntime:
    """One test's ``XDG_RUNTIME_DIR`` (a fresh 0700 directory), so no two tests ever share a daemon.

    Pass :attr:`env` to every client and command of the test: the default socket path is
    derived from ``XDG_RUNTIME_DIR``, so they all find the daemon the first ``remote="auto"``
    started, and nothing else on the machine does. The directory sits directly in the system
    temporary directory because a socket path must fit in 108 bytes.
    """

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.directory = tempfile.mkdtemp(prefix="hs-xdg-")
        os.chmod(self.directory, 0o700)
        self.env: Dict[str, Optional[str]] = {**TEST_ENV, "XDG_RUNTIME_DIR": self.directory, "HYPERSTACK_RPC_REMOTE": None}

    def command(self, *args: str, timeout: float = 30) -> "subprocess.CompletedProcess[str]":
        """Run ``hyperstack-rpc ARGS`` in this runtime (stdin empty, so it can never wait on us)."""
        env = {name: value for name, value in {**os.environ, **self.env}.items() if value is not None}
        env.pop("HYPERSTACK_API_KEY", None)
        return subprocess.run(
            [self.binary, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )

    def status(self) -> Dict[str, Any]:
        """``daemon status``'s one JSON object; fails the test unless it exits 0 with exactly that."""
        done = self.command("daemon", "status")
        assert done.returncode == 0, f"daemon status exited {done.returncode}; stderr: {done.stderr[-2000:]}"
        status: Dict[str, Any] = json.loads(done.stdout)
        assert isinstance(status, dict), done.stdout
        return status

    def stop(self) -> None:
        """Stop this runtime's daemon, if one runs: ``daemon stop --remote unix:SOCKET``, else kill its pid."""
        try:
            done = self.command("daemon", "status")
            if done.returncode != 0:
                return  # 3: no daemon; anything else: a binary without the daemon, which started none
            status = json.loads(done.stdout)
            pid, socket = int(status["pid"]), str(status["socket"])
            # `daemon stop` returns once the daemon is gone (it waits up to about 15 s for that).
            stopped = self.command("daemon", "stop", "--remote", f"unix:{socket}")
            if stopped.returncode == 0 and not process_alive(pid):
                return
            left = process_alive(pid)
            if left:
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(
                f"daemon stop exited {stopped.returncode}{f' and left pid {pid} running (killed)' if left else ''}; "
                f"stderr: {stopped.stderr[-2000:]}"
            )
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (a detached daemon nobody has reaped yet) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def daemon_runtime(rpc_bin: str) -> Iterator[DaemonRuntime]:
    runtime = DaemonRuntime(rpc_bin)
    try:
        yield runtime
    finally:
        runtime.stop()
