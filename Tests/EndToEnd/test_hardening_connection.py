"""Regression tests for the connection items of issue 10 (hardening), against the real binary.

- item 3: requests in flight are capped by --max-in-flight; at the cap a new request is
  answered at once with -32802 (busy, retry later), while $/cancelRequest and $/ping still
  get through (the memory soak is in test_reliability_load.py);
- item 7: an apiKeys.generate that was sent upstream cannot be cancelled: its one answer
  is the result, secret included;
- item 12: a UTF-8 BOM before NDJSON is skipped, and an NDJSON line inside an LSP stream
  gets an error answer instead of vanishing.
"""

from __future__ import annotations

import json
import time

SERVER_BUSY = -32802


def _ping_lsp(request_id) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "$/ping"}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_hardening_03_in_flight_cap_answers_32802(spawn):
    cap = 4
    rpc = spawn("--sandbox", "--max-in-flight", str(cap))
    slow = [rpc.start_request("test.sleep", {"ms": 30_000}) for _ in range(cap)]
    assert rpc.call("$/ping") == {}  # the sleeps are running; answered without a task, even at the cap

    # Every further request that needs work is refused at once, each with its own answer.
    started = time.monotonic()
    refused = [rpc.start_request("test.sleep", {"ms": 1}) for _ in range(50)]
    refused.append(rpc.start_request("apiKeys.delete", {"id": 1}))
    for request_id in refused:
        error = rpc.wait_response(request_id, timeout=5)["error"]
        assert error["code"] == SERVER_BUSY, error
        assert "retry" in error["message"].lower() and str(cap) in error["message"], error
    assert time.monotonic() - started < 3, "refusals must not wait for the work in flight"

    # A batch is refused entry by entry, in one array.
    batch = [{"jsonrpc": "2.0", "id": f"b{index}", "method": "test.sleep", "params": {"ms": 1}} for index in range(20)]
    for entry in batch:
        rpc.methods_by_id[json.dumps(entry["id"])] = "test.sleep"
    rpc.send(batch)
    answer = rpc.read(timeout=5)
    assert isinstance(answer, list) and [entry["id"] for entry in answer] == [entry["id"] for entry in batch]
    assert {entry["error"]["code"] for entry in answer} == {SERVER_BUSY}

    # $/cancelRequest still gets through, and frees a place.
    rpc.notify("$/cancelRequest", {"id": slow[0]})
    assert rpc.wait_response(slow[0], timeout=5)["error"]["code"] == -32800
    deadline = time.monotonic() + 5
    while True:
        response = rpc.request("test.sleep", {"ms": 1}, timeout=5)
        if "result" in response:
            break
        assert response["error"]["code"] == SERVER_BUSY and time.monotonic() < deadline, response
        time.sleep(0.05)
    for request_id in slow[1:]:
        rpc.notify("$/cancelRequest", {"id": request_id})
        assert rpc.wait_response(request_id, timeout=5)["error"]["code"] == -32800
    assert rpc.stop() == 0


def test_hardening_03_max_in_flight_must_be_positive(spawn):
    rpc = spawn("--sandbox", "--max-in-flight", "0", validate=False)
    assert rpc.wait_exit() == 2  # a usage error
    assert b"--max-in-flight" in rpc.stderr


def test_hardening_07_sent_generate_is_not_cancellable(spawn, sandbox_server):
    sandbox_server.faults({"method": "POST", "path": "/api-key/generate", "latency_ms": 1500})
    rpc = sandbox_server.spawn_rpc(spawn)
    request_id = rpc.start_request("apiKeys.generate", {"name": "not-cancellable"})
    deadline = time.monotonic() + 10
    while sandbox_server.route_count("POST /api-key/generate") < 1:
        assert time.monotonic() < deadline, "the generate never reached the sandbox"
        time.sleep(0.02)
    rpc.notify("$/cancelRequest", {"id": request_id})
    response = rpc.wait_response(request_id, timeout=10)
    assert "result" in response, f"a generate already sent upstream was answered with {response.get('error')}"
    key = response["result"]["key"]
    assert key["name"] == "not-cancellable" and key["secret"]
    rpc.secrets.append(key["secret"])
    rpc.expect_silence(0.3)  # exactly one answer: no -32800 after the result
    listed = rpc.call("apiKeys.list", {"refresh": True})
    assert [entry["name"] for entry in listed["keys"]] == ["not-cancellable"]
    assert rpc.stop() == 0


def test_hardening_12_bom_before_ndjson(spawn):
    rpc = spawn("--sandbox", framing="ndjson")
    rpc.methods_by_id[json.dumps(1)] = "$/ping"
    rpc.send_raw(b"\xef\xbb\xbf" + b'{"jsonrpc":"2.0","id":1,"method":"$/ping"}\n')
    assert rpc.read(timeout=5) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert rpc.call("$/ping") == {}
    assert rpc.stop() == 0


def test_hardening_12_bom_split_across_writes(spawn):
    rpc = spawn("--sandbox", framing="ndjson")
    rpc.methods_by_id[json.dumps(1)] = "$/ping"
    for piece in (b"\xef", b"\xbb", b"\xbf", b'{"jsonrpc":"2.0","id":1,"method":"$/ping"}\n'):
        rpc.send_raw(piece)
        time.sleep(0.05)
    assert rpc.read(timeout=5) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert rpc.stop() == 0


def test_hardening_12_bom_before_lsp(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    rpc.methods_by_id[json.dumps(1)] = "$/ping"
    rpc.send_raw(b"\xef\xbb\xbf" + _ping_lsp(1))
    assert rpc.read(timeout=5) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert rpc.stop() == 0


def test_hardening_12_ndjson_line_in_lsp_stream(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    for request_id in (1, 2, 3):
        rpc.methods_by_id[json.dumps(request_id)] = "$/ping"
    rpc.send_raw(_ping_lsp(1))
    assert rpc.read(timeout=5) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    # An NDJSON line where a header is due, then a good frame: an error answer, then the frame's.
    rpc.send_raw(b'{"jsonrpc":"2.0","id":2,"method":"$/ping"}\n' + _ping_lsp(3))
    error = rpc.read(timeout=5)
    assert error["id"] is None and error["error"]["code"] == -32700, error
    assert "Content-Length" in error["error"]["message"], error
    assert rpc.read(timeout=5) == {"jsonrpc": "2.0", "id": 3, "result": {}}
    # A batch line too, and one that ends the input's first header block.
    rpc.send_raw(b'[{"jsonrpc":"2.0","id":4,"method":"$/ping"}]\r\n\r\n' + _ping_lsp(3))
    error = rpc.read(timeout=5)
    assert error["id"] is None and error["error"]["code"] == -32700, error
    assert rpc.read(timeout=5) == {"jsonrpc": "2.0", "id": 3, "result": {}}
    rpc.expect_silence(0.3)
    assert rpc.stop() == 0
