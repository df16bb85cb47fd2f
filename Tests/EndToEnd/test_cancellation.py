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
