"""`hyperstack-rpc mcp` over raw pipes: the handshake era's lifecycle, version negotiation,
cancellation, and the spec's error rules for what an SDK would never send (old revisions,
wrong types for every tool argument, malformed messages). The process must stay up throughout."""

from __future__ import annotations

import subprocess
import time

import pytest

from mcp_support import LATEST, TOOLS, McpPipe, launched_pipes
from rpc_process import binary_path

SUPPORTED = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
OLDER = SUPPORTED[:-1]


@pytest.fixture
def mcp(tmp_path):
    yield from launched_pipes(lambda *args, **kwargs: McpPipe(*(args or ("--sandbox",)), state_home=tmp_path / "state", **kwargs))


@pytest.mark.parametrize("version", SUPPORTED)
def test_a_supported_version_is_answered_as_asked(mcp, version):
    server = mcp()
    result = server.initialize(version)
    assert result["protocolVersion"] == version
    assert result["serverInfo"]["name"] == "hyperstack-rpc"
    assert result["capabilities"]["tools"] == {"listChanged": False}
    assert result["capabilities"]["resources"] == {"subscribe": True, "listChanged": True}
    assert "logging" in result["capabilities"]
    assert "secret" in result["instructions"] and "generate_api_key" in result["instructions"]
    assert {tool["name"] for tool in server.call("tools/list")["tools"]} == TOOLS


@pytest.mark.parametrize("version", ["2024-10-07", "2026-07-28", "next"])
def test_an_unsupported_version_is_answered_with_our_latest(mcp, version):
    assert mcp().initialize(version)["protocolVersion"] == LATEST


def test_only_ping_comes_before_initialize_and_initialize_comes_once(mcp):
    server = mcp()
    assert server.call("ping") == {}
    early = server.request("tools/list")
    assert early["error"]["code"] == -32600 and "initialize" in early["error"]["message"]
    server.initialize()
    assert server.request("initialize", {"protocolVersion": LATEST, "capabilities": {}})["error"]["code"] == -32600
    assert server.request("shutdown")["error"]["code"] == -32601
    assert server.call("ping") == {}
    assert server.call("logging/setLevel", {"level": "debug"}) == {}
    assert server.request("logging/setLevel", {"level": "loud"})["error"]["code"] == -32602


def test_an_initialize_without_a_version_is_refused(mcp):
    server = mcp()
    refused = server.request("initialize", {"capabilities": {}})["error"]
    assert refused["code"] == -32602 and refused["data"]["field"] == "protocolVersion"
    assert server.request("initialize", [])["error"]["code"] == -32600  # initialize came once already


def test_a_cancelled_request_gets_no_response_at_all(mcp):
    server = mcp()
    server.initialize()
    slow = server.start_request("test.sleep", {"ms": 10_000})
    time.sleep(0.1)
    server.notify("notifications/cancelled", {"requestId": slow, "reason": "user gave up"})
    assert server.call("ping") == {}
    server.expect_silence(0.5)
    # Unknown, late and malformed cancels change nothing either.
    server.notify("notifications/cancelled", {"requestId": "never-sent"})
    server.notify("notifications/cancelled", {"requestId": {"bad": 1}})
    server.notify("notifications/cancelled")
    assert server.call("ping") == {}
    assert server.stop() == 0
    assert not any(m.get("id") == slow for m in server.arrived)


def test_a_cancelled_tool_call_with_a_string_id_gets_no_response(tmp_path, sandbox_server):
    sandbox_server.faults({"method": "GET", "path": "/api-key", "latency_ms": 1500})
    server = McpPipe("--base-url", sandbox_server.base_url, state_home=tmp_path / "state",
                     env={"HYPERSTACK_API_KEY": sandbox_server.api_key})
    server.initialize()
    server.start_request("tools/call", {"name": "list_api_keys", "arguments": {"refresh": True}}, id="slow-list")
    time.sleep(0.2)
    server.notify("notifications/cancelled", {"requestId": "slow-list"})
    server.expect_silence(2.0)
    assert server.stop() == 0
    assert not any(m.get("id") == "slow-list" for m in server.arrived)


WRONG_ARGUMENTS = [
    ("list_api_keys", {"refresh": "yes"}, "refresh"),
    ("list_api_keys", {"refresh": None}, "refresh"),
    ("list_api_keys", {"verbose": True}, "verbose"),
    ("generate_api_key", {}, "name"),
    ("generate_api_key", {"name": 5}, "name"),
    ("generate_api_key", {"name": ""}, "name"),
    ("generate_api_key", {"name": "x" * 201}, "name"),
    ("generate_api_key", {"name": "ok", "description": 3}, "description"),
    ("generate_api_key", {"name": "ok", "secretFile": 7}, "secretFile"),
    ("generate_api_key", {"name": "ok", "secretFile": ""}, "secretFile"),
    ("generate_api_key", {"name": "ok", "secret": "mine"}, "secret"),
    ("update_api_key", {"id": "x", "name": "n"}, "id"),
    ("update_api_key", {"id": 1.5, "name": "n"}, "id"),
    ("update_api_key", {"id": 1, "name": []}, "name"),
    ("update_api_key", {"id": 1, "name": "n", "description": {}}, "description"),
    ("update_api_key", {"name": "n"}, "id"),
    ("delete_api_key", {"id": True}, "id"),
    ("delete_api_key", {}, "id"),
]


@pytest.mark.parametrize("tool, arguments, field", WRONG_ARGUMENTS)
def test_arguments_that_fail_the_schema_follow_the_negotiated_revision(mcp, tool, arguments, field):
    modern = mcp()
    modern.initialize(LATEST)
    result = modern.tool(tool, arguments)["result"]
    assert result["isError"] is True
    assert f"'{field}'" in result["content"][0]["text"]
    older = mcp()
    older.initialize(OLDER[-1])
    error = older.tool(tool, arguments)["error"]
    assert error["code"] == -32602 and error["data"]["field"] == field
    # Nothing reached upstream: the key set is still empty.
    assert modern.tool("list_api_keys")["result"]["structuredContent"]["keys"] == []


@pytest.mark.parametrize("version", SUPPORTED)
def test_malformed_calls_are_protocol_errors_in_every_revision(mcp, version):
    server = mcp()
    server.initialize(version)
    unknown = server.tool("drop_all_keys", {})["error"]
    assert unknown["code"] == -32602 and "Unknown tool" in unknown["message"]
    assert server.request("tools/call", {"arguments": {}})["error"]["data"]["field"] == "name"
    assert server.request("tools/call", {"name": "list_api_keys", "arguments": [True]})["error"]["data"]["field"] == "arguments"
    assert server.request("tools/call", [1, 2])["error"]["code"] == -32602
    assert server.request("no/such/method")["error"]["code"] == -32601
    assert server.request("resources/read", {"uri": "file:///etc/passwd"})["error"]["code"] == -32002
    assert server.request("resources/subscribe", {"uri": "hyperstack://elsewhere"})["error"]["code"] == -32002
    server.send_text('{"jsonrpc":"2.0","id":9,"method":')
    assert server.read()["error"]["code"] == -32700
    server.send_text("[]")
    assert server.read()["error"]["code"] == -32600
    assert server.call("ping") == {}


def test_the_server_exits_0_when_its_input_closes(mcp):
    server = mcp()
    server.initialize()
    server.tool("generate_api_key", {"name": "before-eof"})
    server.close_stdin()
    assert server.wait_exit(10) == 0


def test_help_has_an_example_and_bad_options_are_usage_errors():
    shown = subprocess.run([binary_path(), "mcp", "--help"], capture_output=True, text=True, timeout=10)
    assert shown.returncode == 0
    for expected in ("Example", "--secrets-dir", "--allow-secrets-in", "--mcp-inline-secrets", "--sandbox", "unsafe"):
        assert expected in shown.stdout, expected
    for bad in (["--framing", "lsp"], ["--remote", "bogus"]):
        refused = subprocess.run([binary_path(), "mcp", "--sandbox", *bad], capture_output=True, text=True, timeout=10)
        assert refused.returncode == 2, bad
        assert refused.stdout == ""
