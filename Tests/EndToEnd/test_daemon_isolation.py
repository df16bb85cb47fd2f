"""The shared daemon (issue 12), isolation: each session has its own lifecycle, ids,
cancellation, framing and back-pressure. A session that sends garbage, stops reading, floods
requests or sends 16 MiB frames does not slow or break the others.

A bystander session lists keys (from the daemon's cache, so every call crosses the socket)
all along; its round trips must stay short while the hostile sessions run, and every hostile
session still gets the answers it is owed afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import threading
import time

import pytest

from daemon_fixtures import daemon_env, daemon_validator, forwarders  # noqa: F401
from reliability_kit import ProcessProbe

pytestmark = pytest.mark.timeout(240)

LIMIT = 16 * 1024 * 1024


def _round_trips(forwarder, seconds: float) -> list[float]:
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        forwarder.call("apiKeys.list", {}, timeout=10)
        times.append(time.monotonic() - started)
        time.sleep(0.01)
    return times


def _frame(identifier: str, pad: int) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "id": identifier, "method": "apiKeys.list", "params": {}})
    # Whitespace inside the JSON text pads it to the size wanted without changing its meaning.
    body = body[:-1] + " " * max(0, pad - len(body)) + "}"
    return b"Content-Length: %d\r\n\r\n" % len(body) + body.encode()


def test_hostile_sessions_do_not_slow_or_break_the_others(daemon_env, forwarders):
    bystander = forwarders("--sandbox", framing="lsp")
    bystander.call("initialize", {"processId": os.getpid()})
    for index in range(30):  # answers of a few kB each, so a stalled reader falls behind fast
        bystander.call("apiKeys.generate", {"name": f"isolation-{index:02d}", "description": "d" * 100})
    quiet = _round_trips(bystander, 2)
    pid = daemon_env.wait_status(lambda s: s["sessions"] == 1)["pid"]
    probe = ProcessProbe(pid)
    rss_before = probe.rss_kb()

    garbage = forwarders("--sandbox", framing="ndjson", validate=False)
    stalled = forwarders("--sandbox", framing="ndjson")
    flood = forwarders("--sandbox", framing="ndjson")
    huge = forwarders("--sandbox", framing="lsp")
    for forwarder in (garbage, stalled, flood, huge):
        forwarder.call("$/ping")
    daemon_env.wait_status(lambda s: s["sessions"] == 5)

    # stalled: 3,000 lists (about 15 MB of answers) written, then its forwarder is stopped, so
    # nobody reads the daemon's answers to it.
    stalled_ids = [stalled.start_request("apiKeys.list", {}) for _ in range(3000)]
    os.kill(stalled.proc.pid, signal.SIGSTOP)

    busy: list[float] = []
    pinger = threading.Thread(target=lambda: busy.extend(_round_trips(bystander, 8)))
    pinger.start()
    try:
        # garbage: invalid JSON and binary noise, each answered or skipped, never fatal.
        for index in range(2000):
            garbage.send_raw(b'{"jsonrpc":"2.0","id":%d,"method":' % index + os.urandom(16).hex().encode() + b"\n")
            if index % 100 == 0:
                garbage.send_raw(b"\x00\xff\xfe garbage \x1b[2J\n")
        # flood: 20,000 pipelined requests.
        flood_ids = [flood.start_request("apiKeys.list" if index % 2 else "$/ping", {} if index % 2 else None)
                     for index in range(20000)]
        # huge: one frame just under the 16 MiB default limit, one just over it, then a ping.
        huge.methods_by_id[json.dumps("big")] = "apiKeys.list"
        huge.send_raw(_frame("big", LIMIT - 64))
        huge.send_raw(_frame("over", LIMIT + 64))
        after_huge = huge.start_request("$/ping")
        pinger.join(60)
    finally:
        os.kill(stalled.proc.pid, signal.SIGCONT)
    assert busy, "the bystander got nothing answered while the hostile sessions ran"
    p50, worst = statistics.median(busy), max(busy)
    rss_after = probe.rss_kb()
    print(f"isolation: bystander list p50 {statistics.median(quiet) * 1000:.2f} ms alone, "
          f"{p50 * 1000:.2f} ms (max {worst * 1000:.1f} ms, {len(busy)} calls) beside hostile sessions; "
          f"daemon RSS {rss_before} -> {rss_after} kB")
    assert p50 < 0.05, f"bystander p50 {p50 * 1000:.1f} ms beside hostile sessions"
    assert worst < 1.0, f"a bystander call took {worst * 1000:.0f} ms"
    assert rss_after - rss_before < 160 * 1024, "the daemon buffered a stalled or flooding session without bound"

    # Every hostile session still gets what it is owed, from the same daemon.
    for response in flood.responses(flood_ids, timeout=120).values():
        assert "result" in response, response
    assert "result" in huge.wait_response("big", 60)
    refused = huge.wait_response(None, 30)
    assert refused["error"]["code"] == -32600, refused
    assert huge.wait_response(after_huge, 30)["result"] == {}
    for response in stalled.responses(stalled_ids, timeout=120).values():
        assert "result" in response and len(response["result"]["keys"]) == 30
    assert garbage.call("$/ping", timeout=20) == {}
    assert daemon_env.status_object()["pid"] == pid
