"""Issue 10, the process and file items: each test spawns the real binaries and is named after
the item it keeps fixed (4 files we write, 5 one state file per process, 8 log injection,
9 a result that cannot be written and the crash report, 10 closed standard descriptors,
11 signals, 15 files we read, 16 the sandbox's control endpoints)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from hostile_upstream import FORGED_LINE, HostileUpstream
from rpc_process import RpcProcess, binary_path
from sandbox_server import SandboxServer

#: A uid no account on the test machine uses: files chown'ed to it belong to "someone else".
OTHER_UID = 4242
#: Runs a child as an unprivileged user, for the one test that needs permission denied as root.
NOBODY_UID = 65534


def run(*args: str, env: dict | None = None, timeout: float = 30, **kwargs) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("HYPERSTACK_API_KEY", None)
    full_env.update(env or {})
    if "stdout" not in kwargs and "stderr" not in kwargs:
        kwargs["capture_output"] = True
    kwargs.pop("capture_output", None) if kwargs.get("capture_output") is False else None
    return subprocess.run([binary_path(), *args], env=full_env, timeout=timeout, **kwargs)


def text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def list_request() -> bytes:
    return b'{"jsonrpc":"2.0","id":1,"method":"apiKeys.list"}\n'


# -- item 4: files we write -----------------------------------------------------------------

def test_hardening_04_log_file_symlink_refused(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("precious\n")
    target.chmod(0o644)
    link = tmp_path / "server.log"
    link.symlink_to(target)
    result = run("--sandbox", "--log-file", str(link), input=list_request())
    assert result.returncode != 0, "a symlinked --log-file was followed"
    assert str(link) in text(result.stderr) and "symbolic link" in text(result.stderr), text(result.stderr)
    assert target.read_text() == "precious\n", "the symlink's target was written to"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644, "the symlink's target was re-moded"
    assert result.stdout == b"", "answered although the log file was refused"


def test_hardening_04_foreign_log_file_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")
    log = tmp_path / "planted.log"
    log.write_text("")
    log.chmod(0o666)
    os.chown(log, OTHER_UID, OTHER_UID)
    result = run("--sandbox", "--log-file", str(log), "--log-level", "trace", input=list_request())
    assert result.returncode != 0, "another user's 0666 log file was reused"
    assert str(log) in text(result.stderr) and f"uid {OTHER_UID}" in text(result.stderr), text(result.stderr)
    assert log.read_bytes() == b"", "our log went into another user's file"
    assert stat.S_IMODE(log.stat().st_mode) == 0o666, "another user's file was re-moded"


def test_hardening_04_our_open_log_file_refused_not_chmodded(tmp_path: Path) -> None:
    log = tmp_path / "open.log"
    log.write_text("")
    log.chmod(0o644)
    result = run("--sandbox", "--log-file", str(log), input=list_request())
    assert result.returncode != 0
    assert "chmod 600" in text(result.stderr), text(result.stderr)
    assert stat.S_IMODE(log.stat().st_mode) == 0o644


def test_hardening_04_state_file_symlink_refused(tmp_path: Path) -> None:
    real = tmp_path / "real-state.json"
    real.write_text(json.dumps({"version": 1, "next_id": 1, "keys": []}))
    real.chmod(0o600)
    link = tmp_path / "state.json"
    link.symlink_to(real)
    result = run("call", "apiKeys.list", "{}", "--sandbox", "--sandbox-state", str(link))
    assert result.returncode != 0, "a symlinked --sandbox-state was followed"
    assert str(link) in text(result.stderr) and "symbolic link" in text(result.stderr), text(result.stderr)
    assert link.is_symlink()


def test_hardening_04_new_log_file_is_0600_in_a_sticky_directory(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    log = shared / "new.log"
    result = run("--sandbox", "--log-file", str(log), "--log-level", "debug", input=list_request())
    assert result.returncode == 0, text(result.stderr)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    # ...but a directory anyone may write to without the sticky bit is refused.
    shared.chmod(0o777)
    result = run("--sandbox", "--log-file", str(shared / "other.log"), input=list_request())
    assert result.returncode != 0 and "not sticky" in text(result.stderr), text(result.stderr)


# -- item 5: one process per state file -----------------------------------------------------

def test_hardening_05_second_server_on_state_refused(spawn, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = spawn("--sandbox", "--sandbox-state", str(state))
    first.call("apiKeys.generate", {"name": "from-first"})
    second = run("--sandbox", "--sandbox-state", str(state), input=list_request(), timeout=20)
    assert second.returncode != 0, f"a second server shared the state file: {text(second.stdout)}"
    message = text(second.stderr)
    assert str(state) in message and "another process" in message, message
    # The first one is unharmed and its key is still there.
    assert [key["name"] for key in first.call("apiKeys.list", {"refresh": True})["keys"]] == ["from-first"]
    assert first.stop() == 0
    # Once it is gone, the file is free again.
    again = run("call", "apiKeys.list", "{}", "--sandbox", "--sandbox-state", str(state))
    assert again.returncode == 0, text(again.stderr)
    assert [key["name"] for key in json.loads(again.stdout)["keys"]] == ["from-first"]


def test_hardening_05_second_http_sandbox_on_state_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = SandboxServer("--state", str(state))
    try:
        second = subprocess.run(
            [binary_path("hyperstack-sandbox"), "--port", "0", "--api-key", "k", "--state", str(state)],
            capture_output=True, timeout=20)
        assert second.returncode != 0, "a second sandbox shared the state file"
        assert "another process" in text(second.stderr), text(second.stderr)
    finally:
        first.stop()


# -- item 8: log injection ------------------------------------------------------------------

@pytest.mark.parametrize("destination", ["stderr", "file"])
def test_hardening_08_log_injection_escaped(spawn, tmp_path: Path, destination: str) -> None:
    log = tmp_path / "server.log"
    args = ["--log-level", "trace", "--poll-interval", "0.2"]
    if destination == "file":
        args += ["--log-file", str(log)]
    with HostileUpstream(mode="log_injection") as upstream:
        rpc = upstream.spawn_rpc(spawn, *args)
        response = rpc.request("apiKeys.list", {"refresh": True})
        assert "error" in response
        time.sleep(1.0)  # a few polls, which log their failures
        rpc.stop()
    written = log.read_text() if destination == "file" else rpc.stderr.decode("utf-8", "replace")
    assert "forged" in written, f"the hostile text never reached the log, so nothing was tested:\n{written[-2000:]}"
    assert not [line for line in written.split("\n") if line.startswith(FORGED_LINE)], "a log line was forged"
    assert "\r" not in written and "\x1b" not in written and "\u2028" not in written, "raw control characters in the log"


# -- item 9: a result that cannot be written; the crash report ------------------------------

def test_hardening_09_call_to_dev_full(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with open("/dev/full", "wb") as full:
        result = run("call", "apiKeys.generate", '{"name":"lost"}', "--sandbox", "--sandbox-state", str(state),
                     stdout=full, stderr=subprocess.PIPE, capture_output=False)
    assert result.returncode > 0, f"exit status {result.returncode} (negative: killed by a signal)"
    message = text(result.stderr)
    assert "succeeded" in message and "secret could not be delivered" in message, message
    # The key exists, and nothing printed its secret: its last four characters are in the list.
    listed = run("call", "apiKeys.list", "{}", "--sandbox", "--sandbox-state", str(state))
    keys = json.loads(listed.stdout)["keys"]
    assert [key["name"] for key in keys] == ["lost"]
    assert keys[0]["maskedKey"][-4:] not in message.replace(str(state), "")


def test_hardening_09_call_to_closed_pipe_is_reported(tmp_path: Path) -> None:
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = run("call", "apiKeys.list", "{}", "--sandbox", stdout=writer, stderr=subprocess.PIPE,
                     capture_output=False)
    finally:
        os.close(writer)
    assert result.returncode > 0, f"exit status {result.returncode}"
    assert "succeeded" in text(result.stderr), text(result.stderr)


def test_hardening_09_crash_report_shows_no_registers_or_memory() -> None:
    key = "crash-report-key-0123456789abcdef"
    env = dict(os.environ, HYPERSTACK_API_KEY=key)
    env.pop("SWIFT_BACKTRACE", None)
    proc = subprocess.Popen([binary_path()], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    try:
        proc.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"$/ping"}\n')
        proc.stdin.flush()
        assert proc.stdout.readline(), "no answer before the crash"
        proc.send_signal(signal.SIGSEGV)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    report = text(stderr)
    assert proc.returncode != 0
    assert "Registers:" not in report and "\nrax " not in report, "the crash report dumps registers and memory"
    assert "Images" not in report, "the crash report lists every image"
    assert key not in report and key[:8] not in report


# -- item 10: closed standard descriptors ---------------------------------------------------

@pytest.mark.parametrize("also_stderr", [False, True], ids=["stdout", "stdout-and-stderr"])
def test_hardening_10_closed_stdout(also_stderr: bool) -> None:
    def close_descriptors() -> None:
        os.close(1)
        if also_stderr:
            os.close(2)

    env = dict(os.environ)
    env.pop("HYPERSTACK_API_KEY", None)
    proc = subprocess.Popen([binary_path(), "--sandbox"], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=close_descriptors, env=env)
    _, stderr = proc.communicate(list_request(), timeout=20)
    assert proc.returncode != 0, "served with no stdout and said it succeeded"
    if not also_stderr:
        assert "standard output" in text(stderr), text(stderr)


def test_hardening_10_read_only_stdout(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("")
    with open(path, "rb") as read_only:
        result = run("--sandbox", input=list_request(), stdout=read_only, stderr=subprocess.PIPE,
                     capture_output=False)
    assert result.returncode != 0
    assert "standard output" in text(result.stderr), text(result.stderr)


def test_hardening_10_closed_stdin_is_empty_input() -> None:
    env = dict(os.environ)
    env.pop("HYPERSTACK_API_KEY", None)
    proc = subprocess.Popen([binary_path(), "--sandbox"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: os.close(0), env=env)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, text(stderr)
    assert stdout == b""


# -- item 11: signals -----------------------------------------------------------------------

def test_hardening_11_sighup_drains(spawn, sandbox_server) -> None:
    rpc = sandbox_server.spawn_rpc(spawn)
    rpc.call("apiKeys.list")
    sandbox_server.faults({"method": "GET", "path": "/api-key", "latency_ms": 1000, "count": 1})
    id = rpc.start_request("apiKeys.list", {"refresh": True})
    time.sleep(0.3)
    rpc.proc.send_signal(signal.SIGHUP)
    response = rpc.wait_response(id, timeout=15)
    assert "result" in response, response
    assert rpc.wait_exit() == 0


def test_hardening_11_sigusr1_logs_status_and_sigusr2_is_ignored(spawn) -> None:
    rpc = spawn("--sandbox", "--log-level", "notice")
    rpc.call("apiKeys.list")
    rpc.proc.send_signal(signal.SIGUSR2)
    rpc.proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while b"status:" not in rpc.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    status_lines = [line for line in text(bytes(rpc.stderr)).splitlines() if "status:" in line]
    assert len(status_lines) == 1, text(bytes(rpc.stderr))
    assert "hyperstack-rpc" in status_lines[0] and "up " in status_lines[0]
    assert rpc.call("$/ping") == {}
    assert rpc.stop() == 0


# -- item 15: files we read -----------------------------------------------------------------

def test_hardening_15_readable_api_key_file_warns(sandbox_server, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(sandbox_server.api_key + "\n")
    key_file.chmod(0o644)
    result = run("call", "apiKeys.list", "{}", "--base-url", sandbox_server.base_url, "--api-key-file", str(key_file))
    assert result.returncode == 0, text(result.stderr)
    warning = text(result.stderr)
    assert "warning" in warning and str(key_file) in warning and "chmod 600" in warning, warning
    assert sandbox_server.api_key not in warning
    key_file.chmod(0o600)
    quiet = run("call", "apiKeys.list", "{}", "--base-url", sandbox_server.base_url, "--api-key-file", str(key_file))
    assert quiet.returncode == 0 and b"warning" not in quiet.stderr, text(quiet.stderr)


def test_hardening_15_foreign_api_key_file_refused(sandbox_server, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")
    key_file = tmp_path / "key"
    key_file.write_text(sandbox_server.api_key + "\n")
    key_file.chmod(0o600)
    os.chown(key_file, OTHER_UID, OTHER_UID)
    result = run("call", "apiKeys.list", "{}", "--base-url", sandbox_server.base_url, "--api-key-file", str(key_file))
    assert result.returncode != 0, "another user's API key file was used"
    message = text(result.stderr)
    assert str(key_file) in message and f"uid {OTHER_UID}" in message, message
    assert sandbox_server.api_key not in message
    assert sandbox_server.upstream_requests() == 0


def test_hardening_15_foreign_state_file_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"version": 1, "next_id": 1, "keys": []}))
    state.chmod(0o600)
    os.chown(state, OTHER_UID, OTHER_UID)
    result = run("call", "apiKeys.list", "{}", "--sandbox", "--sandbox-state", str(state))
    assert result.returncode != 0, "another user's state file was loaded"
    assert str(state) in text(result.stderr) and f"uid {OTHER_UID}" in text(result.stderr), text(result.stderr)
    sandbox = subprocess.run([binary_path("hyperstack-sandbox"), "--port", "0", "--api-key", "k", "--state", str(state)],
                             capture_output=True, timeout=20)
    assert sandbox.returncode != 0 and f"uid {OTHER_UID}" in text(sandbox.stderr), text(sandbox.stderr)


def test_hardening_15_unwritable_state_directory_names_the_cause() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run the server as another user")
    base = Path(tempfile.mkdtemp(prefix="hardening-15-"))
    try:
        base.chmod(0o755)
        directory = base / "read-only-for-them"
        directory.mkdir(mode=0o755)
        state = directory / "state.json"

        def as_nobody() -> None:
            os.setgid(NOBODY_UID)
            os.setuid(NOBODY_UID)

        result = run("call", "apiKeys.generate", '{"name":"a"}', "--sandbox", "--sandbox-state", str(state),
                     preexec_fn=as_nobody, cwd="/")
        message = text(result.stderr)
        assert result.returncode != 0
        assert f"cannot save sandbox state to {state}" in message and "permission denied" in message.lower(), message
        assert "HTTP 500" not in message, message
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)


# -- item 16: the sandbox's control endpoints ----------------------------------------------

def test_hardening_16_sandbox_refuses_non_loopback_host() -> None:
    result = subprocess.run([binary_path("hyperstack-sandbox"), "--host", "0.0.0.0", "--port", "0", "--api-key", "k"],
                            capture_output=True, timeout=20)
    assert result.returncode != 0, f"listened on every interface: {text(result.stdout)}"
    message = text(result.stderr)
    assert "loopback" in message and "--allow-remote-control" in message, message
    assert result.stdout == b""


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_hardening_16_sandbox_accepts_loopback_hosts(host: str) -> None:
    proc = subprocess.Popen([binary_path("hyperstack-sandbox"), "--host", host, "--port", "0", "--api-key", "k"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("http://"), proc.stderr.read1(4096) if proc.poll() is not None else line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_hardening_16_remote_control_needs_the_flag_and_help_says_so() -> None:
    proc = subprocess.Popen([binary_path("hyperstack-sandbox"), "--host", "0.0.0.0", "--port", "0", "--api-key", "k",
                             "--allow-remote-control"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline().decode().startswith("http://0.0.0.0:")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    help_text = subprocess.run([binary_path("hyperstack-sandbox"), "--help"], capture_output=True, timeout=20).stdout
    assert b"loopback" in help_text and b"--allow-remote-control" in help_text
