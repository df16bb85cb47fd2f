"""Changes made behind the server's back, found by background polling (apiKeys.watch or --poll-interval)."""

from __future__ import annotations

import time

import pytest

DID_CHANGE = "apiKeys.didChange"


def refresh_change(rpc, timeout: float = 10.0) -> dict:
    return rpc.wait_notification(DID_CHANGE, timeout=timeout,
                                 predicate=lambda m: m["params"]["cause"] == "refresh")["params"]


def external_create_and_delete_are_announced(rpc, server) -> None:
    loaded = rpc.call("apiKeys.list")

    status, body = server.http("POST", "/api-key/generate", {"name": "made-elsewhere", "description": "by curl"})
    assert status == 200, body
    created = body["api_key"]
    rpc.secrets.append(created["key"])
    added = refresh_change(rpc)
    assert [k["id"] for k in added["added"]] == [created["id"]]
    assert added["added"][0]["name"] == "made-elsewhere"
    assert added["added"][0]["description"] == "by curl"
    assert added["added"][0]["maskedKey"].endswith(created["key"][-4:])
    assert added["updated"] == [] and added["removed"] == []
    assert added["revision"] > loaded["revision"]

    listed = rpc.call("apiKeys.list")
    assert listed["revision"] == added["revision"]
    assert [k["id"] for k in listed["keys"]] == [created["id"]]

    status, body = server.http("DELETE", f"/api-key/{created['id']}")
    assert status == 200, body
    removed = refresh_change(rpc)
    assert removed["removed"] == [created["id"]]
    assert removed["added"] == [] and removed["updated"] == []
    assert removed["revision"] > added["revision"]
    assert rpc.call("apiKeys.list")["keys"] == []


def assert_polling_stopped(server) -> None:
    time.sleep(0.5)  # a poll already in flight may still land
    before = server.route_count("GET /api-key")
    time.sleep(1.0)
    assert server.route_count("GET /api-key") == before, "the server still polls after watch {interval: 0}"


def test_watch_finds_external_changes_and_stops(spawn, sandbox_server):
    rpc = sandbox_server.spawn_rpc(spawn)
    assert rpc.call("apiKeys.watch", {"interval": 0.2}) == {"interval": 0.2}
    external_create_and_delete_are_announced(rpc, sandbox_server)
    # Polling really runs: several GETs in a second.
    before = sandbox_server.route_count("GET /api-key")
    time.sleep(1.0)
    assert sandbox_server.route_count("GET /api-key") - before >= 2
    assert rpc.call("apiKeys.watch", {"interval": 0}) == {"interval": 0}
    assert_polling_stopped(sandbox_server)
    # Only the two polls that found a difference announced anything.
    assert len([m for m in rpc.arrived if m.get("method") == DID_CHANGE]) == 2


def test_poll_interval_option_finds_external_changes(spawn, sandbox_server):
    rpc = sandbox_server.spawn_rpc(spawn, "--poll-interval", "0.2")
    external_create_and_delete_are_announced(rpc, sandbox_server)
    assert rpc.call("apiKeys.watch", {"interval": 0}) == {"interval": 0}
    assert_polling_stopped(sandbox_server)


def test_first_poll_is_a_silent_first_load(spawn, sandbox_server):
    """With polling on from the start, the poll that loads the set for the first time announces nothing."""
    sandbox_server.http("POST", "/api-key/generate", {"name": "already-there"})
    rpc = sandbox_server.spawn_rpc(spawn, "--poll-interval", "0.2")
    deadline = time.monotonic() + 5
    while sandbox_server.route_count("GET /api-key") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sandbox_server.route_count("GET /api-key") >= 3
    listed = rpc.call("apiKeys.list")
    assert [k["name"] for k in listed["keys"]] == ["already-there"]
    assert [m for m in rpc.arrived if m.get("method") == DID_CHANGE] == []


@pytest.mark.parametrize("params", [{}, {"interval": -1}, {"interval": "1"}, [0.2]])
def test_watch_rejects_bad_params(spawn, sandbox_server, params):
    rpc = sandbox_server.spawn_rpc(spawn)
    response = rpc.request("apiKeys.watch", params)
    assert response["error"]["code"] == -32602
    assert sandbox_server.upstream_requests() == 0
