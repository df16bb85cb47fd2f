"""The shared daemon (issue 12), acceptance 6: its lifetime, `daemon status` and `daemon stop`.

- `daemon status` prints one JSON object with every documented member, and tells the truth
  about sessions and stores; `daemon stop` stops the daemon and returns once it is gone;
  both exit 3 when no daemon runs (nothing there, a stale socket, a `--remote` path with
  nothing behind it);
- the daemon exits on its own `--idle-timeout` after the last session leaves, and not while a
  session remains;
- SIGTERM drains it: a mutation in flight still gets its result;
- an auto-started daemon is detached (its own session) and logs to `<socket>.log`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket as socket_module
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from daemon_fixtures import (FINGERPRINT, ISO_UTC, KEY_FINGERPRINT, NO_DAEMON, STATUS_FIELDS, STORE_FIELDS,  # noqa: F401
                             Forwarder, daemon_env, daemon_validator, forwarders, mode_of)
from reliability_kit import is_running
from rpc_process import binary_path, lsp_frame, ndjson_frame
from sandbox_server import SandboxServer

pytestmark = pytest.mark.timeout(120)


def test_status_and_stop_exit_3_when_no_daemon_runs(daemon_env):
    code, document, completed = daemon_env.status()
    assert code == NO_DAEMON, (code, completed.stdout, completed.stderr)
    assert document is None
    assert daemon_env.stop().returncode == NO_DAEMON
    missing = daemon_env.root / "nothing.sock"
    code, _, _ = daemon_env.status(remote=f"unix:{missing}")
    assert code == NO_DAEMON
    assert daemon_env.stop(remote=f"unix:{missing}").returncode == NO_DAEMON
    assert daemon_env.daemon_pids() == set(), "status or stop started a daemon"


def test_status_and_stop_exit_3_on_a_stale_socket(daemon_env):
    assert daemon_env.call("apiKeys.list", {}, "--sandbox").returncode == 0
    status = daemon_env.status_object()
    daemon_env.kill_daemons({status["pid"]})
    assert os.path.exists(status["socket"]), "the socket of a SIGKILLed daemon is expected to stay behind"
    started = time.monotonic()
    code, _, completed = daemon_env.status()
    assert code == NO_DAEMON, (code, completed.stderr)
    assert daemon_env.stop().returncode == NO_DAEMON
    assert time.monotonic() - started < 10
    # ... and the next forwarder replaces it.
    assert daemon_env.call("apiKeys.list", {}, "--sandbox").returncode == 0
    assert daemon_env.status_object()["pid"] != status["pid"]


def test_status_prints_every_documented_field(daemon_env, forwarders, sandbox_server):
    version_line = daemon_env.run("--version").stdout.decode().strip()
    match = re.fullmatch(r"(\S+) \(build ([0-9a-f]{16})\)", version_line)
    assert match, version_line
    version, fingerprint = match.groups()
    before = datetime.now(timezone.utc).replace(microsecond=0)
    http = [forwarders(framing="ndjson", sandbox=sandbox_server), forwarders(framing="lsp", sandbox=sandbox_server)]
    embedded = forwarders("--sandbox", "--poll-interval", "5", framing="ndjson")
    http[0].call("apiKeys.list", {}, timeout=30)
    http[1].call("apiKeys.list", {}, timeout=30)
    http[1].call("apiKeys.generate", {"name": "status"}, timeout=30)
    embedded.call("apiKeys.list", {}, timeout=30)
    embedded.call("apiKeys.generate", {"name": "one"})
    embedded.call("apiKeys.generate", {"name": "two"})
    completed = daemon_env.run("daemon", "status")
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    status = json.loads(completed.stdout)  # one JSON value, nothing else
    daemon_env.seen_pids.add(status["pid"])

    assert STATUS_FIELDS <= set(status), f"missing: {sorted(STATUS_FIELDS - set(status))}"
    assert isinstance(status["pid"], int) and is_running(status["pid"])
    assert daemon_env.daemon_pids() == {status["pid"]}
    assert status["version"] == version
    assert status["fingerprint"] == fingerprint
    assert Path(status["socket"]).name == f"daemon-{fingerprint}.sock"
    assert FINGERPRINT.match(status["fingerprint"]), status["fingerprint"]
    assert status["socket"] == str(daemon_env.socket_dir / f"daemon-{status['fingerprint']}.sock")
    assert ISO_UTC.match(status["startedAt"]), status["startedAt"]
    started_at = datetime.strptime(status["startedAt"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    assert before.timestamp() - 1 <= started_at.timestamp() <= time.time() + 1
    assert status["sessions"] == 3
    assert status["log"] == status["socket"] + ".log" and os.path.isfile(status["log"])
    assert mode_of(status["log"]) == 0o600
    # The embedded sandbox's calls may count as upstream requests too; the HTTP ones must.
    http_requests = sandbox_server.upstream_requests()
    assert isinstance(status["upstreamRequests"], int) and status["upstreamRequests"] >= http_requests, (
        status["upstreamRequests"], sandbox_server.stats())
    budget = status["rateBudget"]
    assert set(budget) >= {"limit", "usedLastMinute"}
    assert budget["limit"] == 500
    assert isinstance(budget["usedLastMinute"], int)
    assert http_requests <= budget["usedLastMinute"] <= status["upstreamRequests"], budget

    stores = {store["upstream"]: store for store in status["stores"]}
    assert set(stores) == {sandbox_server.base_url, "sandbox"}, list(stores)
    for store in status["stores"]:
        assert STORE_FIELDS <= set(store), f"store missing: {sorted(STORE_FIELDS - set(store))}"
    remote = stores[sandbox_server.base_url]
    assert KEY_FINGERPRINT.match(remote["keyFingerprint"] or ""), remote
    assert remote["accessTokenFingerprint"] is None, "no token was configured"
    assert sandbox_server.api_key not in json.dumps(status)
    assert remote["keys"] == 1 and remote["sessions"] == 2 and remote["pollInterval"] is None
    assert remote["revision"] == http[1].call("apiKeys.list", {})["revision"]
    local = stores["sandbox"]
    assert local["keyFingerprint"] is None
    assert local["keys"] == 2 and local["sessions"] == 1 and local["pollInterval"] == 5
    assert local["revision"] == embedded.call("apiKeys.list", {})["revision"]

    # The poll loop follows the sessions: apiKeys.watch shortens it, leaving stops it.
    assert http[0].call("apiKeys.watch", {"interval": 2})["interval"] == 2
    status = daemon_env.wait_status(lambda s: any(st["pollInterval"] == 2 for st in s["stores"]))
    assert {st["upstream"]: st["pollInterval"] for st in status["stores"]} == {sandbox_server.base_url: 2,
                                                                               "sandbox": 5}
    embedded.stop()
    status = daemon_env.wait_status(lambda s: s["sessions"] == 2)
    left = {st["upstream"]: st for st in status["stores"]}
    if "sandbox" in left:  # stores outlive their sessions; their poll loop does not
        assert left["sandbox"]["sessions"] == 0 and left["sandbox"]["pollInterval"] is None, left["sandbox"]


def test_stop_stops_a_foreground_daemon_and_returns_once_it_is_gone(daemon_env):
    daemon = daemon_env.start_foreground("--idle-timeout", "0")  # reaped by a thread, as a supervisor would
    status = daemon_env.wait_status(timeout=15)
    assert status["pid"] == daemon.pid
    assert status["sessions"] == 0 and status["stores"] == []
    started = time.monotonic()
    completed = daemon_env.stop()
    elapsed = time.monotonic() - started
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    assert completed.stderr.strip(), "stop says what it did on stderr"
    assert len(completed.stderr.decode().strip().splitlines()) == 1, completed.stderr
    assert completed.stdout == b""
    assert daemon.wait(timeout=1) == 0, "the daemon was still running when stop returned, or failed"
    assert elapsed < 5, f"stop took {elapsed:.1f} s for an idle daemon"
    assert daemon_env.status()[0] == NO_DAEMON
    assert daemon_env.stop().returncode == NO_DAEMON


def test_stop_does_not_wait_for_the_parent_to_reap_the_daemon(daemon_env):
    """A daemon that has exited is gone (its socket, lock and every descriptor released) even
    while its parent has not collected its exit status yet: stop must not wait 20 s for a
    zombie and then report it as still draining."""
    daemon = daemon_env.start_foreground("--idle-timeout", "0", reap=False)
    daemon_env.wait_status(timeout=15)
    started = time.monotonic()
    completed = daemon_env.stop()
    elapsed = time.monotonic() - started
    assert completed.returncode == 0, (
        f"stop exited {completed.returncode} after {elapsed:.1f} s: {completed.stderr.decode(errors='replace')}")
    assert elapsed < 5, f"stop took {elapsed:.1f} s"
    assert daemon.wait(timeout=1) == 0


def test_stop_stops_an_auto_started_daemon_with_remote_unix(daemon_env):
    assert daemon_env.call("apiKeys.list", {}, "--sandbox").returncode == 0
    status = daemon_env.status_object(remote=f"unix:{daemon_env.status_object()['socket']}")
    completed = daemon_env.stop(remote=f"unix:{status['socket']}")
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    assert not is_running(status["pid"]), "stop returned before the daemon was gone"
    assert daemon_env.status(remote=f"unix:{status['socket']}")[0] == NO_DAEMON


def test_an_auto_started_daemon_is_detached_and_logs_to_its_file(daemon_env, forwarders):
    forwarder = forwarders("--sandbox")
    forwarder.call("apiKeys.list", {})
    status = daemon_env.wait_status(lambda s: s["sessions"] == 1)
    pid = status["pid"]
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    session_id = int(fields[3])
    assert session_id != os.getsid(0) and session_id != os.getsid(forwarder.proc.pid), (
        f"the daemon did not detach (setsid): it is in session {session_id}")
    # It must hold none of the forwarder's standard streams, or the editor would never see EOF.
    streams = {os.readlink(f"/proc/{forwarder.proc.pid}/fd/{fd}") for fd in (0, 1, 2)}
    held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    assert not (streams & held), f"the daemon holds the forwarder's stdio: {sorted(streams & held)}"
    assert os.path.getsize(status["log"]) > 0, "the daemon's log file is empty"
    forwarder.stop()
    assert is_running(pid), "the daemon must outlive the forwarder that started it"


def test_the_daemon_exits_after_its_idle_timeout_with_no_sessions(daemon_env):
    daemon = daemon_env.start_foreground("--idle-timeout", "1")
    started = time.monotonic()
    code = daemon.wait(timeout=15)
    elapsed = time.monotonic() - started
    assert code == 0, Path(daemon.stderr_path).read_text(errors="replace")
    assert 0.9 <= elapsed <= 1 + 4, f"exited after {elapsed:.1f} s with --idle-timeout 1"


def test_the_daemon_stays_while_a_session_remains_and_exits_idle_after_it_leaves(daemon_env, forwarders):
    daemon = daemon_env.start_foreground("--idle-timeout", "2")
    daemon_env.wait_status(timeout=10)
    forwarder = forwarders("--sandbox")
    forwarder.call("apiKeys.list", {})
    time.sleep(3)
    assert daemon.poll() is None, "the daemon went idle with a session attached"
    assert forwarder.call("apiKeys.list", {})["fromCache"] is True
    assert forwarder.stop() == 0
    left = time.monotonic()
    code = daemon.wait(timeout=15)
    elapsed = time.monotonic() - left
    assert code == 0, Path(daemon.stderr_path).read_text(errors="replace")
    assert 1.8 <= elapsed <= 2 + 4, f"exited {elapsed:.1f} s after the last session left (--idle-timeout 2)"
    assert daemon_env.status()[0] == NO_DAEMON


def test_idle_timeout_zero_never_exits(daemon_env):
    daemon = daemon_env.start_foreground("--idle-timeout", "0")
    daemon_env.wait_status(timeout=10)
    time.sleep(2.5)
    assert daemon.poll() is None


def test_sigterm_drains_the_daemon_a_mutation_in_flight_gets_its_result(daemon_env, forwarders):
    sandbox = SandboxServer()
    try:
        daemon = daemon_env.start_foreground("--idle-timeout", "0")
        daemon_env.wait_status(timeout=10)
        forwarder = forwarders(framing="ndjson", sandbox=sandbox)
        forwarder.call("apiKeys.list", {}, timeout=30)
        sandbox.faults({"method": "POST", "path": "/api-key/generate", "latency_ms": 1500})
        request_id = forwarder.start_request("apiKeys.generate", {"name": "drained"})
        deadline = time.monotonic() + 10
        while sandbox.route_count("POST /api-key/generate") == 0:
            assert time.monotonic() < deadline, "the generate never reached the sandbox"
            time.sleep(0.02)
        daemon.send_signal(signal.SIGTERM)
        response = forwarder.wait_response(request_id, 30)
        assert "result" in response, f"SIGTERM did not let the generate in flight finish: {response}"
        assert response["result"]["key"]["name"] == "drained"
        assert daemon.wait(timeout=15) == 0
        assert sandbox.route_count("POST /api-key/generate") == 1
        # The forwarder carries on with a new daemon.
        assert [key["name"] for key in forwarder.call("apiKeys.list", {"refresh": True}, timeout=30)["keys"]] == [
            "drained"]
    finally:
        sandbox.stop()


def test_remote_from_the_environment_runs_a_forwarder(daemon_env, forwarders):
    editor = forwarders("--sandbox", remote="off", env={"HYPERSTACK_RPC_REMOTE": "auto"})
    # `--remote off` wins over the environment; without it the variable makes a forwarder.
    editor.call("apiKeys.list", {})
    assert daemon_env.status()[0] == NO_DAEMON, "--remote off still used a daemon"
    editor.stop()
    plain = Forwarder("--sandbox", env={**daemon_env.env, "HYPERSTACK_RPC_REMOTE": "auto"})
    try:
        plain.call("apiKeys.list", {}, timeout=30)
        status = daemon_env.wait_status(lambda s: s["sessions"] == 1)
        assert status["stores"][0]["upstream"] == "sandbox"
    finally:
        plain.stop()
    equals = Forwarder("--remote=auto", "--sandbox", env=daemon_env.env)
    try:
        equals.call("apiKeys.list", {}, timeout=30)
        assert daemon_env.wait_status(lambda s: s["sessions"] == 1)["pid"] == status["pid"]
    finally:
        equals.stop()
    plain.check_clean()
    equals.check_clean()


@pytest.mark.parametrize("framing", ["lsp", "ndjson"])
def test_exit_right_after_shutdown_still_delivers_every_answer(daemon_env, framing):
    """An editor (or a script) may write initialize, initialized, shutdown and exit in one go.
    A standalone server answers initialize and shutdown before it exits; so must a forwarder,
    although its answers come back from the daemon after it has read `exit`."""
    frame = lsp_frame if framing == "lsp" else ndjson_frame
    session = (frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": os.getpid()}})
               + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
               + frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
               + frame({"jsonrpc": "2.0", "method": "exit"}))
    standalone = daemon_env.run("--sandbox", input=session)
    assert standalone.returncode == 0 and standalone.stdout.count(b'"id":') == 2, standalone
    outcomes = []
    for _ in range(5):
        completed = daemon_env.run("--remote", "auto", "--sandbox", input=session)
        outcomes.append((completed.returncode, completed.stdout.count(b'"id":')))
    assert outcomes == [(0, 2)] * 5, (
        f"(exit status, answers) of 5 forwarders given initialize+initialized+shutdown+exit: {outcomes}")


def test_remote_unix_path_uses_that_socket_and_never_starts_a_daemon(daemon_env, forwarders):
    listen_dir = daemon_env.root / "explicit"
    listen_dir.mkdir(mode=0o700)
    path = str(listen_dir / "d.sock")
    daemon_env.extra_sockets.add(path)
    # Nothing behind the path: no daemon is started for it, and the one-shot still answers
    # (in-process) or fails, but never hangs.
    completed = daemon_env.call("apiKeys.list", {}, "--sandbox", remote=f"unix:{path}", timeout=20)
    assert daemon_env.daemon_pids() == set(), "--remote unix:PATH started a daemon"
    assert not os.path.exists(path)
    assert completed.returncode in (0, 1), completed

    daemon = daemon_env.start_foreground("--listen", path, "--idle-timeout", "0")
    status = daemon_env.wait_status(remote=f"unix:{path}", timeout=15)
    assert status["pid"] == daemon.pid and status["socket"] == path
    assert mode_of(path) == 0o600
    forwarder = forwarders("--sandbox", remote=f"unix:{path}", framing="lsp")
    forwarder.call("apiKeys.list", {})
    assert daemon_env.wait_status(lambda s: s["sessions"] == 1, remote=f"unix:{path}")["pid"] == daemon.pid
    assert daemon_env.status()[0] == NO_DAEMON, "the default socket answered although only --listen PATH was used"
    assert forwarder.fallback_lines() == []


def test_systemd_socket_activation(daemon_env, forwarders):
    """The daemon accepts a listening socket on fd 3 with LISTEN_FDS=1 and LISTEN_PID=its pid."""
    listen_dir = daemon_env.root / "activated"
    listen_dir.mkdir(mode=0o700)
    path = str(listen_dir / "d.sock")
    daemon_env.extra_sockets.add(path)
    listener = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(16)
    fd = listener.fileno()

    def on_fd_3() -> None:
        os.dup2(fd, 3)
        os.set_inheritable(3, True)

    env = daemon_env.child_env({"LISTEN_FDS": "1"})
    daemon = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ exec "$0" daemon --idle-timeout 0', binary_path()],
                              # 3 too: close_fds runs after preexec_fn and would close the dup
                              env=env, preexec_fn=on_fd_3, pass_fds=(fd, 3), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    daemon_env.children.append(daemon)
    threading.Thread(target=daemon.wait, daemon=True).start()  # reaped at once (see the zombie test)
    listener.close()
    try:
        status = daemon_env.wait_status(remote=f"unix:{path}", timeout=15)
        assert status["pid"] == daemon.pid
        forwarder = forwarders("--sandbox", remote=f"unix:{path}")
        assert forwarder.call("apiKeys.list", {})["keys"] == []
        assert forwarder.fallback_lines() == [], forwarder.stderr_tail()
        assert daemon_env.wait_status(lambda s: s["sessions"] == 1, remote=f"unix:{path}")["pid"] == daemon.pid
        forwarder.stop()
    finally:
        if daemon.poll() is None:
            daemon_env.stop(remote=f"unix:{path}")
        daemon.wait(timeout=20)
