"""Issue 14, part 3: access tokens, against the real hyperstack-sandbox in strict mode.

Infrahub's OpenAPI document gives `POST /api-key/generate` only the `accessToken` scheme
(`Authorization: Bearer <token>`), while every SDK sends `api_key`. The sandbox emulates the
strict reading with `--access-token TOKEN --generate-requires-access-token`: generate answers an
api_key-only request with 401. Against it, over HTTP on 127.0.0.1:

- generate with only a key gets 1401 and a message that says only a key is configured and how to
  configure a token, standalone, through `call`, and through the shared daemon (`--remote auto`);
- generate with a token (HYPERSTACK_ACCESS_TOKEN, --access-token-file, or
  initializationOptions.accessToken) succeeds, and the other calls keep working;
- a token is validated where it is loaded, as a key is: a bad one is refused without quoting it;
- sessions with different tokens never share a daemon store, and `daemon status` shows at most a
  fingerprint of a token;
- the token appears in no log (trace level, stderr and --log-file), error, notification, state
  file, daemon log, daemon argv or environment (`key_runs.key_run_leaks`, the strict scan: any
  8-character run of it in any spelling).
"""

from __future__ import annotations

import json
import os
import secrets as random_secrets
import subprocess
from pathlib import Path

import pytest

from daemon_fixtures import daemon_env, daemon_validator, forwarders, process_cmdline, process_environ  # noqa: F401
from key_runs import key_run_leaks
from rpc_process import binary_path, ndjson_frame
from sandbox_server import SandboxServer

UNAUTHORIZED = 1401
TOKEN_HELP = ("HYPERSTACK_ACCESS_TOKEN", "--access-token-file", "initializationOptions.accessToken")


def fresh(prefix: str) -> str:
    """A random secret. The prefix has no hyphen: "e2e-token-f…" would share the 8-character run
    "-token-f" with the help text "--access-token-file", and the strict scan would call that a leak."""
    assert "-" not in prefix
    return prefix + random_secrets.token_hex(20)


@pytest.fixture
def strict_sandbox(tmp_path):
    """A sandbox that accepts `key` as api_key and `token` as a bearer token, and generates
    only with the token. Keeps its state in a file, for the scan."""
    key, token = fresh("hskey"), fresh("hstok")
    state = tmp_path / "strict-state.json"
    server = SandboxServer("--access-token", token, "--generate-requires-access-token", "--state", str(state),
                           api_key=key)
    server.token = token
    server.state = state
    yield server
    server.stop()


def assert_explains_missing_token(error: dict) -> None:
    assert error["code"] == UNAUTHORIZED, error
    message = error["message"]
    assert "Only an API key is configured" in message, message
    assert "access token" in message and "Authorization: Bearer" in message, message
    for way in TOKEN_HELP:
        assert way in message, f"the message does not say {way}: {message}"
    assert error["data"]["httpStatus"] == 401, error


def token_file(tmp_path: Path, token: str, mode: int = 0o600) -> Path:
    path = tmp_path / "access-token"
    path.write_text(token + "\n")
    path.chmod(mode)
    return path


def run(*args: str, env: dict, stdin: bytes = b"") -> subprocess.CompletedProcess:
    full_env = {name: value for name, value in os.environ.items()
                if name not in ("HYPERSTACK_API_KEY", "HYPERSTACK_ACCESS_TOKEN", "HYPERSTACK_RPC_REMOTE")}
    full_env.update(env)
    return subprocess.run([binary_path(), *args], input=stdin, capture_output=True, env=full_env, timeout=60)


def messages_blob(rpc) -> bytes:
    """Every message the server wrote, with each generate result's secret (its one home) taken out."""
    kept = []
    for message in rpc.arrived:
        message = json.loads(json.dumps(message))
        result = message.get("result") if isinstance(message, dict) else None
        key = result.get("key") if isinstance(result, dict) else None
        if isinstance(key, dict):
            key.pop("secret", None)
        kept.append(message)
    return "\n".join(json.dumps(m) + json.dumps(m, ensure_ascii=False) for m in kept).encode()


# -- standalone ------------------------------------------------------------------------------

def test_generate_with_only_a_key_says_how_to_configure_a_token(spawn, strict_sandbox):
    rpc = strict_sandbox.spawn_rpc(spawn)
    assert rpc.call("apiKeys.list")["keys"] == [], "the key still serves list"
    response = rpc.request("apiKeys.generate", {"name": "needs-a-token"})
    assert_explains_missing_token(response["error"])
    assert rpc.call("apiKeys.list", {"refresh": True})["keys"] == [], "nothing was created behind the 401"
    assert rpc.stop() == 0


@pytest.mark.parametrize("source", ["environment", "file", "initialize"])
def test_generate_with_a_token_succeeds(spawn, strict_sandbox, tmp_path, source):
    token = strict_sandbox.token
    args, env = [], {}
    if source == "environment":
        env["HYPERSTACK_ACCESS_TOKEN"] = token
    elif source == "file":
        args = ["--access-token-file", str(token_file(tmp_path, token))]
    rpc = strict_sandbox.spawn_rpc(spawn, *args, env=env, secrets=[token])
    if source == "initialize":
        rpc.call("initialize", {"processId": os.getpid(), "initializationOptions": {"accessToken": token}})
    generated = rpc.call("apiKeys.generate", {"name": f"by-{source}"})
    rpc.secrets.append(generated["key"]["secret"])
    assert generated["key"]["name"] == f"by-{source}"
    keys = rpc.call("apiKeys.list", {"refresh": True})["keys"]
    assert [key["name"] for key in keys] == [f"by-{source}"]
    updated = rpc.call("apiKeys.update", {"id": keys[0]["id"], "name": "renamed"})
    assert updated["key"]["name"] == "renamed"
    rpc.call("apiKeys.delete", {"id": keys[0]["id"]})
    assert rpc.stop() == 0
    assert strict_sandbox.route_count("POST /api-key/generate") == 1


def test_a_token_alone_serves_every_call(spawn, strict_sandbox):
    """No API key at all: list, update and delete go with the token too."""
    rpc = spawn("--base-url", strict_sandbox.base_url, env={"HYPERSTACK_ACCESS_TOKEN": strict_sandbox.token},
                secrets=[strict_sandbox.token])
    generated = rpc.call("apiKeys.generate", {"name": "token-only"})
    rpc.secrets.append(generated["key"]["secret"])
    keys = rpc.call("apiKeys.list", {"refresh": True})["keys"]
    rpc.call("apiKeys.delete", {"id": keys[0]["id"]})
    assert rpc.call("apiKeys.list", {"refresh": True})["keys"] == []
    assert rpc.stop() == 0


def test_a_wrong_token_is_refused_as_a_token(spawn, strict_sandbox):
    wrong = fresh("wrongtok")
    rpc = strict_sandbox.spawn_rpc(spawn, env={"HYPERSTACK_ACCESS_TOKEN": wrong}, secrets=[wrong])
    error = rpc.request("apiKeys.generate", {"name": "x"})["error"]
    assert error["code"] == UNAUTHORIZED
    assert "rejected the access token" in error["message"], error
    assert "Only an API key" not in error["message"]
    assert rpc.stop() == 0
    assert key_run_leaks({"stderr": bytes(rpc.stderr), "messages": messages_blob(rpc)}, [wrong]) == []


# -- validation where the token is loaded -----------------------------------------------------

@pytest.mark.parametrize("planted", ["TOKEN\nsecond-line", "TOKEN\r\nX-Injected: yes", "TOKEN\t", "Bearer TOKEN", ""],
                         ids=["newline", "crlf", "tab", "space", "empty-file"])
def test_a_bad_token_file_stops_the_start_up_without_quoting_it(tmp_path, strict_sandbox, planted):
    token = fresh("badtok")
    path = tmp_path / "token"
    path.write_text(planted.replace("TOKEN", token))
    path.chmod(0o600)
    done = run("--base-url", strict_sandbox.base_url, "--access-token-file", str(path),
               env={"HYPERSTACK_API_KEY": strict_sandbox.api_key},
               stdin=ndjson_frame({"jsonrpc": "2.0", "id": 1, "method": "apiKeys.list"}))
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1, stderr
    assert done.stdout == b""
    assert str(path) in stderr and "access token" in stderr, stderr
    assert key_run_leaks({"stdout": done.stdout, "stderr": done.stderr}, [token]) == []
    assert strict_sandbox.upstream_requests() == 0


def test_a_symlinked_token_file_is_refused(tmp_path, strict_sandbox):
    real = token_file(tmp_path, strict_sandbox.token)
    link = tmp_path / "link"
    link.symlink_to(real)
    done = run("--base-url", strict_sandbox.base_url, "--access-token-file", str(link), env={})
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1, stderr
    assert "symbolic link" in stderr or "symlink" in stderr, stderr
    assert key_run_leaks({"stderr": done.stderr}, [strict_sandbox.token]) == []


def test_a_bad_token_in_the_environment_stops_the_start_up(strict_sandbox):
    token = fresh("envtok")
    done = run("--base-url", strict_sandbox.base_url, env={"HYPERSTACK_ACCESS_TOKEN": token + "\r\nX: y"})
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1, stderr
    assert "HYPERSTACK_ACCESS_TOKEN" in stderr and "access token" in stderr, stderr
    assert key_run_leaks({"stderr": done.stderr}, [token]) == []


def test_a_bad_initialize_token_is_invalid_params(spawn, strict_sandbox):
    token = fresh("initok")
    rpc = strict_sandbox.spawn_rpc(spawn, secrets=[token])
    response = rpc.request("initialize", {"initializationOptions": {"accessToken": token + "\n"}})
    assert response["error"]["code"] == -32602
    assert response["error"]["data"]["field"] == "initializationOptions.accessToken"
    assert rpc.stop() == 0
    assert key_run_leaks({"stderr": bytes(rpc.stderr), "messages": messages_blob(rpc)}, [token]) == []


# -- one-shot `call` ------------------------------------------------------------------------

def test_call_generate_explains_without_a_token_and_succeeds_with_one(strict_sandbox, tmp_path):
    common = ("call", "apiKeys.generate", '{"name":"from-call"}', "--base-url", strict_sandbox.base_url)
    refused = run(*common, env={"HYPERSTACK_API_KEY": strict_sandbox.api_key})
    assert refused.returncode == 1, refused.stderr
    assert refused.stdout == b""
    assert_explains_missing_token(json.loads(refused.stderr.decode().strip().splitlines()[-1]))

    done = run(*common, "--access-token-file", str(token_file(tmp_path, strict_sandbox.token)),
               env={"HYPERSTACK_API_KEY": strict_sandbox.api_key})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["key"]["name"] == "from-call" and result["key"]["secret"]
    assert key_run_leaks({"stderr": done.stderr + refused.stderr}, [strict_sandbox.token]) == []


# -- through the shared daemon -----------------------------------------------------------------

def test_through_the_daemon_tokens_separate_stores_and_never_show(daemon_env, forwarders, strict_sandbox, tmp_path):  # noqa: F811
    token = strict_sandbox.token
    key_only = forwarders(framing="ndjson", sandbox=strict_sandbox)
    with_token = forwarders(framing="lsp", sandbox=strict_sandbox, env={"HYPERSTACK_ACCESS_TOKEN": token},
                            secrets=[token])
    by_initialize = forwarders(framing="ndjson", sandbox=strict_sandbox, secrets=[token])
    by_initialize.call("initialize", {"initializationOptions": {"accessToken": token}})

    assert_explains_missing_token(key_only.request("apiKeys.generate", {"name": "via-daemon"}, timeout=30)["error"])
    secrets = []
    for index, forwarder in enumerate((with_token, by_initialize)):
        generated = forwarder.call("apiKeys.generate", {"name": f"via-daemon-{index}"}, timeout=30)
        secrets.append(generated["key"]["secret"])
        forwarder.secrets.append(generated["key"]["secret"])
    assert len(key_only.call("apiKeys.list", {"refresh": True}, timeout=30)["keys"]) == 2

    completed = daemon_env.call("apiKeys.generate", {"name": "via-daemon-call"}, "--base-url", strict_sandbox.base_url,
                                "--access-token-file", str(token_file(tmp_path, token)),
                                env={"HYPERSTACK_API_KEY": strict_sandbox.api_key})
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    secrets.append(json.loads(completed.stdout)["key"]["secret"])
    refused = daemon_env.call("apiKeys.generate", {"name": "via-daemon-call-2"}, "--base-url", strict_sandbox.base_url,
                              env={"HYPERSTACK_API_KEY": strict_sandbox.api_key})
    assert refused.returncode == 1
    assert_explains_missing_token(json.loads(refused.stderr.decode().strip().splitlines()[-1]))

    def ours(status: dict) -> list:
        return [store for store in status["stores"] if store["upstream"] == strict_sandbox.base_url]

    # by_initialize moved from the key-only store to the token's when initialize brought the token.
    status = daemon_env.wait_status(lambda s: s["sessions"] == 3 and sorted(x["sessions"] for x in ours(s)) == [1, 2])
    keyed = ours(status)
    assert len(keyed) == 2, status["stores"]
    assert len({store["keyFingerprint"] for store in keyed}) == 1, "both stores use the same key"
    fingerprints = sorted((store["accessTokenFingerprint"] or "") for store in keyed)
    assert fingerprints[0] == "" and fingerprints[1].startswith("sha256:") and len(fingerprints[1]) == 7 + 16, keyed
    by_store = {store["accessTokenFingerprint"] is not None: store["sessions"] for store in keyed}
    assert by_store == {False: 1, True: 2}, keyed

    pid = status["pid"]
    environ = process_environ(pid)
    names = [entry.split(b"=", 1)[0] for entry in environ.split(b"\0") if entry]
    assert b"HYPERSTACK_ACCESS_TOKEN" not in names, "the daemon's environment holds HYPERSTACK_ACCESS_TOKEN"
    blobs = {"daemon cmdline": process_cmdline(pid), "daemon environ": environ,
             "daemon status": json.dumps(status).encode(),
             "call stdout and stderr": completed.stdout + completed.stderr + refused.stderr}
    for forwarder in (key_only, with_token, by_initialize):
        forwarder.stop()
        blobs[f"forwarder {forwarder.proc.pid} stderr"] = bytes(forwarder.stderr)
        blobs[f"forwarder {forwarder.proc.pid} messages"] = messages_blob(forwarder)
    daemon_env.wait_status(lambda s: s["sessions"] == 0)
    assert daemon_env.stop().returncode == 0
    blobs["daemon log"] = Path(status["log"]).read_bytes()
    assert blobs["daemon log"], "the daemon's log is empty"
    assert key_run_leaks(blobs, [token, strict_sandbox.api_key]) == []


# -- the scan ------------------------------------------------------------------------------

def test_the_token_appears_in_no_log_error_notification_or_state_file(spawn, strict_sandbox, tmp_path):
    """A busy token session at trace level, failures whose bodies echo the token included."""
    token = strict_sandbox.token
    log = tmp_path / "rpc.log"
    rpc = strict_sandbox.spawn_rpc(spawn, "--log-level", "trace", "--log-file", str(log), "--poll-interval", "0.2",
                                   env={"HYPERSTACK_ACCESS_TOKEN": token}, secrets=[token])
    secrets = []
    for name in ("alpha", "beta"):
        generated = rpc.call("apiKeys.generate", {"name": name})
        secrets.append(generated["key"]["secret"])
        rpc.secrets.append(generated["key"]["secret"])
    strict_sandbox.faults(
        {"method": "POST", "path": "/api-key/generate", "status": 403,
         "body": {"status": False, "message": f"token {token} over quota", "error_reason": "forbidden"}},
        {"method": "POST", "path": "/api-key/generate", "status": 401,
         "body": {"status": False, "message": f"Invalid token {token.upper()}", "error_reason": "unauthorized"}},
        {"method": "POST", "path": "/api-key/generate", "status": 400,
         "raw_body": f"Bad request from Bearer {token}"})
    for expected in (1403, 1401, 1400):
        assert rpc.request("apiKeys.generate", {"name": "gamma"})["error"]["code"] == expected
    keys = rpc.call("apiKeys.list", {"refresh": True})["keys"]
    rpc.call("apiKeys.update", {"id": keys[0]["id"], "name": "alpha-2"})
    rpc.call("apiKeys.delete", {"id": keys[1]["id"]})
    assert rpc.stop() == 0
    strict_sandbox.stop()

    assert log.stat().st_size > 0 and log.stat().st_mode & 0o777 == 0o600
    assert strict_sandbox.state.exists()
    blobs = {"stdout messages": messages_blob(rpc), "stderr": bytes(rpc.stderr), "log file": log.read_bytes(),
             "sandbox state file": strict_sandbox.state.read_bytes(), "sandbox stderr": bytes(strict_sandbox.stderr)}
    assert key_run_leaks(blobs, [token, strict_sandbox.api_key]) == []
    assert rpc.secret_leaks([token, *secrets]) == []
