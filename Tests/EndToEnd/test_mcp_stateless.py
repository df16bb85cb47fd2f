"""`hyperstack-rpc mcp` in MCP's stateless revision, 2026-07-28, over raw pipes: no handshake,
`server/discover`, each request's `_meta` envelope and the spec's errors for a wrong one (-32602,
-32022 with the revisions we serve), the era chosen by the first accepted request, the result
shape (`resultType`, the server's identity, `ttlMs` and `cacheScope`), and `subscriptions/listen`
streams: acknowledged first, tagged with their id, ended without an answer by a cancel and with
one when the input ends. The SDK-driven side is in test_mcp_sdk.py (mode="auto")."""

from __future__ import annotations

import time

import pytest

from mcp_support import LATEST, TOOLS, McpPipe, launched_pipes

STATELESS = "2026-07-28"
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_KEY = "io.modelcontextprotocol/subscriptionId"
COLLECTION = "hyperstack://api-keys"


def envelope(version: str = STATELESS, **more) -> dict:
    return {VERSION_KEY: version, CAPABILITIES_KEY: {}, "io.modelcontextprotocol/clientInfo": {"name": "e2e", "version": "1"},
            **more}


def params(body: dict | None = None, **meta) -> dict:
    return {**(body or {}), "_meta": envelope(**meta)}


@pytest.fixture
def mcp(tmp_path):
    yield from launched_pipes(lambda *args, **kwargs: McpPipe(*(args or ("--sandbox",)), state_home=tmp_path / "state", **kwargs))


def assert_stateless_shape(result: dict, cache_scope: str | None = None) -> None:
    assert result["resultType"] == "complete", result
    assert result["_meta"][SERVER_INFO_KEY]["name"] == "hyperstack-rpc", result
    if cache_scope:
        assert result["cacheScope"] == cache_scope and isinstance(result["ttlMs"], int) and result["ttlMs"] >= 0, result


def test_discover_describes_the_server_without_a_handshake(mcp):
    server = mcp()
    found = server.call("server/discover", params())
    assert found["supportedVersions"] == [STATELESS]
    assert found["capabilities"] == {"tools": {"listChanged": False}, "resources": {"subscribe": True, "listChanged": True}}
    assert "generate_api_key" in found["instructions"] and "secret" in found["instructions"]
    assert_stateless_shape(found, cache_scope="public")
    assert {tool["name"] for tool in server.call("tools/list", params())["tools"]} == TOOLS


def test_a_connection_that_went_stateless_refuses_the_handshake_with_the_revisions_it_serves(mcp):
    server = mcp()
    server.call("tools/list", params())
    refused = server.request("initialize", {"protocolVersion": LATEST, "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}})
    assert refused["error"]["code"] == -32022
    assert refused["error"]["data"] == {"supported": [STATELESS], "requested": LATEST}
    for method in ["ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"]:
        assert server.request(method, params({"uri": COLLECTION, "level": "info"}))["error"]["code"] == -32601, method


@pytest.mark.parametrize("version", ["2027-01-01", "2025-11-25", "draft"])
def test_a_revision_we_do_not_serve_gets_32022_and_decides_nothing(mcp, version):
    server = mcp()
    refused = server.request("server/discover", params(version=version))["error"]
    assert refused["code"] == -32022
    assert refused["data"] == {"supported": [STATELESS], "requested": version}
    assert "2026-07-28" in refused["message"] and "initialize" in refused["message"]
    # The refusal chose no era: a client may fall back to the handshake.
    assert server.initialize()["protocolVersion"] == LATEST
    assert {tool["name"] for tool in server.call("tools/list")["tools"]} == TOOLS


@pytest.mark.parametrize("meta, field", [
    ({VERSION_KEY: STATELESS}, CAPABILITIES_KEY),
    ({VERSION_KEY: 20260728, CAPABILITIES_KEY: {}}, VERSION_KEY),
    ({VERSION_KEY: STATELESS, CAPABILITIES_KEY: []}, CAPABILITIES_KEY),
])
def test_a_malformed_envelope_is_invalid_params_naming_the_key(mcp, meta, field):
    server = mcp()
    refused = server.request("tools/list", {"_meta": meta})["error"]
    assert refused["code"] == -32602 and field in refused["message"], refused


def test_every_request_of_a_stateless_connection_carries_its_envelope(mcp):
    server = mcp()
    server.call("server/discover", params())
    for bare in [None, {}, {"_meta": {"progressToken": 1}}]:
        refused = server.request("tools/list", bare)["error"]
        assert refused["code"] == -32602 and VERSION_KEY in refused["message"], refused
    assert server.request("no/such/method", params())["error"]["code"] == -32601


def test_a_handshake_connection_refuses_the_stateless_methods_and_envelopes(mcp):
    server = mcp()
    server.initialize()
    assert server.request("server/discover")["error"]["code"] == -32601
    assert server.request("subscriptions/listen", {"notifications": {}})["error"]["code"] == -32601
    mixed = server.request("tools/list", params())["error"]
    assert mixed["code"] == -32600 and "connection of their own" in mixed["message"]
    listed = server.call("tools/list")
    assert "resultType" not in listed and "_meta" not in listed and "ttlMs" not in listed


def test_results_carry_their_type_identity_and_cache_hints(mcp):
    server = mcp("--sandbox", "--cache-ttl", "30")
    assert_stateless_shape(server.call("tools/list", params()), cache_scope="public")
    assert_stateless_shape(server.call("resources/templates/list", params()), cache_scope="public")
    made = server.call("tools/call", params({"name": "generate_api_key", "arguments": {"name": "shape"}}))
    assert_stateless_shape(made)
    assert made["isError"] is False and "secret" not in made["structuredContent"]["key"]
    listed = server.call("resources/list", params())
    assert_stateless_shape(listed, cache_scope="private")
    assert 0 < listed["ttlMs"] <= 30_000
    read = server.call("resources/read", params({"uri": COLLECTION}))
    assert_stateless_shape(read, cache_scope="private")
    assert read["ttlMs"] <= 30_000 and read["contents"][0]["mimeType"] == "application/json"
    bad = server.call("tools/call", params({"name": "delete_api_key", "arguments": {"id": "seven"}}))
    assert bad["isError"] is True and "'id'" in bad["content"][0]["text"]  # schema failures are tool errors
    assert server.request("tools/call", params({"name": "nope", "arguments": {}}))["error"]["code"] == -32602


def test_with_the_cache_off_resources_are_stale_at_once(mcp):
    server = mcp("--sandbox", "--cache-ttl", "0")
    assert server.call("resources/read", params({"uri": COLLECTION}))["ttlMs"] == 0


def listen(server: McpPipe, notifications: dict, id=None):
    return server.start_request("subscriptions/listen", params({"notifications": notifications}), id=id)


def test_a_listen_stream_is_acknowledged_first_and_hears_changes_tagged_with_its_id(mcp):
    server = mcp()
    stream = listen(server, {"resourcesListChanged": True, "toolsListChanged": True, "promptsListChanged": True,
                             "resourceSubscriptions": [COLLECTION, "hyperstack://elsewhere", "file:///etc/passwd"]},
                    id="listen-1")
    ack = server.read()
    assert ack["method"] == "notifications/subscriptions/acknowledged", ack
    assert ack["params"] == {"notifications": {"resourcesListChanged": True, "resourceSubscriptions": [COLLECTION]},
                             "_meta": {SUBSCRIPTION_KEY: "listen-1"}}
    call = server.start_request("tools/call", params({"name": "generate_api_key", "arguments": {"name": "heard"}}))
    before_result = []
    while True:
        message = server.read()
        if message.get("id") == call:
            break
        before_result.append(message)
    assert [(m["method"], m["params"]) for m in before_result] == [
        ("notifications/resources/updated", {"uri": COLLECTION, "_meta": {SUBSCRIPTION_KEY: "listen-1"}}),
        ("notifications/resources/list_changed", {"_meta": {SUBSCRIPTION_KEY: "listen-1"}}),
    ]
    key = message["result"]["structuredContent"]["key"]
    # One key's own resource: only that stream, only its updates, no list changes.
    one = listen(server, {"resourceSubscriptions": [f"hyperstack://api-keys/{key['id']}"]}, id=7)
    assert server.read()["params"]["_meta"] == {SUBSCRIPTION_KEY: 7}
    server.call("tools/call", params({"name": "update_api_key", "arguments": {"id": key["id"], "name": "renamed"}}))
    tagged = [(m["params"]["_meta"][SUBSCRIPTION_KEY], m["method"], m["params"].get("uri")) for m in server.notifications]
    assert sorted(tagged, key=str) == sorted([
        ("listen-1", "notifications/resources/updated", COLLECTION),
        (7, "notifications/resources/updated", f"hyperstack://api-keys/{key['id']}"),
    ], key=str)
    assert stream != one


def test_a_cancelled_stream_gets_no_answer_and_hears_nothing_more(mcp):
    server = mcp()
    stream = listen(server, {"resourcesListChanged": True, "resourceSubscriptions": [COLLECTION]})
    assert server.read()["method"] == "notifications/subscriptions/acknowledged"
    server.notify("notifications/cancelled", {"requestId": stream})
    time.sleep(0.2)
    server.call("tools/call", params({"name": "generate_api_key", "arguments": {"name": "unheard"}}))
    assert server.notifications == []
    server.expect_silence(0.3)
    assert server.stop() == 0
    assert not any(m.get("id") == stream for m in server.arrived)


def test_the_input_ending_ends_every_stream_with_its_answer_at_once(mcp):
    server = mcp()
    streams = [listen(server, {"resourcesListChanged": True}) for _ in range(3)]
    for _ in streams:
        assert server.read()["method"] == "notifications/subscriptions/acknowledged"
    started = time.monotonic()
    server.close_stdin()
    answers = [server.wait_response(stream, timeout=5) for stream in streams]
    assert server.wait_exit(timeout=5) == 0
    assert time.monotonic() - started < 3, "the server waited for its streams instead of ending them"
    for stream, answer in zip(streams, answers):
        assert answer["result"]["resultType"] == "complete"
        assert answer["result"]["_meta"][SUBSCRIPTION_KEY] == stream


@pytest.mark.parametrize("notifications, field", [
    (None, "notifications"),
    ([], "notifications"),
    ({"resourcesListChanged": "yes"}, "resourcesListChanged"),
    ({"resourceSubscriptions": COLLECTION}, "notifications.resourceSubscriptions"),
    ({"resourceSubscriptions": [1]}, "notifications.resourceSubscriptions"),
])
def test_a_malformed_listen_is_invalid_params(mcp, notifications, field):
    server = mcp()
    body = {} if notifications is None else {"notifications": notifications}
    refused = server.request("subscriptions/listen", params(body))["error"]
    assert refused["code"] == -32602 and refused["data"]["field"] == field, refused
    assert server.call("tools/list", params())["tools"]


def test_a_listen_id_in_use_and_too_many_streams_are_refused(mcp):
    server = mcp()
    listen(server, {"resourcesListChanged": True}, id="same")
    assert server.read()["method"] == "notifications/subscriptions/acknowledged"
    duplicate = server.wait_response(listen(server, {}, id="same"), timeout=5)
    assert duplicate["error"]["code"] == -32600 and "already open" in duplicate["error"]["message"]
    for _ in range(15):
        listen(server, {})
        assert server.read()["method"] == "notifications/subscriptions/acknowledged"
    over = server.wait_response(listen(server, {}), timeout=5)["error"]
    assert over["code"] == -32603 and "Subscription limit" in over["message"]
    assert server.call("tools/list", params())["tools"]
