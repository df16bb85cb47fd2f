"""`hyperstack-rpc call METHOD [PARAMS_JSON]`: the one-shot form for shells.

Result JSON on stdout and exit 0; an error object on stderr, nothing on stdout, exit 1;
a usage error exits 2. Results and errors are held to protocol/openrpc.json too.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from rpc_process import binary_path


def run_call(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("HYPERSTACK_API_KEY", None)
    full_env.update(env or {})
    return subprocess.run([binary_path(), "call", *args], capture_output=True, env=full_env, timeout=30)


def error_object(stderr: bytes) -> dict:
    """The error object: the last line of stderr (anything before it is logging)."""
    lines = [line for line in stderr.decode().splitlines() if line.strip()]
    assert lines, "stderr is empty"
    return json.loads(lines[-1])


def result_of(validator, method: str, completed: subprocess.CompletedProcess):
    assert completed.returncode == 0, completed.stderr.decode()
    result = json.loads(completed.stdout)
    validator.check_response(method, {"jsonrpc": "2.0", "id": 1, "result": result})
    return result


def test_list_prints_json_and_exits_zero(validator):
    completed = run_call("apiKeys.list", "{}", "--sandbox")
    result = result_of(validator, "apiKeys.list", completed)
    assert result["keys"] == [] and result["fromCache"] is False
    assert completed.stdout.count(b"\n") == 1 and completed.stdout.endswith(b"\n")


def test_params_default_to_an_empty_object(validator):
    result = result_of(validator, "apiKeys.list", run_call("apiKeys.list", "--sandbox"))
    assert result["keys"] == []


def test_bad_method_exits_one_with_the_error_on_stderr(validator):
    completed = run_call("apiKeys.nope", "{}", "--sandbox")
    assert completed.returncode == 1
    assert completed.stdout == b""
    error = error_object(completed.stderr)
    assert error["code"] == -32601
    validator.check_response("apiKeys.nope", {"jsonrpc": "2.0", "id": 1, "error": error})


def test_invalid_params_exit_one(validator):
    completed = run_call("apiKeys.generate", '{"name": ""}', "--sandbox")
    assert completed.returncode == 1 and completed.stdout == b""
    error = error_object(completed.stderr)
    assert error["code"] == -32602 and error["data"]["field"] == "name"
    validator.check_response("apiKeys.generate", {"jsonrpc": "2.0", "id": 1, "error": error})


@pytest.mark.parametrize("args", [
    ("apiKeys.list", "{not json", "--sandbox"),
    ("apiKeys.list", '"a string"', "--sandbox"),
    ("apiKeys.list", "{}", "--sandbox", "--no-such-option"),
    ("apiKeys.list", "{}", "--sandbox", "--cache-ttl", "-1"),
    (),
])
def test_usage_errors_exit_two(args):
    completed = run_call(*args)
    assert completed.returncode == 2, (args, completed.returncode, completed.stderr.decode())
    assert completed.stdout == b""
    assert completed.stderr.strip(), "a usage error should say what is wrong"


def test_calls_against_the_http_sandbox(validator, sandbox_server):
    server = sandbox_server
    env = {"HYPERSTACK_API_KEY": server.api_key}
    generated = result_of(validator, "apiKeys.generate",
                          run_call("apiKeys.generate", '{"name": "from-shell"}', "--base-url", server.base_url, env=env))
    secret = generated["key"]["secret"]

    listed = run_call("apiKeys.list", "{}", "--base-url", server.base_url, env=env)
    result = result_of(validator, "apiKeys.list", listed)
    assert [k["name"] for k in result["keys"]] == ["from-shell"]
    for stream in (listed.stdout, listed.stderr):
        assert secret.encode() not in stream and server.api_key.encode() not in stream

    missing = run_call("apiKeys.delete", '{"id": 4242}', "--base-url", server.base_url, env=env)
    assert missing.returncode == 1 and missing.stdout == b""
    error = error_object(missing.stderr)
    assert error["code"] == 1404 and error["data"]["httpStatus"] == 404
    validator.check_response("apiKeys.delete", {"jsonrpc": "2.0", "id": 1, "error": error}, secrets=[server.api_key])

    unauthorized = run_call("apiKeys.list", "{}", "--base-url", server.base_url)
    assert unauthorized.returncode == 1 and unauthorized.stdout == b""
    assert error_object(unauthorized.stderr)["code"] == 1401
    assert server.stats() == {"GET /api-key": 1, "POST /api-key/generate": 1,
                              "PUT /api-key/{id}": 0, "DELETE /api-key/{id}": 1}
