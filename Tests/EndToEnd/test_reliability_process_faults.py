"""Process faults: a parent SIGKILLed while a grandchild keeps the pipes open, stdin cut
mid-frame, stdout closed by its reader while the server is busy or idle, and SIGTERM while
mutations are in flight upstream.

test_lifecycle.py has the plain variants; these add the harder edges.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Reliability"))

from reliability_kit import Figures, ProcessProbe, is_running, register_summary, wait_gone  # noqa: E402
from rpc_process import binary_path  # noqa: E402

GENERATE = "POST /api-key/generate"


#: Long mode runs far past the default suite's per-test timeout.
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True, scope="module")
def _figures(request):
    register_summary(request.config)


def test_reliability_parent_killed_while_a_grandchild_holds_the_pipes():
    """The parent names itself in initialize.processId, hands both ends of the server's pipes
    to a long-lived grandchild, and is SIGKILLed. stdin never reaches EOF and stdout never
    breaks, so only the processId watch can end the server; it must be gone within 5 s."""
    parent_code = textwrap.dedent(f"""
        import json, os, subprocess, sys, time
        server = subprocess.Popen([{binary_path()!r}, "--sandbox"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        holder = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  pass_fds=[server.stdin.fileno(), server.stdout.fileno()])
        request = {{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {{"processId": os.getpid()}}}}
        server.stdin.write(json.dumps(request).encode() + b"\\n")
        server.stdin.flush()
        answer = json.loads(server.stdout.readline())
        assert answer["result"]["serverInfo"]["name"] == "hyperstack-rpc", answer
        print(server.pid, holder.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE)
    holder_pid = None
    try:
        line = parent.stdout.readline().split()
        assert len(line) == 2, "the parent did not start the server"
        server_pid, holder_pid = int(line[0]), int(line[1])
        time.sleep(0.5)
        assert is_running(server_pid), "the server should be running while its parent lives"
        killed_at = time.monotonic()
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert is_running(holder_pid), "the grandchild must still hold the pipes"
        gone = wait_gone(server_pid, 5.0)
        took = time.monotonic() - killed_at
        if not gone:
            os.kill(server_pid, signal.SIGKILL)
        assert gone, "the server outlived its parent by more than 5 s while a grandchild held its pipes"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if holder_pid is not None and is_running(holder_pid):
            os.kill(holder_pid, signal.SIGKILL)
    Figures.record("process.parent_sigkill_grandchild_holds_pipes", server_gone_after_s=round(took, 2))


@pytest.mark.parametrize("label,framing,cut", [
    ("ndjson-mid-line", "ndjson", b'{"jsonrpc":"2.0","id":99,"meth'),
    ("lsp-mid-header", "lsp", b"Content-Len"),
    ("lsp-mid-body", "lsp", b'Content-Length: 80\r\n\r\n{"jsonrpc":"2.0","id":99,'),
])
def test_reliability_stdin_closed_mid_frame_finishes_work_and_exits_zero(spawn, label, framing, cut):
    rpc = spawn("--sandbox", framing=framing)
    rpc.call("$/ping")
    slow = rpc.start_request("test.sleep", {"ms": 300})
    rpc.send_raw(cut)
    closed_at = time.monotonic()
    rpc.close_stdin()
    assert rpc.wait_response(slow)["result"] == {}
    assert rpc.wait_exit(timeout=10) == 0
    took = time.monotonic() - closed_at
    assert took < 3.0, f"exit took {took:.1f}s after end of input"
    Figures.record(f"process.stdin_cut.{label}", exit_after_s=round(took, 2), status=0)


def _wait_reaped(pid: int, timeout: float) -> tuple[int, float]:
    """Reaps `pid`, returning (exit status, CPU seconds it used)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reaped, status, usage = os.wait4(pid, os.WNOHANG)
        if reaped:
            return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
        time.sleep(0.05)
    raise AssertionError(f"the server did not exit within {timeout}s after its stdout was closed")


def test_reliability_stdout_closed_while_busy_ends_cleanly_without_spinning():
    """The reader of stdout goes away while thousands of requests are in the pipe."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen([binary_path(), "--sandbox", "--log-level", "warning"], stdin=subprocess.PIPE,
                              stdout=write_end, stderr=subprocess.DEVNULL, env={**os.environ,
                                                                                "HYPERSTACK_RPC_TEST_METHODS": "1"})
    os.close(write_end)
    stop_writing = threading.Event()
    written = [0]

    def write() -> None:
        index = 0
        while not stop_writing.is_set():
            batch = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"%s"}\n'
                             % (i, b"$/ping" if i % 3 else b"apiKeys.list") for i in range(index, index + 500))
            try:
                server.stdin.write(batch)
                server.stdin.flush()
            except (BrokenPipeError, OSError):
                return
            index += 500
            written[0] = index

    writer = threading.Thread(target=write, daemon=True)
    try:
        writer.start()
        received = 0
        while received < 200_000:
            received += len(os.read(read_end, 65536))
        probe = ProcessProbe(server.pid)
        cpu_at_close = probe.cpu_seconds()
        os.close(read_end)
        closed_at = time.monotonic()
        status, cpu_total = _wait_reaped(server.pid, 10)
        server.returncode = status
        took = time.monotonic() - closed_at
    finally:
        stop_writing.set()
        if server.poll() is None:
            server.kill()
            server.wait()
    writer.join(5)
    assert status == 0
    assert cpu_total - cpu_at_close < 1.0, f"{cpu_total - cpu_at_close:.2f}s of CPU after stdout closed"
    Figures.record("process.stdout_closed_busy", requests_written=written[0], bytes_read_before_close=received,
                   exit_after_s=round(took, 2), cpu_s_after_close=round(cpu_total - cpu_at_close, 2), status=status)


def test_reliability_stdout_closed_while_idle_costs_no_cpu():
    """stdout is closed while a request sleeps: the server idles (no busy loop), then finds
    the broken pipe when it answers, and exits 0."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen([binary_path(), "--sandbox"], stdin=subprocess.PIPE, stdout=write_end,
                              stderr=subprocess.DEVNULL, env={**os.environ, "HYPERSTACK_RPC_TEST_METHODS": "1"})
    os.close(write_end)
    try:
        server.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"$/ping"}\n'
                           b'{"jsonrpc":"2.0","id":2,"method":"test.sleep","params":{"ms":1500}}\n')
        server.stdin.flush()
        assert os.read(read_end, 4096).startswith(b'{"jsonrpc":"2.0","id":1')
        os.close(read_end)
        probe = ProcessProbe(server.pid)
        cpu_at_close = probe.cpu_seconds()
        time.sleep(1.0)
        idle_cpu = probe.cpu_seconds() - cpu_at_close
        status, cpu_total = _wait_reaped(server.pid, 10)
        server.returncode = status
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert status == 0
    assert idle_cpu < 0.2, f"{idle_cpu:.2f}s of CPU in one idle second after stdout closed"
    Figures.record("process.stdout_closed_idle", cpu_s_idle_second=round(idle_cpu, 3),
                   cpu_s_total=round(cpu_total, 2), status=status)


def test_reliability_sigterm_with_mutations_in_flight(spawn, sandbox_server):
    """SIGTERM arrives while generate, update and delete wait on a slow upstream: each is
    answered (after its didChange) before the process exits 0, and upstream holds the result."""
    server = sandbox_server
    rpc = server.spawn_rpc(spawn)
    rpc.call("apiKeys.list")
    existing = rpc.call("apiKeys.generate", {"name": "sigterm-existing"})
    doomed = rpc.call("apiKeys.generate", {"name": "sigterm-doomed"})
    rpc.secrets += [existing["key"]["secret"], doomed["key"]["secret"]]
    server.faults({"method": "POST", "path": "/api-key/generate", "latency_ms": 1500, "count": 3},
                  {"method": "PUT", "path": "/api-key/", "latency_ms": 1500},
                  {"method": "DELETE", "path": "/api-key/", "latency_ms": 1500})
    ids = {rpc.start_request("apiKeys.generate", {"name": f"sigterm-new-{n}"}): f"sigterm-new-{n}" for n in range(3)}
    update = rpc.start_request("apiKeys.update", {"id": existing["key"]["id"], "name": "sigterm-renamed"})
    delete = rpc.start_request("apiKeys.delete", {"id": doomed["key"]["id"]})
    deadline = time.monotonic() + 10
    while server.upstream_requests() < 3 + 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    signalled = time.monotonic()
    rpc.proc.send_signal(signal.SIGTERM)
    for request_id, name in ids.items():
        response = rpc.wait_response(request_id, timeout=15)
        assert response["result"]["key"]["name"] == name, response.get("error")
        rpc.secrets.append(response["result"]["key"]["secret"])
    assert rpc.wait_response(update, timeout=15)["result"]["key"]["name"] == "sigterm-renamed"
    assert rpc.wait_response(delete, timeout=15)["result"]["id"] == doomed["key"]["id"]
    assert rpc.wait_exit(timeout=15) == 0
    took = time.monotonic() - signalled
    status, listed = server.http("GET", "/api-key")
    names = sorted(key["name"] for key in listed["api_keys"])
    assert names == sorted(["sigterm-renamed", *ids.values()])
    changes = [m for m in rpc.arrived if m.get("method") == "apiKeys.didChange"]
    assert len(changes) == 2 + 5, "each mutation sends its didChange"
    Figures.record("process.sigterm_in_flight_mutations", mutations_in_flight=5, all_answered=True,
                   exit_after_s=round(took, 2), status=0)
