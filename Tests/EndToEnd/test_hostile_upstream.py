"""The hostile-upstream suite (issue 10, "make the class of bug stay fixed").

The real binary against every mode of hostile_upstream.HostileUpstream: each answer comes in
bounded time with the documented code, nothing the upstream echoes or forges reaches a message
or a log line, masks stay masks, listed ids stay usable, and credentials stay with their origin.
"""

from __future__ import annotations

import base64
import re
import time
import urllib.parse

import pytest

from hostile_upstream import DEFAULT_API_KEY, FORGED_LINE, HostileUpstream, masked

#: Library spellings that must never reach a message or a log line.
LIBRARY_TEXT = re.compile(r"HTTPClientError|NIO[A-Za-z]*Error|IOError\b|Optional\(|errno:")


def traces_of(key: str) -> list[str]:
    """What a leak of `key` looks like: any 8-character run (compared case-insensitively), and
    its percent-encoded and base64-encoded forms."""
    runs = [key[index:index + 8].lower() for index in range(len(key) - 7)]
    encoded = urllib.parse.quote(key, safe="")
    return runs + [encoded.lower(), base64.b64encode(key.encode()).decode().lower()]


def assert_no_trace(key: str, *texts: str) -> None:
    for text in texts:
        lowered = text.lower()
        for trace in traces_of(key):
            assert trace not in lowered, f"a trace of the key ({len(trace)} chars) leaked into {text[-400:]!r}"


def everything(rpc) -> str:
    """All the server wrote: stdout (the protocol) and stderr (the log)."""
    return rpc.raw_stdout.decode("utf-8", "replace") + "\n" + rpc.stderr.decode("utf-8", "replace")


def error_of(response: dict, code: int) -> dict:
    assert "error" in response, f"expected error {code}, got {response}"
    assert response["error"]["code"] == code, f"expected {code}, got {response['error']}"
    return response["error"]


def test_normal_lists_with_the_documented_request(spawn):
    with HostileUpstream("normal") as up:
        rpc = up.spawn_rpc(spawn)
        listed = rpc.call("apiKeys.list", {})
        assert [key["id"] for key in listed["keys"]] == [1, 2]
        request = up.requests[0]
        assert request["method"] == "GET" and request["path"] == "/v1/api-key"
        assert request["headers"]["api_key"] == DEFAULT_API_KEY
        assert request["headers"]["accept"] == "application/json"
        generated = rpc.call("apiKeys.generate", {"name": "ci"})
        rpc.secrets.append(generated["key"]["secret"])
        assert generated["key"]["maskedKey"] == masked(up.secret)
        assert up.count("POST", "/api-key/generate") == 1


@pytest.mark.parametrize("interval", [1.0, 30.0], ids=["trickle", "idle"])
def test_trickle_ends_within_the_timeout_for_every_waiter(spawn, interval):
    with HostileUpstream("trickle", interval=interval) as up:
        rpc = up.spawn_rpc(spawn, "--timeout", "1")
        started = time.monotonic()
        ids = [rpc.start_request("apiKeys.list", {"refresh": index % 2 == 0}) for index in range(4)]
        for id in ids:
            error_of(rpc.wait_response(id, timeout=8), 1503)
        assert time.monotonic() - started < 3.0
        assert up.count("GET", "/api-key") == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_huge_is_1502_once(spawn, chunked):
    with HostileUpstream("huge", chunked=chunked) as up:
        rpc = up.spawn_rpc(spawn, "--log-level", "debug")
        error = error_of(rpc.request("apiKeys.list", {}, timeout=15), 1502)
        assert error["data"]["retryable"] is False
        assert LIBRARY_TEXT.search(error["message"]) is None, error["message"]
        assert up.count("GET", "/api-key") == 1


@pytest.mark.parametrize("status,code,body_format", [
    (400, 1400, "json"), (400, 1400, "errors"), (400, 1400, "text"),
    (401, 1401, "json"), (401, 1401, "text"), (403, 1403, "json"), (404, 1404, "errors"), (500, 1500, "json"),
])
def test_echo_never_reaches_a_message_or_the_log(spawn, status, code, body_format):
    with HostileUpstream("echo", status=status, body_format=body_format) as up:
        rpc = up.spawn_rpc(spawn, "--log-level", "debug")
        responses = [rpc.request("apiKeys.list", {}, timeout=20)]
        if status != 500:  # a 5xx generate is not retried, but one 5xx round of retries is enough
            responses.append(rpc.request("apiKeys.delete", {"id": 1}, timeout=20))
        for response in responses:
            error_of(response, code)
        assert_no_trace(up.api_key, everything(rpc))


def test_redirect_keeps_credentials_with_their_origin(spawn):
    with HostileUpstream("redirect") as up:
        rpc = up.spawn_rpc(spawn, "--log-level", "debug")
        rpc.request("apiKeys.list", {}, timeout=10)
        assert up.count("GET", "/api-key") == 1
        assert up.target is not None and up.target.count("GET", "/api-key") >= 1, "the redirect was not followed"
        assert not up.credentials_forwarded(), "api_key went to another origin"
        assert_no_trace(up.api_key, rpc.stderr.decode("utf-8", "replace"))


@pytest.mark.parametrize("redirect_status", [307, 308])
def test_redirect_of_a_mutation_keeps_credentials_too(spawn, redirect_status):
    with HostileUpstream("redirect", redirect_status=redirect_status) as up:
        rpc = up.spawn_rpc(spawn)
        rpc.request("apiKeys.update", {"id": 1, "name": "renamed"}, timeout=10)
        assert not up.credentials_forwarded()


def test_log_injection_forges_no_line(spawn):
    with HostileUpstream("log_injection") as up:
        rpc = up.spawn_rpc(spawn, "--log-level", "debug", "--poll-interval", "0.2")
        error = error_of(rpc.request("apiKeys.list", {}, timeout=10), 1400)
        assert error["message"]
        time.sleep(0.6)  # a few failing polls, each logged
        log = rpc.stderr.decode("utf-8", "replace")
        for line in log.splitlines():
            assert not line.startswith(FORGED_LINE.split(" ")[0]), f"forged log line: {line!r}"
        assert "\x1b" not in log and "\r" not in log


def test_ids_are_all_usable_and_deterministic(spawn):
    with HostileUpstream("ids") as up:
        rpc = up.spawn_rpc(spawn)
        listed = rpc.call("apiKeys.list", {})
        ids = [key["id"] for key in listed["keys"]]
        assert ids == sorted(set(ids)), "one entry per id, sorted"
        assert rpc.call("apiKeys.list", {"refresh": True})["keys"] == listed["keys"]
        for id in ids:
            assert rpc.call("apiKeys.update", {"id": id, "name": f"n{id}"})["key"]["id"] == id
            assert rpc.call("apiKeys.delete", {"id": id})["id"] == id
        assert rpc.call("apiKeys.list", {"refresh": True})["keys"] == []


def test_unmasked_secrets_are_masked_everywhere(spawn):
    with HostileUpstream("unmasked") as up:
        rpc = up.spawn_rpc(spawn, "--log-level", "debug", "--poll-interval", "0.2")
        for key in rpc.call("apiKeys.list", {})["keys"]:
            assert key["maskedKey"] == masked(up.secret)
        assert rpc.call("apiKeys.update", {"id": 2, "name": "x"})["key"]["maskedKey"] == masked(up.secret)
        time.sleep(0.5)
        assert up.secret not in everything(rpc)


def test_slow_within_the_timeout_succeeds(spawn):
    with HostileUpstream("slow", delay=0.3) as up:
        rpc = up.spawn_rpc(spawn, "--timeout", "3")
        assert len(rpc.call("apiKeys.list", {})["keys"]) == 2


def test_slow_beyond_the_timeout_is_a_bounded_1503(spawn):
    with HostileUpstream("slow", delay=10) as up:
        rpc = up.spawn_rpc(spawn, "--timeout", "0.5")
        started = time.monotonic()
        error = error_of(rpc.request("apiKeys.generate", {"name": "x"}, timeout=8), 1503)
        assert time.monotonic() - started < 3.0
        assert "may or may not" in error["message"]
        assert up.count("POST", "/api-key/generate") == 1, "a generate that timed out is not repeated"
