"""The slow reader: a client stops reading stdout while it keeps asking for large answers.

The server must neither die nor buffer without bound: once its output backlog is full it
stops reading stdin, so the client's writes block. When the client reads again, every
request is answered. Short mode pauses 3 s; long mode (HYPERSTACK_RELIABILITY=long) 10 s
with five times the requests.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Reliability"))

from reliability_kit import Figures, PipelinedClient, register_summary, scale  # noqa: E402
from rpc_process import binary_path  # noqa: E402

KEYS = 20
RSS_BOUND_KB = 100 * 1024


#: Long mode runs far past the default suite's per-test timeout.
pytestmark = pytest.mark.timeout(scale(240, 1800))


@pytest.fixture(autouse=True, scope="module")
def _figures(request):
    register_summary(request.config)


def test_reliability_slow_reader_gets_back_pressure_then_every_answer():
    pause = scale(3.0, 10.0)
    total = scale(20_000, 100_000)
    client = PipelinedClient(["--sandbox", "--log-level", "warning"])
    try:
        generate = b'{"jsonrpc":"2.0","id":%d,"method":"apiKeys.generate","params":{"name":"slow-reader-%d"}}\n'
        client.start(KEYS, lambda i: generate % (i, i), window=KEYS, chunk=KEYS)
        assert client.wait_done(30) and not client.errors, client.errors
        first_list = KEYS + 1

        client.pause_reading()
        listing = b'{"jsonrpc":"2.0","id":%d,"method":"apiKeys.list"}\n'
        client.start(total, lambda i: listing % i, window=total, chunk=500)
        started = time.monotonic()
        sent_over_time: list[tuple[float, int]] = []
        peak_rss = 0
        while time.monotonic() - started < pause:
            assert client.proc.poll() is None, "the server died while its reader was paused"
            peak_rss = max(peak_rss, client.probe.rss_kb())
            sent_over_time.append((time.monotonic() - started, client.sent))
            time.sleep(0.05)
        sent_during_pause = client.sent
        blocked_for = time.monotonic() - (client.writer_blocked_since or time.monotonic())
        # Back-pressure: the writes stalled well before all requests were out, and stayed stalled.
        sent_a_second_earlier = max(sent for at, sent in sent_over_time if at <= pause - 1.0)
        status = client.probe.snapshot()

        client.resume_reading()
        resumed = time.monotonic()
        assert client.wait_done(scale(120, 600)), (
            f"{client.received}/{client.total} answered after resuming; anomalies {client.anomalies[:3]}")
        drained_in = time.monotonic() - resumed
        assert not client.anomalies, client.anomalies[:5]
        assert not client.errors, client.errors[:5]
        assert client.missing_ids() == []
        hwm = client.probe.snapshot()["hwm_kb"]
        assert client.close() == 0
    finally:
        client.kill()

    Figures.record("slow_reader", pause_s=pause, list_requests=total, keys_per_answer=KEYS,
                   requests_written_when_blocked=sent_during_pause - first_list + 1,
                   writer_blocked_s=round(blocked_for, 1), rss_kb_peak_during_pause=peak_rss,
                   rss_kb_paused=status["rss_kb"], hwm_kb=hwm, mb_received=round(client.bytes_received / 2**20, 1),
                   drain_s=round(drained_in, 1), notifications=client.notifications, binary=binary_path())
    assert sent_during_pause < KEYS + total, "the client wrote everything: no back-pressure reached it"
    assert sent_during_pause == sent_a_second_earlier, "the server kept reading stdin while its output was stuck"
    assert blocked_for >= 1.0, "the client's write was not blocked by the end of the pause"
    assert peak_rss < RSS_BOUND_KB and hwm < RSS_BOUND_KB, f"RSS peak {peak_rss} kB, high-water mark {hwm} kB"
    assert client.notifications == KEYS
