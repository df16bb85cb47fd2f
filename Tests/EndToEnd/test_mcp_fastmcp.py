"""A second MCP client from another codebase: fastmcp's Client (PyPI `fastmcp`) lists the tools
of `hyperstack-rpc mcp` and calls each of them, against the embedded sandbox."""

from __future__ import annotations

import json

import anyio
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from mcp_support import TOOLS, default_secrets_dir, server_env
from rpc_process import binary_path


def test_fastmcp_lists_and_calls_every_tool(tmp_path):
    state_home = tmp_path / "state"
    transport = StdioTransport(command=binary_path(), args=["mcp", "--sandbox"], env=server_env(state_home),
                               keep_alive=False)

    async def main():
        async with Client(transport) as client:
            tools = {tool.name: tool for tool in await client.list_tools()}
            assert set(tools) == TOOLS
            assert tools["delete_api_key"].annotations.destructive_hint is True
            made = await client.call_tool("generate_api_key", {"name": "fast", "description": "via fastmcp"})
            key = made.structured_content["key"]
            assert "secret" not in key and made.structured_content["secretFile"]
            listed = await client.call_tool("list_api_keys", {"refresh": True})
            assert [k["id"] for k in listed.structured_content["keys"]] == [key["id"]]
            renamed = await client.call_tool("update_api_key", {"id": key["id"], "name": "faster"})
            assert renamed.structured_content["key"]["name"] == "faster"
            assert renamed.structured_content["key"]["description"] == "via fastmcp"
            gone = await client.call_tool("delete_api_key", {"id": key["id"]})
            assert gone.structured_content == {"id": key["id"], "revision": gone.structured_content["revision"]}
            missing = await client.call_tool("delete_api_key", {"id": key["id"]}, raise_on_error=False)
            assert missing.is_error
            resource = await client.read_resource("hyperstack://api-keys")
            assert json.loads(resource[0].text)["keys"] == []
            return made.structured_content["secretFile"], key["id"]

    path, key_id = anyio.run(main)
    assert path == str(default_secrets_dir(state_home) / str(key_id))
