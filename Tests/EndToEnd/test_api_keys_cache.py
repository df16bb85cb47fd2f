"""The list cache, measured where it matters: requests the sandbox saw over HTTP."""

from __future__ import annotations

import json
import time

import pytest

LIST = "GET /api-key"


def send_lists_at_once(rpc, count: int, params: dict) -> list:
    """`count` apiKeys.list requests in one write, before reading anything back."""
    ids = [f"list-{n}" for n in range(count)]
    for request_id in ids:
        rpc.methods_by_id[json.dumps(request_id)] = "apiKeys.list"
    rpc.send_raw(b"".join(rpc.frame({"jsonrpc": "2.0", "id": i, "method": "apiKeys.list", "params": params})
                          for i in ids))
    return ids


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_concurrent_cold_lists_share_one_upstream_request(spawn, sandbox_server, framing):
    server = sandbox_server
    server.http("POST", "/api-key/generate", {"name": "existing"})
    rpc = server.spawn_rpc(spawn, framing=framing)
    rpc.call("$/ping")
    before = server.stats()
    ids = send_lists_at_once(rpc, 100, {})
    results = [rpc.wait_response(i)["result"] for i in ids]
    after = server.stats()
    assert after[LIST] - before[LIST] == 1, f"100 cold lists made {after[LIST] - before[LIST]} upstream GETs"
    assert sum(after.values()) - sum(before.values()) == 1
    assert {r["revision"] for r in results} == {results[0]["revision"]}
    assert all([k["name"] for k in r["keys"]] == ["existing"] for r in results)
    assert any(r["fromCache"] is False for r in results)
    assert [m for m in rpc.arrived if m.get("method") == "apiKeys.didChange"] == [], "the first load sent a didChange"


def test_concurrent_cold_lists_share_one_failure(spawn, sandbox_server):
    """A failing shared listing fails every waiting caller, with one upstream request."""
    server = sandbox_server
    rpc = server.spawn_rpc(spawn)
    rpc.call("$/ping")
    server.faults({"method": "GET", "path": "/api-key", "status": 401, "latency_ms": 1000})
    ids = send_lists_at_once(rpc, 100, {})
    codes = [rpc.wait_response(i)["error"]["code"] for i in ids]
    assert codes == [1401] * 100
    assert server.route_count(LIST) == 1
    assert rpc.call("$/ping") == {}


def test_list_within_ttl_refresh_and_max_age(spawn, sandbox_server):
    server = sandbox_server
    rpc = server.spawn_rpc(spawn)
    first = rpc.call("apiKeys.list")
    assert first["fromCache"] is False
    assert server.route_count(LIST) == 1

    cached = rpc.call("apiKeys.list")
    assert cached["fromCache"] is True
    assert cached["revision"] == first["revision"] and cached["keys"] == first["keys"]
    assert cached["fetchedAt"] == first["fetchedAt"]
    assert rpc.call("apiKeys.list", {"maxAge": 60})["fromCache"] is True
    assert server.route_count(LIST) == 1, "a list within the TTL went upstream"

    refreshed = rpc.call("apiKeys.list", {"refresh": True})
    assert refreshed["fromCache"] is False
    assert server.route_count(LIST) == 2, "refresh: true must make exactly one upstream GET"

    aged = rpc.call("apiKeys.list", {"maxAge": 0})
    assert aged["fromCache"] is False
    assert server.route_count(LIST) == 3, "maxAge: 0 must make exactly one upstream GET"

    assert rpc.call("apiKeys.list")["fromCache"] is True
    assert server.route_count(LIST) == 3
    # Nothing changed upstream, so none of these reloads announced anything.
    assert [m for m in rpc.arrived if m.get("method") == "apiKeys.didChange"] == []
    assert server.upstream_requests() == 3


def test_each_mutation_makes_exactly_one_upstream_request(spawn, sandbox_server):
    server = sandbox_server
    rpc = server.spawn_rpc(spawn)
    rpc.call("apiKeys.list")
    assert server.upstream_requests() == 1

    def one_request(route: str, method: str, params: dict) -> dict:
        before = server.stats()
        result = rpc.call(method, params)
        after = server.stats()
        grown = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
        assert grown == {route: 1}, f"{method} made these upstream requests: {grown}"
        return result

    generated = one_request("POST /api-key/generate", "apiKeys.generate", {"name": "k"})
    rpc.secrets.append(generated["key"]["secret"])
    one_request("PUT /api-key/{id}", "apiKeys.update", {"id": generated["key"]["id"], "name": "k2", "description": "d"})
    one_request("DELETE /api-key/{id}", "apiKeys.delete", {"id": generated["key"]["id"]})

    # The cache is still fresh after the mutations: lists need no GET and show their effect.
    listed = rpc.call("apiKeys.list")
    assert listed["fromCache"] is True and listed["keys"] == []
    assert server.route_count(LIST) == 1


def test_mutation_before_any_list_makes_no_get(spawn, sandbox_server):
    server = sandbox_server
    rpc = server.spawn_rpc(spawn)
    generated = rpc.call("apiKeys.generate", {"name": "first"})
    rpc.secrets.append(generated["key"]["secret"])
    assert server.stats() == {**{name: 0 for name in server.stats()}, "POST /api-key/generate": 1}


def test_cache_expires_after_its_ttl(spawn, sandbox_server):
    server = sandbox_server
    rpc = server.spawn_rpc(spawn, "--cache-ttl", "0.5")
    rpc.call("apiKeys.list")
    assert rpc.call("apiKeys.list")["fromCache"] is True
    assert server.route_count(LIST) == 1
    time.sleep(1.0)
    expired = rpc.call("apiKeys.list")
    assert expired["fromCache"] is False
    assert server.route_count(LIST) == 2, "a list after the TTL must make exactly one upstream GET"


@pytest.mark.parametrize("reload", ["expiry", "refresh", "maxAge"])
def test_reload_that_finds_a_change_announces_it(spawn, sandbox_server, reload):
    """A reload that finds a different set sends didChange (cause refresh) before the list response."""
    server = sandbox_server
    rpc = server.spawn_rpc(spawn, "--cache-ttl", "0.3" if reload == "expiry" else "30")
    first = rpc.call("apiKeys.list")
    status, body = server.http("POST", "/api-key/generate", {"name": "made-elsewhere"})
    assert status == 200
    rpc.secrets.append(body["api_key"]["key"])
    if reload == "expiry":
        time.sleep(0.6)
    else:
        assert rpc.call("apiKeys.list")["keys"] == [], "the cache should not know yet"
    params = {"expiry": {}, "refresh": {"refresh": True}, "maxAge": {"maxAge": 0}}[reload]
    request = rpc.start_request("apiKeys.list", params)
    listed = rpc.wait_response(request)["result"]
    assert listed["fromCache"] is False
    assert listed["revision"] > first["revision"]
    assert [k["name"] for k in listed["keys"]] == ["made-elsewhere"]
    change_index, change = next((i, m) for i, m in enumerate(rpc.arrived) if m.get("method") == "apiKeys.didChange")
    response_index = next(i for i, m in enumerate(rpc.arrived) if m.get("id") == request)
    assert change_index < response_index
    assert change["params"]["cause"] == "refresh"
    assert change["params"]["revision"] == listed["revision"]
    assert [k["id"] for k in change["params"]["added"]] == [body["api_key"]["id"]]


def test_listing_in_flight_does_not_undo_a_mutation(spawn, sandbox_server):
    """A GET that started before a generate finished may not contain the new key; the cache must keep it."""
    server = sandbox_server
    rpc = server.spawn_rpc(spawn)
    rpc.call("apiKeys.list")
    server.faults({"method": "GET", "path": "/api-key", "latency_ms": 600})
    slow_list = rpc.start_request("apiKeys.list", {"refresh": True})
    time.sleep(0.2)
    generated = rpc.call("apiKeys.generate", {"name": "during-the-list"})
    rpc.secrets.append(generated["key"]["secret"])
    listed = rpc.wait_response(slow_list)["result"]
    assert [k["id"] for k in listed["keys"]] == [generated["key"]["id"]]
    assert listed["revision"] >= generated["revision"]
    after = rpc.call("apiKeys.list")
    assert [k["id"] for k in after["keys"]] == [generated["key"]["id"]]
    removals = [m for m in rpc.arrived if m.get("method") == "apiKeys.didChange" and m["params"]["removed"]]
    assert removals == [], f"a stale listing announced the new key as removed: {removals}"
