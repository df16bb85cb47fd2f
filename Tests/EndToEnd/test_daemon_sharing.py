"""The shared daemon (issue 12), sharing: one cache and one change stream for every client.

Acceptance 1: 20 forwarders (LSP and NDJSON) and 5 `call --remote auto` one-shots against one
HTTP sandbox make exactly one `GET /api-key` for all their cold lists.
Acceptance 2: a generate through forwarder 1 reaches forwarder 1 as didChange then response
(same revision), and every other forwarder of that store as didChange within 100 ms, with no
poll; a session with another key (another store) hears nothing.
Also: `call --remote auto` answers from the warm shared cache.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from daemon_fixtures import daemon_env, daemon_validator, forwarders  # noqa: F401
from sandbox_server import SandboxServer

LIST = "GET /api-key"
GENERATE = "POST /api-key/generate"

pytestmark = pytest.mark.timeout(120)


def _initialize(forwarder, index: int):
    """LSP clients initialize (with processId); half the NDJSON ones skip it, as shells do."""
    if forwarder.framing == "lsp" or index % 4 == 0:
        return forwarder.start_request("initialize", {"processId": os.getpid(), "clientInfo": {"name": f"e2e-{index}"}})
    return None


def test_twenty_forwarders_and_five_one_shots_make_one_upstream_list(daemon_env, forwarders, sandbox_server,
                                                                    daemon_validator):
    for index in range(3):
        status, body = sandbox_server.http("POST", "/api-key/generate", {"name": f"seed-{index}"})
        assert status in (200, 201), body
    assert sandbox_server.route_count(LIST) == 0

    fleet = [forwarders(framing="lsp" if index % 2 else "ndjson", sandbox=sandbox_server) for index in range(20)]
    init_ids = [_initialize(forwarder, index) for index, forwarder in enumerate(fleet)]
    list_ids = [forwarder.start_request("apiKeys.list", {}) for forwarder in fleet]

    one_shots: list = [None] * 5

    def one_shot(slot: int) -> None:
        one_shots[slot] = daemon_env.call("apiKeys.list", {}, "--base-url", sandbox_server.base_url,
                                          env={"HYPERSTACK_API_KEY": sandbox_server.api_key})

    threads = [threading.Thread(target=one_shot, args=(slot,)) for slot in range(5)]
    for thread in threads:
        thread.start()
    results = []
    for forwarder, init_id, list_id in zip(fleet, init_ids, list_ids):
        if init_id is not None:
            assert "result" in forwarder.wait_response(init_id, 30)
        response = forwarder.wait_response(list_id, 30)
        assert "result" in response, response
        results.append(response["result"])
    for thread in threads:
        thread.join(60)
    for completed in one_shots:
        assert completed is not None and completed.returncode == 0, (
            completed and completed.stderr.decode(errors="replace"))
        result = json.loads(completed.stdout)
        daemon_validator.check_response("apiKeys.list", {"jsonrpc": "2.0", "id": 1, "result": result},
                                        secrets=[sandbox_server.api_key])
        results.append(result)

    assert len(results) == 25
    for result in results:
        assert sorted(key["name"] for key in result["keys"]) == ["seed-0", "seed-1", "seed-2"]
    assert len({result["revision"] for result in results}) == 1, [result["revision"] for result in results]
    assert sandbox_server.route_count(LIST) == 1, sandbox_server.stats()

    status = daemon_env.wait_status(lambda s: s["sessions"] == 20)
    assert daemon_env.daemon_pids() == {status["pid"]}, "one daemon for every forwarder"
    assert len(status["stores"]) == 1, status["stores"]
    store = status["stores"][0]
    assert store["upstream"] == sandbox_server.base_url
    assert store["sessions"] == 20 and store["keys"] == 3, store
    assert status["upstreamRequests"] == 1, status
    for forwarder in fleet:
        assert forwarder.fallback_lines() == [], forwarder.stderr_tail()


def test_a_generate_fans_out_to_every_session_of_the_store_within_100_ms(daemon_env, forwarders):
    others = 10
    second_key = "e2e-other-key-" + os.urandom(6).hex()
    sandbox = SandboxServer("--api-key", second_key)
    try:
        fleet = [forwarders(framing="lsp" if index % 2 else "ndjson", sandbox=sandbox) for index in range(others + 1)]
        stranger = forwarders(framing="ndjson", sandbox=sandbox, api_key=second_key)
        for index, forwarder in enumerate(fleet):
            init_id = _initialize(forwarder, index)
            if init_id is not None:
                forwarder.wait_response(init_id, 30)
        listed = [forwarder.call("apiKeys.list", {}, timeout=30) for forwarder in fleet]
        assert stranger.call("apiKeys.list", {}, timeout=30)["keys"] == []
        gets_before = sandbox.route_count(LIST)
        assert gets_before == 2, sandbox.stats()  # one cold list per store
        daemon_env.wait_status(lambda s: s["sessions"] == others + 2)

        first = fleet[0]
        request_id = first.start_request("apiKeys.generate", {"name": "fan-out", "description": "issue 12"})
        seen = []
        while True:
            message = first.read(timeout=20)
            seen.append(message)
            if message.get("id") == request_id and "method" not in message:
                break
        notes = [m for m in seen if m.get("method") == "apiKeys.didChange"]
        assert len(notes) == 1, seen
        note, response = notes[0], seen[-1]
        assert "result" in response, response
        revision = response["result"]["revision"]
        secret = response["result"]["key"]["secret"]
        assert note["params"]["revision"] == revision
        assert note["params"]["cause"] == "generate"
        assert [key["name"] for key in note["params"]["added"]] == ["fan-out"]
        assert revision > listed[0]["revision"]
        announced = first.arrival_of(note)

        delays = []
        for forwarder in fleet[1:]:
            other = forwarder.wait_notification("apiKeys.didChange", timeout=5)
            assert other["params"]["revision"] == revision, other
            assert other["params"]["cause"] == "generate"
            assert [key["name"] for key in other["params"]["added"]] == ["fan-out"]
            assert all("secret" not in key for key in other["params"]["added"])
            delays.append(forwarder.arrival_of(other) - announced)
        assert max(delays) <= 0.1, f"didChange reached the other sessions after {max(delays) * 1000:.1f} ms (max)"
        for forwarder in fleet[1:]:
            assert secret.encode() not in forwarder.raw_stdout, "another session saw the generated secret"
        stranger.expect_silence(0.5)
        assert secret.encode() not in stranger.raw_stdout

        # No poll ran and nothing was re-listed: the change came from the generate itself.
        assert sandbox.route_count(LIST) == gets_before, sandbox.stats()
        assert sandbox.route_count(GENERATE) == 1
        time.sleep(0.5)
        assert sandbox.route_count(LIST) == gets_before, sandbox.stats()

        # A shell one-shot answers from the warm shared cache.
        completed = daemon_env.call("apiKeys.list", {}, "--base-url", sandbox.base_url,
                                    env={"HYPERSTACK_API_KEY": sandbox.api_key})
        assert completed.returncode == 0, completed.stderr.decode(errors="replace")
        warm = json.loads(completed.stdout)
        assert warm["fromCache"] is True and warm["revision"] == revision
        assert "fan-out" in [key["name"] for key in warm["keys"]]
        assert sandbox.route_count(LIST) == gets_before
        print(f"fan-out delays: max {max(delays) * 1000:.1f} ms, "
              f"median {sorted(delays)[len(delays) // 2] * 1000:.1f} ms")
    finally:
        sandbox.stop()
