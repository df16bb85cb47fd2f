"""Drive the real hyperstack-rpc binary over real pipes, for the end-to-end suites.

`RpcProcess` spawns the binary, writes requests in either framing, and parses
everything it writes to stdout back into messages on a reader thread, checking
that stdout holds nothing but well-formed frames. stderr is drained on a thread
so the child can never block on a full pipe.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]


def binary_path(name: str = "hyperstack-rpc") -> str:
    """The binary under test: $HYPERSTACK_RPC_BIN / $HYPERSTACK_SANDBOX_BIN, else .build/debug."""
    variable = "HYPERSTACK_RPC_BIN" if name == "hyperstack-rpc" else "HYPERSTACK_SANDBOX_BIN"
    path = os.environ.get(variable) or str(REPO_ROOT / ".build" / "debug" / name)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is not built; run `swift build` first")
    return path


def lsp_frame(body: bytes | str | dict | list) -> bytes:
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def ndjson_frame(body: bytes | str | dict | list) -> bytes:
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return body + b"\n"


class StreamError(AssertionError):
    """stdout held something that is not a well-formed frame."""


class RpcProcess:
    """One running hyperstack-rpc with pipes on all three standard streams."""

    def __init__(self, *args: str, framing: str = "ndjson", env: Optional[dict] = None,
                 validator: Any = None, secrets: Iterable[str] = (), cwd: Optional[str] = None) -> None:
        self.framing = framing
        self.validator = validator
        self.secrets = list(secrets)
        full_env = dict(os.environ)
        full_env.setdefault("HYPERSTACK_RPC_TEST_METHODS", "1")
        full_env.pop("HYPERSTACK_API_KEY", None)
        full_env.pop("HYPERSTACK_ACCESS_TOKEN", None)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            [binary_path(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=full_env, cwd=cwd)
        self.messages: "queue.Queue[Any]" = queue.Queue()
        self.raw_stdout = bytearray()
        self.stderr = bytearray()
        self.stream_error: Optional[str] = None
        self.contract_violations: list = []
        self.methods_by_id: dict = {}
        self.notifications: list = []
        self.pending: list = []
        #: Every message the server wrote, in the order it arrived (read-only for tests).
        self.arrived: list = []
        self._next_id = 1000
        self._stdout_thread = threading.Thread(target=self._read_stdout, daemon=True)
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._stdout_thread.start()
        self._stderr_thread.start()

    # -- writing ----------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def frame(self, message: Any) -> bytes:
        return lsp_frame(message) if self.framing == "lsp" else ndjson_frame(message)

    def send(self, message: Any) -> None:
        if isinstance(message, dict) and "method" in message and "id" in message:
            self.methods_by_id[json.dumps(message["id"])] = message["method"]
        self.send_raw(self.frame(message))

    def send_text(self, text: str) -> None:
        """Sends `text` as one frame as it is (it may be invalid JSON); ids of well-formed
        requests in it are remembered so their responses can be checked."""
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        for entry in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(entry, dict) and isinstance(entry.get("method"), str) and "id" in entry:
                self.methods_by_id[json.dumps(entry["id"])] = entry["method"]
        self.send_raw(self.frame(text))

    def notify(self, method: str, params: Any = None) -> None:
        message: dict = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def start_request(self, method: str, params: Any = None, id: Any = None) -> Any:
        if id is None:
            self._next_id += 1
            id = self._next_id
        message: dict = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return id

    def request(self, method: str, params: Any = None, timeout: float = 20.0) -> dict:
        """Sends a request and returns its response; notifications seen meanwhile are kept."""
        id = self.start_request(method, params)
        return self.wait_response(id, timeout)

    def call(self, method: str, params: Any = None, timeout: float = 20.0) -> Any:
        response = self.request(method, params, timeout)
        assert "result" in response, f"{method} failed: {response}"
        return response["result"]

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    # -- reading ----------------------------------------------------------
    def read(self, timeout: float = 20.0) -> Any:
        """The next message the server wrote, in order."""
        if self.pending:
            return self.pending.pop(0)
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no message from the server within {timeout}s; stderr tail:\n{self.stderr_tail()}") from None
        if message is None:
            raise AssertionError(f"the server's stdout closed; stderr tail:\n{self.stderr_tail()}")
        return message

    def wait_response(self, id: Any, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        for index, message in enumerate(self.pending):
            if isinstance(message, dict) and "method" not in message and message.get("id") == id:
                return self.pending.pop(index)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no response to id {id!r}; stderr tail:\n{self.stderr_tail()}")
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                raise AssertionError(f"stdout closed before the response to {id!r}; stderr:\n{self.stderr_tail()}")
            if isinstance(message, dict) and "method" in message:
                self.notifications.append(message)
                continue
            if isinstance(message, dict) and message.get("id") == id:
                return message
            self.pending.append(message)

    def wait_notification(self, method: str = "apiKeys.didChange", timeout: float = 20.0,
                          predicate: Any = None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self.notifications):
                if message.get("method") == method and (predicate is None or predicate(message)):
                    return self.notifications.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {method} notification within {timeout}s")
            try:
                message = self.messages.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if message is None:
                raise AssertionError("stdout closed while waiting for a notification")
            if isinstance(message, dict) and "method" in message:
                self.notifications.append(message)
            else:
                self.pending.append(message)

    def expect_silence(self, seconds: float = 0.5) -> None:
        """Asserts the server writes nothing for a while."""
        try:
            message = self.messages.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"expected no output, got {message!r}")

    def wait_exit(self, timeout: float = 15.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._stdout_thread.join(timeout=5)
        self._stderr_thread.join(timeout=5)
        return code

    def method_of(self, message: Any) -> Optional[str]:
        """The method of the request a response answers (None for notifications and unknown ids)."""
        if not isinstance(message, dict) or "method" in message:
            return None
        return self.methods_by_id.get(json.dumps(message.get("id")))

    def secret_leaks(self, secrets: Iterable[str]) -> list:
        """Messages so far that carry one of `secrets` anywhere but result.key.secret of a
        generate response (the secret's one home); returned with the secret withheld."""
        leaks = []
        for index, message in enumerate(list(self.arrived)):
            scanned = message
            if (self.method_of(message) == "apiKeys.generate" and isinstance(message.get("result"), dict)
                    and isinstance(message["result"].get("key"), dict)):
                scanned = json.loads(json.dumps(message))
                scanned["result"]["key"].pop("secret", None)
            text = json.dumps(scanned, ensure_ascii=False) + json.dumps(scanned)
            for number, secret in enumerate(s for s in secrets if s):
                if secret in text:
                    leaks.append(f"message #{index} ({self.method_of(message) or message.get('method')}) "
                                 f"carries secret #{number}")
        return leaks

    def stderr_tail(self, lines: int = 20) -> str:
        return "\n".join(self.stderr.decode("utf-8", "replace").splitlines()[-lines:])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait_exit()

    def stop(self) -> int:
        """shutdown + exit, the polite way; returns the exit status."""
        if self.proc.poll() is None:
            try:
                self.request("shutdown", timeout=10)
                self.notify("exit")
            except (AssertionError, BrokenPipeError, OSError):
                pass
        try:
            return self.wait_exit(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.wait_exit()

    def __enter__(self) -> "RpcProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc.poll() is None:
            self.stop()
        self.check_clean()

    def check_clean(self) -> None:
        """Fails if stdout held a malformed frame or a message broke the protocol contract."""
        if self.stream_error:
            raise StreamError(self.stream_error)
        if self.contract_violations:
            raise AssertionError("messages that break protocol/openrpc.json:\n" + "\n".join(self.contract_violations))

    # -- threads ----------------------------------------------------------
    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while True:
            chunk = self.proc.stderr.read1(65536)
            if not chunk:
                return
            self.stderr.extend(chunk)

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        buffer = bytearray()
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                break
            self.raw_stdout.extend(chunk)
            buffer.extend(chunk)
            try:
                for body in self._split(buffer):
                    self._deliver(body)
            except StreamError as error:
                self.stream_error = str(error)
                break
        if buffer and not self.stream_error:
            self.stream_error = f"stdout ended inside a frame: {bytes(buffer[:200])!r}"
        self.messages.put(None)

    def _split(self, buffer: bytearray) -> Iterable[bytes]:
        while True:
            if self.framing == "ndjson":
                end = buffer.find(b"\n")
                if end < 0:
                    return
                body = bytes(buffer[:end])
                del buffer[:end + 1]
                yield body
            else:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > 1024 and b"\r\n\r\n" not in buffer:
                        raise StreamError(f"no header terminator in {bytes(buffer[:100])!r}")
                    return
                header = bytes(buffer[:end]).decode("ascii")
                length = None
                for line in header.split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                    elif name.strip().lower() != "content-type":
                        raise StreamError(f"unexpected header line {line!r}")
                if length is None:
                    raise StreamError(f"frame without Content-Length: {header!r}")
                if len(buffer) < end + 4 + length:
                    return
                body = bytes(buffer[end + 4:end + 4 + length])
                del buffer[:end + 4 + length]
                yield body

    def _deliver(self, body: bytes) -> None:
        if any(byte >= 0x80 for byte in body):
            raise StreamError(f"non-ASCII byte in a frame: {body[:200]!r}")
        try:
            message = json.loads(body)
        except ValueError:
            raise StreamError(f"frame is not JSON: {body[:200]!r}") from None
        if self.validator is not None:
            try:
                self._validate(message)
            except AssertionError as error:
                self.contract_violations.append(str(error))
        self.arrived.append(message)
        self.messages.put(message)

    def _validate(self, message: Any) -> None:
        entries = message if isinstance(message, list) else [message]
        for entry in entries:
            if isinstance(entry, dict) and "method" in entry:
                self.validator.check_notification(entry, secrets=self.secrets)
            elif isinstance(entry, dict):
                method = self.methods_by_id.get(json.dumps(entry.get("id")))
                if method is None and "result" in entry:
                    continue  # sent as raw bytes by a framing test: no method to check the result against
                self.validator.check_response(method, entry, secrets=self.secrets)
