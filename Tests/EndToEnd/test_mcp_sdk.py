"""`hyperstack-rpc mcp` driven by the official MCP Python SDK (PyPI `mcp`, pinned to 2.3.0) in
its handshake mode, mode="legacy", and in mode="auto", which probes `server/discover` and, since
this server answers it, speaks the stateless revision 2026-07-28: no `initialize`, every request
with its own `_meta` envelope, changes through `subscriptions/listen`. Against the embedded
sandbox and against the real hyperstack-sandbox over HTTP on 127.0.0.1. The relay records every
message both ways, so each test can also check what crossed the wire."""

from __future__ import annotations

import json
import stat
import subprocess
import time

import anyio
import pytest
from mcp import Client, MCPDeprecationWarning, MCPError

from mcp_support import LATEST, TOOLS, Transcript, assert_no_secret, default_secrets_dir, sdk_server, server_env
from rpc_process import binary_path
from sandbox_server import SandboxServer

HINTS = {
    "list_api_keys": (True, False, True, False),
    "generate_api_key": (False, False, False, False),
    "update_api_key": (False, False, True, False),
    "delete_api_key": (False, True, True, False),
}


MODES = ["legacy", "auto"]
STATELESS = "2026-07-28"
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"


def run(coroutine_function, *args):
    return anyio.run(coroutine_function, *args)


class Upstream:
    """Where the server under test gets its keys: the embedded sandbox, or an HTTP sandbox."""

    def __init__(self, kind: str, tmp_path):
        self.kind = kind
        self.http = SandboxServer() if kind == "http" else None
        self.state_home = tmp_path / "state"

    def args(self, *more: str) -> list[str]:
        return [*(["--sandbox"] if self.http is None else ["--base-url", self.http.base_url]), *more]

    def env(self) -> dict:
        return server_env(self.state_home, {"HYPERSTACK_API_KEY": self.http.api_key} if self.http else None)

    def secrets(self) -> list[str]:
        return [self.http.api_key] if self.http else []

    def stop(self):
        if self.http:
            self.http.stop()


@pytest.fixture(params=["embedded", "http"])
def upstream(request, tmp_path):
    made = Upstream(request.param, tmp_path)
    yield made
    made.stop()


def client(transcript_dir, upstream: Upstream, *args: str, mode: str = "legacy", **kwargs) -> Client:
    return Client(sdk_server(transcript_dir, *upstream.args(*args), env=upstream.env()), mode=mode, cache=None, **kwargs)


def assert_era(transcript: Transcript, mode: str) -> None:
    """What crossed the wire matches the era the mode selects."""
    requests = [m for m in transcript.from_client if "method" in m and "id" in m]
    methods = [m["method"] for m in requests]
    results = [m["result"] for m in transcript.from_server if "result" in m]
    if mode == "auto":
        assert methods[0] == "server/discover" and "initialize" not in methods, methods
        assert all(m["params"]["_meta"][VERSION_KEY] == STATELESS for m in requests), methods
        assert results and all(r.get("resultType") == "complete" for r in results), results
    else:
        assert methods[0] == "initialize" and "server/discover" not in methods, methods
        assert not any("resultType" in r for r in results)


@pytest.mark.parametrize("mode", MODES)
def test_the_sdk_connects_and_lists_the_four_tools_with_their_schemas(upstream, tmp_path, mode):
    transcript = Transcript(tmp_path / "wire")

    async def main():
        async with client(transcript.directory, upstream, mode=mode) as mcp:
            assert mcp.protocol_version == (STATELESS if mode == "auto" else LATEST)
            assert mcp.server_info.name == "hyperstack-rpc"
            assert "never the secret" in (mcp.instructions or "")
            assert mcp.server_capabilities.resources.subscribe is True
            listed = await mcp.list_tools()
            return {tool.name: tool for tool in listed.tools}

    tools = run(main)
    assert set(tools) == TOOLS
    for name, (read_only, destructive, idempotent, open_world) in HINTS.items():
        tool = tools[name]
        assert tool.title and tool.description
        annotations = tool.annotations
        assert (annotations.read_only_hint, annotations.destructive_hint, annotations.idempotent_hint,
                annotations.open_world_hint) == (read_only, destructive, idempotent, open_world), name
        assert tool.input_schema["type"] == "object" and tool.input_schema["additionalProperties"] is False
        assert tool.output_schema["type"] == "object"
    assert tools["generate_api_key"].input_schema["required"] == ["name"]
    assert set(tools["generate_api_key"].input_schema["properties"]) == {"name", "description", "secretFile"}
    assert set(tools["update_api_key"].input_schema["required"]) == {"id", "name"}
    assert tools["delete_api_key"].input_schema["required"] == ["id"]
    assert set(tools["list_api_keys"].input_schema["properties"]) == {"refresh"}
    assert_era(transcript, mode)


@pytest.mark.parametrize("mode", MODES)
def test_every_tool_works_and_no_secret_crosses_the_wire(upstream, tmp_path, mode):
    transcript = Transcript(tmp_path / "wire")
    secrets_dir = default_secrets_dir(upstream.state_home)

    async def main():
        async with client(transcript.directory, upstream, "--log-level", "trace", mode=mode) as mcp:
            empty = await mcp.call_tool("list_api_keys", {"refresh": True})
            assert not empty.is_error and empty.structured_content["keys"] == []
            made = await mcp.call_tool("generate_api_key", {"name": "ci", "description": "for CI"})
            assert not made.is_error, made
            key = made.structured_content["key"]
            assert key["name"] == "ci" and key["description"] == "for CI" and "secret" not in key
            assert json.loads(made.content[0].text) == made.structured_content
            path = made.structured_content["secretFile"]
            renamed = await mcp.call_tool("update_api_key", {"id": key["id"], "name": "ci-2", "description": None})
            assert not renamed.is_error and renamed.structured_content["key"]["name"] == "ci-2"
            assert renamed.structured_content["key"]["description"] is None
            listed = await mcp.call_tool("list_api_keys", {})
            assert [k["name"] for k in listed.structured_content["keys"]] == ["ci-2"]
            assert listed.structured_content["revision"] == renamed.structured_content["revision"]
            gone = await mcp.call_tool("delete_api_key", {"id": key["id"]})
            assert not gone.is_error and gone.structured_content["id"] == key["id"]
            again = await mcp.call_tool("delete_api_key", {"id": key["id"]})
            assert again.is_error and f"No API key with id {key['id']}" in again.content[0].text
            return key, path

    key, path = run(main)
    assert path == str(secrets_dir / str(key["id"]))
    assert stat.S_IMODE((secrets_dir).stat().st_mode) == 0o700
    assert stat.S_IMODE(stat_of(path).st_mode) == 0o600
    secret = open(path).read().strip()
    assert secret and key["maskedKey"].endswith(secret[-4:])
    assert_no_secret([secret, *upstream.secrets()], "the MCP transcript or the trace log", transcript.raw())
    assert transcript.stderr, "the trace log is empty"
    assert_era(transcript, mode)


def stat_of(path):
    import os
    return os.stat(path)


@pytest.mark.parametrize("mode", MODES)
def test_both_resources_read_masked_keys(upstream, tmp_path, mode):
    transcript = Transcript(tmp_path / "wire")

    async def main():
        async with client(transcript.directory, upstream, mode=mode) as mcp:
            made = await mcp.call_tool("generate_api_key", {"name": "res"})
            key = made.structured_content["key"]
            listed = await mcp.list_resources()
            uris = [str(r.uri) for r in listed.resources]
            assert uris == ["hyperstack://api-keys", f"hyperstack://api-keys/{key['id']}"]
            templates = await mcp.list_resource_templates()
            assert [t.uri_template for t in templates.resource_templates] == ["hyperstack://api-keys/{id}"]
            collection = await mcp.read_resource("hyperstack://api-keys")
            assert collection.contents[0].mime_type == "application/json"
            body = json.loads(collection.contents[0].text)
            assert body["keys"] == [key] and body["revision"] == made.structured_content["revision"]
            one = await mcp.read_resource(f"hyperstack://api-keys/{key['id']}")
            assert json.loads(one.contents[0].text)["key"] == key
            with pytest.raises(MCPError) as missing:
                await mcp.read_resource("hyperstack://api-keys/987654321")
            assert missing.value.error.code == -32002

    run(main)
    assert_era(transcript, mode)


def generate_elsewhere(http: SandboxServer) -> str:
    """A key made by another process, a shell one-shot on the same HTTP sandbox; its secret."""
    other = subprocess.run(
        [binary_path(), "call", "apiKeys.generate", '{"name":"from-elsewhere"}', "--base-url", http.base_url],
        env={"HYPERSTACK_API_KEY": http.api_key, "PATH": "/usr/bin:/bin"}, capture_output=True, timeout=30)
    assert other.returncode == 0, other.stderr
    return json.loads(other.stdout)["key"]["secret"]


def test_a_subscriber_hears_of_a_key_another_process_generated(tmp_path):
    """Two processes on one HTTP sandbox: the MCP server polls, a shell one-shot generates."""
    http = SandboxServer()
    state_home = tmp_path / "state"
    transcript = Transcript(tmp_path / "wire")
    heard: list = []

    async def on_message(message):
        heard.append(message)

    async def main():
        params = sdk_server(transcript.directory, "--base-url", http.base_url, "--poll-interval", "0.2",
                            env=server_env(state_home, {"HYPERSTACK_API_KEY": http.api_key}))
        async with Client(params, mode="legacy", cache=None, message_handler=on_message) as mcp:
            await mcp.call_tool("list_api_keys", {"refresh": True})
            with pytest.warns(MCPDeprecationWarning):  # the SDK notes that 2026-07-28 replaces it
                await mcp.subscribe_resource("hyperstack://api-keys")
            secret = generate_elsewhere(http)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                    getattr(getattr(m, "root", m), "method", None) == "notifications/resources/updated" for m in heard):
                await anyio.sleep(0.05)
            body = json.loads((await mcp.read_resource("hyperstack://api-keys")).contents[0].text)
            assert [k["name"] for k in body["keys"]] == ["from-elsewhere"]
            return secret

    try:
        secret = run(main)
    finally:
        http.stop()
    methods = [m.get("method") for m in transcript.from_server if "method" in m]
    assert "notifications/resources/updated" in methods, methods
    assert "notifications/resources/list_changed" in methods, methods
    updated = next(m for m in transcript.from_server if m.get("method") == "notifications/resources/updated")
    assert updated["params"] == {"uri": "hyperstack://api-keys"}
    assert_no_secret([secret, http.api_key], "the MCP transcript", transcript.raw())


def test_a_listen_stream_hears_of_a_key_another_process_generated(tmp_path):
    """The stateless era's way: mode="auto" opens a subscriptions/listen stream, the server polls,
    a shell one-shot generates; the stream yields the SDK's typed events, tagged with its id."""
    from mcp.client.subscriptions import ResourcesListChanged, ResourceUpdated

    http = SandboxServer()
    state_home = tmp_path / "state"
    transcript = Transcript(tmp_path / "wire")

    async def main():
        params = sdk_server(transcript.directory, "--base-url", http.base_url, "--poll-interval", "0.2",
                            env=server_env(state_home, {"HYPERSTACK_API_KEY": http.api_key}))
        async with Client(params, mode="auto", cache=None) as mcp:
            assert mcp.protocol_version == STATELESS
            await mcp.call_tool("list_api_keys", {"refresh": True})
            events = []
            async with mcp.listen(resources_list_changed=True, tools_list_changed=True,
                                  resource_subscriptions=["hyperstack://api-keys"]) as stream:
                assert stream.honored.resources_list_changed is True
                assert stream.honored.tools_list_changed is None  # our tools never change
                assert stream.honored.resource_subscriptions == ["hyperstack://api-keys"]
                secret = generate_elsewhere(http)
                with anyio.fail_after(10):
                    async for event in stream:
                        events.append(event)
                        if {type(e) for e in events} >= {ResourceUpdated, ResourcesListChanged}:
                            break
            assert ResourceUpdated(uri="hyperstack://api-keys") in events
            body = json.loads((await mcp.read_resource("hyperstack://api-keys")).contents[0].text)
            assert [k["name"] for k in body["keys"]] == ["from-elsewhere"]
            return secret

    try:
        secret = run(main)
    finally:
        http.stop()
    listen = next(m for m in transcript.from_client if m.get("method") == "subscriptions/listen")
    tagged = [m for m in transcript.from_server if m.get("method") == "notifications/resources/updated"]
    assert tagged and all(m["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == listen["id"] for m in tagged)
    assert_era(transcript, "auto")
    assert_no_secret([secret, http.api_key], "the MCP transcript", transcript.raw())


@pytest.mark.parametrize("mode", MODES)
def test_a_cancelled_slow_call_gets_no_response(tmp_path, mode):
    """The SDK gives up on a call that waits on a slow upstream; it sends notifications/cancelled,
    and the server then never answers that request, while the session carries on."""
    http = SandboxServer()
    http.faults({"method": "GET", "path": "/api-key", "latency_ms": 3000})
    state_home = tmp_path / "state"
    transcript = Transcript(tmp_path / "wire")

    async def main():
        params = sdk_server(transcript.directory, "--base-url", http.base_url,
                            env=server_env(state_home, {"HYPERSTACK_API_KEY": http.api_key}))
        async with Client(params, mode=mode, cache=None) as mcp:
            with anyio.move_on_after(0.5) as scope:
                await mcp.call_tool("list_api_keys", {"refresh": True})
            assert scope.cancelled_caught
            await anyio.sleep(3.5)  # past the upstream's answer: a response would have come by now
            listed = await mcp.call_tool("list_api_keys", {})
            assert not listed.is_error

    try:
        run(main)
    finally:
        http.stop()
    calls = [m for m in transcript.from_client if m.get("method") == "tools/call"]
    cancelled = [m for m in transcript.from_client if m.get("method") == "notifications/cancelled"]
    assert cancelled and cancelled[0]["params"]["requestId"] == calls[0]["id"]
    answered = {m.get("id") for m in transcript.from_server if "method" not in m}
    assert calls[0]["id"] not in answered, "the cancelled call was answered"
    assert calls[1]["id"] in answered


@pytest.mark.parametrize("mode", MODES)
def test_business_errors_reach_the_sdk_as_tool_errors(tmp_path, mode):
    http = SandboxServer("--max-keys", "2")
    state_home = tmp_path / "state"
    transcript = Transcript(tmp_path / "wire")

    async def main():
        params = sdk_server(transcript.directory, "--base-url", http.base_url,
                            env=server_env(state_home, {"HYPERSTACK_API_KEY": http.api_key}))
        async with Client(params, mode=mode, cache=None) as mcp:
            first = await mcp.call_tool("generate_api_key", {"name": "only"})
            assert not first.is_error
            duplicate = await mcp.call_tool("generate_api_key", {"name": "only"})
            assert duplicate.is_error and "already exists" in duplicate.content[0].text
            assert not (await mcp.call_tool("generate_api_key", {"name": "second"})).is_error
            limit = await mcp.call_tool("generate_api_key", {"name": "third"})
            assert limit.is_error and "delete_api_key" in limit.content[0].text, limit.content[0].text
            http.faults({"path": "/api-key", "status": 503, "count": 4})  # every try of one call
            down = await mcp.call_tool("list_api_keys", {"refresh": True})
            assert down.is_error and "unavailable" in down.content[0].text
            http.faults({"path": "/api-key", "status": 401})
            refused = await mcp.call_tool("list_api_keys", {"refresh": True})
            assert refused.is_error and "HYPERSTACK_API_KEY" in refused.content[0].text
            bad = await mcp.call_tool("delete_api_key", {"id": "seven"})
            assert bad.is_error and "'id'" in bad.content[0].text
            with pytest.raises(MCPError) as unknown:
                await mcp.call_tool("no_such_tool", {})
            assert unknown.value.error.code == -32602

    try:
        run(main)
    finally:
        http.stop()
