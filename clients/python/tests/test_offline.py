"""Pieces of the client that need no server: framing bytes, error mapping, parsing, spawning options."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

import pytest

import hyperstack_rpc
from hyperstack_rpc import (
    KEEP,
    ApiKey,
    AsyncClient,
    GeneratedKey,
    KeyChange,
    KeyList,
    NotFound,
    ProtocolError,
    RpcError,
    ServerDied,
    Timeout,
    error_class_for,
)
from hyperstack_rpc.calls import update_params
from hyperstack_rpc.errors import error_from_response
from hyperstack_rpc.framing import FrameBuffer, check_header_line, content_length, decode_body, encode_message
from hyperstack_rpc.launch import StderrTail
from hyperstack_rpc.models import parse_timestamp


def build_command(binary: Optional[str] = None, **options: Any) -> Tuple[List[str], Dict[str, str]]:
    """The argv and environment a client would start the server with (an AsyncClient spawns nothing until start())."""
    client = AsyncClient(binary, **options)
    return list(client.argv), client._launch.env


def test_content_length_counts_utf8_bytes_not_characters() -> None:
    frame = encode_message({"jsonrpc": "2.0", "method": "x", "params": {"name": "café \u2028 ☃"}})
    header, _, body = frame.partition(b"\r\n\r\n")
    assert header.startswith(b"Content-Length: ")
    assert content_length(header) == len(body)
    assert "café \u2028 ☃".encode("utf-8") in body  # raw UTF-8, so the count really is of bytes
    assert len(body) > len(body.decode("utf-8"))
    assert decode_body(body)["params"]["name"] == "café \u2028 ☃"


def test_header_parsing_is_case_insensitive_and_ignores_content_type() -> None:
    assert content_length(b"content-length: 12\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8") == 12
    for bad in (b"Content-Type: x", b"Content-Length: -1", b"Content-Length: twelve", b"garbage"):
        with pytest.raises(ProtocolError):
            content_length(bad)
    for bad_body in (b"[1]", b"{not json", b'{"id": 1}', b"\xff"):
        with pytest.raises(ProtocolError):
            decode_body(bad_body)


def test_frame_buffer_cuts_a_stream_wherever_it_was_split() -> None:
    first = encode_message({"jsonrpc": "2.0", "id": 1, "result": {"name": "café"}})
    second = b"content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}"
    stream = b"\r\n" + first + second
    for cut in range(len(stream) + 1):
        frames = FrameBuffer()
        bodies = []
        for piece in (stream[:cut], stream[cut:]):
            frames.feed(piece)
            while (body := frames.next_body()) is not None:
                bodies.append(body)
        assert bodies == [first.partition(b"\r\n\r\n")[2], b"{}"], cut
        assert frames.pending_bytes == 0


def test_frame_buffer_rejects_what_cannot_be_a_header_without_waiting() -> None:
    frames = FrameBuffer()
    frames.feed(b'{"jsonrpc":"2.0","id":1,"result":{}}\n')
    with pytest.raises(ProtocolError, match="ndjson"):
        frames.next_body()
    frames = FrameBuffer()
    frames.feed(b"Content-Length: 1" + b"0" * 9000)
    with pytest.raises(ProtocolError, match="longer than"):
        frames.next_body()
    frames = FrameBuffer()
    frames.feed(b"Content-Length: ten\r\n\r\n")
    with pytest.raises(ProtocolError):
        frames.next_body()


def test_frame_buffer_says_when_the_stream_ended_inside_a_frame() -> None:
    frame = encode_message({"jsonrpc": "2.0", "id": 1, "result": {}})
    for cut, message in ((5, "inside a frame header"), (len(frame) - 3, "3 bytes short")):
        frames = FrameBuffer()
        frames.feed(frame[:cut])
        assert frames.next_body() is None
        with pytest.raises(ProtocolError, match=message):
            frames.check_complete()
    frames = FrameBuffer()
    frames.feed(frame + b"\r\n")
    assert frames.next_body() is not None
    frames.check_complete()  # only whole frames (and a stray blank line) were sent


def test_lines_that_cannot_be_headers_fail_at_once() -> None:
    check_header_line(b"Content-Length: 12\r\n")
    check_header_line(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n")
    with pytest.raises(ProtocolError, match="ndjson"):
        check_header_line(b'{"jsonrpc":"2.0","id":1,"result":{}}\n')
    with pytest.raises(ProtocolError, match="malformed"):
        check_header_line(b"hello world\n")


@pytest.mark.parametrize(
    "code, name",
    [
        (-32700, "ParseError"),
        (-32600, "InvalidRequest"),
        (-32601, "MethodNotFound"),
        (-32602, "InvalidParams"),
        (-32603, "InternalError"),
        (-32800, "RequestCancelled"),
        (-32802, "ServerBusy"),
        (1400, "UpstreamRejected"),
        (1401, "Unauthorized"),
        (1403, "Forbidden"),
        (1404, "NotFound"),
        (1409, "Conflict"),
        (1429, "RateLimited"),
        (1500, "UpstreamError"),
        (1502, "BadUpstreamResponse"),
        (1503, "UpstreamUnavailable"),
        (1504, "OutcomeUnknown"),
    ],
)
def test_every_code_has_its_class(code: int, name: str) -> None:
    cls = error_class_for(code)
    assert cls is getattr(hyperstack_rpc, name) and cls.CODE == code and issubclass(cls, RpcError)
    error = error_from_response({"code": code, "message": "m", "data": {"retryable": True}})
    assert type(error) is cls and error.code == code and error.retryable


def test_unknown_codes_become_plain_rpc_errors() -> None:
    error = error_from_response({"code": 4242, "message": "odd"})
    assert type(error) is RpcError and error.code == 4242 and "odd" in str(error)
    with pytest.raises(ProtocolError):
        error_from_response({"code": "1404", "message": "x"})


def test_errors_survive_pickling_with_their_fields() -> None:
    for error in (
        NotFound(1404, "gone", {"httpStatus": 404, "retryable": False}),
        Timeout.after("apiKeys.list", 0.5),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), copy.code, copy.message, copy.data) == (type(error), error.code, error.message, error.data)
    died = pickle.loads(pickle.dumps(ServerDied(-9, ["boom"])))
    assert died.exit_status == -9 and died.stderr_tail == ("boom",)


def test_timeout_is_both_an_rpc_error_and_a_timeout_error() -> None:
    error = Timeout.after("test.sleep", 0.05)
    assert isinstance(error, RpcError) and isinstance(error, TimeoutError)
    assert error.code == -32800 and "test.sleep" in str(error) and "$/cancelRequest" in str(error)


def test_server_died_names_status_and_stderr() -> None:
    assert "was killed by SIGKILL" in str(ServerDied(-9, ["a", "last words"]))
    assert "last words" in str(ServerDied(-9, ["a", "last words"]))
    assert "exited with status 3" in str(ServerDied(3, []))


def test_generated_key_repr_hides_the_secret() -> None:
    key = ApiKey(1, "n", None, None, "****abcd")
    generated = GeneratedKey(key, "s3cr3t-abcd", 7)
    assert "s3cr3t" not in repr(generated) and "s3cr3t" not in str(generated)
    assert generated.secret == "s3cr3t-abcd"


def test_results_parse_strictly() -> None:
    listed = KeyList.from_json(
        {
            "keys": [{"id": 3, "name": "n", "description": None, "createdAt": "2026-05-06T15:18:42Z", "maskedKey": "**"}],
            "revision": 2,
            "fetchedAt": "2026-05-06T15:18:43.250Z",
            "fromCache": True,
        }
    )
    assert listed.keys[0].created_at == datetime(2026, 5, 6, 15, 18, 42, tzinfo=timezone.utc)
    assert listed.fetched_at.microsecond == 250000 and listed.from_cache
    with pytest.raises(ProtocolError, match="result.keys\\[0\\].id"):
        KeyList.from_json({"keys": [{"id": "3"}], "revision": 1, "fetchedAt": "2026-05-06T15:18:43Z", "fromCache": False})
    with pytest.raises(ProtocolError, match="cause"):
        KeyChange.from_json({"revision": 1, "cause": "magic", "added": [], "updated": [], "removed": []})


def test_timestamps_with_offsets_become_utc() -> None:
    assert parse_timestamp("2026-05-06T17:18:42+02:00") == datetime(2026, 5, 6, 15, 18, 42, tzinfo=timezone.utc)
    with pytest.raises(ProtocolError):
        parse_timestamp("2026-05-06 nope")


def test_update_params_distinguish_keep_from_clear() -> None:
    assert update_params(1, "n", KEEP) == {"id": 1, "name": "n"}
    assert update_params(1, "n", None) == {"id": 1, "name": "n", "description": None}
    assert update_params(1, "n", "d") == {"id": 1, "name": "n", "description": "d"}


def test_api_key_goes_to_the_environment_never_the_command_line(tmp_path: object) -> None:
    import sys

    argv, env = build_command(
        sys.executable,
        sandbox_state="/tmp/state.json",
        api_key="k-123",
        base_url="http://127.0.0.1:1/v1",
        extra_args=["--log-level", "debug"],
        env={"EXTRA": "1", "HOME": None},
    )
    assert "k-123" not in " ".join(argv) and env["HYPERSTACK_API_KEY"] == "k-123"
    assert argv[1:] == [
        "--framing", "lsp", "--sandbox", "--sandbox-state", "/tmp/state.json",
        "--base-url", "http://127.0.0.1:1/v1", "--log-level", "debug",
    ]  # fmt: skip
    assert env["EXTRA"] == "1" and "HOME" not in env


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERSTACK_RPC_BIN", "/nonexistent/hyperstack-rpc")
    with pytest.raises(FileNotFoundError, match="HYPERSTACK_RPC_BIN"):
        build_command()


def test_stderr_tail_keeps_the_last_lines_of_endless_output() -> None:
    tail = StderrTail(max_lines=3, max_line_chars=10)
    tail.feed(b"one\ntwo\nthr")
    tail.feed(b"ee\nfour\n" + b"x" * 100_000)
    tail.finish()
    assert tail.lines() == ("three", "four", "x" * 10 + "…")
    assert tail.total_bytes == len(b"one\ntwo\nthree\nfour\n") + 100_000


# ---------------------------------------------------------------- secret files (no server)


def test_generate_params_carry_secret_file_as_text() -> None:
    from pathlib import PurePosixPath

    from hyperstack_rpc.calls import generate_params

    assert generate_params("a", None) == {"name": "a"}
    assert generate_params("a", None, "x.key") == {"name": "a", "secretFile": "x.key"}
    assert generate_params("a", "d", PurePosixPath("/s/x.key")) == {"name": "a", "description": "d", "secretFile": "/s/x.key"}
    with pytest.raises(TypeError):
        generate_params("a", None, b"x.key")  # type: ignore[arg-type]


def test_generated_key_with_a_secret_file_has_no_secret() -> None:
    from hyperstack_rpc import GeneratedKey

    key = {"id": 7, "name": "n", "description": None, "createdAt": "2026-01-01T00:00:00Z", "maskedKey": "****abcd"}
    parsed = GeneratedKey.from_json({"key": key, "revision": 3, "secretFile": "/s/n.key"})
    assert parsed.secret is None and parsed.secret_file == "/s/n.key" and parsed.key.id == 7
    inline = GeneratedKey.from_json({"key": {**key, "secret": "s3cr3t-value"}, "revision": 3})
    assert inline.secret == "s3cr3t-value" and inline.secret_file is None
    with pytest.raises(hyperstack_rpc.ProtocolError) as both:
        GeneratedKey.from_json({"key": {**key, "secret": "s3cr3t-value"}, "revision": 3, "secretFile": "/s/n.key"})
    assert "s3cr3t-value" not in str(both.value)
    with pytest.raises(hyperstack_rpc.ProtocolError):
        GeneratedKey.from_json({"key": key, "revision": 3, "secretFile": ""})


def test_1505_is_secret_not_written_naming_the_key() -> None:
    data = {"key": {"id": 9, "name": "lost"}, "revision": 4, "secretFile": "/s/lost.key", "reason": "EFBIG"}
    error = error_from_response({"code": 1505, "message": "not written", "data": data})
    assert isinstance(error, hyperstack_rpc.SecretNotWritten)
    assert error.key_id == 9 and error.secret_file == "/s/lost.key"
    assert pickle.loads(pickle.dumps(error)).key_id == 9
