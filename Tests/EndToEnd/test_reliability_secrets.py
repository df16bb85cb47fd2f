"""Secrets, checked over everything a representative set of runs produces.

One test runs, with every log at trace level:
- a session against the HTTP sandbox (which keeps --state) with --log-file: every method,
  background polling, a change made elsewhere, and upstream failures whose bodies quote the
  configured key back;
- a session that brings its key in initialize.initializationOptions;
- the embedded sandbox with --sandbox-state;
- one-shot `call` runs;
- crashes: servers holding fresh secrets killed with SIGABRT and SIGSEGV, crash output captured;
then looks for the configured keys and every generated secret, raw, JSON-escaped, base64 (each
alignment), percent-encoded and hex, in stdout (except each secret's own generate result, where it
must appear exactly once), stderr, log files, state files and notifications; and checks that
state and log files are mode 0600.

`reliability_kit.find_secrets` is the scanner; `session_blobs` below turns an RpcProcess into
the blobs to scan, for other suites to reuse.
"""

from __future__ import annotations

import json
import os
import secrets as random_secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Reliability"))

from reliability_kit import Figures, file_mode, find_secrets, register_summary  # noqa: E402
from rpc_process import RpcProcess, binary_path  # noqa: E402
from sandbox_server import SandboxServer  # noqa: E402


#: Long mode runs far past the default suite's per-test timeout.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(autouse=True, scope="module")
def _figures(request):
    register_summary(request.config)


def session_blobs(rpc: RpcProcess, label: str) -> dict[str, bytes]:
    """stdout (with each generate result's secret taken out: its one allowed home), the
    notifications alone, and stderr of one server, by name."""
    messages = []
    for message in rpc.arrived:
        if (rpc.method_of(message) == "apiKeys.generate" and isinstance(message.get("result"), dict)
                and isinstance(message["result"].get("key"), dict)):
            message = json.loads(json.dumps(message))
            message["result"]["key"].pop("secret", None)
        messages.append(message)
    notifications = [m for m in messages if isinstance(m, dict) and "method" in m]
    text = "\n".join(json.dumps(m) + "\n" + json.dumps(m, ensure_ascii=False) for m in messages)
    return {
        f"{label} stdout messages": text.encode("utf-8"),
        f"{label} notifications": json.dumps(notifications).encode(),
        f"{label} stderr": bytes(rpc.stderr),
    }


def generated_secrets(rpc: RpcProcess) -> list[str]:
    return [m["result"]["key"]["secret"] for m in rpc.arrived
            if rpc.method_of(m) == "apiKeys.generate" and isinstance(m.get("result"), dict)]


def raw_stdout_counts(rpc: RpcProcess, secrets: list[str]) -> list[str]:
    """Each generated secret appears exactly once in the raw stdout bytes; the keys never."""
    problems = []
    for number, secret in enumerate(secrets):
        count = bytes(rpc.raw_stdout).count(secret.encode())
        if count > 1:
            problems.append(f"secret #{number} appears {count} times in raw stdout")
    return problems


def crash_with(signal_number: int, tmp_path: Path, validator) -> tuple[dict[str, bytes], list[str], int, int]:
    """A server with fresh secrets in memory, killed by `signal_number`; returns its output."""
    state = tmp_path / f"crash-{signal_number}.json"
    rpc = RpcProcess("--sandbox", "--sandbox-state", str(state), "--log-level", "trace", validator=validator)
    try:
        rpc.call("apiKeys.list")
        made = [rpc.call("apiKeys.generate", {"name": f"crash-{signal_number}-{n}"}) for n in range(2)]
        rpc.call("apiKeys.update", {"id": made[0]["key"]["id"], "name": "crash-renamed"})
        secrets = [m["key"]["secret"] for m in made]
        signals_sent = 0
        while rpc.proc.poll() is None and signals_sent < 3:
            # The Swift runtime's backtracer catches the signal and prints its crash report; for a
            # signal sent with kill() it then returns and the process lives on (see the report),
            # so the signal is repeated once the report is out.
            os.kill(rpc.proc.pid, signal_number)
            signals_sent += 1
            deadline = time.monotonic() + 90
            while rpc.proc.poll() is None and time.monotonic() < deadline:
                if rpc.stderr.count(b"Backtrace took") >= signals_sent:
                    time.sleep(1.0)
                    break
                time.sleep(0.05)
        status = rpc.wait_exit(timeout=30)
    finally:
        if rpc.proc.poll() is None:
            rpc.kill()
    name = signal.Signals(signal_number).name
    blobs = session_blobs(rpc, f"crash {name}")
    blobs[f"crash {name} state file"] = state.read_bytes() if state.exists() else b""
    return blobs, secrets, status, signals_sent


def test_reliability_no_secret_anywhere(spawn, validator, tmp_path):
    api_key = "hsk-" + random_secrets.token_hex(20)
    other_key = "hsk-" + random_secrets.token_hex(20)
    sandbox_state = tmp_path / "sandbox-state.json"
    log_file = tmp_path / "rpc.log"
    server = SandboxServer("--state", str(sandbox_state), "--api-key", other_key, "--log-level", "trace",
                           api_key=api_key)
    blobs: dict[str, bytes] = {}
    secrets: list[str] = []
    files_checked: dict[str, str] = {}
    try:
        # 1. A full session over HTTP, logging at trace level to a file.
        rpc = server.spawn_rpc(spawn, "--log-level", "trace", "--log-file", str(log_file), "--timeout", "1")
        rpc.call("initialize", {"processId": os.getpid(), "clientInfo": {"name": "secrets"}})
        rpc.notify("initialized", {})
        rpc.call("apiKeys.list")
        made = [rpc.call("apiKeys.generate", {"name": f"secret-{n}", "description": "d"}) for n in range(3)]
        rpc.secrets.extend(m["key"]["secret"] for m in made)
        rpc.call("apiKeys.update", {"id": made[0]["key"]["id"], "name": "secret-renamed", "description": None})
        rpc.call("apiKeys.delete", {"id": made[1]["key"]["id"]})
        rpc.call("apiKeys.watch", {"interval": 0.2})
        status, elsewhere = server.http("POST", "/api-key/generate", {"name": "made-elsewhere"})
        assert status == 200
        secrets.append(elsewhere["api_key"]["key"])
        rpc.wait_notification(predicate=lambda m: m["params"]["cause"] == "refresh", timeout=10)
        rpc.call("apiKeys.watch", {"interval": 0})
        # Upstream failures whose bodies quote the key back: nothing may repeat it.
        quoted = {"status": False, "message": f"api_key {api_key} is not valid", "error_reason": api_key}
        server.faults({"method": "GET", "path": "/api-key", "status": 401, "body": quoted},
                      {"method": "POST", "path": "/api-key/generate", "status": 400, "body": quoted},
                      {"method": "PUT", "path": "/api-key/", "status": 409, "body": quoted},
                      {"method": "DELETE", "path": "/api-key/", "status": 404, "body": quoted},
                      {"method": "GET", "path": "/api-key", "malformed": True,
                       "raw_body": f"<html>bad gateway for {api_key}</html>"},
                      {"method": "GET", "path": "/api-key", "drop": True})
        target = made[2]["key"]["id"]
        assert rpc.request("apiKeys.list", {"refresh": True})["error"]["code"] == 1401
        assert rpc.request("apiKeys.generate", {"name": "refused"})["error"]["code"] == 1400
        assert rpc.request("apiKeys.update", {"id": target, "name": "x"})["error"]["code"] == 1409
        assert rpc.request("apiKeys.delete", {"id": target})["error"]["code"] == 1404
        assert rpc.request("apiKeys.list", {"refresh": True})["error"]["code"] == 1502
        assert "result" in rpc.request("apiKeys.list", {"refresh": True}, timeout=30)
        assert rpc.call("$/ping") == {}
        assert rpc.stop() == 0
        secrets += generated_secrets(rpc)
        blobs.update(session_blobs(rpc, "http session"))
        blobs["http session log file"] = log_file.read_bytes()
        files_checked["log file"] = oct(file_mode(log_file))
        raw_problems = raw_stdout_counts(rpc, generated_secrets(rpc))

        # 2. The key arrives in initialize instead of the environment.
        second = spawn("--base-url", server.base_url, "--log-level", "trace", secrets=[other_key])
        second.call("initialize", {"processId": None, "initializationOptions": {"apiKey": other_key}})
        second.secrets.append(second.call("apiKeys.generate", {"name": "via-initialize"})["key"]["secret"])
        second.call("apiKeys.list", {"refresh": True})
        assert second.stop() == 0
        secrets += generated_secrets(second)
        blobs.update(session_blobs(second, "initialize-key session"))
        raw_problems += raw_stdout_counts(second, generated_secrets(second))

        # 3. One-shot calls, at trace level, with the key in a file.
        key_file = tmp_path / "key"
        key_file.write_text(api_key + "\n")
        key_file.chmod(0o600)
        for arguments in (["apiKeys.list", '{"refresh": true}'], ["apiKeys.generate", '{"name": "one-shot"}'],
                          ["apiKeys.delete", '{"id": 999999}']):
            done = subprocess.run([binary_path(), "call", *arguments, "--base-url", server.base_url,
                                   "--api-key-file", str(key_file), "--log-level", "trace"],
                                  capture_output=True, timeout=60, env={**os.environ, "HYPERSTACK_API_KEY": ""})
            stdout = done.stdout
            if arguments[0] == "apiKeys.generate":
                assert done.returncode == 0, done.stderr[-500:]
                secret = json.loads(stdout)["key"]["secret"]
                secrets.append(secret)
                assert stdout.count(secret.encode()) == 1
                stdout = stdout.replace(secret.encode(), b"<the one allowed copy>")
            blobs[f"call {arguments[0]} stdout"] = stdout
            blobs[f"call {arguments[0]} stderr"] = done.stderr

        # 4. The embedded sandbox with a state file.
        embedded_state = tmp_path / "embedded-state.json"
        embedded = spawn("--sandbox", "--sandbox-state", str(embedded_state), "--log-level", "trace")
        made = [embedded.call("apiKeys.generate", {"name": f"embedded-{n}"}) for n in range(3)]
        embedded.secrets.extend(m["key"]["secret"] for m in made)
        embedded.call("apiKeys.update", {"id": made[0]["key"]["id"], "name": "embedded-renamed", "description": "x"})
        embedded.call("apiKeys.list", {"refresh": True})
        assert embedded.stop() == 0
        secrets += generated_secrets(embedded)
        blobs.update(session_blobs(embedded, "embedded session"))
        blobs["embedded state file"] = embedded_state.read_bytes()
        files_checked["embedded state file"] = oct(file_mode(embedded_state))
        raw_problems += raw_stdout_counts(embedded, generated_secrets(embedded))

        # 5. Crashes with secrets in memory.
        crash_statuses = {}
        crash_reports = {}
        for number in (signal.SIGABRT, signal.SIGSEGV):
            crash_blobs, crash_secrets, status, signals_sent = crash_with(number, tmp_path, validator)
            name = signal.Signals(number).name
            blobs.update(crash_blobs)
            secrets += crash_secrets
            crash_statuses[name] = {"status": status, "signals_needed": signals_sent}
            crash_reports[name] = crash_blobs[f"crash {name} stderr"]
            assert status == -number, f"expected death by {name}, got {status}"
    finally:
        server.stop()

    blobs["http sandbox state file"] = sandbox_state.read_bytes()
    blobs["http sandbox stderr"] = bytes(server.stderr)
    files_checked["http sandbox state file"] = oct(file_mode(sandbox_state))
    keys = [api_key, other_key]
    leaks = find_secrets(blobs, keys + secrets)
    # A crash report dumps 16 bytes of memory per register: look for any 12-character piece.
    leaks += [f"a piece of secret #{number} in the {name} crash report"
              for name, report in crash_reports.items() for number, secret in enumerate(keys + secrets)
              if any(secret[i:i + 12].encode() in report for i in range(len(secret) - 11))]
    Figures.record("secrets", configured_keys=len(keys), generated_secrets=len(secrets),
                   blobs_scanned=len(blobs), bytes_scanned=sum(len(b) for b in blobs.values()),
                   log_bytes_at_trace=len(blobs["http session log file"]), crash_statuses=crash_statuses,
                   crash_report_bytes={name: len(report) for name, report in crash_reports.items()},
                   file_modes=files_checked, leaks=len(leaks) + len(raw_problems))
    assert not leaks, leaks
    assert not raw_problems, raw_problems
    assert all(mode == "0o600" for mode in files_checked.values()), files_checked
    assert len(blobs["http session log file"]) > 1000, "the trace log is suspiciously empty"


def test_reliability_secret_scanner_finds_every_form():
    """The scanner itself: each spelling of a secret, embedded at any offset, is found."""
    import base64
    import urllib.parse

    secret = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    for prefix in (b"", b"x", b"xy", b"xyz"):
        for form in (secret.encode(), json.dumps({"k": secret}).encode(),
                     base64.b64encode(prefix + secret.encode() + b" tail"),
                     base64.urlsafe_b64encode(prefix + b"\xff\xfe" + secret.encode()),
                     urllib.parse.quote(secret, safe="").encode(), secret.encode().hex().encode()):
            assert find_secrets({"blob": b"before " + form + b" after"}, [secret]), form
    assert find_secrets({"blob": json.dumps({"k": 'a"b\\c'}).encode()}, ['a"b\\c'])
    assert not find_secrets({"blob": b"********-****-****-****-********0ae7"}, [secret])
