"""Cancellation and concurrency over real pipes."""

from __future__ import annotations

import time


def test_cancel_a_slow_request(spawn):
    rpc = spawn("--sandbox")
    slow = rpc.start_request("test.sleep", {"ms": 10_000})
    time.sleep(0.1)
    started = time.monotonic()
    rpc.notify("$/cancelRequest", {"id": slow})
    response = rpc.wait_response(slow, timeout=5)
    assert time.monotonic() - started < 3
    assert response["error"]["code"] == -32800
    # Exactly one response: nothing else arrives for that id.
    assert rpc.call("$/ping") == {}
    rpc.expect_silence(0.3)


def test_cancel_with_a_string_id(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    rpc.start_request("test.sleep", {"ms": 10_000}, id="slow-one")
    rpc.notify("$/cancelRequest", {"id": "slow-one"})
    assert rpc.wait_response("slow-one", timeout=5)["error"]["code"] == -32800


def test_late_and_unknown_cancels_are_ignored(spawn):
    rpc = spawn("--sandbox")
    done = rpc.start_request("$/ping")
    assert rpc.wait_response(done)["result"] == {}
    rpc.notify("$/cancelRequest", {"id": done})
    rpc.notify("$/cancelRequest", {"id": "never-sent"})
    rpc.notify("$/cancelRequest", {"id": {"bad": "type"}})
    rpc.notify("$/cancelRequest")
    assert rpc.call("$/ping") == {}
    rpc.expect_silence(0.3)


def test_requests_run_concurrently_and_replies_come_out_of_order(spawn):
    rpc = spawn("--sandbox")
    slow = rpc.start_request("test.sleep", {"ms": 1500})
    fast = rpc.start_request("$/ping")
    first = rpc.read(timeout=5)
    assert first["id"] == fast
    assert rpc.wait_response(slow)["result"] == {}


def test_test_methods_are_absent_without_the_environment_variable(spawn):
    rpc = spawn("--sandbox", env={"HYPERSTACK_RPC_TEST_METHODS": "0"})
    assert rpc.request("test.sleep", {"ms": 1})["error"]["code"] == -32601


def test_end_of_input_after_a_cancelled_upstream_call_exits_0(spawn, sandbox_server):
    """The cancelled call's upstream request outlives the session; releasing the HTTP client
    unshut used to trap (SIGILL) in about half the runs."""
    sandbox_server.faults({"method": "GET", "path": "/api-key", "latency_ms": 800, "count": 3})
    for _ in range(3):
        rpc = sandbox_server.spawn_rpc(spawn)
        slow = rpc.start_request("apiKeys.list", {"refresh": True})
        time.sleep(0.2)
        rpc.notify("$/cancelRequest", {"id": slow})
        assert rpc.wait_response(slow)["error"]["code"] == -32800
        time.sleep(0.8)
        rpc.close_stdin()
        assert rpc.wait_exit(10) == 0, rpc.stderr_tail()
