"""Issue 10, item 1: an API key with control characters leaked, and redaction missed encodings.

Credentials are validated where they are loaded (HYPERSTACK_API_KEY, --api-key-file,
initialize's initializationOptions.apiKey): visible ASCII only, one line (a file may end in one
newline), not empty. A bad one is refused with a message that names the source and never the
value: at start-up (non-zero exit, message on stderr) for the environment and the file, with
-32602 for initialize. Redaction of upstream text, the safety net behind that, catches any
8-character run of the key, case-insensitively, and its percent- and base64-encoded forms, and
runs before any excerpt is cut; a 401's text is never quoted at all.

Every test spawns the real binary; `key_runs.key_run_leaks` is the strict scan.
"""

from __future__ import annotations

import base64
import json
import os
import secrets as random_secrets
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from hostile_upstream import HostileUpstream
from key_runs import key_run_leaks
from rpc_process import binary_path, ndjson_frame
from sandbox_server import SandboxServer

LIST_REQUEST = ndjson_frame({"jsonrpc": "2.0", "id": 1, "method": "apiKeys.list", "params": {"refresh": True}})


def fresh_key() -> str:
    return "hsk-" + random_secrets.token_hex(20)


def special_key() -> str:
    """A key whose every 8-character run spans a character that percent-encoding changes."""
    specials = "+=:@!*$,"
    return "hs" + "".join(random_secrets.token_hex(2)[:3] + specials[n % len(specials)] for n in range(12))


def start_to_end(*args: str, env: dict | None = None, stdin: bytes = LIST_REQUEST,
                 timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs the server with `stdin` as its whole input, to the end."""
    full_env = {name: value for name, value in os.environ.items() if name != "HYPERSTACK_API_KEY"}
    full_env.update(env or {})
    return subprocess.run([binary_path(), *args], input=stdin, capture_output=True, timeout=timeout,
                          env=full_env)


def outputs(done: subprocess.CompletedProcess) -> dict[str, bytes]:
    return {"stdout": done.stdout, "stderr": done.stderr}


def messages_blob(rpc) -> bytes:
    return "\n".join(json.dumps(m) + json.dumps(m, ensure_ascii=False) for m in rpc.arrived).encode()


def key_file(tmp_path: Path, contents: bytes) -> Path:
    path = tmp_path / "api-key"
    path.write_bytes(contents)
    path.chmod(0o600)
    return path


# -- validation where the key is loaded ---------------------------------------------------

@pytest.mark.parametrize("second_line", [b"\nsecond-line-", b"\r\nX-Injected: yes-", b"\n\n", b"\nx"],
                         ids=["newline", "crlf-header", "blank-second-line", "short-second-line"])
def test_hardening_01_key_file_with_newline_rejected(tmp_path, sandbox_server, second_line):
    key = fresh_key()
    planted = key.encode() + second_line + (random_secrets.token_hex(4).encode() if second_line[-1:] == b"-" else b"")
    path = key_file(tmp_path, planted)
    done = start_to_end("--base-url", sandbox_server.base_url, "--api-key-file", str(path))
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode != 0, f"a key file of two lines was accepted; stderr: {stderr[-300:]!r}"
    assert done.stdout == b"", "the refusal came after the protocol started"
    assert str(path) in stderr, f"the message does not name the file: {stderr!r}"
    assert "line" in stderr, f"the message does not say what is wrong: {stderr!r}"
    assert key_run_leaks(outputs(done), [planted.decode("latin-1")]) == []
    assert sandbox_server.upstream_requests() == 0


@pytest.mark.parametrize("planted", [b"KEY\0", b"KEY\n\0", b"\0KEY", b"KEY\tX", b"KEY\x1b[31m", b"KEY\x7f",
                                     "KEY\u00e9".encode(), b"KEY with spaces"],
                         ids=["nul-end", "newline-nul", "nul-start", "tab", "escape", "delete", "non-ascii",
                              "spaces"])
def test_hardening_01_key_file_ending_in_nul_rejected(tmp_path, sandbox_server, planted):
    key = fresh_key()
    planted = planted.replace(b"KEY", key.encode())
    path = key_file(tmp_path, planted)
    done = start_to_end("--base-url", sandbox_server.base_url, "--api-key-file", str(path))
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode != 0, f"a key file holding {planted.replace(key.encode(), b'KEY')!r} was accepted"
    assert done.stdout == b""
    assert str(path) in stderr and "API key" in stderr, stderr
    assert key_run_leaks(outputs(done), [planted.decode("latin-1")]) == []
    assert sandbox_server.upstream_requests() == 0


@pytest.mark.parametrize("ending", [b"", b"\n", b"\r\n"], ids=["no-newline", "newline", "crlf"])
def test_hardening_01_key_file_with_one_trailing_newline_accepted(tmp_path, spawn, ending):
    key = fresh_key()
    server = SandboxServer(api_key=key)
    try:
        path = key_file(tmp_path, key.encode() + ending)
        rpc = spawn("--base-url", server.base_url, "--api-key-file", str(path), secrets=[key])
        assert rpc.call("apiKeys.list")["keys"] == []
        assert rpc.stop() == 0
        assert key_run_leaks({"stderr": bytes(rpc.stderr), "messages": messages_blob(rpc)}, [key]) == []
    finally:
        server.stop()


def test_hardening_01_empty_key_file_rejected(tmp_path, sandbox_server):
    for contents in (b"", b"\n", b"\r\n"):
        path = key_file(tmp_path, contents)
        done = start_to_end("--base-url", sandbox_server.base_url, "--api-key-file", str(path))
        assert done.returncode != 0 and str(path).encode() in done.stderr and b"empty" in done.stderr, done.stderr


@pytest.mark.parametrize("suffix", ["\nsecond-line-", "\r\nX-Injected: yes", "\tx", "\x1b[2K", "\x7f", " x", "\n"],
                         ids=["newline", "crlf-header", "tab", "escape", "delete", "space", "trailing-newline"])
def test_hardening_01_env_key_with_control_chars_rejected(sandbox_server, suffix):
    key = fresh_key()
    planted = key + suffix + (random_secrets.token_hex(4) if suffix.endswith("-") else "")
    for args in ((), ("--base-url", sandbox_server.base_url), ("call", "apiKeys.list", "--base-url",
                                                                 sandbox_server.base_url)):
        env = {"HYPERSTACK_API_KEY": planted, "HYPERSTACK_API_URL": sandbox_server.base_url}
        done = start_to_end(*args, env=env)
        stderr = done.stderr.decode("utf-8", "replace")
        assert done.returncode != 0, f"{args}: a bad HYPERSTACK_API_KEY was accepted; stderr {stderr[-300:]!r}"
        assert done.stdout == b"", args
        assert "HYPERSTACK_API_KEY" in stderr, f"{args}: the message does not name the source: {stderr!r}"
        assert key_run_leaks(outputs(done), [planted]) == [], args
    assert sandbox_server.upstream_requests() == 0


def test_hardening_01_bad_env_key_does_not_fall_through_to_initialize(sandbox_server):
    """A bad key in the environment is a configuration error, not "no key": the process does not
    start and wait for initialize to bring another one."""
    planted = fresh_key() + "\n" + random_secrets.token_hex(8)
    stdin = ndjson_frame({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                          "params": {"initializationOptions": {"apiKey": sandbox_server.api_key}}}) + LIST_REQUEST
    done = start_to_end("--base-url", sandbox_server.base_url, env={"HYPERSTACK_API_KEY": planted}, stdin=stdin)
    assert done.returncode != 0 and done.stdout == b""
    assert b"HYPERSTACK_API_KEY" in done.stderr
    assert key_run_leaks(outputs(done), [planted]) == []


@pytest.mark.parametrize("suffix", ["\r\nX-Injected: yes", "\n", "\u0000", "\t", " ", "\u00e9"],
                         ids=["crlf-header", "newline", "nul", "tab", "space", "non-ascii"])
def test_hardening_01_initialize_key_with_crlf_rejected(spawn, suffix):
    key = fresh_key()
    planted = key + suffix
    with HostileUpstream("normal", api_key=key) as upstream:
        rpc = spawn("--base-url", upstream.base_url, "--log-level", "trace", secrets=[key])
        response = rpc.request("initialize", {"processId": None,
                                              "initializationOptions": {"apiKey": planted}})
        assert "error" in response, f"initialize accepted a key with {suffix!r}: {response}"
        error = response["error"]
        assert error["code"] == -32602, error
        assert "initializationOptions.apiKey" in error["message"], error
        assert error["data"]["field"] == "initializationOptions.apiKey"
        # The refused key is not used: calls go on as with no key at all, and nothing goes upstream.
        listed = rpc.request("apiKeys.list", {"refresh": True})
        assert listed["error"]["code"] == 1401, listed
        assert rpc.stop() == 0
        assert upstream.requests == [], "a request went upstream with the refused key"
    blobs = {"messages": messages_blob(rpc), "stderr": bytes(rpc.stderr)}
    assert key_run_leaks(blobs, [planted]) == []


def test_hardening_01_empty_initialize_key_rejected(spawn, sandbox_server):
    rpc = spawn("--base-url", sandbox_server.base_url)
    response = rpc.request("initialize", {"initializationOptions": {"apiKey": ""}})
    assert response["error"]["code"] == -32602 and "empty" in response["error"]["message"], response


# -- redaction of upstream text, the safety net -------------------------------------------

@pytest.mark.parametrize("status,body_format", [(400, "json"), (400, "errors"), (400, "text"), (500, "json"),
                                                (409, "text")])
def test_hardening_01_error_never_echoes_key(spawn, tmp_path, status, body_format):
    key = special_key()
    log = tmp_path / "rpc.log"
    with HostileUpstream("echo", api_key=key, status=status, body_format=body_format) as upstream:
        rpc = upstream.spawn_rpc(spawn, "--log-level", "trace", "--log-file", str(log), "--timeout", "2")
        calls = [("apiKeys.list", {"refresh": True}), ("apiKeys.generate", {"name": "x", "description": "d"}),
                 ("apiKeys.update", {"id": 1, "name": "y"}), ("apiKeys.delete", {"id": 2})]
        for method, params in calls:
            response = rpc.request(method, params, timeout=60)
            assert "error" in response, response
            assert response["error"]["data"].get("httpStatus") == status, response
        assert rpc.stop() == 0
        assert upstream.requests and all(r["headers"].get("api_key") == key for r in upstream.requests)
    blobs = {"messages": messages_blob(rpc), "stderr": bytes(rpc.stderr), "log file": log.read_bytes()}
    assert key_run_leaks(blobs, [key]) == []


@pytest.mark.parametrize("source", ["echoing-upstream", "key-file-with-newline"])
def test_hardening_01_poll_log_never_echoes_key(spawn, tmp_path, source):
    """--poll-interval logs each failed poll at the default level: never with the key in it."""
    key = special_key()
    with HostileUpstream("echo", api_key=key, status=400) as upstream:
        if source == "echoing-upstream":
            rpc = upstream.spawn_rpc(spawn, "--poll-interval", "0.2")
            deadline = time.monotonic() + 20
            while rpc.stderr.count(b"Background refresh of API keys failed") < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert rpc.stderr.count(b"Background refresh of API keys failed") >= 3, rpc.stderr_tail()
            assert rpc.stop() == 0
            blobs = {"stderr": bytes(rpc.stderr), "messages": messages_blob(rpc)}
            planted = key
        else:
            planted = key + "\nsecond-line-" + random_secrets.token_hex(4)
            path = key_file(tmp_path, planted.encode())
            done = start_to_end("--base-url", upstream.base_url, "--api-key-file", str(path),
                                "--poll-interval", "0.2", stdin=b"", timeout=30)
            assert done.returncode != 0, "a two-line key file was accepted"
            assert upstream.requests == []
            blobs = outputs(done)
    assert key_run_leaks(blobs, [planted]) == []


def test_hardening_01_redaction_catches_encodings(spawn):
    """Each spelling of the key, alone in an upstream answer, is caught; and redaction runs before
    a long text body is cut to its excerpt (a key straddling the cut leaves no piece behind)."""
    key = special_key()
    server = SandboxServer(api_key=key)
    forms = {
        "raw": key, "upper-cased": key.upper(), "lower-cased": key.lower(),
        "percent-encoded": urllib.parse.quote(key, safe=""),
        "percent-encoded, lower-case hex": urllib.parse.quote(key, safe="").lower(),
        "base64": base64.b64encode(key.encode()).decode(),
        "base64 of a shifted key": base64.b64encode(b"k=" + key.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(b"x" + key.encode()).decode(),
        "split around ': '": key[:20] + ": " + key[20:],
        "api_key: KEY": "api_key: " + key,
        "8-character prefix": key[:8], "12-character prefix": key[:12], "8-character middle": key[17:25],
    }
    try:
        rpc = server.spawn_rpc(spawn, "--log-level", "trace")
        rpc.call("apiKeys.list")
        for name, form in forms.items():
            for fault in ({"status": 400, "body": {"status": False, "message": f"bad key {form}",
                                                   "error_reason": form}},
                          {"status": 400, "body": {"message": "Input payload validation failed",
                                                   "errors": {"api_key": [f"unknown {form}"]}}},
                          {"status": 400, "raw_body": f"rejected {form} here"},
                          {"status": 400, "raw_body": "x" * (200 - 10) + form}):
                server.faults({"method": "GET", "path": "/api-key", **fault})
                response = rpc.request("apiKeys.list", {"refresh": True})
                assert response["error"]["code"] == 1400, response
                leaks = key_run_leaks({"error": json.dumps(response["error"]).encode()}, [key])
                assert leaks == [], f"{name} in {sorted(fault)}: {leaks}"
        assert rpc.stop() == 0
    finally:
        server.stop()
    assert key_run_leaks({"stderr": bytes(rpc.stderr), "messages": messages_blob(rpc)}, [key]) == []


@pytest.mark.parametrize("body_format", ["json", "errors", "text"])
def test_hardening_01_401_does_not_quote_upstream(spawn, body_format):
    key = special_key()
    with HostileUpstream("echo", api_key=key, status=401, body_format=body_format) as upstream:
        rpc = upstream.spawn_rpc(spawn, "--log-level", "trace")
        for method, params in (("apiKeys.list", {}), ("apiKeys.generate", {"name": "x"})):
            response = rpc.request(method, params)
            error = response["error"]
            assert error["code"] == 1401, error
            assert "Infrahub said" not in error["message"], f"a 401's text is quoted: {error['message']!r}"
            assert "Received" not in error["message"] and "Invalid api_key" not in error["message"], error
            assert error["data"].get("upstreamMessage") in (None, "<redacted>"), error["data"]
            assert "reason" not in error["data"], error["data"]
            assert error["data"]["httpStatus"] == 401
            assert "HYPERSTACK_API_KEY" in error["message"], "the 401 no longer says how to fix the key"
        assert rpc.stop() == 0
    assert key_run_leaks({"messages": messages_blob(rpc), "stderr": bytes(rpc.stderr)}, [key]) == []
