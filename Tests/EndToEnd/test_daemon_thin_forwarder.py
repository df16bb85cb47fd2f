"""The thin forwarder (issue 12, row 8): once `--remote auto` has connected to the daemon, the
full binary execs `hyperstack-rpc-forwarder`, which it finds beside itself. These tests check
that a session really runs in it, that the hand-off leaves nothing behind (no credential in argv,
no stray descriptor), that it is much smaller than the server, and that when the daemon dies and
cannot be started again it serves through a private server process that ends with it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from daemon_fixtures import daemon_env, daemon_validator, forwarders, process_cmdline  # noqa: F401
from reliability_kit import is_running, wait_gone
from rpc_process import RpcProcess, binary_path


def _exe(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/exe")


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _descriptor_targets(pid: int) -> list[str]:
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return targets


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def test_a_remote_session_runs_in_the_thin_forwarder_and_the_hand_off_leaves_nothing_behind(
        daemon_env, forwarders, sandbox_server):
    forwarder = forwarders(framing="lsp", sandbox=sandbox_server)
    assert forwarder.call("initialize", {"processId": os.getpid()})["serverInfo"]["name"] == "hyperstack-rpc"
    forwarder.notify("initialized", {})
    pid = forwarder.proc.pid
    assert Path(_exe(pid)).name == "hyperstack-rpc-forwarder", _exe(pid)
    assert Path(_exe(pid)).parent == Path(binary_path()).resolve().parent
    # The credential went through the pipe, which is read and closed: not in argv, no pipe left.
    assert sandbox_server.api_key.encode() not in process_cmdline(pid)
    targets = _descriptor_targets(pid)
    assert not [t for t in targets if t.startswith("pipe:") and t not in _descriptor_targets(os.getpid())], targets
    sockets = [t for t in targets if t.startswith("socket:")]
    assert len(sockets) == 1, f"expected one daemon connection, found {targets}"
    # It still serves: reads from the shared store, and a mutation with its notification first.
    assert forwarder.call("apiKeys.list", {})["keys"] == []
    generate_id = forwarder.start_request("apiKeys.generate", {"name": "thin"})
    first = forwarder.read()
    assert first.get("method") == "apiKeys.didChange", first
    assert forwarder.wait_response(generate_id)["result"]["revision"] == first["params"]["revision"]

    # Far smaller than a server of its own, built the same way (RSS is the figure `ps` shows).
    standalone = RpcProcess("--base-url", sandbox_server.base_url, framing="lsp",
                            env={"HYPERSTACK_API_KEY": sandbox_server.api_key}, secrets=[sandbox_server.api_key])
    try:
        standalone.call("initialize", {"processId": os.getpid()})
        standalone.notify("initialized", {})
        standalone.call("apiKeys.list", {})
        thin_kb, server_kb = _status_kb(pid, "VmRSS"), _status_kb(standalone.proc.pid, "VmRSS")
        assert thin_kb * 2 < server_kb, f"thin forwarder {thin_kb} kB against a standalone server {server_kb} kB"
    finally:
        assert standalone.stop() == 0
    assert forwarder.stop() == 0


def test_when_the_daemon_dies_and_cannot_return_the_thin_forwarder_serves_through_a_private_server(
        daemon_env, forwarders, tmp_path):
    state = tmp_path / "sandbox.json"
    forwarder = forwarders("--sandbox", "--sandbox-state", str(state), framing="ndjson")
    forwarder.call("initialize", {"processId": os.getpid()})
    forwarder.notify("initialized", {})
    generate_id = forwarder.start_request("apiKeys.generate", {"name": "before"})
    forwarder.wait_response(generate_id)
    assert Path(_exe(forwarder.proc.pid)).name == "hyperstack-rpc-forwarder"

    # No daemon can come back: the socket directory becomes group-accessible, which we refuse.
    os.chmod(daemon_env.socket_dir, 0o770)
    assert daemon_env.kill_daemons(), "no daemon was running"
    listed = forwarder.call("apiKeys.list", {}, timeout=15)
    assert [key["name"] for key in listed["keys"]] == ["before"], listed
    generate_id = forwarder.start_request("apiKeys.generate", {"name": "after"})
    assert forwarder.read().get("method") == "apiKeys.didChange"
    assert forwarder.wait_response(generate_id)["result"]["key"]["name"] == "after"

    notes = forwarder.fallback_lines()
    assert len(notes) == 1 and "private server process" in notes[0], f"{notes!r}\n{forwarder.stderr_tail()}"
    children = [child for child in _children(forwarder.proc.pid)
                if b"session" in process_cmdline(child) and b"daemon" in process_cmdline(child)]
    assert len(children) == 1, f"expected one private session process, found {children}"
    assert daemon_env.daemon_pids() == set(), "a shared daemon started in an unusable directory"
    assert forwarder.stop() == 0
    assert wait_gone(children[0], 10), "the private session outlived its forwarder"
    os.chmod(daemon_env.socket_dir, 0o700)


def test_the_thin_forwarder_refuses_to_be_run_by_hand():
    forwarder = Path(binary_path()).parent / "hyperstack-rpc-forwarder"
    import subprocess
    completed = subprocess.run([str(forwarder)], capture_output=True, timeout=10)
    assert completed.returncode == 2
    assert b"--remote auto" in completed.stderr
    assert completed.stdout == b""
    # A hand-off that is not one is refused with a message, never a crash.
    read_end, write_end = os.pipe()
    os.write(write_end, b'{"hyperstackForwarderHandoff": 99}\n')
    os.close(write_end)
    completed = subprocess.run([str(forwarder), "--handoff-fd", str(read_end), "--daemon-fd", "0"],
                               capture_output=True, timeout=10, pass_fds=(read_end,))
    os.close(read_end)
    assert completed.returncode == 2, completed
    completed = subprocess.run([str(forwarder), "--handoff-fd", "7", "--daemon-fd", "8"],
                               capture_output=True, timeout=10, pass_fds=())
    assert completed.returncode == 2
    assert b"hand-off" in completed.stderr, completed.stderr
