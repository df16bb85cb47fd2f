"""No secret anywhere: not in logs (trace level, file and stderr), notifications or state files.

A busy session (mutations, failures with upstream messages, external changes found by
polling) runs at --log-level trace; afterwards the configured API key, the access token (the
HTTP session runs against a sandbox that generates only with a token) and every generated
secret are searched for in every byte the processes wrote.
"""

from __future__ import annotations

import json
import os
import stat
import uuid

from sandbox_server import SandboxServer


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_absent(secrets: list[str], where: str, data: bytes) -> None:
    for index, secret in enumerate(secrets):
        for form in {secret.encode(), json.dumps(secret)[1:-1].encode()}:
            assert form not in data, f"{where} contains secret #{index} (value withheld)"


def busy_session(rpc, direct_http=None) -> list[str]:
    """Mutations, failures and (with `direct_http`) external changes; returns every secret it saw."""
    secrets: list[str] = []
    rpc.call("apiKeys.list")
    rpc.call("apiKeys.watch", {"interval": 0.2})
    for name in ("alpha", "beta", "gamma"):
        generated = rpc.call("apiKeys.generate", {"name": name, "description": f"{name} key"})
        secrets.append(generated["key"]["secret"])
        rpc.secrets.append(generated["key"]["secret"])
    keys = rpc.call("apiKeys.list", {"refresh": True})["keys"]
    rpc.call("apiKeys.update", {"id": keys[0]["id"], "name": "alpha-2", "description": "renamed"})
    rpc.call("apiKeys.delete", {"id": keys[1]["id"]})
    assert rpc.request("apiKeys.generate", {"name": "gamma"})["error"]["code"] == 1409
    assert rpc.request("apiKeys.delete", {"id": 424242})["error"]["code"] == 1404
    if direct_http is not None:
        status, body = direct_http("POST", "/api-key/generate", {"name": "external"})
        assert status == 200
        secrets.append(body["api_key"]["key"])
        rpc.secrets.append(body["api_key"]["key"])
        rpc.wait_notification(predicate=lambda m: m["params"]["cause"] == "refresh"
                              and any(k["name"] == "external" for k in m["params"]["added"]))
    rpc.call("apiKeys.watch", {"interval": 0})
    final = rpc.call("apiKeys.list", {"maxAge": 0})
    assert all(k["maskedKey"] and k["maskedKey"].startswith("********-") for k in final["keys"])
    return secrets


def test_http_session_leaks_no_secret(spawn, tmp_path):
    api_key = f"e2e-{uuid.uuid4()}"
    access_token = f"e2e-token-{uuid.uuid4()}"
    state = tmp_path / "sandbox-state.json"
    log = tmp_path / "rpc.log"
    server = SandboxServer("--state", str(state), "--access-token", access_token, "--generate-requires-access-token",
                           api_key=api_key)
    try:
        rpc = server.spawn_rpc(spawn, "--log-level", "trace", "--log-file", str(log),
                               env={"HYPERSTACK_ACCESS_TOKEN": access_token}, secrets=[access_token])
        secrets = busy_session(rpc, lambda *request: server.http(*request, access_token=access_token))
        assert rpc.stop() == 0
    finally:
        server.stop()
    everything = [api_key, access_token, *secrets]

    assert log.exists() and log.stat().st_size > 0, "--log-file got no logs at trace level"
    assert mode(log) == 0o600, f"log file mode is {oct(mode(log))}"
    assert_absent(everything, "the log file", log.read_bytes())
    assert_absent(everything, "stderr", bytes(rpc.stderr))
    assert rpc.secret_leaks(everything) == [], "a message carries a secret"
    assert state.exists()
    assert mode(state) == 0o600, f"sandbox state file mode is {oct(mode(state))}"
    assert_absent(everything, "the sandbox state file", state.read_bytes())
    assert_absent(everything, "the sandbox's stderr", bytes(server.stderr))


def test_embedded_sandbox_session_leaks_no_secret(spawn, tmp_path):
    configured = f"unused-{uuid.uuid4()}"
    state = tmp_path / "embedded-state.json"
    log = tmp_path / "embedded.log"
    rpc = spawn("--sandbox", "--sandbox-state", str(state), "--log-level", "trace", "--log-file", str(log),
                env={"HYPERSTACK_API_KEY": configured}, secrets=[configured])
    secrets = busy_session(rpc)
    names = sorted(k["name"] for k in rpc.call("apiKeys.list")["keys"])
    assert rpc.stop() == 0
    everything = [configured, *secrets]

    assert log.exists() and log.stat().st_size > 0
    assert mode(log) == 0o600, f"log file mode is {oct(mode(log))}"
    assert_absent(everything, "the log file", log.read_bytes())
    assert_absent(everything, "stderr", bytes(rpc.stderr))
    assert rpc.secret_leaks(everything) == []
    assert state.exists()
    assert mode(state) == 0o600, f"--sandbox-state file mode is {oct(mode(state))}"
    assert_absent(everything, "the --sandbox-state file", state.read_bytes())

    # The state file is real: a new process sees the same keys, still without secrets.
    again = spawn("--sandbox", "--sandbox-state", str(state), secrets=everything)
    assert sorted(k["name"] for k in again.call("apiKeys.list")["keys"]) == names
    assert again.stop() == 0
    assert_absent(everything, "the --sandbox-state file after a restart", state.read_bytes())


def test_stderr_logging_at_trace_leaks_no_secret(spawn, sandbox_server):
    """Without --log-file the trace logs go to stderr; they must be as clean."""
    rpc = sandbox_server.spawn_rpc(spawn, "--log-level", "trace")
    secrets = busy_session(rpc, sandbox_server.http)
    assert rpc.stop() == 0
    assert len(rpc.stderr) > 0
    assert_absent([sandbox_server.api_key, *secrets], "stderr", bytes(rpc.stderr))


def test_upstream_message_echoing_the_configured_key_is_not_passed_on(spawn, sandbox_server):
    """Some gateways echo the credential they rejected; the server must not relay it."""
    server = sandbox_server
    rpc = server.spawn_rpc(spawn, "--log-level", "trace")
    server.faults({"method": "GET", "path": "/api-key", "status": 401,
                   "body": {"status": False, "message": f"Invalid api_key {server.api_key}",
                            "error_reason": "unauthorized"}})
    response = rpc.request("apiKeys.list")
    assert response["error"]["code"] == 1401
    assert rpc.stop() == 0
    assert rpc.secret_leaks([server.api_key]) == []
    assert_absent([server.api_key], "stderr", bytes(rpc.stderr))
