"""The shared daemon (issue 12), acceptance 4 and the credential rules.

- a connection from another uid is closed by the daemon (SO_PEERCRED) and logged; the test
  user connects through `setpriv`, once as a plain user (the 0700 directory and 0600 socket
  stop it) and once keeping CAP_DAC_OVERRIDE so that only the daemon's own check can;
- a symlinked, foreign-owned, group- or other-accessible, or not-a-directory socket directory
  is refused with a clear error (exit 1, stderr names the directory), for the default socket
  and for `--listen PATH`;
- the socket directory is 0700, the socket 0600, the log 0600; the default socket lives at
  $XDG_RUNTIME_DIR/hyperstack-rpc/daemon-<fingerprint>.sock, else
  $TMPDIR/hyperstack-rpc-<uid>/daemon-<fingerprint>.sock;
- a socket planted by another user never receives the API key; a daemon that answers with
  another fingerprint is never used;
- credentials are never in the daemon's argv, environment or log.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from daemon_fixtures import (FINGERPRINT, PEER_CLIENT, PEER_SERVER, FakeDaemon, PeerUser, daemon_env,  # noqa: F401
                             daemon_validator, forwarders, hello, mode_of, process_cmdline, process_environ)
from reliability_kit import find_secrets
from sandbox_server import SandboxServer

pytestmark = pytest.mark.timeout(120)


def _start_daemon(daemon_env, forwarders, keep: bool = True) -> dict:
    """Auto-starts a daemon through a forwarder and returns its status. The forwarder stays
    attached unless `keep` is false (then nothing would restart the daemon once stopped)."""
    forwarder = forwarders("--sandbox")
    forwarder.call("apiKeys.list", {}, timeout=30)
    status = daemon_env.wait_status(lambda s: s["sessions"] >= 1)
    if not keep:
        assert forwarder.stop() == 0
        daemon_env.wait_status(lambda s: s["sessions"] == 0)
    return status


def _stop_and_free(daemon_env, path: str) -> None:
    completed = daemon_env.stop()
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    if os.path.exists(path):
        os.unlink(path)


def _wait_for_log(path: str, needle: str, timeout: float = 5) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            text = ""
        if needle in text:
            return text
        time.sleep(0.05)
    return text


# -- modes and paths ---------------------------------------------------------------------

def test_socket_directory_is_0700_and_socket_and_log_are_0600(daemon_env, forwarders):
    status = _start_daemon(daemon_env, forwarders)
    assert FINGERPRINT.match(status.get("fingerprint", "")), status
    socket_path = Path(status["socket"])
    assert socket_path == daemon_env.socket_dir / f"daemon-{status['fingerprint']}.sock"
    directory = os.lstat(daemon_env.socket_dir)
    assert stat.S_ISDIR(directory.st_mode) and directory.st_uid == os.geteuid()
    assert mode_of(daemon_env.socket_dir) == 0o700
    socket_stat = os.lstat(socket_path)
    assert stat.S_ISSOCK(socket_stat.st_mode)
    assert mode_of(socket_path) == 0o600
    assert status["log"] == str(socket_path) + ".log"
    assert mode_of(status["log"]) == 0o600
    for entry in daemon_env.socket_dir.iterdir():
        assert mode_of(entry) & 0o077 == 0, f"{entry} is mode {mode_of(entry):o}"
        assert os.lstat(entry).st_uid == os.geteuid()


def test_without_xdg_runtime_dir_the_socket_is_under_tmpdir(daemon_env):
    completed = daemon_env.run("call", "apiKeys.list", "{}", "--remote", "auto", "--sandbox", xdg=False)
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    code, status, completed = daemon_env.status()
    assert code == 3, "status looked in $XDG_RUNTIME_DIR, which the daemon does not use here"
    completed = daemon_env.run("daemon", "status", xdg=False)
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    status = json.loads(completed.stdout)
    daemon_env.seen_pids.add(status["pid"])
    directory = daemon_env.tmpdir / f"hyperstack-rpc-{os.geteuid()}"
    assert Path(status["socket"]) == directory / f"daemon-{status['fingerprint']}.sock"
    assert mode_of(directory) == 0o700 and mode_of(status["socket"]) == 0o600
    assert not daemon_env.socket_dir.exists()


# -- refused directories -----------------------------------------------------------------

def _prepare(kind: str, directory: Path, peer_uid: int | None) -> None:
    if kind == "symlink":
        target = directory.parent / "elsewhere"
        target.mkdir(mode=0o700)
        os.symlink(target, directory)
    elif kind == "foreign-owned":
        directory.mkdir(mode=0o700)
        os.chown(directory, peer_uid, -1)
    elif kind.startswith("mode-"):
        directory.mkdir()
        os.chmod(directory, int(kind[len("mode-"):], 8))
    elif kind == "not-a-directory":
        directory.write_bytes(b"")
        os.chmod(directory, 0o600)
    else:
        raise ValueError(kind)


REFUSED = ["symlink", "foreign-owned", "mode-0770", "mode-0720", "mode-0750", "mode-0705", "mode-0701",
           "not-a-directory"]


@pytest.mark.parametrize("listen", [False, True], ids=["default-socket", "listen-path"])
@pytest.mark.parametrize("kind", REFUSED)
def test_an_unsafe_socket_directory_is_refused(daemon_env, kind, listen):
    peer_uid = PeerUser().uid if kind == "foreign-owned" else None
    directory = daemon_env.socket_dir if not listen else daemon_env.root / "listen"
    _prepare(kind, directory, peer_uid)
    args = ["daemon", "--idle-timeout", "1"]
    if listen:
        args += ["--listen", str(directory / "d.sock")]
        daemon_env.extra_sockets.add(str(directory / "d.sock"))
    completed = daemon_env.run(*args, timeout=20)
    stderr = completed.stderr.decode(errors="replace")
    assert completed.returncode == 1, (completed.returncode, stderr)
    assert str(directory) in stderr, f"the error does not name {directory}: {stderr!r}"
    assert completed.stdout == b""
    if kind == "symlink":
        assert list((directory.parent / "elsewhere").iterdir()) == [], "the daemon wrote through the symlink"
    if kind.startswith("mode-"):
        assert mode_of(directory) == int(kind[len("mode-"):], 8), "the daemon changed the directory's mode"
        assert [p for p in directory.iterdir()] == [], "the daemon created files in a refused directory"
    assert daemon_env.daemon_pids() == set()


# -- another uid -------------------------------------------------------------------------

def test_a_connection_from_another_uid_is_closed_and_logged(daemon_env, forwarders):
    peer = PeerUser()
    status = _start_daemon(daemon_env, forwarders)
    socket_path, fingerprint = status["socket"], status["fingerprint"]

    # As a plain user the 0700 directory and the 0600 socket already stop it.
    plain = peer.run_python(PEER_CLIENT, socket_path, hello("status", fingerprint))
    outcome = json.loads(plain.stdout)
    assert not outcome["connected"] and "PermissionError" in (outcome["error"] or ""), outcome

    # Past the file modes (CAP_DAC_OVERRIDE), only SO_PEERCRED can stop it.
    for kind in ("status", "session", "stop"):
        members = {"settings": {"sandbox": True}, "credential": None} if kind == "session" else {}
        bypass = peer.run_python(PEER_CLIENT, socket_path, hello(kind, fingerprint, **members),
                                 bypass_file_permissions=True)
        outcome = json.loads(bypass.stdout)
        assert outcome["connected"], f"setpriv could not reach the socket at all: {outcome} {bypass.stderr!r}"
        assert outcome["received"] == "", f"the daemon answered a {kind} hello from uid {peer.uid}: {outcome}"
        assert outcome.get("closed") or (outcome["error"] or "").startswith("recv"), (
            f"the daemon did not close a connection from uid {peer.uid}: {outcome}")

    text = _wait_for_log(status["log"], str(peer.uid))
    assert str(peer.uid) in text, f"the refused connection from uid {peer.uid} is not in {status['log']}"
    after = daemon_env.status_object()
    assert after["pid"] == status["pid"], "the daemon did not survive the foreign connections"


@pytest.mark.parametrize("remote", ["unix", "auto"])
def test_a_socket_planted_by_another_user_never_receives_the_key(daemon_env, forwarders, sandbox_server, remote):
    peer = PeerUser()
    if remote == "auto":
        # Learn the default socket path from a real daemon, then let the other user take it.
        status = _start_daemon(daemon_env, forwarders, keep=False)
        planted, fingerprint = status["socket"], status["fingerprint"]
        _stop_and_free(daemon_env, planted)
    else:
        daemon_env.socket_dir.mkdir(mode=0o700)
        planted = str(daemon_env.socket_dir / "planted.sock")
        fingerprint = "0" * 16
    welcome = json.dumps({"ok": True, "fingerprint": fingerprint, "pid": 1})
    server = subprocess.Popen(peer.python_command(PEER_SERVER, planted, "20", welcome, bypass_file_permissions=True),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert server.stdout.readline().strip() == b"listening", server.stderr.read()
        assert os.lstat(planted).st_uid == peer.uid
        forwarder = forwarders("--cache-ttl", "0", framing="ndjson", sandbox=sandbox_server,
                               remote="auto" if remote == "auto" else f"unix:{planted}")
        response = forwarder.request("apiKeys.list", {}, timeout=15)
        forwarder.stop()
    finally:
        out, err = server.communicate(timeout=30)  # closes its stdin: it stops and reports
    received = [bytes.fromhex(blob) for blob in json.loads(out.splitlines()[-1])]
    leaks = find_secrets({f"connection {i}": blob for i, blob in enumerate(received)}, [sandbox_server.api_key])
    assert leaks == [], f"the API key reached a socket owned by uid {peer.uid}: {leaks}"
    assert all(blob == b"" for blob in received), (
        f"the forwarder talked to a socket owned by another user: {[blob[:120] for blob in received]}")
    # The forwarder still answered (a daemon of our own, or in-process), or said why not.
    print(f"planted socket ({remote}): {len(received)} connection(s); forwarder answered "
          f"{'a result' if 'result' in response else response.get('error')}; stderr: {forwarder.fallback_lines()}")
    assert "result" in response or forwarder.stderr_tail(), response


@pytest.mark.parametrize("remote", ["unix", "auto"])
def test_a_daemon_with_another_fingerprint_is_never_used(daemon_env, forwarders, sandbox_server, remote):
    if remote == "auto":
        status = _start_daemon(daemon_env, forwarders, keep=False)
        path, fingerprint = status["socket"], status["fingerprint"]
        _stop_and_free(daemon_env, path)
    else:
        daemon_env.socket_dir.mkdir(mode=0o700)
        path = str(daemon_env.socket_dir / "old.sock")
        fingerprint = None
    other = "0123456789abcdef" if fingerprint != "0123456789abcdef" else "fedcba9876543210"
    fake = FakeDaemon(path, {"ok": True, "fingerprint": other, "pid": os.getpid()})
    try:
        forwarder = forwarders(framing="lsp", sandbox=sandbox_server,
                               remote="auto" if remote == "auto" else f"unix:{path}")
        response = forwarder.request("apiKeys.list", {}, timeout=15)
        forwarder.stop()
    finally:
        fake.close()
    assert fake.connections, "the forwarder never tried the socket"
    for sent in fake.hellos():
        assert sent.get("hyperstackDaemon") == 1 and FINGERPRINT.match(str(sent.get("fingerprint"))), sent
        assert sent["fingerprint"] != other
    assert all(rest == b"" for rest in fake.after_hello()), (
        f"the forwarder sent JSON-RPC to a daemon with fingerprint {other}: {fake.after_hello()}")
    assert "result" in response, response


# -- credentials -------------------------------------------------------------------------

def test_credentials_are_never_in_the_daemons_argv_environment_or_log(daemon_env, forwarders, tmp_path):
    env_key = "e2e-env-key-" + os.urandom(12).hex()
    file_key = "e2e-file-key-" + os.urandom(12).hex()
    init_key = "e2e-init-key-" + os.urandom(12).hex()
    sandbox = SandboxServer("--api-key", file_key, "--api-key", init_key, api_key=env_key)
    try:
        key_file = tmp_path / "key"
        key_file.write_text(file_key + "\n")
        os.chmod(key_file, 0o600)
        by_env = forwarders(framing="ndjson", sandbox=sandbox)
        by_file = forwarders("--base-url", sandbox.base_url, "--api-key-file", str(key_file), framing="lsp",
                             secrets=[file_key])
        by_init = forwarders("--base-url", sandbox.base_url, framing="ndjson", secrets=[init_key])
        by_init.call("initialize", {"initializationOptions": {"apiKey": init_key}})
        generated = []
        for index, forwarder in enumerate((by_env, by_file, by_init)):
            assert forwarder.call("apiKeys.list", {}, timeout=30)["keys"] is not None
            generated.append(forwarder.call("apiKeys.generate", {"name": f"cred-{index}"}, timeout=30)["key"]["secret"])
        completed = daemon_env.call("apiKeys.list", {}, "--base-url", sandbox.base_url,
                                    env={"HYPERSTACK_API_KEY": env_key})
        assert completed.returncode == 0, completed.stderr.decode(errors="replace")
        status = daemon_env.wait_status(lambda s: s["sessions"] == 3)
        keyed = [store for store in status["stores"] if store["keyFingerprint"] is not None]
        assert len(keyed) == 3 and len({store["keyFingerprint"] for store in keyed}) == 3, status["stores"]
        pid = status["pid"]
        secrets = [env_key, file_key, init_key, *generated]
        environ = process_environ(pid)
        names = [entry.split(b"=", 1)[0] for entry in environ.split(b"\0") if entry]
        assert b"HYPERSTACK_API_KEY" not in names, "the daemon's environment holds HYPERSTACK_API_KEY"
        blobs = {"cmdline": process_cmdline(pid), "environ": environ,
                 "status output": json.dumps(status).encode()}
        for forwarder in (by_env, by_file, by_init):
            forwarder.stop()
        daemon_env.wait_status(lambda s: s["sessions"] == 0)
        assert daemon_env.stop().returncode == 0
        blobs["log"] = Path(status["log"]).read_bytes()
        assert blobs["log"], "the daemon's log is empty"
        assert find_secrets(blobs, secrets) == []
    finally:
        sandbox.stop()


def test_credentials_stay_out_of_a_trace_level_daemon_log(daemon_env, forwarders, sandbox_server):
    help_text = daemon_env.run("daemon", "run", "--help").stdout.decode(errors="replace")
    if "--log-level" not in help_text:
        pytest.skip("`daemon` takes no --log-level")
    daemon = daemon_env.start_foreground("--log-level", "trace", "--idle-timeout", "0")
    status = daemon_env.wait_status(timeout=15)
    assert status["pid"] == daemon.pid
    forwarder = forwarders(framing="ndjson", sandbox=sandbox_server)
    forwarder.call("apiKeys.list", {}, timeout=30)
    secret = forwarder.call("apiKeys.generate", {"name": "traced"}, timeout=30)["key"]["secret"]
    forwarder.call("apiKeys.list", {"refresh": True}, timeout=30)
    forwarder.stop()
    assert daemon_env.stop().returncode == 0
    daemon.wait(timeout=15)
    blobs = {"log": Path(status["log"]).read_bytes(), "stderr": daemon.stderr_path.read_bytes(),
             "stdout": daemon.stdout_path.read_bytes()}
    assert blobs["log"] or blobs["stderr"], "a trace-level daemon logged nothing"
    assert find_secrets(blobs, [sandbox_server.api_key, secret]) == []
