"""Regression tests for issue 10's upstream items (1: transport errors, 2, 6, 13, 14).

Each spawns the real hyperstack-rpc against a hostile fake Infrahub (hostile_upstream.py) or
against nothing at all, and stays within a few seconds by using a small --timeout.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from hostile_upstream import FORGED_LINE, HostileUpstream, masked

#: Library spellings that must never reach a message or a log line (item 1).
LIBRARY_TEXT = re.compile(
    r"HTTPClientError|NIO[A-Za-z]*Error|IOError|ChannelError|HTTPParserError|Optional\(|errno:|maxBytes|"
    r"\(error set\)|invalidHeaderFieldValues")


def error_of(response: dict, code: int) -> dict:
    assert "error" in response, f"expected error {code}, got {response}"
    error = response["error"]
    assert error["code"] == code, f"expected {code}, got {error}"
    return error


def assert_plain(rpc, *texts: str) -> None:
    """Neither the texts (error messages) nor stderr (the log) quote a library error."""
    for text in (*texts, rpc.stderr.decode("utf-8", "replace")):
        found = LIBRARY_TEXT.search(text)
        assert found is None, f"library error text {found.group(0)!r} in {text[-2000:]!r}"


# -- item 2: --timeout covers the whole exchange ---------------------------------------------

@pytest.mark.parametrize("interval", [1.0, 60.0], ids=["one-byte-a-second", "idle-body"])
def test_hardening_02_timeout_covers_body(spawn, interval):
    """Headers, then a trickled (or idle) body: every caller sharing the listing gets 1503 in time."""
    timeout = 1.5
    with HostileUpstream("trickle", interval=interval) as up:
        rpc = up.spawn_rpc(spawn, "--timeout", str(timeout))
        started = time.monotonic()
        ids = [rpc.start_request("apiKeys.list", {}) for _ in range(3)]
        ids.append(rpc.start_request("apiKeys.list", {"refresh": True}))
        for id in ids:
            error = error_of(rpc.wait_response(id, timeout=timeout + 6), 1503)
            assert_plain(rpc, error["message"])
        elapsed = time.monotonic() - started
        assert elapsed < timeout + 2.0, f"--timeout {timeout} took {elapsed:.2f}s for every waiter to fail"
        assert up.count("GET", "/api-key") == 1, "the waiters must share one listing, and a stalled body is not retried"
        assert rpc.call("$/ping") == {}


def test_hardening_02_timeout_covers_slow_head_too(spawn):
    """The old behaviour stays: no answer at all within --timeout is a 1503 too."""
    with HostileUpstream("slow", delay=30) as up:
        rpc = up.spawn_rpc(spawn, "--timeout", "0.5")
        started = time.monotonic()
        error = error_of(rpc.request("apiKeys.generate", {"name": "x"}, timeout=8), 1503)
        assert time.monotonic() - started < 3.0
        assert_plain(rpc, error["message"])


# -- item 13: a body over the size limit -----------------------------------------------------

@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_hardening_13_huge_body_is_1502_not_retried(spawn, chunked):
    with HostileUpstream("huge", chunked=chunked) as up:
        rpc = up.spawn_rpc(spawn, "--timeout", "5", "--log-level", "debug")
        started = time.monotonic()
        error = error_of(rpc.request("apiKeys.list", {}, timeout=15), 1502)
        assert time.monotonic() - started < 5.0
        assert error["data"]["retryable"] is False
        assert "MiB" in error["message"], error["message"]
        assert_plain(rpc, error["message"])
        assert up.count("GET", "/api-key") == 1, "an oversized answer is not downloaded again"


# -- item 1, transport part: fixed texts, no retry of deterministic failures -------------------

def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hardening_01_transport_errors_use_fixed_text(spawn):
    """A refused connection and a dropped one are described in our words, in messages and logs."""
    port = closed_port()
    rpc = spawn("--base-url", f"http://127.0.0.1:{port}/v1", "--timeout", "1", "--log-level", "debug",
                env={"HYPERSTACK_API_KEY": "fixed-text-test-key"}, secrets=["fixed-text-test-key"])
    error = error_of(rpc.request("apiKeys.generate", {"name": "x"}, timeout=20), 1503)
    assert "could not connect" in error["message"]
    assert_plain(rpc, error["message"])

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def drop() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            connection.close()  # a reset

    threading.Thread(target=drop, daemon=True).start()
    try:
        dropped = spawn("--base-url", f"http://127.0.0.1:{listener.getsockname()[1]}/v1", "--timeout", "1",
                        "--log-level", "debug", env={"HYPERSTACK_API_KEY": "fixed-text-test-key"},
                        secrets=["fixed-text-test-key"])
        error = error_of(dropped.request("apiKeys.generate", {"name": "x"}, timeout=20), 1503)
        assert_plain(dropped, error["message"])
    finally:
        listener.close()


def test_hardening_01_invalid_header_value_is_not_retried(spawn):
    """A key that is not a valid header value fails at once, never quoted, never retried.

    Either the credential is refused where it is loaded, or the transport refuses to send it; in
    neither case is the same deterministic failure repeated (no backoff, no "Retrying" line).
    """
    key = "hostile-header-key-0123456789\x01second-line"
    with HostileUpstream("normal", api_key=key) as up:
        rpc = spawn("--base-url", up.base_url, "--timeout", "2", "--log-level", "debug",
                    env={"HYPERSTACK_API_KEY": key}, secrets=[key, key[:12], "second-line"])
        started = time.monotonic()
        try:
            response = rpc.request("apiKeys.list", {}, timeout=10)
        except AssertionError:
            response = None  # refused at start-up: the process is gone
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"took {elapsed:.2f}s: the deterministic failure was retried"
        if response is not None:
            assert "error" in response, response
            assert_plain(rpc, response["error"]["message"])
        log = rpc.stderr.decode("utf-8", "replace")
        assert "Retrying" not in log
        assert "second-line" not in log and key[:12] not in log
        assert up.count("GET", "/api-key") == 0


# -- item 6: list masks an unmasked key --------------------------------------------------------

def test_hardening_06_list_masks_unmasked_key(spawn):
    with HostileUpstream("unmasked") as up:
        rpc = up.spawn_rpc(spawn, "--log-level", "debug")
        listed = rpc.call("apiKeys.list", {})
        assert listed["keys"], listed
        for key in listed["keys"]:
            assert key["maskedKey"] == masked(up.secret), key
        updated = rpc.call("apiKeys.update", {"id": 1, "name": "renamed"})
        assert updated["key"]["maskedKey"] == masked(up.secret)
        assert rpc.secret_leaks([up.secret]) == []
        assert up.secret not in rpc.stderr.decode("utf-8", "replace")


def test_hardening_06_a_star_prefixed_secret_is_masked_too(spawn):
    """A `key` that only starts with "*" is not a mask: it is masked like any other secret."""
    secret = "*leaky-secret-0123456789abcdef"
    with HostileUpstream("unmasked", secret=secret) as up:
        rpc = up.spawn_rpc(spawn)
        for key in rpc.call("apiKeys.list", {})["keys"]:
            assert key["maskedKey"] == masked(secret), key
        assert rpc.secret_leaks([secret]) == []


# -- item 14: every id list returns is accepted; duplicates are logged -------------------------

ODD = [-1, 0, 2**31, 2**63 - 1]


def test_hardening_14_listed_odd_ids_can_be_updated_and_deleted(spawn):
    with HostileUpstream("ids") as up:
        rpc = up.spawn_rpc(spawn)
        listed = {key["id"] for key in rpc.call("apiKeys.list", {})["keys"]}
        assert set(ODD) <= listed, listed
        for id in ODD:
            updated = rpc.call("apiKeys.update", {"id": id, "name": f"renamed-{id}"})
            assert updated["key"]["id"] == id
        for id in ODD:
            assert rpc.call("apiKeys.delete", {"id": id})["id"] == id
        assert up.count("PUT", "/api-key/") == len(ODD)
        assert up.count("DELETE", "/api-key/") == len(ODD)
        remaining = {key["id"] for key in rpc.call("apiKeys.list", {"refresh": True})["keys"]}
        assert not remaining & set(ODD)


def test_hardening_14_out_of_range_id_is_still_invalid_params(spawn):
    """What list can never return (not an integer, beyond 64 bits) stays -32602."""
    with HostileUpstream("ids") as up:
        rpc = up.spawn_rpc(spawn)
        for bad in [1.5, "7", 1e20, None, True]:
            error_of(rpc.request("apiKeys.delete", {"id": bad}), -32602)
        assert up.count("DELETE") == 0


def test_hardening_14_duplicate_ids_are_logged_and_deterministic(spawn):
    with HostileUpstream("ids") as up:
        rpc = up.spawn_rpc(spawn)
        first = rpc.call("apiKeys.list", {})
        again = rpc.call("apiKeys.list", {"refresh": True})
        assert first["keys"] == again["keys"] and again["revision"] == first["revision"]
        sevens = [key for key in first["keys"] if key["id"] == 7]
        assert [key["name"] for key in sevens] == ["dup-second"], "the last entry of a repeated id wins"
        deadline = time.monotonic() + 2
        while "duplicate" not in rpc.stderr.decode("utf-8", "replace").lower() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = rpc.stderr.decode("utf-8", "replace")
        lines = [line for line in log.splitlines() if "duplicate" in line.lower()]
        assert lines, f"no log line about the duplicate id:\n{log}"
        assert len(lines) == 1, f"the same duplicates are logged once, not per listing:\n{log}"
        assert "7" in lines[0]
        assert up.api_key not in log and up.secret[:-4] not in log
        assert FORGED_LINE not in log
