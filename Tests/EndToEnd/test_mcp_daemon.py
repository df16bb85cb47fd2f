"""`hyperstack-rpc mcp --remote auto` (issue 13): MCP sessions through the shared daemon (issue 12).

Driven by the official MCP Python SDK (PyPI `mcp` 2.3.0, mode="legacy") behind the recording relay,
each test in its own XDG_RUNTIME_DIR (daemon_fixtures.DaemonEnv), against the real hyperstack-sandbox
over HTTP where the upstream must outlive a daemon:

- two MCP sessions on one sandbox share one daemon store: one upstream `GET /api-key` for both lists;
- a subscriber to hyperstack://api-keys hears `notifications/resources/updated` and `list_changed`
  for keys generated through another MCP session, a `call --remote auto` one-shot and a JSON-RPC
  `serve --remote auto` session, at once and with no poll;
- generate_api_key through the daemon writes a 0600 file in the *client's* secrets directory
  (its --secrets-dir taken from its own working directory, or its own XDG_STATE_HOME default, which the
  daemon does not inherit), keeps the allowed-roots and O_EXCL rules, and never returns the secret;
  `serve --remote auto`'s apiKeys.generate {secretFile} and `call --remote auto` follow the same rules;
- SIGKILL of the daemon mid-session: the MCP client notices nothing: its tools work, its subscription
  was replayed into the new daemon (a later generate elsewhere still reaches it), and no answer to a
  replayed message reaches it;
- cancellation over raw pipes: a cancelled request gets no answer through the daemon either, and the
  session still ends promptly at EOF;
- no secret (the upstream key, any generated one) in a transcript or the daemon's log.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, MCPDeprecationWarning
from mcp.client.stdio import StdioServerParameters

from daemon_fixtures import daemon_env, daemon_validator, forwarders  # noqa: F401
from mcp_support import HERE, McpPipe, Transcript, assert_no_secret, default_secrets_dir, server_env
from rpc_process import binary_path

pytestmark = pytest.mark.timeout(180)

LIST = "GET /api-key"
COLLECTION = "hyperstack://api-keys"
UPDATED = "notifications/resources/updated"
LIST_CHANGED = "notifications/resources/list_changed"


def method_of(message) -> str | None:
    return getattr(getattr(message, "root", message), "method", None)


class Session:
    """One `hyperstack-rpc mcp --remote auto` for the SDK, in the test's daemon environment."""

    def __init__(self, daemon_env, tmp_path: Path, name: str, *args: str, http=None, cwd: Path | None = None) -> None:
        self.transcript = Transcript(tmp_path / f"wire-{name}")
        self.state_home = tmp_path / f"state-{name}"
        self.heard: list = []
        upstream = ["--base-url", http.base_url] if http else ["--sandbox"]
        extra = dict(daemon_env.env)
        if http:
            extra["HYPERSTACK_API_KEY"] = http.api_key
        self.params = StdioServerParameters(
            command=sys.executable,
            args=[str(HERE / "mcp_relay.py"), str(self.transcript.directory), binary_path(), "mcp", "--remote", "auto",
                  *upstream, *args],
            env=server_env(self.state_home, extra), cwd=str(cwd) if cwd else None)

    def client(self, mode: str = "legacy", **kwargs) -> Client:
        async def on_message(message):
            self.heard.append(message)

        return Client(self.params, mode=mode, cache=None, message_handler=on_message, **kwargs)

    def count(self, method: str) -> int:
        return sum(1 for message in self.heard if method_of(message) == method)

    async def wait_for(self, method: str, count: int, timeout: float = 5.0) -> float:
        """Waits until `method` was heard `count` times; returns how long that took."""
        started = time.monotonic()
        while self.count(method) < count:
            if time.monotonic() - started > timeout:
                raise AssertionError(f"heard {self.count(method)} {method}, wanted {count}, within {timeout}s")
            await anyio.sleep(0.01)
        return time.monotonic() - started

    def answered_ids(self) -> list:
        return [m.get("id") for m in self.transcript.from_server if "method" not in m]

    def sent_ids(self) -> set:
        return {m.get("id") for m in self.transcript.from_client if "method" in m and "id" in m}


async def subscribe(mcp: Client) -> None:
    with pytest.warns(MCPDeprecationWarning):  # the SDK notes that 2026-07-28 replaces it
        await mcp.subscribe_resource(COLLECTION)


def daemon_log(daemon_env) -> bytes:
    path = Path(daemon_env.socket_dir)
    return b"".join(log.read_bytes() for log in path.glob("*.log"))


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_two_mcp_sessions_share_one_daemon_store(daemon_env, sandbox_server, tmp_path):
    for name in ("seed-a", "seed-b"):
        status, body = sandbox_server.http("POST", "/api-key/generate", {"name": name})
        assert status in (200, 201), body
    first = Session(daemon_env, tmp_path, "a", http=sandbox_server)
    second = Session(daemon_env, tmp_path, "b", http=sandbox_server)

    async def main():
        async with first.client() as a, second.client() as b:
            listed_a = (await a.call_tool("list_api_keys", {})).structured_content
            listed_b = (await b.call_tool("list_api_keys", {})).structured_content
            status = daemon_env.wait_status(lambda s: s["sessions"] == 2)
            return listed_a, listed_b, status

    listed_a, listed_b, status = anyio.run(main)
    assert sorted(k["name"] for k in listed_a["keys"]) == ["seed-a", "seed-b"]
    assert (listed_a["keys"], listed_a["revision"]) == (listed_b["keys"], listed_b["revision"])
    assert listed_b["fromCache"] is True, "the second session's list came from the shared cache"
    assert sandbox_server.route_count(LIST) == 1, sandbox_server.stats()
    assert len(status["stores"]) == 1 and status["stores"][0]["sessions"] == 2, status
    assert daemon_env.daemon_pids() == {status["pid"]}
    for session in (first, second):
        assert "hyperstack-rpc: no shared daemon" not in session.transcript.stderr.decode(errors="replace")
    assert_no_secret([sandbox_server.api_key], "the transcripts and the daemon log",
                     first.transcript.raw() + second.transcript.raw() + daemon_log(daemon_env))


def test_the_sdks_auto_mode_works_through_the_daemon(daemon_env, tmp_path):
    """mode="auto" probes server/discover first, which the daemon's session answers: the session
    speaks the stateless revision 2026-07-28 through the forwarder, every request enveloped."""
    session = Session(daemon_env, tmp_path, "auto")

    async def main():
        async with session.client(mode="auto") as mcp:
            assert mcp.protocol_version == "2026-07-28"
            tools = {tool.name for tool in (await mcp.list_tools()).tools}
            listed = await mcp.call_tool("list_api_keys", {})
            return tools, listed

    tools, listed = anyio.run(main)
    assert tools == {"list_api_keys", "generate_api_key", "update_api_key", "delete_api_key"}
    assert not listed.is_error
    assert session.transcript.from_client[0].get("method") == "server/discover"
    assert "initialize" not in [m.get("method") for m in session.transcript.from_client]
    assert all(m.get("result", {}).get("resultType") == "complete" for m in session.transcript.from_server if "result" in m)
    assert daemon_env.daemon_pids(), "no daemon served the session"


@pytest.mark.parametrize("action, kept", [("accept", False), ("decline", True)])
def test_a_delete_asks_for_confirmation_through_the_daemon(daemon_env, tmp_path, action, kept):
    """The daemon's session sends elicitation/create; the forwarder relays our request to the
    client and the client's response back, and only an accepted form deletes."""
    from mcp import types

    session = Session(daemon_env, tmp_path, f"elicit-{action}")
    asked: list = []

    async def on_elicit(context, params):
        asked.append(params)
        return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)

    async def main():
        async with session.client(elicitation_callback=on_elicit) as mcp:
            made = await mcp.call_tool("generate_api_key", {"name": "doomed"})
            key_id = made.structured_content["key"]["id"]
            result = await mcp.call_tool("delete_api_key", {"id": key_id})
            listed = await mcp.call_tool("list_api_keys", {"refresh": True})
            return key_id, result, [key["id"] for key in listed.structured_content["keys"]]

    key_id, result, ids = anyio.run(main)
    assert len(asked) == 1 and "doomed" in asked[0].message
    assert not result.is_error
    assert (key_id in ids) == kept
    requests = [m for m in session.transcript.from_server if m.get("method") == "elicitation/create"]
    assert len(requests) == 1 and any(m.get("id") == requests[0]["id"] for m in session.transcript.from_client)
    assert daemon_env.daemon_pids(), "no daemon served the session"


def test_a_subscriber_hears_of_generates_through_every_kind_of_session_without_polling(
        daemon_env, forwarders, sandbox_server, tmp_path):
    listener = Session(daemon_env, tmp_path, "listener", http=sandbox_server)
    maker = Session(daemon_env, tmp_path, "maker", http=sandbox_server)
    serve_secrets = tmp_path / "serve-secrets"
    call_secrets = tmp_path / "call-secrets"
    secrets: list[str] = []

    async def main():
        async with listener.client() as a, maker.client() as b:
            await a.call_tool("list_api_keys", {})
            await subscribe(a)
            lists_before = sandbox_server.route_count(LIST)

            # Another MCP session.
            made = await b.call_tool("generate_api_key", {"name": "from-mcp"})
            assert not made.is_error, made
            secrets.append(Path(made.structured_content["secretFile"]).read_text().strip())
            took = [await listener.wait_for(UPDATED, 1)]
            await listener.wait_for(LIST_CHANGED, 1)

            # A shell one-shot through the daemon, with a secret file in its own --secrets-dir.
            one_shot = daemon_env.call("apiKeys.generate", {"name": "from-call", "secretFile": "call.key"},
                                       "--base-url", sandbox_server.base_url, "--secrets-dir", str(call_secrets),
                                       env={"HYPERSTACK_API_KEY": sandbox_server.api_key})
            assert one_shot.returncode == 0, one_shot.stderr.decode(errors="replace")
            result = json.loads(one_shot.stdout)
            assert result["secretFile"] == str(call_secrets / "call.key") and "secret" not in result["key"]
            assert mode_of(call_secrets / "call.key") == 0o600
            secrets.append((call_secrets / "call.key").read_text().strip())
            took.append(await listener.wait_for(UPDATED, 2))

            # A JSON-RPC editor session through the daemon.
            editor = forwarders("--secrets-dir", str(serve_secrets), sandbox=sandbox_server)
            response = editor.request("apiKeys.generate", {"name": "from-serve", "secretFile": "serve.key"})
            assert "result" in response, response
            assert response["result"]["secretFile"] == str(serve_secrets / "serve.key")
            assert mode_of(serve_secrets / "serve.key") == 0o600 and mode_of(serve_secrets) == 0o700
            secrets.append((serve_secrets / "serve.key").read_text().strip())
            took.append(await listener.wait_for(UPDATED, 3))
            await listener.wait_for(LIST_CHANGED, 3)

            body = json.loads((await a.read_resource(COLLECTION)).contents[0].text)
            assert sorted(k["name"] for k in body["keys"]) == ["from-call", "from-mcp", "from-serve"]
            assert sandbox_server.route_count(LIST) == lists_before, "a poll ran"
            return took

    took = anyio.run(main)
    assert max(took) < 2.0, took
    updates = [m for m in listener.transcript.from_server if m.get("method") == UPDATED]
    assert len(updates) == 3 and all(m["params"] == {"uri": COLLECTION} for m in updates)
    everything = listener.transcript.raw() + maker.transcript.raw() + daemon_log(daemon_env)
    assert_no_secret([*secrets, sandbox_server.api_key], "the MCP transcripts or the daemon log", everything)


def test_secret_files_go_to_the_clients_directories_under_the_same_rules(daemon_env, tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir(mode=0o700)
    default_session = Session(daemon_env, tmp_path, "default", "--log-level", "trace")
    chosen = Session(daemon_env, tmp_path, "chosen", "--secrets-dir", "rel-secrets", "--allow-secrets-in", str(allowed),
                     cwd=tmp_path)
    written: list[Path] = []

    async def main():
        async with default_session.client() as first:
            made = await first.call_tool("generate_api_key", {"name": "default-dir"})
            assert not made.is_error, made
            key = made.structured_content["key"]
            assert "secret" not in key
            written.append(Path(made.structured_content["secretFile"]))
            assert written[-1] == default_secrets_dir(default_session.state_home) / str(key["id"])
        async with chosen.client() as second:
            made = await second.call_tool("generate_api_key", {"name": "relative", "secretFile": "relative.key"})
            assert not made.is_error, made
            written.append(Path(made.structured_content["secretFile"]))
            assert written[-1] == tmp_path / "rel-secrets" / "relative.key"
            made = await second.call_tool("generate_api_key", {"name": "allowed", "secretFile": str(allowed / "a.key")})
            assert not made.is_error, made
            written.append(Path(made.structured_content["secretFile"]))
            outside = await second.call_tool("generate_api_key",
                                             {"name": "outside", "secretFile": str(tmp_path / "outside.key")})
            assert outside.is_error and not (tmp_path / "outside.key").exists()
            again = await second.call_tool("generate_api_key", {"name": "again", "secretFile": "relative.key"})
            assert again.is_error
            escape = await second.call_tool("generate_api_key", {"name": "escape", "secretFile": "../escape.key"})
            assert escape.is_error and not (tmp_path / "escape.key").exists()
            listed = await second.call_tool("list_api_keys", {})
            return sorted(k["name"] for k in listed.structured_content["keys"])

    names = anyio.run(main)
    assert names == ["allowed", "default-dir", "relative"], names
    for path in written:
        assert mode_of(path) == 0o600, path
        assert mode_of(path.parent) == 0o700 or path.parent == allowed, path.parent
    secrets = [path.read_text().strip() for path in written]
    assert all(secrets)
    everything = default_session.transcript.raw() + chosen.transcript.raw() + daemon_log(daemon_env)
    assert_no_secret(secrets, "the MCP transcripts, the trace log or the daemon log", everything)
    assert daemon_log(daemon_env), "the daemon wrote no log"


def test_a_session_carries_on_through_a_daemon_sigkill(daemon_env, sandbox_server, tmp_path):
    session = Session(daemon_env, tmp_path, "survivor", http=sandbox_server)
    secrets: list[str] = []

    async def main():
        async with session.client() as mcp:
            await mcp.call_tool("list_api_keys", {})
            await subscribe(mcp)
            old = daemon_env.daemon_pids()
            assert len(old) == 1
            daemon_env.kill_daemons(old)

            listed = await mcp.call_tool("list_api_keys", {})
            assert not listed.is_error and listed.structured_content["keys"] == []
            made = await mcp.call_tool("generate_api_key", {"name": "after-kill"})
            assert not made.is_error, made
            path = Path(made.structured_content["secretFile"])
            assert mode_of(path) == 0o600
            secrets.append(path.read_text().strip())
            await session.wait_for(UPDATED, 1)

            # The subscription was replayed: a generate elsewhere reaches this session through the new daemon.
            one_shot = daemon_env.call("apiKeys.generate", {"name": "elsewhere"}, "--base-url", sandbox_server.base_url,
                                       env={"HYPERSTACK_API_KEY": sandbox_server.api_key})
            assert one_shot.returncode == 0, one_shot.stderr.decode(errors="replace")
            secrets.append(json.loads(one_shot.stdout)["key"]["secret"])
            await session.wait_for(UPDATED, 2)
            new = daemon_env.daemon_pids()
            assert new and new.isdisjoint(old), (old, new)
            body = json.loads((await mcp.read_resource(COLLECTION)).contents[0].text)
            assert sorted(k["name"] for k in body["keys"]) == ["after-kill", "elsewhere"]

    anyio.run(main)
    answered = session.answered_ids()
    assert len(answered) == len(set(answered)), answered
    assert set(answered) <= session.sent_ids(), "an answer to a replayed message reached the client"
    server_text = b"".join(json.dumps(m).encode() for m in session.transcript.from_server)
    assert b"hyperstack-rpc-forwarder-replay" not in server_text
    assert "shared daemon" in session.transcript.stderr.decode(errors="replace")
    assert_no_secret([*secrets, sandbox_server.api_key], "the MCP transcript or the daemon log",
                     session.transcript.raw() + daemon_log(daemon_env))


def test_a_cancelled_request_gets_no_answer_through_the_daemon_and_eof_ends_the_session(daemon_env, tmp_path):
    server = McpPipe("--remote", "auto", "--sandbox", state_home=tmp_path / "state", env=daemon_env.env)
    try:
        server.initialize()
        slow = server.start_request("test.sleep", {"ms": 10_000})
        time.sleep(0.2)
        server.notify("notifications/cancelled", {"requestId": slow, "reason": "user gave up"})
        assert server.call("ping") == {}
        server.expect_silence(0.5)
        listed = server.tool("list_api_keys", {})
        assert listed["result"]["isError"] is False
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 5
        assert not any(m.get("id") == slow for m in server.arrived)
        server.check_clean()
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
