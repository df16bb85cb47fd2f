"""Out-of-process fuzzing: a generator throws malformed and edge-case frames at the real
binary (`hyperstack-rpc --sandbox`) over its pipes, in bursts.

Every generated frame knows, by construction, how many answers it must draw: a frame
that does not parse, an LSP header the framer refuses, and every request (an object
with an "id" and no "result"/"error") get exactly one; notifications and
response-shaped messages get none; a batch gets one array with an entry per request or
invalid entry. After each burst the server must answer a `$/ping` with a fresh id, and
at the end of each process the answers counted must equal the answers due, exactly.
The harness (`RpcProcess`) checks that stdout only ever held well-formed, ASCII JSON
frames and validates every response against protocol/openrpc.json.

Frames that desynchronise LSP framing on purpose (a wrong Content-Length, a refused
header) are followed by a resync sequence whose effect is known whatever state the
framer was left in, so the count stays exact.

HYPERSTACK_FUZZ_FRAMES sets the number of frames (default 100000); the random seed is
fixed (HYPERSTACK_FUZZ_SEED overrides it), so a failure reproduces.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any, Callable, Optional

import pytest

SEED = int(os.environ.get("HYPERSTACK_FUZZ_SEED", "20261127"))
FRAMES = int(os.environ.get("HYPERSTACK_FUZZ_FRAMES", "100000"))
BURST = 2000
# With HYPERSTACK_FUZZ_DUMP=DIR, a process whose count is off leaves its frames and the
# messages it got there, for working out which frame went unanswered.
DUMP_DIR = os.environ.get("HYPERSTACK_FUZZ_DUMP")
BIG_BATCH = 10_000
MAX_MESSAGE = 16384  # --max-message-bytes of the fuzzed processes: oversized frames stay cheap

# How the total is shared out; the rest of FRAMES goes to LSP.
NDJSON_SHARE = 0.5
MIXED_SHARE = 0.05

API_METHODS = ["apiKeys.list", "apiKeys.generate", "apiKeys.update", "apiKeys.delete", "apiKeys.watch"]
OTHER_METHODS = ["$/ping", "rpc.discover", "initialize", "initialized", "nope", "apiKeys.nope", "$/nope", ""]
FIELDS = {
    "apiKeys.list": ["refresh", "maxAge"],
    "apiKeys.generate": ["name", "description"],
    "apiKeys.update": ["id", "name", "description"],
    "apiKeys.delete": ["id"],
    "apiKeys.watch": ["interval"],
}
# Params that pass validation, so that a wrong value in one field is the only problem.
VALID = {
    "apiKeys.list": {"refresh": False, "maxAge": 30},
    "apiKeys.generate": {"name": "fuzz", "description": None},
    "apiKeys.update": {"id": 987654321, "name": "fuzz", "description": "d"},
    "apiKeys.delete": {"id": 987654321},
    "apiKeys.watch": {"interval": 0},
}
INITIALIZE_FIELDS = ["processId", "clientInfo", "clientInfo.name", "clientInfo.version",
                     "initializationOptions", "initializationOptions.apiKey", "params"]

# Values of every JSON type and at the edges, as JSON text (some are not valid JSON at all:
# those make the whole frame a parse error, which is answered once all the same).
EDGE_VALUES = [
    "null", "true", "false", "0", "-1", "1", "-0", "-0.0", "0.5", "1.5", "-1e-300", "1e308", "-1e308",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
    "1e400", "-1e400", "123456789012345678901234567890", "31536001", "2147483648", "4294967296",
    '""', '" "', '"x"', '"' + "n" * 201 + '"', '"' + "é" * 200 + '"', '"\\u0000"', '"a\\u0000b"', '"\\ud800"',
    '"\\udfff\\ud800"', '"\\u2028\\u2029"', '"😀"', '"\\"quoted\\""', "[]", "[1]", '["x"]', "{}", '{"a":1}',
    '{"name":"x"}', "[" * 40 + "]" * 40, '{"a":' * 30 + "1" + "}" * 30, "NaN", "Infinity", "-Infinity",
    "undefined", "'x'", "0x10", "01", "1.", ".5", "+1", "1e", "tru", "nul",
]
# Tokens Jansson refuses (numbers it cannot hold, lone surrogates, not JSON at all): a text
# holding one is a parse error, answered once whatever else it is.
INVALID_VALUES = {
    "9223372036854775808", "-9223372036854775809", "1e400", "-1e400", "123456789012345678901234567890",
    '"\\ud800"', '"\\udfff\\ud800"', "NaN", "Infinity", "-Infinity", "undefined", "'x'", "0x10", "01", "1.",
    ".5", "+1", "1e", "tru", "nul",
}
# A positive watch interval starts background polling, and a tiny one (1e-9 s is accepted)
# polls in a tight loop, so the generator sends only intervals that stop or fail.
WATCH_SAFE = [v for v in EDGE_VALUES if v not in ("1", "0.5", "1.5")]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Budget:
    """Counts frames and answers across the whole module, for the closing report."""

    frames = 0
    batch_entries = 0
    processes = 0
    started = time.monotonic()


class FrameFactory:
    """Builds single JSON-RPC texts, each with the number of answers it must draw."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        #: set when the text being built holds something Jansson refuses
        self.tainted = False
        self.next_id = 10_000_000
        #: ids of well-formed requests whose method is known, for schema validation of results
        self.methods: dict[int, str] = {}

    def fresh_id(self, method: Optional[str] = None) -> int:
        self.next_id += 1
        if method is not None:
            self.methods[self.next_id] = method
        return self.next_id

    def edge(self, choices: list[str] = EDGE_VALUES) -> str:
        value = self.rng.choice(choices)
        self.tainted = self.tainted or value in INVALID_VALUES
        return value

    # -- requests with one field wrong -------------------------------------------------
    def wrong_field_request(self) -> tuple[str, int]:
        method = self.rng.choice(API_METHODS)
        params = {key: dumps(value) for key, value in VALID[method].items()}
        field = self.rng.choice(FIELDS[method])
        params[field] = self.edge(WATCH_SAFE if method == "apiKeys.watch" else EDGE_VALUES)
        if self.rng.random() < 0.2:
            del params[field]  # a missing field
        if self.rng.random() < 0.1:
            params["unknown" + str(self.rng.randrange(3))] = self.edge()
        body = "{" + ",".join(f'"{k}":{v}' for k, v in params.items()) + "}"
        if self.rng.random() < 0.1:
            body = self.rng.choice(["[1,2]", "[]", '"x"', "1", "null", "true", "[" + body + "]"])
        return self.envelope(method, body, with_params=True), 1

    def wrong_envelope_request(self) -> tuple[str, int]:
        """A message whose id, jsonrpc, method or params member has a wrong type."""
        method = self.rng.choice(API_METHODS + OTHER_METHODS)
        member = self.rng.choice(["id", "jsonrpc", "method", "params"])
        if method == "rpc.discover" and member != "method":
            method = "nope"
        members = {"jsonrpc": '"2.0"', "id": str(self.fresh_id()), "method": dumps(method), "params": "{}"}
        members[member] = self.edge()
        if member == "id" and members["id"] == "null":
            members["id"] = '"null-id"'
        if member == "method" and members["method"] in ('"exit"', '"shutdown"'):
            members["method"] = '"nope"'
        if self.rng.random() < 0.15:
            members.pop(self.rng.choice(["jsonrpc", "method", "params"]))
        order = list(members)
        self.rng.shuffle(order)
        return "{" + ",".join(f'"{k}":{members[k]}' for k in order) + "}", 1

    def envelope(self, method: str, params: str, with_params: bool = True) -> str:
        request_id = self.fresh_id(method)
        text = f'{{"jsonrpc":"2.0","id":{request_id},"method":{dumps(method)}'
        return text + (f',"params":{params}}}' if with_params else "}")

    def valid_request(self) -> tuple[str, int]:
        # rpc.discover answers with the whole OpenRPC document: rare, or it dominates the output.
        method = "rpc.discover" if self.rng.random() < 0.01 else self.rng.choice(["$/ping", "apiKeys.list", "nope"])
        params = self.rng.choice(["{}", '{"refresh":false}', '{"maxAge":0.5}']) if method == "apiKeys.list" else "{}"
        return self.envelope(method, params), 1

    def pick(self, *makers: Callable[[], str]) -> str:
        """Builds only the chosen alternative, so only its edge values count as used."""
        return self.rng.choice(makers)()

    def cancel_notification(self) -> tuple[str, int]:
        """`$/cancelRequest` with every kind of id: never answered itself (unless its params
        are not even an object or array); cancelling a request still leaves it exactly one
        answer (-32800)."""
        params = self.pick(
            lambda: f'{{"id":{self.edge()}}}', lambda: "{}", lambda: "[]", lambda: '"x"', lambda: "null",
            lambda: "1", lambda: f'{{"id":{self.next_id}}}', lambda: f'{{"id":{self.next_id - self.rng.randrange(1, 50)}}}',
            lambda: f'{{"id":"{self.next_id}"}}')
        answers = 0 if params[0] in "{[" else 1
        return f'{{"jsonrpc":"2.0","method":"$/cancelRequest","params":{params}}}', answers

    def notification(self) -> tuple[str, int]:
        method = self.rng.choice(["initialized", "nope", "$/setTrace", "apiKeys.list", "apiKeys.delete", "$/ping"])
        params = self.pick(lambda: "{}", lambda: f'{{"id":{self.edge()}}}', lambda: "[]")
        return f'{{"jsonrpc":"2.0","method":{dumps(method)},"params":{params}}}', 0

    def response_shaped(self) -> tuple[str, int]:
        """Responses sent to the server are ignored, never answered (no reply loops)."""
        request_id = self.rng.choice(["1", '"x"', "null", str(self.next_id)])
        return self.pick(
            lambda: f'{{"jsonrpc":"2.0","id":{request_id},"result":{self.edge()}}}',
            lambda: f'{{"jsonrpc":"2.0","id":{request_id},"error":{{"code":-1,"message":"m"}}}}',
            lambda: f'{{"jsonrpc":"2.0","id":{request_id},"error":{self.edge()}}}',
            lambda: f'{{"jsonrpc":"2.0","id":{request_id},"result":1,"error":{{"code":1,"message":"m"}}}}',
            lambda: f'{{"id":{request_id},"result":{{}}}}',
        ), 0

    def duplicate_keys(self) -> tuple[str, int]:
        first, second = self.fresh_id("$/ping"), self.fresh_id("$/ping")
        texts = [
            f'{{"jsonrpc":"2.0","id":{first},"id":{second},"method":"$/ping"}}',
            f'{{"jsonrpc":"2.0","id":{first},"method":"nope","method":"$/ping"}}',
            f'{{"jsonrpc":"1.0","jsonrpc":"2.0","id":{first},"method":"$/ping"}}',
            f'{{"jsonrpc":"2.0","id":{first},"method":"apiKeys.delete","params":{{"id":1,"id":"x"}}}}',
            f'{{"jsonrpc":"2.0","id":{first},"method":"apiKeys.generate","params":{{"name":1,"name":""}}}}',
        ]
        text = self.rng.choice(texts)
        # The answer is checked against the method the text names (at the --max-in-flight
        # cap a delete or generate may be answered -32802, which $/ping never is).
        for method in ("apiKeys.delete", "apiKeys.generate"):
            if f'"method":"{method}"' in text:
                self.methods[first] = method
        return text, 1

    def deep(self) -> tuple[str, int]:
        depth = self.rng.choice([10, 200, 254, 255, 256, 257, 300, 1000, 3000])
        opener, closer = self.rng.choice([("[", "]"), ('{"a":', "}")])
        inner = opener * depth + "1" + closer * depth if opener != "[" else opener * depth + closer * depth
        return self.envelope(self.rng.choice(["apiKeys.list", "$/ping", "nope"]), '{"deep":' + inner + "}"), 1

    def unicode_edge(self) -> tuple[str, int]:
        """Escapes and raw UTF-8 in strings; the raw ones are made invalid in `raw_bytes`."""
        text = self.rng.choice(["\\u0000", "\\ud83d\\ude00", "\\ud800", "\\udc00x", "é", "😀", "\\u2028", "\u2028",
                                "\\\\", '\\"', "\\/", "\\b\\f\\n\\r\\t"])
        where = self.rng.choice(["method", "name", "key", "id"])
        request_id = self.fresh_id()
        if where == "method":
            return f'{{"jsonrpc":"2.0","id":{request_id},"method":"{text}"}}', 1
        if where == "key":
            return f'{{"jsonrpc":"2.0","id":{request_id},"method":"apiKeys.list","params":{{"{text}":1}}}}', 1
        if where == "id":
            return f'{{"jsonrpc":"2.0","id":"{text}","method":"nope"}}', 1
        return f'{{"jsonrpc":"2.0","id":{request_id},"method":"apiKeys.generate","params":{{"name":"{text}"}}}}', 1

    def text(self) -> tuple[str, int]:
        """One JSON-RPC text (valid JSON or not) and the answers it must draw."""
        self.tainted = False
        text, answers = self._text()
        return text, 1 if self.tainted else answers

    def _text(self) -> tuple[str, int]:
        kind = self.rng.random()
        if kind < 0.35:
            return self.wrong_field_request()
        if kind < 0.55:
            return self.wrong_envelope_request()
        if kind < 0.62:
            return self.valid_request()
        if kind < 0.68:
            return self.cancel_notification()
        if kind < 0.73:
            return self.notification()
        if kind < 0.78:
            return self.response_shaped()
        if kind < 0.84:
            return self.duplicate_keys()
        if kind < 0.90:
            return self.deep()
        return self.unicode_edge()

    # -- byte-level damage -----------------------------------------------------------
    def raw_bytes(self) -> tuple[bytes, int]:
        """A body that is never valid JSON: truncated, invalid UTF-8, raw NUL or control
        bytes. Always one parse error (a strict prefix of an object never parses)."""
        text, _ = self.wrong_field_request()
        data = text.encode()
        damage = self.rng.random()
        if damage < 0.3:
            return data[: self.rng.randrange(1, len(data))], 1
        if damage < 0.5:
            bad = self.rng.choice([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                   b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80"])
            return data.replace(b'"method":"', b'"method":"' + bad, 1), 1
        if damage < 0.7:
            at = self.rng.randrange(1, len(data))
            return data[:at] + self.rng.choice([b"\x00", b"\x01", b"\x1f", b"\x00\x00\x00"]) + data[at:], 1
        if damage < 0.85:
            garbage = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 64)))
            garbage = garbage.replace(b"\n", b"").replace(b"\r", b"")
            return b"{\x01" + garbage, 1
        return self.rng.choice([b"{", b"[", b"[1,", b'{"jsonrpc":"2.0",}', b"{,}", b"[,]", b'{"a" 1}', b"}",
                                b"]", b'"unterminated', b"[}", b"{]"]), 1

    # -- batches ---------------------------------------------------------------------
    def batch_entry(self) -> tuple[str, int]:
        """An entry that parses, so that the batch as a whole does."""
        self.tainted = False
        kind = self.rng.random()
        if kind < 0.35:
            text, answers = self.wrong_field_request()
        elif kind < 0.55:
            text, answers = self.wrong_envelope_request()
        elif kind < 0.65:
            text, answers = self.valid_request()
        elif kind < 0.72:
            text, answers = self.cancel_notification()
        elif kind < 0.8:
            text, answers = self.notification()
        elif kind < 0.87:
            text, answers = self.response_shaped()
        elif kind < 0.92:
            text, answers = self.duplicate_keys()
        else:
            text, answers = self.rng.choice(["1", '"x"', "null", "true", "[]", "[1]", "{}", '{"jsonrpc":"2.0"}']), 1
        if self.tainted:
            return self.valid_request()
        return text, answers

    def batch(self, size: int) -> tuple[bytes, int]:
        entries, answers = [], 0
        for _ in range(size):
            text, count = self.batch_entry()
            entries.append(text)
            answers += count
        return ("[" + ",".join(entries) + "]").encode(), answers


def without_content_length(data: bytes) -> bytes:
    """Bodies must not hold the text the LSP framer resynchronises on."""
    return data.replace(b"ontent-length", b"ontent-lenGTH").replace(b"ONTENT-LENGTH", b"ONTENT-LENGT_")


# -- the two framings ---------------------------------------------------------------------------
class NdjsonStream:
    """NDJSON lines with their answer counts."""

    def __init__(self, factory: FrameFactory) -> None:
        self.f = factory
        self.rng = factory.rng

    def frame(self) -> tuple[bytes, int]:
        kind = self.rng.random()
        if kind < 0.65:
            text, answers = self.f.text()
            data = text.encode()
        elif kind < 0.85:
            data, answers = self.f.raw_bytes()
        elif kind < 0.93:
            data, answers = self.f.batch(self.rng.randrange(1, 30))
        elif kind < 0.96:
            # An LSP frame inside an NDJSON stream: the header line is a parse error,
            # the blank line is skipped, the body line is a message of its own.
            text, answers = self.f.text()
            body = text.encode()
            answers = 1 if len(body) > MAX_MESSAGE else answers
            return b"Content-Length: %d\r\n\r\n" % len(body) + body + b"\n", answers + 1
        elif kind < 0.98:
            # Over --max-message-bytes: refused (-32600) and skipped.
            return b'{"jsonrpc":"2.0","id":1,"method":"$/ping","params":{"pad":"' + b"p" * MAX_MESSAGE + b'"}}\n', 1
        else:
            return self.rng.choice([b"\n", b"\r\n", b"   \t \r\n"]), 0
        data = data.replace(b"\n", b"\\n").replace(b"\r", b"\\r")
        if len(data.strip(b" \t\r")) > MAX_MESSAGE:
            answers = 1  # refused as oversized, whatever it holds
        prefix = self.rng.choice([b"", b"", b"", b" ", b"\t"])
        suffix = self.rng.choice([b"\n", b"\n", b"\r\n", b" \n"])
        return prefix + data + suffix, answers

    def ping(self, request_id: int) -> bytes:
        return b'{"jsonrpc":"2.0","id":%d,"method":"$/ping"}\n' % request_id


class LspStream:
    """LSP frames with their answer counts, damaged headers included; a frame that
    leaves the framer out of step carries its own resync sequence."""

    def __init__(self, factory: FrameFactory) -> None:
        self.f = factory
        self.rng = factory.rng

    def sync_frame(self) -> tuple[bytes, int]:
        """A clean request whose header starts with Content-Length: where a refused
        header sent the framer scanning, it resumes exactly here."""
        body = b'{"jsonrpc":"2.0","id":%d,"method":"$/ping"}' % self.f.fresh_id("$/ping")
        return b"Content-Length: %d\r\n\r\n" % len(body) + body, 1

    def body(self) -> tuple[bytes, int]:
        if self.rng.random() < 0.75:
            text, answers = self.f.text()
            data = without_content_length(text.encode())
        else:
            data, answers = self.f.raw_bytes()
            data = without_content_length(data)
        # Over the limit: refused (-32600) and skipped by its length, framing intact.
        return data, 1 if len(data) > MAX_MESSAGE else answers

    def frame(self) -> tuple[bytes, int]:
        kind = self.rng.random()
        body, answers = self.body()
        if kind < 0.55:
            return self.header(len(body)) + body, answers
        if kind < 0.62:
            # Content-Length too short: the body is cut (a parse error) and its tail is read
            # as a header line. Resync: "\n" ends that line, "x\n" is a line with no colon;
            # whichever of the two is refused first sends the framer scanning, and the
            # scan stops at the sync frame's header. One refused header in all.
            request, _ = self.f.valid_request()
            data = request.encode()
            cut = self.rng.randrange(0, len(data))
            sync, sync_answers = self.sync_frame()
            return b"Content-Length: %d\r\n\r\n" % cut + data + b"\nx\n" + sync, 1 + 1 + sync_answers
        if kind < 0.68:
            # Content-Length too long: the body waits for more bytes, then the filler
            # completes it. Spaces keep valid JSON valid; other filler spoils it.
            extra = self.rng.randrange(1, 300)
            filler = self.rng.choice([b" ", b"\t", b"x", b"\x00"]) * extra
            if len(body) + extra > MAX_MESSAGE:
                answers = 1
            elif filler[:1] not in (b" ", b"\t"):
                answers = 1  # trailing blanks keep a text what it was; anything else spoils it
            return b"Content-Length: %d\r\n\r\n" % (len(body) + extra) + body + filler, answers
        if kind < 0.88:
            # A header the framer refuses: one -32700/-32600, then it scans to the sync frame.
            sync, sync_answers = self.sync_frame()
            return self.refused_header(len(body)) + body + sync, 1 + sync_answers
        if kind < 0.92:
            # Over --max-message-bytes: refused at once, the body skipped unbuffered.
            size = MAX_MESSAGE + self.rng.randrange(1, 5000)
            return b"Content-Length: %d\r\n\r\n" % size + b"z" * size, 1
        if kind < 0.96:
            # An NDJSON line in an LSP stream: a header line that starts with { is refused
            # (one -32700, issue 10 item 12), and the scan resumes at the frame's header.
            text, _ = self.f.wrong_field_request()
            line = without_content_length(text.encode())
            frame, frame_answers = self.header(len(body)) + body, answers
            return line + b"\r\n" + frame, 1 + frame_answers
        if kind < 0.98:
            line = self.rng.choice([b"[1,2,3]", b"[]", b"garbage", b"\x00\xff\xfe", b"{}"])
            sync, sync_answers = self.sync_frame()
            return line + b"\r\n" + body + sync, 1 + sync_answers
        # Blank lines between frames are skipped.
        return self.rng.choice([b"\r\n", b"\n", b"\r\n\r\n"]) + self.header(len(body)) + body, answers

    def header(self, length: int) -> bytes:
        style = self.rng.random()
        if style < 0.6:
            return b"Content-Length: %d\r\n\r\n" % length
        if style < 0.7:
            return b"content-length:%d\n\n" % length
        if style < 0.8:
            return b"CONTENT-LENGTH: \t%d \t\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % length
        if style < 0.9:
            return b"Content-Type: x\r\nX-Other: y\r\nContent-Length: %d\r\n\r\n" % length
        return b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (length, length)

    def refused_header(self, length: int) -> bytes:
        return self.rng.choice([
            b"Content-Length: -%d\r\n\r\n" % length,
            b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (length, length + 1),
            b"Content-Length: \r\n\r\n",
            b"Content-Length: 0x%x\r\n\r\n" % length,
            b"Content-Length: %d.0\r\n\r\n" % length,
            b"Content-Length: +%d\r\n\r\n" % length,
            b"Content-Length: 99999999999999999999\r\n\r\n",
            b"Content-Length: 1e3\r\n\r\n",
            "Content-Length: ５\r\n\r\n".encode(),
            b"Content-Type: application/json\r\n\r\n",
            b"X-Pad: " + b"p" * 9000 + b"\r\n\r\n",
            b"".join(b"X-%d: %s\r\n" % (i, b"q" * 8000) for i in range(9)) + b"\r\n",
            b"Content-Length %d\r\n\r\n" % length,
            b"garbage \x00\xff line\r\n\r\n",
        ])

    def ping(self, request_id: int) -> bytes:
        body = b'{"jsonrpc":"2.0","id":%d,"method":"$/ping"}' % request_id
        return b"Content-Length: %d\r\n\r\n" % len(body) + body


# -- running a stream against a process -----------------------------------------------------------
def count_answers(rpc) -> int:
    total = 0
    for message in rpc.arrived:
        if isinstance(message, list):
            total += len(message)
        elif isinstance(message, dict) and "method" not in message:
            total += 1
    return total


class BigBatchStream:
    """Batches of BIG_BATCH entries, one per frame (for a process with the default limit)."""

    def __init__(self, factory: FrameFactory, framing: str) -> None:
        self.f = factory
        self.framing = framing
        self.entries = 0

    def frame(self) -> tuple[bytes, int]:
        data, answers = self.f.batch(BIG_BATCH)
        self.entries += BIG_BATCH
        if self.framing == "ndjson":
            return data + b"\n", answers
        return b"Content-Length: %d\r\n\r\n" % len(data) + data, answers

    def ping(self, request_id: int) -> bytes:
        return (NdjsonStream if self.framing == "ndjson" else LspStream).ping(self, request_id)


def drive(rpc, stream, frames: int, factory: FrameFactory, burst_size: int = BURST) -> dict:
    """Sends `frames` frames in bursts, pinging after each; returns the figures."""
    expected = count_answers(rpc)  # answers already received were due too
    sent = 0
    kept: list = []
    started = time.monotonic()
    while sent < frames:
        burst = bytearray()
        count = min(burst_size, frames - sent)
        for _ in range(count):
            data, answers = stream.frame()
            burst += data
            expected += answers
            if DUMP_DIR:
                kept.append((data, answers))
        for request_id, method in factory.methods.items():
            rpc.methods_by_id[json.dumps(request_id)] = method
        factory.methods.clear()
        rpc.send_raw(bytes(burst))
        sent += count
        ping_id = factory.fresh_id()
        rpc.methods_by_id[json.dumps(ping_id)] = "$/ping"
        rpc.send_raw(stream.ping(ping_id))
        expected += 1
        response = rpc.wait_response(ping_id, timeout=60)
        assert response == {"jsonrpc": "2.0", "id": ping_id, "result": {}}, response
        assert rpc.proc.poll() is None, f"the server exited; stderr:\n{rpc.stderr_tail()}"
    deadline = time.monotonic() + 30
    while count_answers(rpc) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # anything extra would show up now
    answered = count_answers(rpc)
    rpc.check_clean()
    if answered != expected and DUMP_DIR:
        dump(rpc, kept)
    assert answered == expected, f"{answered} answers for {expected} due (seed {SEED})"
    Budget.frames += frames
    Budget.processes += 1
    return {"frames": frames, "answers": answered, "seconds": round(time.monotonic() - started, 1)}


def dump(rpc, frames: list) -> None:
    os.makedirs(DUMP_DIR, exist_ok=True)
    stem = os.path.join(DUMP_DIR, f"fuzz-{rpc.proc.pid}")
    with open(stem + ".frames", "w") as out:
        for data, answers in frames:
            out.write(json.dumps({"answers": answers, "data": data.decode("latin-1")}) + "\n")
    with open(stem + ".arrived", "w") as out:
        for message in rpc.arrived:
            out.write(json.dumps(message) + "\n")
    with open(stem + ".stderr", "wb") as out:
        out.write(bytes(rpc.stderr))
    print(f"\nfuzz: frames and answers of the failing process are in {stem}.*")


def split(total: int) -> tuple[int, int, int]:
    ndjson = int(total * NDJSON_SHARE)
    mixed = int(total * MIXED_SHARE)
    return ndjson, total - ndjson - mixed, mixed


def report(name: str, figures: dict) -> None:
    print(f"\nfuzz {name}: {figures}")


# The embedded sandbox answers at once; without a generous rate limit, the fuzzed calls
# that do reach it (a valid generate, update, delete or refresh) would queue for minutes.
SERVER_ARGS = ("--sandbox", "--rate-limit", "1000000", "--log-level", "error")


@pytest.fixture
def fuzz_spawn(spawn) -> Callable[..., Any]:
    def start(framing: str, *extra: str):
        return spawn(*SERVER_ARGS, "--max-message-bytes", str(MAX_MESSAGE), *extra, framing=framing)
    return start


def test_fuzz_ndjson_frames(fuzz_spawn):
    frames, _, _ = split(FRAMES)
    factory = FrameFactory(random.Random(SEED))
    rpc = fuzz_spawn("ndjson", "--framing", "ndjson")
    report("ndjson", drive(rpc, NdjsonStream(factory), frames, factory))
    rpc.notify("apiKeys.watch", {"interval": 0})
    assert rpc.stop() == 0


def test_fuzz_lsp_frames(fuzz_spawn):
    _, frames, _ = split(FRAMES)
    factory = FrameFactory(random.Random(SEED + 1))
    rpc = fuzz_spawn("lsp", "--framing", "lsp")
    report("lsp", drive(rpc, LspStream(factory), frames, factory))
    assert rpc.stop() == 0


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_fuzz_batches_of_ten_thousand_entries(spawn, framing):
    """Two batches of 10,000 entries each, under the default message limit."""
    factory = FrameFactory(random.Random(SEED + 10 + (framing == "lsp")))
    rpc = spawn(*SERVER_ARGS, "--framing", framing, framing=framing)
    stream = BigBatchStream(factory, framing)
    figures = drive(rpc, stream, 2, factory, burst_size=1)
    Budget.batch_entries += stream.entries
    report(f"batches {framing}", {**figures, "entries": stream.entries})
    assert rpc.stop() == 0


@pytest.mark.parametrize("lead", [b"", b"\r\n", b"  \t\r\n\r\n", b" \n\n\t\n"])
@pytest.mark.parametrize("framing", ["lsp", "ndjson"])
def test_fuzz_auto_framing_after_leading_blanks(fuzz_spawn, framing, lead):
    """Auto detection with blanks first; the blanks must never become a header line
    (they did, when they came in the same read as the first byte)."""
    _, _, mixed = split(FRAMES)
    factory = FrameFactory(random.Random(SEED + 2 + len(lead) + (framing == "lsp")))
    rpc = fuzz_spawn(framing)
    stream = LspStream(factory) if framing == "lsp" else NdjsonStream(factory)
    # The first significant byte decides the framing, so the fuzzing starts after a clean ping.
    first = factory.fresh_id("$/ping")
    rpc.methods_by_id[json.dumps(first)] = "$/ping"
    rpc.send_raw(lead + stream.ping(first))
    assert rpc.wait_response(first) == {"jsonrpc": "2.0", "id": first, "result": {}}
    assert count_answers(rpc) == 1, f"the leading blanks drew an answer: {rpc.arrived[:2]}"
    report(f"auto {framing} lead={lead!r}", drive(rpc, stream, max(mixed // 8, 10), factory))
    assert rpc.stop() == 0


def test_fuzz_huge_length_swallows_the_rest_until_eof(fuzz_spawn):
    """A Content-Length over the limit is refused and its bytes skipped, uncounted: the
    stream is lost by design, but the process answers once and ends cleanly at EOF."""
    rpc = fuzz_spawn("lsp")
    assert rpc.call("$/ping") == {}
    rpc.send_raw(b"Content-Length: 999999999999999999\r\n\r\n" + b"{" * 100000)
    error = rpc.read()
    assert error["error"]["code"] == -32600 and error["id"] is None
    rpc.send_raw(b'Content-Length: 40\r\n\r\n{"jsonrpc":"2.0","id":7,"method":"$/ping"}')
    rpc.expect_silence(0.3)
    rpc.close_stdin()
    assert rpc.wait_exit() == 0


@pytest.mark.parametrize("framing", ["lsp", "ndjson"])
def test_fuzz_truncated_last_frame_then_eof(fuzz_spawn, framing):
    rpc = fuzz_spawn(framing)
    assert rpc.call("$/ping") == {}
    body = b'{"jsonrpc":"2.0","id":5,"method":"apiKeys.list","params":{}}'
    rpc.send_raw(b"Content-Length: %d\r\n\r\n" % (len(body) + 10) + body if framing == "lsp" else body[:-3])
    rpc.expect_silence(0.3)
    rpc.close_stdin()
    assert rpc.wait_exit() == 0
    assert count_answers(rpc) == 1


INITIALIZE_VALUES = ["null", "0", "-1", "2147483648", "9223372036854775807", "1.5", '"x"', '""', "true", "[]",
                     "{}", '{"name":1}', '{"name":"n","version":2}', "[" * 300 + "]" * 300]


@pytest.mark.parametrize("field", INITIALIZE_FIELDS)
def test_fuzz_initialize_param_types(fuzz_spawn, field):
    """`initialize` is judged only as the first request, so each try gets its own process
    (started together, then checked one by one)."""
    started = []
    for value in INITIALIZE_VALUES:
        params = {"processId": str(os.getpid()), "clientInfo": '{"name":"fuzz","version":"1"}',
                  "initializationOptions": "{}"}
        if field == "params":
            text = value
        else:
            top, _, sub = field.partition(".")
            if sub:
                inner = {"name": '"fuzz"'} if top == "clientInfo" else {}
                inner[sub] = value
                params[top] = "{" + ",".join(f'"{k}":{v}' for k, v in inner.items()) + "}"
            else:
                params[top] = value
            text = "{" + ",".join(f'"{k}":{v}' for k, v in params.items()) + "}"
        rpc = fuzz_spawn("ndjson")
        rpc.methods_by_id[json.dumps(1)] = "initialize"
        rpc.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":%s}\n' % text.encode())
        started.append((value, rpc))
    for value, rpc in started:
        response = rpc.read()
        assert ("result" in response) != ("error" in response), response
        if "error" in response:
            # Too deep to parse: a parse error, which cannot carry the id.
            if value.startswith("[" * 300):
                expected = (-32700, None)
            elif field == "params" and value[0] not in "[{":
                expected = (-32600, 1)  # "params" itself must be an object or an array
            else:
                expected = (-32602, 1)
            assert (response["error"]["code"], response["id"]) == expected, (field, value, response)
        else:
            assert response["id"] == 1
        assert rpc.call("$/ping") == {}
        rpc.close_stdin()
    for _, rpc in started:
        assert rpc.wait_exit() == 0


def test_fuzz_figures():
    """Prints the totals (run with -s to see them); fails if the generator sent nothing."""
    elapsed = time.monotonic() - Budget.started
    print(f"\nfuzz totals: {Budget.frames} frames (+{Budget.batch_entries} entries in big batches) "
          f"over {Budget.processes} processes in {elapsed:.1f} s, seed {SEED}")
    assert Budget.frames >= FRAMES * 0.95 or Budget.frames == 0
