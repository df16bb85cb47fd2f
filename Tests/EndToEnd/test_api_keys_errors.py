"""Every class of upstream failure, injected into the real sandbox over HTTP, maps to its code.

Each failure must leave the process serving ($/ping answers) and the cache exactly as it
was: apiKeys.list, from the cache, returns the snapshot taken before the failure.
"""

from __future__ import annotations

import time

import pytest

from sandbox_server import SandboxServer

GENERATE = "POST /api-key/generate"
LIST = "GET /api-key"


@pytest.fixture
def session(spawn, sandbox_server):
    """A server against the sandbox, with one key loaded into its cache."""
    rpc = sandbox_server.spawn_rpc(spawn)
    rpc.call("apiKeys.list")
    generated = rpc.call("apiKeys.generate", {"name": "existing", "description": "before the failure"})
    rpc.secrets.append(generated["key"]["secret"])
    return rpc, sandbox_server


def snapshot(rpc) -> dict:
    listed = rpc.call("apiKeys.list")
    assert listed["fromCache"] is True
    return {"revision": listed["revision"], "keys": listed["keys"]}


def failure(rpc, method: str, params: dict, code: int, timeout: float = 30.0) -> dict:
    """Calls `method`, expects error `code`, returns error.data (after checking its shape)."""
    response = rpc.request(method, params, timeout=timeout)
    assert "error" in response, f"{method} {params} should fail with {code}, got {response}"
    error = response["error"]
    assert error["code"] == code, f"{method} {params}: expected {code}, got {error}"
    assert error["message"].strip()
    data = error["data"]
    assert set(data) <= {"httpStatus", "reason", "upstreamMessage", "retryable"}, data
    assert isinstance(data["retryable"], bool)
    return data


def assert_unharmed(rpc, before: dict) -> None:
    assert rpc.call("$/ping") == {}
    assert snapshot(rpc) == before, "the failure changed the cached key set"


def test_unauthorized(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "GET", "path": "/api-key", "status": 401})
    data = failure(rpc, "apiKeys.list", {"refresh": True}, 1401)
    assert data["httpStatus"] == 401 and data["retryable"] is False
    assert server.route_count(LIST) == 2, "a 401 must not be retried"
    assert_unharmed(rpc, before)


def test_wrong_configured_key_is_unauthorized(spawn, sandbox_server):
    """The sandbox's real authentication, not an injected fault."""
    wrong = "not-the-sandbox-key"
    rpc = spawn("--base-url", sandbox_server.base_url, env={"HYPERSTACK_API_KEY": wrong},
                secrets=[wrong, sandbox_server.api_key])
    data = failure(rpc, "apiKeys.list", {}, 1401)
    assert data["httpStatus"] == 401
    data = failure(rpc, "apiKeys.generate", {"name": "x"}, 1401)
    assert data["httpStatus"] == 401
    assert rpc.call("$/ping") == {}


def test_no_key_configured(spawn, sandbox_server):
    rpc = spawn("--base-url", sandbox_server.base_url)
    for method, params in [("apiKeys.list", {}), ("apiKeys.generate", {"name": "x"}),
                           ("apiKeys.update", {"id": 1, "name": "y"}), ("apiKeys.delete", {"id": 1})]:
        response = rpc.request(method, params)
        assert response["error"]["code"] == 1401, response
        message = response["error"]["message"]
        assert "HYPERSTACK_API_KEY" in message, f"the message does not say how to configure a key: {message!r}"
        assert "--api-key-file" in message or "apiKey" in message, message
        assert response["error"]["data"]["retryable"] is False
    assert rpc.call("$/ping") == {}
    assert sandbox_server.upstream_requests() == 0, "a call without a key went upstream"


def test_initialization_options_bring_the_key(spawn, sandbox_server):
    server = sandbox_server
    rpc = spawn("--base-url", server.base_url, secrets=[server.api_key])
    result = rpc.call("initialize", {"processId": None, "clientInfo": {"name": "pytest"},
                                     "initializationOptions": {"apiKey": server.api_key}})
    assert result["serverInfo"]["name"] == "hyperstack-rpc"
    rpc.notify("initialized", {})
    assert rpc.call("apiKeys.list")["keys"] == []
    generated = rpc.call("apiKeys.generate", {"name": "via-initialize"})
    rpc.secrets.append(generated["key"]["secret"])
    assert server.route_count(LIST) == 1 and server.route_count(GENERATE) == 1
    assert server.api_key.encode() not in rpc.stderr


def test_forbidden_by_the_real_key_limit(spawn):
    server = SandboxServer("--max-keys", "1")
    try:
        rpc = server.spawn_rpc(spawn)
        rpc.call("apiKeys.list")
        first = rpc.call("apiKeys.generate", {"name": "one"})
        rpc.secrets.append(first["key"]["secret"])
        before = snapshot(rpc)
        data = failure(rpc, "apiKeys.generate", {"name": "two"}, 1403)
        assert data["httpStatus"] == 403 and data["retryable"] is False
        assert "Maximum API key limit reached" in data["upstreamMessage"]
        assert server.route_count(GENERATE) == 2
        assert_unharmed(rpc, before)
    finally:
        server.stop()


@pytest.mark.parametrize("method", ["apiKeys.update", "apiKeys.delete"])
def test_unknown_id_is_not_found(session, method):
    rpc, server = session
    before = snapshot(rpc)
    params = {"id": 9999, "name": "nope"} if method == "apiKeys.update" else {"id": 9999}
    data = failure(rpc, method, params, 1404)
    assert data["httpStatus"] == 404 and data["retryable"] is False
    assert_unharmed(rpc, before)
    assert [m for m in rpc.arrived if m.get("method") == "apiKeys.didChange"
            and m["params"]["revision"] > before["revision"]] == []


@pytest.mark.parametrize("method", ["apiKeys.update", "apiKeys.delete"])
def test_not_found_evicts_a_cached_key(session, method):
    rpc, server = session
    before = snapshot(rpc)
    gone = before["keys"][0]["id"]
    status, _ = server.http("DELETE", f"/api-key/{gone}")
    assert status == 200
    params = {"id": gone, "name": "renamed"} if method == "apiKeys.update" else {"id": gone}
    request = rpc.start_request(method, params)
    response = rpc.wait_response(request)
    assert response["error"]["code"] == 1404, response
    change_index, change = next((i, m) for i, m in enumerate(rpc.arrived) if m.get("method") == "apiKeys.didChange"
                                and m["params"]["revision"] > before["revision"])
    assert change["params"] == {"revision": change["params"]["revision"], "cause": "refresh",
                                "added": [], "updated": [], "removed": [gone]}
    response_index = next(i for i, m in enumerate(rpc.arrived) if "method" not in m and m.get("id") == request)
    assert change_index < response_index, "the eviction's didChange came after the 1404 response"
    after = snapshot(rpc)
    assert after == {"revision": change["params"]["revision"], "keys": []}


def test_duplicate_name_is_a_conflict(session):
    rpc, server = session
    before = snapshot(rpc)
    data = failure(rpc, "apiKeys.generate", {"name": "existing"}, 1409)
    assert data["httpStatus"] == 409 and data["retryable"] is False
    assert server.route_count(GENERATE) == 2
    assert_unharmed(rpc, before)


def test_rejected_request(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "PUT", "path": "/api-key/", "status": 400,
                   "body": {"status": False, "message": "Bad name", "error_reason": "bad_request"}})
    data = failure(rpc, "apiKeys.update", {"id": before["keys"][0]["id"], "name": "x"}, 1400)
    assert data["httpStatus"] == 400 and data["upstreamMessage"] == "Bad name"
    assert_unharmed(rpc, before)


def test_rate_limit_with_retry_after_is_retried(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "POST", "path": "/api-key/generate", "status": 429, "retry_after": "1"})
    started = time.monotonic()
    generated = rpc.call("apiKeys.generate", {"name": "after-429"})
    elapsed = time.monotonic() - started
    rpc.secrets.append(generated["key"]["secret"])
    assert server.route_count(GENERATE) == 3, "expected the 429 and one successful retry (after the setup's one)"
    assert elapsed >= 0.9, f"Retry-After: 1 was not honoured (retried after {elapsed:.2f}s)"
    listed = snapshot(rpc)
    assert [k["name"] for k in listed["keys"]] == ["existing", "after-429"]
    assert listed["revision"] == generated["revision"] > before["revision"]


def test_rate_limit_that_persists(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "GET", "path": "/api-key", "status": 429, "count": 50})
    data = failure(rpc, "apiKeys.list", {"refresh": True}, 1429)
    assert data["httpStatus"] == 429 and data["retryable"] is True
    assert server.route_count(LIST) >= 3, "a 429 on a list should have been retried"
    assert_unharmed(rpc, before)


def test_server_error(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "POST", "path": "/api-key/generate", "status": 500})
    data = failure(rpc, "apiKeys.generate", {"name": "boom"}, 1500)
    assert data["httpStatus"] == 500
    assert_unharmed(rpc, before)


def test_server_error_on_list_is_retried(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "GET", "path": "/api-key", "status": 500,
                   "body": {"message": "Internal Server Error"}})
    listed = rpc.call("apiKeys.list", {"refresh": True})
    assert server.route_count(LIST) == 3, "one GET in setup, then the 500 and its retry"
    assert listed["fromCache"] is False
    assert {"revision": listed["revision"], "keys": listed["keys"]} == before


@pytest.mark.parametrize("fault", [{"malformed": True}, {"status": 200, "raw_body": "<html>gateway</html>"}])
def test_malformed_answer(session, fault):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "GET", "path": "/api-key", **fault})
    data = failure(rpc, "apiKeys.list", {"refresh": True}, 1502)
    assert data.get("httpStatus") in (None, 200)
    assert_unharmed(rpc, before)


def test_malformed_answer_to_generate(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "POST", "path": "/api-key/generate", "malformed": True})
    failure(rpc, "apiKeys.generate", {"name": "garbled"}, 1502)
    assert server.route_count(GENERATE) == 2, "generate must not be retried"
    assert_unharmed(rpc, before)


def test_dropped_connection_on_generate_is_not_retried(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "POST", "path": "/api-key/generate", "drop": True, "apply": True})
    data = failure(rpc, "apiKeys.generate", {"name": "maybe-created"}, 1503)
    assert "httpStatus" not in data
    assert server.route_count(GENERATE) == 2, "a generate whose connection dropped must not be sent again"
    assert_unharmed(rpc, before)


def test_dropped_connection_on_list_is_retried(session):
    rpc, server = session
    before = snapshot(rpc)
    server.faults({"method": "GET", "path": "/api-key", "drop": True})
    listed = rpc.call("apiKeys.list", {"refresh": True})
    assert server.route_count(LIST) == 3
    assert {"revision": listed["revision"], "keys": listed["keys"]} == before


def test_generate_timeout_is_not_retried(spawn, sandbox_server):
    server = sandbox_server
    rpc = server.spawn_rpc(spawn, "--timeout", "1")
    rpc.call("apiKeys.list")
    before = snapshot(rpc)
    server.faults({"method": "POST", "path": "/api-key/generate", "latency_ms": 2500})
    started = time.monotonic()
    data = failure(rpc, "apiKeys.generate", {"name": "slow"}, 1503)
    elapsed = time.monotonic() - started
    assert elapsed < 2.4, f"--timeout 1 took {elapsed:.2f}s to give up"
    assert "httpStatus" not in data
    assert server.route_count(GENERATE) == 1, "a generate that timed out must never be sent again"
    assert_unharmed(rpc, before)
    time.sleep(1.7)  # the sandbox finishes the slow generate; still exactly one POST
    assert server.route_count(GENERATE) == 1
    assert_unharmed(rpc, before)


def test_unreachable_upstream(spawn, sandbox_server):
    """Connection refused: the sandbox is gone."""
    server = sandbox_server
    rpc = server.spawn_rpc(spawn)
    rpc.call("apiKeys.list")
    before = snapshot(rpc)
    server.stop()
    data = failure(rpc, "apiKeys.list", {"refresh": True}, 1503)
    assert data["retryable"] is True
    assert_unharmed(rpc, before)


def test_invalid_params_never_reach_upstream(session):
    rpc, server = session
    before = snapshot(rpc)
    requests_before = server.upstream_requests()
    for method, params, field in [
        ("apiKeys.generate", {}, "name"),
        ("apiKeys.generate", {"name": ""}, "name"),
        ("apiKeys.generate", {"name": "x" * 201}, "name"),
        ("apiKeys.generate", {"name": "x", "description": 5}, "description"),
        ("apiKeys.update", {"id": "1", "name": "x"}, "id"),
        ("apiKeys.update", {"id": 1}, "name"),
        ("apiKeys.delete", {"id": 2.5}, "id"),  # any integer is an id (issue 10, item 14)
        ("apiKeys.delete", {}, "id"),
        ("apiKeys.list", {"maxAge": -1}, "maxAge"),
        ("apiKeys.list", {"refresh": "yes"}, "refresh"),
        ("apiKeys.list", {"maxAge": 31536001}, "maxAge"),
        ("apiKeys.watch", {"interval": 31536001}, "interval"),
    ]:
        response = rpc.request(method, params)
        assert response["error"]["code"] == -32602, (method, params, response)
        assert response["error"]["data"]["field"] == field, (method, params, response)
    assert rpc.request("apiKeys.list", [True])["error"]["code"] == -32602
    assert server.upstream_requests() == requests_before
    assert_unharmed(rpc, before)
