"""`notifications/progress` while a tool call waits on Hyperstack's rate-limit backoff, when the
call carried `params._meta.progressToken`: the real hyperstack-sandbox over HTTP answers 429
with `Retry-After`, and each wait before a retry reaches the client, before the result, with
the request's token and a progress that only goes up. Without a token nothing is sent."""

from __future__ import annotations

import re

import anyio
import pytest
from mcp import Client

from mcp_support import LATEST, McpPipe, Transcript, assert_no_secret, sdk_server, server_env
from sandbox_server import SandboxServer


@pytest.fixture
def sandbox():
    made = SandboxServer()
    yield made
    made.stop()


@pytest.fixture
def server(tmp_path, sandbox):
    process = McpPipe("--base-url", sandbox.base_url, state_home=tmp_path / "state",
                      env={"HYPERSTACK_API_KEY": sandbox.api_key})
    yield process
    if process.proc.poll() is None:
        assert process.stop() == 0
    process.check_clean()
    assert_no_secret([sandbox.api_key], "the server's stdout", bytes(process.raw_stdout))


def rate_limited(path: str, method: str = "GET", count: int = 1) -> dict:
    return {"method": method, "path": path, "status": 429, "retry_after": "1", "count": count}


def call_with_token(server: McpPipe, token, name: str, arguments: dict) -> tuple[dict, list[dict]]:
    """The tools/call response and every message that came before it."""
    before = len(server.arrived)
    call = server.start_request("tools/call", {"name": name, "arguments": arguments,
                                               **({"_meta": {"progressToken": token}} if token is not None else {})})
    response = server.wait_response(call, timeout=30)
    index = next(i for i, m in enumerate(server.arrived) if m is response)
    return response, server.arrived[before:index]


def progress_of(messages: list[dict]) -> list[dict]:
    return [m["params"] for m in messages if m.get("method") == "notifications/progress"]


def test_a_rate_limited_call_reports_each_wait_before_its_result(server, sandbox):
    server.initialize(LATEST)
    sandbox.faults(rate_limited("/api-key", count=2))
    response, before = call_with_token(server, "list-1", "list_api_keys", {"refresh": True})
    assert response["result"]["isError"] is False
    progress = progress_of(before)
    assert [p["progressToken"] for p in progress] == ["list-1", "list-1"]
    assert [p["progress"] for p in progress] == [1, 2]
    assert progress[0]["message"] == "Hyperstack rate limit: retrying in 1.0 s (attempt 2 of 4)"
    # The second backoff is exponential with jitter, Retry-After only its floor.
    assert re.fullmatch(r"Hyperstack rate limit: retrying in [12]\.\d s \(attempt 3 of 4\)", progress[1]["message"])
    server.expect_silence(0.3)
    after = server.arrived[next(i for i, m in enumerate(server.arrived) if m is response) + 1:]
    assert not progress_of(after), "nothing after the result"


def test_an_integer_token_is_echoed_and_a_mutation_reports_too(server, sandbox):
    server.initialize(LATEST)
    made = server.tool("generate_api_key", {"name": "slowed"})["result"]
    sandbox.faults(rate_limited("/api-key/", method="PUT"))
    response, before = call_with_token(server, 7, "update_api_key", {"id": made["structuredContent"]["key"]["id"],
                                                                     "name": "renamed"})
    assert response["result"]["isError"] is False, response
    assert progress_of(before) == [{"progressToken": 7, "progress": 1,
                                    "message": "Hyperstack rate limit: retrying in 1.0 s (attempt 2 of 4)"}]


def test_without_a_token_the_wait_is_silent(server, sandbox):
    server.initialize(LATEST)
    sandbox.faults(rate_limited("/api-key"))
    response, before = call_with_token(server, None, "list_api_keys", {"refresh": True})
    assert response["result"]["isError"] is False
    assert progress_of(before) == []
    assert sandbox.route_count("GET /api-key") == 2, "the wait happened, unreported"


def test_revision_2024_11_05_gets_progress_without_a_message(server, sandbox):
    server.initialize("2024-11-05")
    sandbox.faults(rate_limited("/api-key"))
    _, before = call_with_token(server, "old", "list_api_keys", {"refresh": True})
    assert progress_of(before) == [{"progressToken": "old", "progress": 1}]


def test_two_calls_sharing_one_listing_each_hear_the_wait(server, sandbox):
    server.initialize(LATEST)
    # A slow 429: the second call joins the listing the first started, and both wait on it.
    sandbox.faults({**rate_limited("/api-key"), "latency_ms": 500})
    first = server.start_request("tools/call", {"name": "list_api_keys", "arguments": {"refresh": True},
                                                "_meta": {"progressToken": "a"}})
    second = server.start_request("tools/call", {"name": "list_api_keys", "arguments": {"refresh": True},
                                                 "_meta": {"progressToken": "b"}})
    responses = [server.wait_response(first, timeout=30), server.wait_response(second, timeout=30)]
    assert all(r["result"]["isError"] is False for r in responses)
    for token, response in zip("ab", responses):
        index = next(i for i, m in enumerate(server.arrived) if m is response)
        heard = [m for m in server.arrived[:index]
                 if m.get("method") == "notifications/progress" and m["params"]["progressToken"] == token]
        assert [m["params"]["progress"] for m in heard] == [1], (token, server.arrived)
    assert sandbox.route_count("GET /api-key") == 2, "one shared listing, retried once"


def test_the_sdk_progress_callback_hears_the_wait(tmp_path, sandbox):
    transcript = Transcript(tmp_path / "wire")
    heard: list = []

    async def on_progress(progress, total, message):
        heard.append((progress, total, message))

    async def main():
        env = server_env(tmp_path / "state", {"HYPERSTACK_API_KEY": sandbox.api_key})
        async with Client(sdk_server(transcript.directory, "--base-url", sandbox.base_url, env=env),
                          mode="legacy", cache=None) as client:
            sandbox.faults(rate_limited("/api-key"))
            result = await client.call_tool("list_api_keys", {"refresh": True}, progress_callback=on_progress)
            assert not result.is_error

    anyio.run(main)
    assert heard == [(1.0, None, "Hyperstack rate limit: retrying in 1.0 s (attempt 2 of 4)")]
