"""Secrets, checked over everything a representative set of runs produces.

One test runs, with every log at trace level:
- a session against the HTTP sandbox (which keeps --state) with --log-file: every method,
  background polling, a change made elsewhere, and upstream failures whose bodies quote the
  configured key back;
- a session that brings its key and an access token in initialize.initializationOptions, and
  one-shot calls with the token in --access-token-file (issue 14: generate goes with the token);
- the embedded sandbox with --sandbox-state;
- one-shot `call` runs;
- crashes: servers holding fresh secrets killed with SIGABRT and SIGSEGV, crash output captured;
then looks for the configured keys and every generated secret, raw, JSON-escaped, base64 (each
alignment), percent-encoded and hex, in stdout (except each secret's own generate result, where it
must appear exactly once), stderr, log files, state files and notifications; and checks that
state and log files are mode 0600.

A second test plants hostile keys (issue 10, item 1): keys holding control characters (a second
line, a CRLF header injection, NUL, tab, escape) in HYPERSTACK_API_KEY, in --api-key-file and in
initialize, each of which must be refused without echoing it; and upstreams that echo the key
they received back raw, upper-cased, percent-encoded, base64-encoded, split around ": " and cut
to a prefix, for 400, 401 and 500 answers in every body format, with background polling on.

`reliability_kit.find_secrets` is the scanner for whole secrets in every spelling;
`key_runs.key_run_leaks`, the strict one for configured keys, looks for any 8-character run of
the key, case-insensitively, and of its percent-encoded and base64 forms. `session_blobs` below
turns an RpcProcess into the blobs to scan, for other suites to reuse.
"""

from __future__ import annotations

import base64
import json
import os
import secrets as random_secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Reliability"))

from reliability_kit import Figures, file_mode, find_secrets, register_summary  # noqa: E402
from hostile_upstream import HostileUpstream  # noqa: E402
from key_runs import key_run_leaks  # noqa: E402
from rpc_process import RpcProcess, binary_path, ndjson_frame  # noqa: E402
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
    access_token = "hst-" + random_secrets.token_hex(24)
    sandbox_state = tmp_path / "sandbox-state.json"
    log_file = tmp_path / "rpc.log"
    server = SandboxServer("--state", str(sandbox_state), "--api-key", other_key, "--access-token", access_token,
                           "--log-level", "trace", api_key=api_key)
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

        # 2. The key and an access token arrive in initialize instead of the environment.
        second = spawn("--base-url", server.base_url, "--log-level", "trace", secrets=[other_key, access_token])
        second.call("initialize", {"processId": None,
                                   "initializationOptions": {"apiKey": other_key, "accessToken": access_token}})
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
        token_file = tmp_path / "token"
        token_file.write_text(access_token + "\n")
        token_file.chmod(0o600)
        for arguments in (["apiKeys.list", '{"refresh": true}'], ["apiKeys.generate", '{"name": "one-shot"}'],
                          ["apiKeys.delete", '{"id": 999999}']):
            done = subprocess.run([binary_path(), "call", *arguments, "--base-url", server.base_url,
                                   "--api-key-file", str(key_file), "--access-token-file", str(token_file),
                                   "--log-level", "trace"],
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
    keys = [api_key, other_key, access_token]
    leaks = find_secrets(blobs, keys + secrets)
    # The configured keys: any 8-character run of them, in any case, raw, percent- or base64-encoded.
    leaks += key_run_leaks(blobs, keys)
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


# -- hostile keys and echoing upstreams (issue 10, item 1) -------------------------------------

def special_key() -> str:
    """A visible-ASCII key whose every 8-character run holds a character percent-encoding changes."""
    specials = "+=:@!*$,"
    return "hs" + "".join(random_secrets.token_hex(2)[:3] + specials[n % len(specials)] for n in range(12))


def planted_keys() -> dict[str, str]:
    """Keys holding control characters, by name; each also has a long visible first line."""
    def key() -> str:
        return "hsk-" + random_secrets.token_hex(16)
    return {
        "second line": key() + "\nsecond-line-" + random_secrets.token_hex(4),
        "crlf header injection": key() + "\r\nX-Injected: yes",
        "ends in NUL": key() + "\0",
        "tab": key() + "\t" + random_secrets.token_hex(4),
        "escape": key() + "\x1b[31m" + random_secrets.token_hex(4),
    }


SESSION_INPUT = b"".join(ndjson_frame({"jsonrpc": "2.0", "id": n, "method": method, "params": params})
                         for n, (method, params) in enumerate([
                             ("apiKeys.list", {"refresh": True}), ("apiKeys.generate", {"name": "x"}),
                             ("apiKeys.update", {"id": 1, "name": "y"}), ("apiKeys.delete", {"id": 2})]))


def run_to_end(args: list[str], env: dict, stdin: bytes = SESSION_INPUT, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {name: value for name, value in os.environ.items() if name != "HYPERSTACK_API_KEY"}
    return subprocess.run([binary_path(), *args], input=stdin, capture_output=True, timeout=timeout,
                          env={**full_env, **env})


def test_reliability_hostile_keys_never_leak(spawn, tmp_path):
    blobs: dict[str, bytes] = {}
    keys: list[str] = []
    refusals: dict[str, int] = {}
    upstream_requests: dict[str, int] = {}
    log_files: dict[str, Path] = {}

    # 1. Keys with control characters, planted in each place a key is loaded from.
    with HostileUpstream("echo", api_key=None, status=400) as upstream:
        for name, planted in planted_keys().items():
            keys.append(planted)
            for source in ("env", "file", "call env", "call file"):
                label = f"{name} via {source}"
                log = tmp_path / f"log-{len(log_files)}"
                log_files[label] = log
                args = ["--base-url", upstream.base_url, "--log-level", "trace", "--log-file", str(log),
                        "--poll-interval", "0.2"]
                env: dict = {}
                if source.endswith("file"):
                    path = tmp_path / f"key-{len(log_files)}"
                    path.write_bytes(planted.encode("utf-8", "surrogateescape"))
                    path.chmod(0o600)
                    args += ["--api-key-file", str(path)]
                else:
                    if "\0" in planted:
                        continue  # no environment can hold a NUL
                    env["HYPERSTACK_API_KEY"] = planted
                if source.startswith("call"):
                    args = ["call", "apiKeys.list", '{"refresh": true}', *args[:-2]]
                done = run_to_end(args, env, stdin=b"" if source.startswith("call") else SESSION_INPUT)
                refusals[label] = done.returncode
                blobs[f"{label} stdout"] = done.stdout
                blobs[f"{label} stderr"] = done.stderr
            # initialize brings it.
            log = tmp_path / f"log-{len(log_files)}"
            log_files[f"{name} via initialize"] = log
            rpc = spawn("--base-url", upstream.base_url, "--log-level", "trace", "--log-file", str(log),
                        "--poll-interval", "0.2")
            response = rpc.request("initialize", {"initializationOptions": {"apiKey": planted}})
            refusals[f"{name} via initialize"] = response.get("error", {}).get("code", 0)
            for method, params in (("apiKeys.list", {"refresh": True}), ("apiKeys.generate", {"name": "x"})):
                rpc.request(method, params, timeout=60)
            assert rpc.stop() == 0
            blobs.update(session_blobs(rpc, f"{name} via initialize"))
        upstream_requests["control-character keys"] = len(upstream.requests)

    # 2. Valid keys, and upstreams that echo them back in every encoding, with polling on.
    for status, body_format in ((400, "json"), (400, "errors"), (400, "text"), (401, "json"), (401, "errors"),
                                (401, "text"), (500, "json"), (500, "text")):
        key = special_key()
        keys.append(key)
        label = f"echo {status} {body_format}"
        with HostileUpstream("echo", api_key=key, status=status, body_format=body_format) as upstream:
            log = tmp_path / f"log-{len(log_files)}"
            log_files[label] = log
            rpc = upstream.spawn_rpc(spawn, "--log-level", "trace", "--log-file", str(log), "--timeout", "2",
                                     "--poll-interval", "0.2")
            for method, params in (("apiKeys.list", {"refresh": True}), ("apiKeys.generate", {"name": "x"}),
                                   ("apiKeys.update", {"id": 1, "name": "y"}), ("apiKeys.delete", {"id": 2}),
                                   ("apiKeys.watch", {"interval": 0.2})):
                rpc.request(method, params, timeout=90)
            time.sleep(1.0)  # a few failed polls
            assert rpc.stop() == 0
            blobs.update(session_blobs(rpc, label))
            done = run_to_end(["call", "apiKeys.list", "--base-url", upstream.base_url, "--log-level", "trace"],
                              upstream.env(), stdin=b"")
            assert done.returncode == 1, done.stderr[-300:]
            blobs[f"{label} call stdout"] = done.stdout
            blobs[f"{label} call stderr"] = done.stderr
            upstream_requests[label] = len(upstream.requests)
            assert all(r["headers"].get("api_key") == key for r in upstream.requests)

    # 3. The HTTP sandbox with a state file, its faults echoing the key in each spelling.
    key = special_key()
    keys.append(key)
    state = tmp_path / "sandbox-state.json"
    server = SandboxServer("--state", str(state), api_key=key)
    try:
        rpc = server.spawn_rpc(spawn, "--log-level", "trace", "--log-file", str(tmp_path / "sandbox-session.log"))
        log_files["sandbox session"] = tmp_path / "sandbox-session.log"
        rpc.secrets.append(rpc.call("apiKeys.generate", {"name": "kept"})["key"]["secret"])
        for form in (key, key.upper(), urllib.parse.quote(key, safe=""), base64.b64encode(key.encode()).decode(),
                     "api_key: " + key, key[:8], key[:12]):
            server.faults({"method": "GET", "path": "/api-key", "status": 400,
                           "body": {"status": False, "message": f"bad {form}", "error_reason": form}},
                          {"method": "GET", "path": "/api-key", "status": 400, "raw_body": "x" * 190 + form})
            rpc.request("apiKeys.list", {"refresh": True})
            rpc.request("apiKeys.list", {"refresh": True})
        assert rpc.stop() == 0
        blobs.update(session_blobs(rpc, "sandbox session"))
    finally:
        server.stop()
    blobs["sandbox state file"] = state.read_bytes()
    blobs["sandbox stderr"] = bytes(server.stderr)

    for label, log in log_files.items():
        blobs[f"{label} log file"] = log.read_bytes() if log.exists() else b""

    leaks = key_run_leaks(blobs, keys) + find_secrets(blobs, keys)
    accepted = sorted(label for label, code in refusals.items()
                      if (code == 0 if "initialize" not in label else code != -32602))
    Figures.record("hostile keys", planted_keys=len(planted_keys()), keys=len(keys), blobs_scanned=len(blobs),
                   bytes_scanned=sum(len(b) for b in blobs.values()), refusals=len(refusals),
                   bad_keys_accepted=len(accepted), upstream_requests=upstream_requests, leaks=len(leaks))
    assert not accepted, f"bad keys accepted: {accepted}"
    assert upstream_requests["control-character keys"] == 0, "a key with a control character went upstream"
    assert not leaks, leaks


def test_reliability_key_run_scanner_finds_every_form():
    """The strict scanner itself: every spelling of a piece of 8 or more characters is found,
    shorter pieces and the masked form are not."""
    key = "hs3a+9f=c2:e71@0b4!d9e*5c6$a01,7f2+"
    forms = [key, key.upper(), urllib.parse.quote(key, safe=""), urllib.parse.quote(key, safe="").lower(),
             base64.b64encode(key.encode()).decode(), base64.b64encode(b"xy" + key.encode()).decode(),
             base64.urlsafe_b64encode(b"x" + key.encode()).decode(), key[:17] + ": " + key[17:], key[:8],
             key[9:17], key.encode().hex(), json.dumps(key + "\nsecond-line")]
    for form in forms:
        assert key_run_leaks({"blob": f"before {form} after".encode()}, [key]), form
    with_line = "hsk-0123456789abcdef\nsecond-line-9f8e"
    assert key_run_leaks({"blob": b'invalidHeaderFieldValues(["hsk-0123456789abcdef\\nsecond-line-9f8e"])'},
                         [with_line])
    assert key_run_leaks({"blob": b"second-line-9f8e"}, [with_line])
    assert not key_run_leaks({"blob": f"before {key[:7]} and {key[10:17]} after".encode()}, [key])
    assert not key_run_leaks({"blob": b"********-****-****-****-********f2+"}, [key])
