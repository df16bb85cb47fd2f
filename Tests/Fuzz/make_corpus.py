#!/usr/bin/env python3
"""Writes the seed corpus in Tests/Fuzz/corpus/: small, readable byte streams, each a
whole session as a client might send it (valid frames, batches and edge cases). Run it
again after changing a seed; the files are committed so the fuzzer starts from them.
Inputs that once broke an invariant live in Tests/Fuzz/regressions/ and are not touched."""

from __future__ import annotations

import json
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


def msg(method: str, params=None, id=None) -> bytes:
    message: dict = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        message["id"] = id
    if params is not None:
        message["params"] = params
    return json.dumps(message, separators=(",", ":")).encode()


def lsp(body: bytes, header: bytes = b"Content-Length: %d\r\n\r\n") -> bytes:
    return header % len(body) + body


def nd(*bodies: bytes) -> bytes:
    return b"".join(body + b"\n" for body in bodies)


PING = msg("$/ping", id=1)

SEEDS: dict[str, bytes] = {
    # LSP framing.
    "lsp-ping": lsp(PING),
    "lsp-two-frames": lsp(msg("echo", {"a": 1}, id="a")) + lsp(msg("$/ping", id="b")),
    "lsp-content-type": lsp(PING, b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"),
    "lsp-type-first": lsp(PING, b"Content-Type: x\r\ncontent-length:%d\r\n\r\n"),
    "lsp-bare-lf": lsp(PING, b"CONTENT-LENGTH: %d\n\n"),
    "lsp-blank-lines-between": b"\r\n\r\n" + lsp(PING) + b"\r\n" + lsp(PING),
    "lsp-no-length": b"Content-Type: x\r\n\r\n" + PING + lsp(PING),
    "lsp-negative-length": b"Content-Length: -5\r\n\r\n" + PING + lsp(PING),
    "lsp-huge-length": b"Content-Length: 99999999999999999999\r\n\r\n" + PING + lsp(PING),
    "lsp-oversized": b"Content-Length: 400\r\n\r\n" + b"x" * 400 + lsp(PING),
    "lsp-two-lengths": b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n" + PING + lsp(PING),
    "lsp-zero-length": b"Content-Length: 0\r\n\r\n" + lsp(PING),
    "lsp-truncated": b"Content-Length: 500\r\n\r\n" + PING,
    "lsp-garbage-resync": b"\x00\xff garbage line\r\nmore\r\n\r\n" + lsp(PING),
    "lsp-long-header": b"X-Long: " + b"a" * 300 + b"\r\n" + lsp(PING),
    "lsp-no-colon": b"Content-Length 12\r\n\r\n" + lsp(PING),
    "lsp-batch": lsp(b"[" + msg("echo", [1, 2], id=1) + b"," + msg("fuzz/note") + b"," + msg("nope", id=2) + b"]"),
    "lsp-unicode": lsp(json.dumps({"jsonrpc": "2.0", "id": "ü", "method": "echo", "params": {"s": "ключ ☃ 🎉 \u2028"}},
                                  ensure_ascii=False).encode()),
    "lsp-invalid-json": lsp(b'{"jsonrpc":"2.0","id":1,"method":') + lsp(PING),
    "lsp-ndjson-inside": lsp(PING) + nd(PING),
    # NDJSON framing.
    "nd-ping": nd(PING),
    "nd-crlf-blanks": b"\r\n  \t\r\n" + PING + b"  \r\n\r\n" + msg("$/ping", id=2) + b"\r\n",
    "nd-no-final-newline": nd(PING) + msg("$/ping", id=2),
    "nd-batch": nd(b"[" + b",".join([msg("echo", {"x": 1}, id=1), msg("fuzz/note", {}), msg("fail", {"why": 1}, id=2),
                                     b"1", b'{"foo":"bar"}', msg("cached", id=3)]) + b"]"),
    "nd-empty-batch": nd(b"[]", b"[ ]"),
    "nd-notification-batch": nd(b"[" + msg("fuzz/note") + b"," + msg("echo", {"n": 1}) + b"]"),
    "nd-invalid-json": nd(b'{"jsonrpc":"2.0","id":1,"method"', b"{", b"[1,2", b"nul", PING),
    "nd-invalid-utf8": nd(b'{"jsonrpc":"2.0","id":"\xff\xfe","method":"echo"}', b'{"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":"\xc3\x28"}}', PING),
    "nd-nul-bytes": nd(b'{"jsonrpc":"2.0","id":"a\\u0000b","method":"echo","params":{"s":"\\u0000"}}', b'{"jsonrpc":"2.0",\x00"id":1}', PING),
    "nd-deep-nesting": nd(b'{"jsonrpc":"2.0","id":1,"method":"echo","params":' + b"[" * 300 + b"]" * 300 + b"}",
                          b'{"jsonrpc":"2.0","id":2,"method":"echo","params":{"a":' + b"[" * 20 + b"]" * 20 + b"}}"),
    "nd-duplicate-keys": nd(b'{"jsonrpc":"2.0","id":1,"id":2,"method":"echo","method":"fail"}', b'{"jsonrpc":"2.0","id":3,"method":"echo","params":{"a":1,"a":2}}'),
    "nd-numbers": nd(msg("echo", [1e308, -0.0, 0.1, 9223372036854775807, -9223372036854775808], id=1),
                     b'{"jsonrpc":"2.0","id":9223372036854775808,"method":"echo"}',
                     b'{"jsonrpc":"2.0","id":1e400,"method":"echo"}', b'{"jsonrpc":"2.0","id":-1,"method":"echo","params":[1.5e-320]}'),
    "nd-wrong-types": nd(b'{"jsonrpc":"2.0","id":1.5,"method":"echo"}', b'{"jsonrpc":"2.0","id":true,"method":"echo"}',
                         b'{"jsonrpc":"2.0","id":[1],"method":"echo"}', b'{"jsonrpc":"2.0","id":1,"method":5}',
                         b'{"jsonrpc":"2.0","id":1,"method":"echo","params":"x"}', b'{"jsonrpc":"1.0","id":1,"method":"echo"}',
                         b'{"id":1,"method":"echo"}', b'"just a string"', b"42", b"null"),
    "nd-responses": nd(b'{"jsonrpc":"2.0","id":1,"result":{}}', b'{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}',
                       b'{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}', b'{"jsonrpc":"2.0","result":1}',
                       b'{"jsonrpc":"2.0","id":2,"error":"bad"}', PING),
    "nd-lifecycle": nd(msg("initialize", {"processId": None, "clientInfo": {"name": "fuzz"}, "initializationOptions": {"apiKey": "k"}}, id=0),
                       msg("initialized", {}), msg("echo", {"after": "init"}, id=1), msg("initialize", {}, id=2),
                       msg("shutdown", id=3), msg("echo", id=4), msg("exit")),
    "nd-initialize-late": nd(msg("echo", id=1), msg("initialize", {}, id=2)),
    "nd-initialize-bad-params": nd(msg("initialize", {"processId": "x", "clientInfo": 5}, id=1), PING),
    "nd-cancel": nd(msg("yield", id=1), msg("sleep", id=2), msg("$/cancelRequest", {"id": 1}), msg("$/cancelRequest", {"id": 2}),
                    msg("$/cancelRequest", {"id": 99}), msg("$/cancelRequest", {"id": 1.5}), msg("$/cancelRequest")),
    "nd-methods": nd(msg("echo", {"s": "x"}, id=1), msg("cached", id=2), msg("fail", {"d": [1]}, id=3), msg("boom", id=4),
                     msg("nan", id=5), msg("notify", {"step": 1}, id=6), msg("yield", id=7), msg("sleep", id=8),
                     msg("nope", id=9), msg("notify", {"as": "notification"}), msg("rpc.discover", id=10)),
    "nd-null-id": nd(msg("echo", id=None).replace(b'"method"', b'"id":null,"method"')),
    "nd-string-ids": nd(msg("echo", id=""), msg("echo", id="\u2028"), msg("echo", id="x" * 100)),
    "nd-then-lsp": nd(PING) + lsp(PING),
    "nd-array-params": nd(msg("echo", [1, "two", None, True, {"k": []}], id=1)),
    "nd-oversized-line": nd(b'{"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":"' + b"y" * 400 + b'"}}', PING),
    "nd-trailing-blanks": nd(PING + b" " * 300),
    "whitespace-only": b" \t\r\n \n",
    "empty": b"",
}


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    for old in CORPUS.iterdir():
        old.unlink()
    for name, data in SEEDS.items():
        (CORPUS / name).write_bytes(data)
    print(f"wrote {len(SEEDS)} seeds to {CORPUS}")


if __name__ == "__main__":
    main()
