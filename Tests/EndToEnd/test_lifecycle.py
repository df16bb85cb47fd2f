"""The lifecycle: initialize, shutdown, exit, end of input, and the parent's death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from rpc_process import binary_path


def test_initialize_result(spawn):
    rpc = spawn("--sandbox")
    result = rpc.call("initialize", {"processId": os.getpid(), "clientInfo": {"name": "pytest"},
                                     "initializationOptions": {}})
    assert result["serverInfo"]["name"] == "hyperstack-rpc"
    assert result["serverInfo"]["version"]
    assert result["capabilities"]["apiKeys"]["didChange"] is True
    rpc.notify("initialized", {})
    assert rpc.call("$/ping") == {}


def test_initialize_is_optional(spawn):
    rpc = spawn("--sandbox")
    assert rpc.call("apiKeys.list")["keys"] == []


def test_second_initialize_is_invalid(spawn):
    rpc = spawn("--sandbox")
    rpc.call("initialize", {})
    assert rpc.request("initialize", {})["error"]["code"] == -32600


def test_initialize_after_another_request_is_invalid(spawn):
    rpc = spawn("--sandbox")
    rpc.call("$/ping")
    assert rpc.request("initialize", {})["error"]["code"] == -32600


def test_initialize_with_bad_params(spawn):
    rpc = spawn("--sandbox")
    response = rpc.request("initialize", {"processId": "me"})
    assert response["error"]["code"] == -32602
    assert response["error"]["data"]["field"] == "processId"


def test_shutdown_then_exit_gives_zero(spawn):
    rpc = spawn("--sandbox")
    assert rpc.request("shutdown")["result"] is None
    assert rpc.request("$/ping")["error"]["code"] == -32600
    assert rpc.request("apiKeys.list")["error"]["code"] == -32600
    rpc.notify("exit")
    assert rpc.wait_exit() == 0


def test_bare_exit_gives_one(spawn):
    rpc = spawn("--sandbox")
    rpc.call("$/ping")
    rpc.notify("exit")
    assert rpc.wait_exit() == 1


def test_end_of_input_finishes_in_flight_work_and_gives_zero(spawn):
    rpc = spawn("--sandbox")
    slow = rpc.start_request("test.sleep", {"ms": 400})
    rpc.close_stdin()
    assert rpc.wait_response(slow)["result"] == {}
    assert rpc.wait_exit() == 0


def test_end_of_input_mid_frame_gives_zero(spawn):
    rpc = spawn("--sandbox", framing="lsp")
    rpc.send_raw(b"Content-Length: 100\r\n\r\n{\"jsonrpc\"")
    rpc.close_stdin()
    assert rpc.wait_exit() == 0


def test_server_exits_when_the_parent_process_dies():
    """The parent names itself in initialize.processId and is then SIGKILLed. The test
    keeps the server's stdin open, so only the processId watch can end the server."""
    read_end, write_end = os.pipe()
    parent_code = textwrap.dedent(f"""
        import os, subprocess, sys, time
        server = subprocess.Popen([{binary_path()!r}, "--sandbox"], stdin={read_end},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=[{read_end}])
        print(server.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, pass_fds=[read_end])
    os.close(read_end)
    try:
        server_pid = int(parent.stdout.readline())
        message = ('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":%d}}\n' % parent.pid)
        os.write(write_end, message.encode())
        time.sleep(0.5)
        assert is_running(server_pid), "the server should be running while its parent lives"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while is_running(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not is_running(server_pid), "the server outlived its parent by more than 5 s"
    finally:
        os.close(write_end)
        if parent.poll() is None:
            parent.kill()


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_sigterm_finishes_in_flight_work(spawn):
    rpc = spawn("--sandbox")
    rpc.call("$/ping")
    slow = rpc.start_request("test.sleep", {"ms": 500})
    time.sleep(0.1)
    rpc.proc.send_signal(signal.SIGTERM)
    assert rpc.wait_response(slow)["result"] == {}
    assert rpc.wait_exit() == 0


def test_closed_stdout_ends_the_server_cleanly():
    """The reader of stdout goes away: the server sees EPIPE, exits 0, and does not spin."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen([binary_path(), "--sandbox"], stdin=subprocess.PIPE, stdout=write_end,
                              stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        server.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"$/ping"}\n')
        server.stdin.flush()
        assert os.read(read_end, 4096).startswith(b'{"jsonrpc":"2.0","id":1')
        os.close(read_end)
        for index in range(2, 200):
            try:
                server.stdin.write(b'{"jsonrpc":"2.0","id":%d,"method":"$/ping"}\n' % index)
                server.stdin.flush()
            except (BrokenPipeError, OSError):
                break
            time.sleep(0.005)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(server.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the server did not exit after its stdout was closed")
        server.returncode = os.waitstatus_to_exitcode(status)
        assert server.returncode == 0
        # No busy loop on EPIPE: the whole run used well under a second of CPU.
        assert usage.ru_utime + usage.ru_stime < 1.0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_no_arguments_serves_with_the_defaults_and_the_environment(spawn, sandbox_server):
    # Editors start the server with no arguments at all; that start skips the option parser
    # (see Settings.swift), so it must behave exactly like `serve` with its defaults: the
    # upstream from HYPERSTACK_API_URL, the key from HYPERSTACK_API_KEY, auto framing, logs
    # on stderr at info.
    env = {"HYPERSTACK_API_URL": sandbox_server.base_url, "HYPERSTACK_API_KEY": sandbox_server.api_key}
    listings = []
    for args in ((), ("serve",)):
        rpc = spawn(*args, framing="lsp", env=env, secrets=[sandbox_server.api_key])
        result = rpc.call("initialize", {"processId": os.getpid(), "initializationOptions": {}})
        assert result["serverInfo"]["name"] == "hyperstack-rpc"
        generated = rpc.call("apiKeys.generate", {"name": f"no-arguments-{len(listings)}"})
        listing = rpc.call("apiKeys.list")
        assert generated["key"]["id"] in [key["id"] for key in listing["keys"]]
        listings.append(sorted(key["name"] for key in listing["keys"]))
        rpc.call("shutdown")
        rpc.notify("exit")
        assert rpc.proc.wait(timeout=20) == 0
        assert b"serving on stdio" in bytes(rpc.stderr), "the info-level start-up line goes to stderr"
    assert listings[1] == sorted(listings[0] + ["no-arguments-1"])
