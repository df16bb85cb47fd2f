"""Framing edge cases over real pipes: LSP headers and NDJSON lines."""

from __future__ import annotations

import json
import time

PING = {"jsonrpc": "2.0", "id": 1, "method": "$/ping"}


def body(message) -> bytes:
    return json.dumps(message).encode()


def test_header_name_is_case_insensitive(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    for index, name in enumerate([b"content-length", b"CONTENT-LENGTH", b"Content-length"]):
        payload = body({"jsonrpc": "2.0", "id": index, "method": "$/ping"})
        rpc.send_raw(name + b": %d\r\n\r\n" % len(payload) + payload)
        assert rpc.read() == {"jsonrpc": "2.0", "id": index, "result": {}}


def test_extra_content_type_header(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    payload = body(PING)
    rpc.send_raw(b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
                 % len(payload) + payload)
    assert rpc.read()["result"] == {}
    rpc.send_raw(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: %d\r\n\r\n"
                 % len(payload) + payload)
    assert rpc.read()["result"] == {}


def test_two_frames_in_one_write(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    first = body({"jsonrpc": "2.0", "id": "a", "method": "$/ping"})
    second = body({"jsonrpc": "2.0", "id": "b", "method": "$/ping"})
    rpc.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(first), first)
                 + b"Content-Length: %d\r\n\r\n%s" % (len(second), second))
    ids = {rpc.read()["id"], rpc.read()["id"]}
    assert ids == {"a", "b"}


def test_two_lines_in_one_write(spawn):
    rpc = spawn("--sandbox", framing="ndjson")
    rpc.send_raw(b'{"jsonrpc":"2.0","id":"a","method":"$/ping"}\n{"jsonrpc":"2.0","id":"b","method":"$/ping"}\n')
    assert {rpc.read()["id"], rpc.read()["id"]} == {"a", "b"}


def test_one_byte_per_write_lsp(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    frame = b"Content-Length: %d\r\n\r\n" % len(body(PING)) + body(PING)
    for byte in frame:
        rpc.send_raw(bytes([byte]))
        time.sleep(0.001)
    assert rpc.read() == {"jsonrpc": "2.0", "id": 1, "result": {}}


def test_one_byte_per_write_ndjson(spawn):
    rpc = spawn("--sandbox", framing="ndjson")
    for byte in body(PING) + b"\n":
        rpc.send_raw(bytes([byte]))
        time.sleep(0.001)
    assert rpc.read() == {"jsonrpc": "2.0", "id": 1, "result": {}}


def test_multibyte_utf8_body_is_counted_in_bytes(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    name = "ключ ☃ 🎉 \u2028 café"
    payload = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "apiKeys.generate",
                          "params": {"name": name}}, ensure_ascii=False).encode("utf-8")
    assert len(payload) > len(payload.decode("utf-8"))
    rpc.send_raw(b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
    response = rpc.wait_response(5)
    assert response["result"]["key"]["name"] == name
    assert rpc.call("apiKeys.list")["keys"][0]["name"] == name


def test_oversized_content_length_is_refused_and_skipped(spawn):
    rpc = spawn("--sandbox", "--max-message-bytes", "2048", framing="lsp")
    big = body({"jsonrpc": "2.0", "id": 9, "method": "$/ping", "params": {"pad": "x" * 5000}})
    rpc.send_raw(b"Content-Length: %d\r\n\r\n" % len(big) + big)
    error = rpc.read()
    assert error["error"]["code"] == -32600 and error["id"] is None
    assert "2048" in error["error"]["message"] or "large" in error["error"]["message"].lower()
    assert rpc.call("$/ping") == {}


def test_huge_content_length_is_not_buffered(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    rpc.send_raw(b"Content-Length: 99999999999\r\n\r\n")
    assert rpc.read()["error"]["code"] == -32600
    rpc.expect_silence(0.2)


def test_oversized_line_is_refused_and_skipped(spawn):
    rpc = spawn("--sandbox", "--max-message-bytes", "2048", framing="ndjson")
    rpc.send_raw(body({"jsonrpc": "2.0", "id": 9, "method": "$/ping", "params": {"pad": "x" * 5000}}) + b"\n")
    assert rpc.read()["error"]["code"] == -32600
    assert rpc.call("$/ping") == {}


def test_garbage_header_then_recovery(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    rpc.send_raw(b"this is not a header\r\n\r\n")
    error = rpc.read()
    assert error["error"]["code"] in (-32700, -32600) and error["id"] is None
    good = body({"jsonrpc": "2.0", "id": "next", "method": "$/ping"})
    rpc.send_raw(b"Content-Length: %d\r\n\r\n" % len(good) + good)
    assert rpc.wait_response("next")["result"] == {}


def test_negative_and_non_numeric_lengths_then_recovery(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    rpc.send_raw(b"Content-Length: -5\r\n\r\n")
    assert rpc.read()["error"]["code"] in (-32700, -32600)
    rpc.send_raw(b"Content-Length: twelve\r\n\r\n")
    assert rpc.read()["error"]["code"] in (-32700, -32600)
    assert rpc.call("$/ping") == {}


def test_auto_framing_answers_in_the_framing_it_detected(spawn):
    ndjson = spawn("--sandbox", framing="ndjson")
    ndjson.send_raw(b"  \n" + body(PING) + b"\n")
    assert ndjson.read()["result"] == {}
    assert ndjson.raw_stdout.endswith(b"}\n") and not ndjson.raw_stdout.startswith(b"Content-Length")
    lsp = spawn("--sandbox", framing="lsp")
    lsp.send_raw(b"Content-Length: %d\r\n\r\n" % len(body(PING)) + body(PING))
    assert lsp.read()["result"] == {}
    assert lsp.raw_stdout.startswith(b"Content-Length: ")


def test_trace_logging_never_reaches_stdout(spawn):
    rpc = spawn("--sandbox", "--log-level", "trace", framing="ndjson")
    rpc.call("apiKeys.generate", {"name": "traced"})
    rpc.call("apiKeys.list", {"refresh": True})
    assert rpc.stop() == 0
    # Every byte of stdout was parsed as a frame by the harness (check_clean runs after the test).
    assert rpc.stderr, "trace logs should go to stderr"
