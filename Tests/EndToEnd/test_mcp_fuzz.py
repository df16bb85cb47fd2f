"""Out-of-process fuzzing of `hyperstack-rpc mcp` in both eras: bursts of malformed lines,
wrong JSON-RPC shapes, unknown methods, and tools/call with a wrong type in every tool argument,
over real pipes. In the stateless era (2026-07-28) most requests carry a valid `_meta` envelope
and the rest a missing, malformed or unsupported one, and some open `subscriptions/listen`
streams, which are answered when the input ends. Every frame knows how many answers it must draw (a request or an unreadable line
one, a notification or a response-shaped message none); after each burst a `ping` with a fresh id
must be answered, and at the end the answers counted must equal the answers due, exactly. Every
tools/call answer must be a CallToolResult or one of the spec's protocol errors.

HYPERSTACK_MCP_FUZZ_FRAMES sets the number of frames (default 6000); the seed is fixed
(HYPERSTACK_FUZZ_SEED overrides it), so a failure reproduces."""

from __future__ import annotations

import json
import os
import random

import pytest

from mcp_support import McpPipe

SEED = int(os.environ.get("HYPERSTACK_FUZZ_SEED", "20261202"))
FRAMES = int(os.environ.get("HYPERSTACK_MCP_FUZZ_FRAMES", "6000"))
BURST = 500

ARGUMENTS = {
    "list_api_keys": {"refresh": False},
    "generate_api_key": {"name": "fuzz", "description": None, "secretFile": "fuzz/key"},
    "update_api_key": {"id": 987654321, "name": "fuzz", "description": "d"},
    "delete_api_key": {"id": 987654321},
}
WRONG_VALUES = [None, True, 0, -1, 1.5, 1e308, "", "x" * 300, "../../etc/x", "/etc/x", [], [1], {}, {"a": 1},
                "\u0000", "\ud7ff\u2028"]
METHODS = ["tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
           "resources/subscribe", "resources/unsubscribe", "logging/setLevel", "ping", "initialize",
           "server/discover", "shutdown", "nope", "", "tools/nope"]
PROTOCOL_ERRORS = {-32700, -32600, -32601, -32602, -32603, -32002, -32022}
STATELESS = "2026-07-28"
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
ENVELOPE = {VERSION_KEY: STATELESS, CAPABILITIES_KEY: {}}
BROKEN_ENVELOPES = [None, 5, [], {}, {VERSION_KEY: STATELESS}, {CAPABILITIES_KEY: {}}, {VERSION_KEY: None, CAPABILITIES_KEY: {}},
                    {VERSION_KEY: 2026, CAPABILITIES_KEY: {}}, {VERSION_KEY: "2025-11-25", CAPABILITIES_KEY: {}},
                    {VERSION_KEY: "2099-01-01", CAPABILITIES_KEY: {}}, {VERSION_KEY: STATELESS, CAPABILITIES_KEY: "all"},
                    {"progressToken": 3}]
LISTEN_FILTERS = [{}, {"resourcesListChanged": True}, {"resourceSubscriptions": ["hyperstack://api-keys", "x://y"]},
                  {"resourcesListChanged": "yes"}, {"resourceSubscriptions": "hyperstack://api-keys"}, [], None, 7]


def stamped(rng: random.Random, params, stateless: bool):
    """`params` with a stateless envelope: mostly a valid one, else a broken or missing one."""
    if not stateless or not isinstance(params, (dict, type(None))):
        return params
    if rng.random() < 0.85:
        meta = ENVELOPE
    else:
        meta = rng.choice(BROKEN_ENVELOPES)
        if meta is None:
            return params
    return {**(params or {}), "_meta": meta}


def frame(rng: random.Random, next_id, stateless: bool = False) -> tuple[bytes, int, bool]:
    """One line, the answers it must draw, and whether it is a tools/call."""
    kind = rng.random()
    if stateless and kind < 0.02:
        notifications = rng.choice(LISTEN_FILTERS)
        params = stamped(rng, {} if notifications is None else {"notifications": notifications}, stateless)
        message = {"jsonrpc": "2.0", "id": next_id(), "method": "subscriptions/listen", "params": params}
        return json.dumps(message).encode(), 1, False
    if kind < 0.45:
        tool = rng.choice(list(ARGUMENTS))
        arguments = dict(ARGUMENTS[tool])
        field = rng.choice([*arguments, "extra"])
        arguments[field] = rng.choice(WRONG_VALUES)
        if rng.random() < 0.1:
            arguments = rng.choice([None, [], "args", 7])
        params = {"name": rng.choice([tool, tool, tool, "no_such_tool", 5, None]), "arguments": arguments}
        params = stamped(rng, params, stateless)
        message = {"jsonrpc": "2.0", "id": next_id(), "method": "tools/call", "params": params}
        return json.dumps(message).encode(), 1, True
    if kind < 0.65:
        params = rng.choice([None, {}, [], "p", {"uri": rng.choice(["hyperstack://api-keys", "hyperstack://api-keys/x",
                                                                   "hyperstack://api-keys/1", "file:///", 5])},
                             {"level": rng.choice(["debug", "loud", 3])}, {"cursor": "c"}])
        message = {"jsonrpc": "2.0", "id": next_id(), "method": rng.choice(METHODS)}
        params = stamped(rng, params, stateless)
        if params is not None:
            message["params"] = params
        return json.dumps(message).encode(), 1, False
    if kind < 0.75:
        method = rng.choice(["notifications/initialized", "notifications/cancelled", "notifications/nope", "tools/list"])
        params = {"requestId": f"never-{rng.random()}"} if method == "notifications/cancelled" else {}
        return json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode(), 0, False
    if kind < 0.8:
        return json.dumps({"jsonrpc": "2.0", "id": f"r{rng.random()}", "result": {}}).encode(), 0, False
    if kind < 0.9:
        return rng.choice([b'{"jsonrpc":"2.0","id":1,"method":', b"{", b"nul", b'{"a":}', b"\xff\xfe{}",
                           b'{"jsonrpc":"2.0","method":"tools/call","id":' + b"9" * 40 + b"}"]), 1, False
    shape = rng.choice([b"7", b'"text"', b"null", b"true", b"[]", b'{"jsonrpc":"1.0","id":3,"method":"ping"}',
                        b'{"id":4,"method":"ping"}', b'{"jsonrpc":"2.0","id":{},"method":"ping"}'])
    return shape, 1, False


def answers(messages) -> list:
    return [m for m in messages if isinstance(m, list) or ("id" in m and "method" not in m)]


def synchronise(server: McpPipe, sent: int, stateless: bool) -> None:
    """A request with a fresh id that must be answered once the burst before it was read."""
    if stateless:
        sync = server.start_request("tools/list", {"_meta": ENVELOPE}, id=f"sync-{sent}")
        assert len(server.wait_response(sync, timeout=60)["result"]["tools"]) == 4
    else:
        ping = server.start_request("ping", id=f"ping-{sent}")
        assert server.wait_response(ping, timeout=60)["result"] == {}


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25", STATELESS])
def test_fuzz_mcp_frames(tmp_path, version):
    rng = random.Random(f"{SEED}-{version}")
    stateless = version == STATELESS
    server = McpPipe("--sandbox", "--max-message-bytes", "16384", state_home=tmp_path / "state")
    if stateless:
        assert server.call("server/discover", {"_meta": ENVELOPE})["supportedVersions"] == [STATELESS]
    else:
        server.initialize(version)
    counter = iter(range(1, 10**9))
    due = len(answers(server.arrived))
    tool_calls = set()
    sent = 0
    while sent < FRAMES:
        burst = []
        for _ in range(min(BURST, FRAMES - sent)):
            line, owed, is_call = frame(rng, lambda: f"f{next(counter)}", stateless)
            if is_call:
                tool_calls.add(json.loads(line)["id"])
            burst.append(line + b"\n")
            due += owed
        server.send_raw(b"".join(burst))
        sent += len(burst)
        synchronise(server, sent, stateless)
        due += 1
    assert server.stop() == 0
    got = answers(server.arrived)
    assert len(got) == due, f"{len(got)} answers for {due} due"
    for answer in got:
        if answer.get("id") in tool_calls:
            if "error" in answer:
                assert answer["error"]["code"] in PROTOCOL_ERRORS, answer
            else:
                result = answer["result"]
                assert isinstance(result["isError"], bool) and result["content"][0]["type"] == "text"
        elif "error" in answer:
            assert answer["error"]["code"] in PROTOCOL_ERRORS, answer
    server.check_clean()
