"""`delete_api_key` asks for confirmation in the handshake era when the client declares
elicitation: an `elicitation/create` form with one boolean, and only "accept" with
`confirm: true` deletes. Driven by the official MCP Python SDK (mode="legacy", with an
elicitation callback) and over raw pipes for what an SDK would not do: answer with an error,
answer in a batch, go away while the form is open, be cancelled, speak an older revision."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client
from mcp import types

from mcp_support import LATEST, McpPipe, Transcript, launched_pipes, sdk_server, server_env
from sandbox_server import SandboxServer


@pytest.fixture
def mcp(tmp_path):
    yield from launched_pipes(lambda *args, **kwargs: McpPipe(*(args or ("--sandbox",)), state_home=tmp_path / "state", **kwargs))


@pytest.fixture
def http_sandbox():
    sandbox = SandboxServer()
    yield sandbox
    sandbox.stop()


def upstream_ids(sandbox: SandboxServer) -> list[int]:
    status, body = sandbox.http("GET", "/api-key")
    assert status == 200, body
    return sorted(key["id"] for key in body["api_keys"])


# -- the official SDK ------------------------------------------------------------------------


def sdk_delete(tmp_path, answer: types.ElicitResult):
    """Generates a key, deletes it through an SDK client whose callback gives `answer`, and
    returns (the delete's result, the ids listed afterwards, the elicitation params seen)."""
    transcript = Transcript(tmp_path / "wire")
    seen: list = []

    async def on_elicit(context, params):
        seen.append(params)
        return answer

    async def main():
        env = server_env(tmp_path / "state")
        async with Client(sdk_server(transcript.directory, "--sandbox", env=env), mode="legacy", cache=None,
                          elicitation_callback=on_elicit) as client:
            assert client.protocol_version == LATEST
            made = await client.call_tool("generate_api_key", {"name": "doomed"})
            key_id = made.structured_content["key"]["id"]
            result = await client.call_tool("delete_api_key", {"id": key_id})
            listed = await client.call_tool("list_api_keys", {"refresh": True})
            return key_id, result, [key["id"] for key in listed.structured_content["keys"]]

    key_id, result, ids = anyio.run(main)
    return key_id, result, ids, seen, transcript


def test_the_sdk_accepting_the_confirmation_deletes_the_key(tmp_path):
    key_id, result, ids, seen, transcript = sdk_delete(
        tmp_path, types.ElicitResult(action="accept", content={"confirm": True}))
    assert not result.is_error
    assert result.structured_content == {"id": key_id, "revision": result.structured_content["revision"]}
    assert ids == []
    assert len(seen) == 1
    assert seen[0].mode == "form"
    assert f"(id {key_id})" in seen[0].message and "'doomed'" in seen[0].message
    assert seen[0].requested_schema["properties"]["confirm"]["type"] == "boolean"
    assert seen[0].requested_schema["required"] == ["confirm"]
    # On the wire: our request, with a string id the client never used, answered by the client.
    asked = [m for m in transcript.from_server if m.get("method") == "elicitation/create"]
    assert len(asked) == 1 and isinstance(asked[0]["id"], str)
    answered = [m for m in transcript.from_client if m.get("id") == asked[0]["id"] and "result" in m]
    assert answered and answered[0]["result"]["action"] == "accept"


@pytest.mark.parametrize("answer, reason", [
    (types.ElicitResult(action="decline"), "declined"),
    (types.ElicitResult(action="cancel"), "cancelled"),
    (types.ElicitResult(action="accept", content={"confirm": False}), "unconfirmed"),
])
def test_the_sdk_declining_keeps_the_key(tmp_path, answer, reason):
    key_id, result, ids, seen, _ = sdk_delete(tmp_path, answer)
    assert len(seen) == 1
    assert not result.is_error, result.content
    assert result.structured_content["deleted"] is False
    assert result.structured_content["confirmation"] == reason
    assert "Nothing was deleted" in result.structured_content["message"]
    assert ids == [key_id], "the key is still listed"


def test_an_sdk_client_without_an_elicitation_callback_is_not_asked(tmp_path):
    transcript = Transcript(tmp_path / "wire")

    async def main():
        env = server_env(tmp_path / "state")
        async with Client(sdk_server(transcript.directory, "--sandbox", env=env), mode="legacy", cache=None) as client:
            made = await client.call_tool("generate_api_key", {"name": "doomed"})
            result = await client.call_tool("delete_api_key", {"id": made.structured_content["key"]["id"]})
            return result

    result = anyio.run(main)
    assert not result.is_error and "deleted" not in result.structured_content
    assert not [m for m in transcript.from_server if m.get("method") == "elicitation/create"]


# -- raw pipes -------------------------------------------------------------------------------


def generate(server: McpPipe, name: str = "doomed") -> int:
    made = server.tool("generate_api_key", {"name": name})["result"]
    assert not made["isError"], made
    return made["structuredContent"]["key"]["id"]


def listed_ids(server: McpPipe) -> list[int]:
    result = server.tool("list_api_keys", {"refresh": True})["result"]
    return [key["id"] for key in result["structuredContent"]["keys"]]


def start_delete(server: McpPipe, key_id: int) -> tuple[int, dict]:
    call = server.start_request("tools/call", {"name": "delete_api_key", "arguments": {"id": key_id}})
    asked = server.wait_notification("elicitation/create")
    assert isinstance(asked["id"], str) and asked["jsonrpc"] == "2.0"
    return call, asked


def test_a_client_error_response_deletes_nothing(mcp):
    server = mcp()
    server.initialize(LATEST, {"elicitation": {}})
    key_id = generate(server)
    call, asked = start_delete(server, key_id)
    server.send({"jsonrpc": "2.0", "id": asked["id"], "error": {"code": -32603, "message": "the form broke"}})
    result = server.wait_response(call)["result"]
    assert result["isError"] is True
    assert "Nothing was deleted" in result["content"][0]["text"] and "the form broke" in result["content"][0]["text"]
    assert listed_ids(server) == [key_id]


def test_the_client_going_away_while_the_form_is_open_deletes_nothing(tmp_path, http_sandbox):
    args = ("--base-url", http_sandbox.base_url)
    env = {"HYPERSTACK_API_KEY": http_sandbox.api_key}
    server = McpPipe(*args, state_home=tmp_path / "state", env=env)
    server.initialize(LATEST, {"elicitation": {"form": {}}})
    key_id = generate(server)
    start_delete(server, key_id)
    server.close_stdin()
    assert server.wait_exit(timeout=15) == 0
    server.check_clean()
    assert upstream_ids(http_sandbox) == [key_id]
    assert http_sandbox.route_count("DELETE /api-key/{id}") == 0


def test_cancelling_the_call_while_the_form_is_open_deletes_nothing(mcp):
    server = mcp()
    server.initialize(LATEST, {"elicitation": {}})
    key_id = generate(server)
    call, asked = start_delete(server, key_id)
    server.notify("notifications/cancelled", {"requestId": call, "reason": "changed my mind"})
    told = server.wait_notification("notifications/cancelled")
    assert told["params"]["requestId"] == asked["id"]
    # A yes that comes too late is dropped: nobody waits for it any more.
    server.send({"jsonrpc": "2.0", "id": asked["id"], "result": {"action": "accept", "content": {"confirm": True}}})
    assert listed_ids(server) == [key_id]
    server.expect_silence(0.3)
    assert all(m.get("id") != call for m in server.arrived if "method" not in m), "a cancelled call gets no response"


def test_answers_in_one_batch_reach_their_calls(mcp):
    server = mcp()
    server.initialize(LATEST, {"elicitation": {}})
    kept, gone = generate(server, "kept"), generate(server, "gone")
    keep_call, keep_asked = start_delete(server, kept)
    gone_call, gone_asked = start_delete(server, gone)
    assert keep_asked["id"] != gone_asked["id"]
    server.send([
        {"jsonrpc": "2.0", "id": gone_asked["id"], "result": {"action": "accept", "content": {"confirm": True}}},
        {"jsonrpc": "2.0", "id": keep_asked["id"], "result": {"action": "decline"}},
    ])
    assert server.wait_response(keep_call)["result"]["structuredContent"]["deleted"] is False
    assert "deleted" not in server.wait_response(gone_call)["result"]["structuredContent"]
    assert listed_ids(server) == [kept]
    # A batch of responses is itself never answered.
    assert not [m for m in server.arrived if isinstance(m, list)]


def test_revision_2025_06_18_asks_without_a_mode(mcp):
    server = mcp()
    server.initialize("2025-06-18", {"elicitation": {}})
    key_id = generate(server)
    call, asked = start_delete(server, key_id)
    assert "mode" not in asked["params"]
    assert asked["params"]["requestedSchema"]["properties"]["confirm"]["type"] == "boolean"
    server.send({"jsonrpc": "2.0", "id": asked["id"], "result": {"action": "accept", "content": {"confirm": True}}})
    assert server.wait_response(call)["result"]["structuredContent"]["id"] == key_id


@pytest.mark.parametrize("version, capabilities", [
    (LATEST, {}),
    (LATEST, {"elicitation": {"url": {}}}),
    ("2025-03-26", {"elicitation": {}}),
    ("2024-11-05", {"elicitation": {}}),
])
def test_without_form_elicitation_the_delete_proceeds_unasked(mcp, version, capabilities):
    server = mcp()
    server.initialize(version, capabilities)
    key_id = generate(server)
    result = server.tool("delete_api_key", {"id": key_id})["result"]
    assert result["isError"] is False and result["structuredContent"]["id"] == key_id
    assert not [m for m in server.arrived if isinstance(m, dict) and m.get("method") == "elicitation/create"]
    assert listed_ids(server) == []


def test_the_stateless_era_is_not_asked_even_with_an_elicitation_callback(tmp_path):
    """mode="auto" selects 2026-07-28, whose requests carry no handshake capabilities: the
    confirmation belongs to the handshake era, so the delete proceeds unasked."""
    transcript = Transcript(tmp_path / "wire")
    seen: list = []

    async def on_elicit(context, params):
        seen.append(params)
        return types.ElicitResult(action="decline")

    async def main():
        env = server_env(tmp_path / "state")
        async with Client(sdk_server(transcript.directory, "--sandbox", env=env), mode="auto", cache=None,
                          elicitation_callback=on_elicit) as client:
            assert client.protocol_version == "2026-07-28"
            made = await client.call_tool("generate_api_key", {"name": "doomed"})
            return await client.call_tool("delete_api_key", {"id": made.structured_content["key"]["id"]})

    result = anyio.run(main)
    assert not result.is_error and "deleted" not in result.structured_content
    assert seen == []
    assert not [m for m in transcript.from_server if m.get("method") == "elicitation/create"]
