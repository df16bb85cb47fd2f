"""The shared daemon (issue 12), acceptance 3: one rate budget per upstream host.

Sessions that together ask for far more than the limit never make the sandbox see more than
the limit in any 60 s window. The limiter is a token bucket holding a tenth of the budget and
refilling at the rest of it per minute (`RequestRateLimiter`), so in a window of `w` seconds
upstream sees at most burst + refill * w requests; checking that bound over every pair of
samples of a 20 s run proves the 60 s bound without waiting a minute (burst + refill * 60 is
the limit). The budget is the smallest `--rate-limit` any session asked for.

Also: a 429 with Retry-After from the host pauses the calls of every session to that host,
other stores (keys) included.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from daemon_fixtures import daemon_env, daemon_validator, forwarders  # noqa: F401
from sandbox_server import SandboxServer

LIMIT = 120
BURST = max(1, LIMIT // 10)
REFILL = (LIMIT - BURST) / 60.0
RUN_SECONDS = 20.0

pytestmark = pytest.mark.timeout(150)


class UpstreamSampler:
    """Reads the sandbox's request counters every few ms: (sent at, answered at, total /v1
    requests). The sandbox has no per-request timestamps; a request counted between two
    samples happened after the first one was sent and before the second was answered."""

    def __init__(self, sandbox: SandboxServer, period: float = 0.05, routes: tuple = ()) -> None:
        self.sandbox = sandbox
        self.period = period
        self.routes = routes
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _count(self) -> int:
        requests = self.sandbox.stats()
        if self.routes:
            return sum(requests.get(route, 0) for route in self.routes)
        return sum(requests.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = time.monotonic()
            count = self._count()
            self.samples.append((sent, time.monotonic(), count))
            self._stop.wait(self.period)

    def stop(self) -> list[tuple[float, float, int]]:
        self._stop.set()
        self._thread.join(5)
        return self.samples


def _window_violations(samples, burst: float, refill: float, limit: int) -> list[str]:
    problems = []
    for i, (sent_i, _, count_i) in enumerate(samples):
        for sent_j, answered_j, count_j in samples[i + 1:]:
            width = answered_j - sent_i
            seen = count_j - count_i
            # +1: a request's arrival at the sandbox trails its token by the network latency.
            if seen > burst + refill * width + 1:
                problems.append(f"{seen} requests in {width:.2f} s (bucket allows {burst + refill * width:.1f})")
            if width <= 60 and seen > limit:
                problems.append(f"{seen} requests in {width:.2f} s (limit {limit} per minute)")
        if len(problems) > 5:
            break
    return problems


def _drive(forwarder, deadline: float, outstanding: int, asked: list, answers: list) -> None:
    """Keeps `outstanding` refresh lists in flight until `deadline`."""
    for _ in range(outstanding):
        forwarder.start_request("apiKeys.list", {"refresh": True})
        asked.append(1)
    while time.monotonic() < deadline:
        try:
            message = forwarder.read(timeout=max(0.05, deadline - time.monotonic()))
        except AssertionError:
            return
        if "method" in message:
            continue
        answers.append(message)
        if time.monotonic() < deadline:
            forwarder.start_request("apiKeys.list", {"refresh": True})
            asked.append(1)


def test_sessions_together_never_exceed_the_smallest_rate_limit(daemon_env, forwarders, sandbox_server):
    sampler = UpstreamSampler(sandbox_server)
    strict = forwarders("--rate-limit", str(LIMIT), framing="ndjson", sandbox=sandbox_server)
    loose = forwarders("--rate-limit", str(LIMIT * 5), framing="lsp", sandbox=sandbox_server)
    default = forwarders(framing="ndjson", sandbox=sandbox_server)
    fleet = [strict, loose, default]
    for forwarder in fleet:
        forwarder.call("apiKeys.list", {}, timeout=30)
    status = daemon_env.wait_status(lambda s: s["sessions"] == 3)
    assert status["rateBudget"]["limit"] == LIMIT, status["rateBudget"]

    deadline = time.monotonic() + RUN_SECONDS
    asked: list = []
    answers: list = []
    threads = [threading.Thread(target=_drive, args=(forwarder, deadline, 4, asked, answers)) for forwarder in fleet]
    one_shot_codes: list = []

    def one_shots() -> None:
        while time.monotonic() < deadline - 3:
            completed = daemon_env.call("apiKeys.list", {"refresh": True}, "--base-url", sandbox_server.base_url,
                                        "--rate-limit", str(LIMIT * 3),
                                        env={"HYPERSTACK_API_KEY": sandbox_server.api_key}, timeout=60)
            one_shot_codes.append(completed.returncode)
            asked.append(1)

    threads.append(threading.Thread(target=one_shots))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RUN_SECONDS + 60)
    elapsed = time.monotonic() - started
    status = daemon_env.status_object()
    samples = sampler.stop()
    for forwarder in fleet:
        forwarder.kill()  # requests still queued for tokens would take minutes to drain

    total = samples[-1][2] - samples[0][2]
    allowed = BURST + REFILL * elapsed
    print(f"rate budget: {len(asked)} lists asked, {len(answers)} answered, {total} upstream requests "
          f"in {elapsed:.1f} s (bucket allows {allowed:.1f}), {len(samples)} samples, "
          f"daemon usedLastMinute {status['rateBudget']['usedLastMinute']}")
    assert status["rateBudget"]["limit"] == LIMIT
    assert status["rateBudget"]["usedLastMinute"] <= LIMIT, status["rateBudget"]
    assert _window_violations(samples, BURST, REFILL, LIMIT) == []
    # The run must have pressed against the budget, or it proved nothing.
    assert len(asked) > 2 * allowed, f"only {len(asked)} lists asked"
    assert total >= 0.6 * allowed, f"upstream saw only {total} requests: the budget was not used"
    assert total <= LIMIT
    for message in answers:
        assert "result" in message or message["error"]["code"] in (1429,), message


def test_a_429_pauses_every_session_to_that_host(daemon_env, forwarders):
    other_key = "e2e-second-key-" + os.urandom(6).hex()
    sandbox = SandboxServer("--api-key", other_key)
    try:
        first = forwarders(framing="ndjson", sandbox=sandbox)
        second = forwarders(framing="lsp", sandbox=sandbox, api_key=other_key)  # another store, same host
        first.call("apiKeys.list", {}, timeout=30)
        second.call("apiKeys.list", {}, timeout=30)
        baseline = sandbox.route_count("GET /api-key")
        assert baseline == 2
        sandbox.faults({"method": "GET", "path": "/api-key", "status": 429, "retry_after": "3", "count": 1})
        sampler = UpstreamSampler(sandbox, period=0.02, routes=("GET /api-key",))
        try:
            first_id = first.start_request("apiKeys.list", {"refresh": True})
            assert _wait_for(sampler, baseline + 1), "the first refresh never reached the sandbox"
            second_id = second.start_request("apiKeys.list", {"refresh": True})
            answers = [first.wait_response(first_id, 30), second.wait_response(second_id, 30)]
            assert _wait_for(sampler, baseline + 3)
        finally:
            samples = sampler.stop()
        # Request baseline+1 got the 429; nothing may reach the host until its 3 s are over.
        limited_by = next(answered for _, answered, seen in samples if seen >= baseline + 1)
        next_after = max(sent for sent, _, seen in samples if seen < baseline + 2)
        gap = next_after - limited_by
        print(f"429 pause: the next request reached the host more than {gap:.2f} s after the 429")
        assert gap >= 2.7, f"a request reached the host {gap:.2f} s after a 429 with Retry-After: 3"
        for answer in answers:
            assert "result" in answer, answer
    finally:
        sandbox.stop()


def _wait_for(sampler: UpstreamSampler, count: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sampler.samples and sampler.samples[-1][2] >= count:
            return True
        time.sleep(0.01)
    return False
