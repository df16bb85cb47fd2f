"""Rows 10 and 11's peer: an MCP server for Hyperstack API keys as a Python developer would write it.

The official MCP Python SDK (PyPI `mcp` 2.3.0: `MCPServer`, which is FastMCP renamed in mcp 2)
serves the same four tools as `hyperstack-rpc mcp`, with the same titles and annotations, over
stdio; each tool calls Infrahub through the official Hyperstack SDK (PyPI `hyperstack`,
`ApiKeyApi`), as NexGenCloud's own Python tooling does. Both imports happen at the top, as in
any such server, so its cold start is theirs. No cache: every `list_api_keys` asks upstream.
`generate_api_key` writes the secret to a new 0600 file (O_CREAT|O_EXCL|O_NOFOLLOW) inside
--secrets-dir and returns the path, as ours does by default. Logs go to stderr (the SDK's
logging setup); stdout carries the protocol only.

    HYPERSTACK_API_KEY=... python mcp_peer_server.py --base-url URL [--secrets-dir DIR]
"""

from __future__ import annotations

import argparse
import os
from typing import List, Optional

import hyperstack
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel

INSTRUCTIONS = ("This server manages the Hyperstack API keys of one account. list_api_keys shows them; "
                "generate_api_key writes a new key's secret to a file and returns the path, never the secret.")


class ApiKey(BaseModel):
    id: int
    name: str
    description: Optional[str]
    createdAt: Optional[str]
    maskedKey: Optional[str]


class KeyList(BaseModel):
    keys: List[ApiKey]


class GeneratedKey(BaseModel):
    key: ApiKey
    secretFile: str


class Deleted(BaseModel):
    id: int
    deleted: bool


def hints(read_only: bool, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(readOnlyHint=read_only, destructiveHint=destructive, idempotentHint=idempotent,
                           openWorldHint=False)


def to_key(fields: "hyperstack.ApiKeyFields") -> ApiKey:
    return ApiKey(id=fields.id, name=fields.name or "", description=fields.description,
                  createdAt=fields.created_at.isoformat() if fields.created_at else None, maskedKey=fields.key)


def upstream(call):
    """Runs one SDK call; an HTTP error becomes a tool error a person can act on."""
    try:
        return call()
    except hyperstack.ApiException as error:
        raise ToolError(f"Hyperstack answered {error.status}: {error.reason}") from None
    except Exception as error:  # urllib3's connection errors
        raise ToolError(f"Hyperstack is unreachable: {type(error).__name__}") from None


def build(base_url: str, secrets_dir: str) -> MCPServer:
    configuration = hyperstack.Configuration(host=base_url)
    configuration.api_key["apiKey"] = os.environ.get("HYPERSTACK_API_KEY", "")
    api = hyperstack.ApiKeyApi(hyperstack.ApiClient(configuration))
    server = MCPServer("hyperstack-api-keys-peer", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(title="List API keys", annotations=hints(True, False, True))
    def list_api_keys(refresh: bool = False) -> KeyList:
        """List the Hyperstack API keys of the account, masked."""
        return KeyList(keys=[to_key(key) for key in upstream(api.get_api_key).api_keys or []])

    @server.tool(title="Generate an API key", annotations=hints(False, False, False))
    def generate_api_key(name: str, description: Optional[str] = None, secretFile: Optional[str] = None) -> GeneratedKey:
        """Create a key; its secret goes to a new 0600 file, whose path is returned."""
        payload = hyperstack.GenerateUpdateApiKeyPayload(name=name, description=description)
        created = upstream(lambda: api.generate_api_key(payload)).api_key
        os.makedirs(secrets_dir, mode=0o700, exist_ok=True)
        path = os.path.join(secrets_dir, os.path.basename(secretFile or f"hyperstack-key-{created.id}"))
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write((created.key or "") + "\n")
        except OSError as error:
            raise ToolError(f"Key {created.id} was created, but its secret could not be written to {path}: "
                            f"{error.strerror}. Delete it with delete_api_key.") from None
        return GeneratedKey(key=to_key(created).model_copy(update={"maskedKey": None}), secretFile=path)

    @server.tool(title="Update an API key", annotations=hints(False, False, True))
    def update_api_key(id: int, name: str, description: Optional[str] = None) -> ApiKey:
        """Rename a key, or change its description."""
        payload = hyperstack.GenerateUpdateApiKeyPayload(name=name, description=description)
        return to_key(upstream(lambda: api.update_api_key(id, payload)).api_key)

    @server.tool(title="Delete an API key", annotations=hints(False, True, True))
    def delete_api_key(id: int) -> Deleted:
        """Delete a key for good."""
        upstream(lambda: api.delete_api_key(id))
        return Deleted(id=id, deleted=True)

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("HYPERSTACK_API_URL", "https://infrahub-api.nexgencloud.com/v1"))
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    parser.add_argument("--secrets-dir", default=os.path.join(state, "hyperstack-mcp-peer", "secrets"))
    args = parser.parse_args()
    build(args.base_url, args.secrets_dir).run()


if __name__ == "__main__":
    main()
