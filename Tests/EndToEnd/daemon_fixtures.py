"""What the shared-daemon suites (test_daemon_*.py, issue 12) need beyond the common helpers.

- `DaemonEnv`: a private XDG_RUNTIME_DIR and TMPDIR (fresh, 0700) for one test, so tests never
  share a daemon; runs `hyperstack-rpc daemon status|stop` and `call --remote auto` in it, finds
  the daemon processes that live in it (from /proc), and stops every one of them at teardown
  (`daemon stop --remote unix:SOCKET`, then SIGKILL to whatever is still alive).
- `Forwarder`: an `RpcProcess` started with `--remote auto` (or `unix:PATH`) in that
  environment, which also records when each message arrived (the fan-out test needs it).
- fixtures `daemon_env` and `forwarders`; a module uses them with
  `from daemon_fixtures import daemon_env, forwarders  # noqa: F401`. The forwarders are stopped
  before the daemon is, so a forwarder never sees its daemon vanish and starts another one.
- `PeerUser`: a second local user (created with `useradd` when missing) and a way to run
  Python as that user through `setpriv`, for the SO_PEERCRED tests.
- `FakeDaemon`: a Unix socket server that speaks the hello line of the daemon protocol and
  records every byte it is sent.

The OpenRPC document the messages are held to is protocol/openrpc.json of this repository, or
$HYPERSTACK_OPENRPC when set (to run this suite against another checkout's binary).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Reliability"))

from protocol_schema import ProtocolValidator  # noqa: E402
from reliability_kit import is_running, wait_gone  # noqa: E402
from rpc_process import RpcProcess, binary_path  # noqa: E402

#: Exit status of `daemon status` / `daemon stop` when no daemon runs.
NO_DAEMON = 3
#: Error code of a mutation whose outcome the forwarder cannot know (its daemon went away).
OUTCOME_UNKNOWN = 1504
#: Environment variables a test process may carry that would change what a child does.
_SCRUBBED = ("HYPERSTACK_API_KEY", "HYPERSTACK_ACCESS_TOKEN", "HYPERSTACK_RPC_REMOTE", "HYPERSTACK_API_URL", "XDG_RUNTIME_DIR", "TMPDIR",
             "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")
#: The status object's members, as the issue lists them.
STATUS_FIELDS = {"pid", "version", "socket", "startedAt", "sessions", "stores", "upstreamRequests", "rateBudget", "log"}
STORE_FIELDS = {"upstream", "keyFingerprint", "accessTokenFingerprint", "revision", "keys", "pollInterval", "sessions"}


def load_validator() -> ProtocolValidator:
    return ProtocolValidator.load(os.environ.get("HYPERSTACK_OPENRPC") or None)


def fallback_lines(stderr: bytes | bytearray) -> list[str]:
    """Lines a forwarder writes to stderr outside the log format: the in-process notice is one
    (`hyperstack-rpc: ...`); log lines start with a timestamp."""
    return [line for line in bytes(stderr).decode("utf-8", "replace").splitlines()
            if line.startswith("hyperstack-rpc: ")]


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [part.decode("utf-8", "replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return []


def process_environ(pid: int) -> bytes:
    with open(f"/proc/{pid}/environ", "rb") as handle:
        return handle.read()


def process_cmdline(pid: int) -> bytes:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read()


def is_daemon_cmdline(argv: list[str]) -> bool:
    """hyperstack-rpc ... daemon ..., but not the `daemon status` / `daemon stop` clients, nor a
    forwarder's private `daemon session`."""
    if not argv or "hyperstack-rpc" not in os.path.basename(argv[0]):
        return False
    return "daemon" in argv[1:] and not ({"status", "stop", "session"} & set(argv[1:]))


def all_daemon_pids() -> set[int]:
    """Every live process on the machine that runs hyperstack-rpc as a daemon."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and is_daemon_cmdline(_cmdline(int(entry))) and is_running(int(entry)):
            found.add(int(entry))
    return found


class DaemonEnv:
    """One test's private runtime directory, and the daemons that live in it."""

    def __init__(self) -> None:
        # Short paths: a Unix socket path has at most 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="hsd-", dir="/tmp"))
        os.chmod(self.root, 0o700)
        self.runtime_dir = self.root / "run"
        self.tmpdir = self.root / "tmp"
        for directory in (self.runtime_dir, self.tmpdir):
            directory.mkdir(mode=0o700)
            os.chmod(directory, 0o700)
        self.env = {"XDG_RUNTIME_DIR": str(self.runtime_dir), "TMPDIR": str(self.tmpdir)}
        #: Sockets given with --listen/--remote outside the default directory, for teardown.
        self.extra_sockets: set[str] = set()
        #: Daemon pids seen by this test (from `daemon status`), for teardown.
        self.seen_pids: set[int] = set()
        #: Daemons the test runs in the foreground as its own children.
        self.children: list[subprocess.Popen] = []

    # -- paths ---------------------------------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        """Where the default socket lives: $XDG_RUNTIME_DIR/hyperstack-rpc."""
        return self.runtime_dir / "hyperstack-rpc"

    def sockets(self) -> list[str]:
        found = set(self.extra_sockets)
        for directory in self.root.rglob("*"):
            try:
                if directory.is_dir() and not directory.is_symlink():
                    for candidate in directory.glob("*.sock"):
                        found.add(str(candidate))
            except OSError:
                continue
        return sorted(found)

    # -- running the binary --------------------------------------------------------------
    def child_env(self, extra: Optional[dict] = None, xdg: bool = True) -> dict:
        env = {name: value for name, value in os.environ.items() if name not in _SCRUBBED}
        env.setdefault("HYPERSTACK_RPC_TEST_METHODS", "1")
        env.update(self.env)
        if not xdg:
            env.pop("XDG_RUNTIME_DIR", None)
        if extra:
            env.update(extra)
        return env

    def run(self, *args: str, env: Optional[dict] = None, timeout: float = 30, input: Optional[bytes] = None,
            xdg: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([binary_path(), *args], capture_output=True, env=self.child_env(env, xdg=xdg),
                              timeout=timeout, input=input, stdin=None if input is not None else subprocess.DEVNULL)

    def call(self, method: str, params: Any = None, *args: str, remote: str = "auto", env: Optional[dict] = None,
             timeout: float = 30) -> subprocess.CompletedProcess:
        """`hyperstack-rpc call METHOD PARAMS --remote REMOTE ARGS...`"""
        text = params if isinstance(params, str) else json.dumps(params if params is not None else {})
        return self.run("call", method, text, "--remote", remote, *args, env=env, timeout=timeout)

    def status(self, remote: Optional[str] = None, timeout: float = 20) -> tuple[int, Optional[dict], subprocess.CompletedProcess]:
        """(exit status, the status object or None, the completed process)."""
        args = ["daemon", "status"] + (["--remote", remote] if remote else [])
        completed = self.run(*args, timeout=timeout)
        document = None
        if completed.returncode == 0:
            document = json.loads(completed.stdout)
            if isinstance(document, dict) and isinstance(document.get("pid"), int):
                self.seen_pids.add(document["pid"])
        return completed.returncode, document, completed

    def status_object(self, remote: Optional[str] = None) -> dict:
        code, document, completed = self.status(remote)
        assert code == 0 and isinstance(document, dict), (
            f"daemon status exited {code}: {completed.stdout!r} {completed.stderr.decode(errors='replace')}")
        return document

    def wait_status(self, predicate: Callable[[dict], bool] = lambda _: True, timeout: float = 10,
                    remote: Optional[str] = None) -> dict:
        """Polls `daemon status` until it answers and `predicate` holds; returns the object."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            code, document, completed = self.status(remote)
            last = document if document is not None else (code, completed.stderr.decode(errors="replace"))
            if document is not None and predicate(document):
                return document
            if time.monotonic() > deadline:
                raise AssertionError(f"daemon status never satisfied the condition within {timeout}s; last: {last}")
            time.sleep(0.05)

    def stop(self, remote: Optional[str] = None, timeout: float = 30) -> subprocess.CompletedProcess:
        args = ["daemon", "stop"] + (["--remote", remote] if remote else [])
        return self.run(*args, timeout=timeout)

    def start_foreground(self, *args: str, env: Optional[dict] = None, reap: bool = True) -> subprocess.Popen:
        """`hyperstack-rpc daemon ARGS` as a child of the test (stdout and stderr to files).
        With `reap`, a thread waits for it, as a supervisor would, so it never lingers as a
        zombie (which `kill(pid, 0)` still finds)."""
        out = open(self.root / f"daemon-{len(self.children)}.out", "wb")
        err = open(self.root / f"daemon-{len(self.children)}.err", "wb")
        process = subprocess.Popen([binary_path(), "daemon", *args], stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=err, env=self.child_env(env))
        out.close()
        err.close()
        process.stdout_path = self.root / f"daemon-{len(self.children)}.out"  # type: ignore[attr-defined]
        process.stderr_path = self.root / f"daemon-{len(self.children)}.err"  # type: ignore[attr-defined]
        self.children.append(process)
        if reap:
            threading.Thread(target=process.wait, daemon=True).start()
        return process

    # -- processes -----------------------------------------------------------------------
    def daemon_pids(self) -> set[int]:
        """Live daemon processes that hold a file under this test's root (their lock or log)."""
        root = str(self.root)
        extra_dirs = {str(Path(s).parent) for s in self.extra_sockets}
        found = set()
        for pid in all_daemon_pids():
            try:
                links = [_readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            except OSError:
                continue
            if any(link.startswith(root) or any(link.startswith(d + "/") for d in extra_dirs) for link in links):
                found.add(pid)
        return found

    def kill_daemons(self, pids: Optional[Iterable[int]] = None, sig: int = signal.SIGKILL) -> set[int]:
        targets = set(pids) if pids is not None else self.daemon_pids()
        for pid in targets:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        for pid in targets:
            assert wait_gone(pid, 10), f"daemon {pid} still alive 10 s after signal {sig}"
        return targets

    def teardown(self) -> list[str]:
        """Stops every daemon of this test; returns what needed force (for the report)."""
        notes = []
        for sock in self.sockets():
            try:
                if os.path.exists(sock):
                    self.stop(remote=f"unix:{sock}", timeout=20)
            except (subprocess.TimeoutExpired, OSError) as error:
                notes.append(f"daemon stop on {sock}: {error}")
        leftovers = {pid for pid in self.seen_pids if is_running(pid) and is_daemon_cmdline(_cmdline(pid))}
        leftovers |= self.daemon_pids()
        for pid in leftovers:
            notes.append(f"daemon {pid} survived `daemon stop`; SIGKILL")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_gone(pid, 10)
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=10)
        _force_remove(self.root)
        return notes


def _force_remove(root: Path) -> None:
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            path = os.path.join(directory, name)
            try:
                if os.geteuid() == 0:
                    os.lchown(path, 0, 0)  # a foreign-owned directory of a refusal test
                if not os.path.islink(path):
                    os.chmod(path, 0o700)
            except OSError:
                pass
    shutil.rmtree(root, ignore_errors=True)


class Forwarder(RpcProcess):
    """A forwarder (`--remote ...`) over pipes; `arrived_at[i]` is when `arrived[i]` was read."""

    def __init__(self, *args: str, **kwargs: Any) -> None:
        self.arrived_at: list[float] = []
        super().__init__(*args, **kwargs)

    def _deliver(self, body: bytes) -> None:
        self.arrived_at.append(time.monotonic())
        super()._deliver(body)

    def arrival_of(self, message: Any) -> float:
        for index, candidate in enumerate(list(self.arrived)):
            if candidate is message:
                return self.arrived_at[index]
        raise AssertionError(f"{message!r} did not come from this forwarder")

    def responses(self, ids: Iterable[Any], timeout: float = 30) -> dict:
        """Waits for the response to each id; returns {id: response}."""
        deadline = time.monotonic() + timeout
        return {id: self.wait_response(id, max(0.1, deadline - time.monotonic())) for id in ids}

    def fallback_lines(self) -> list[str]:
        return fallback_lines(self.stderr)


@pytest.fixture
def daemon_env() -> Iterator[DaemonEnv]:
    environment = DaemonEnv()
    yield environment
    notes = environment.teardown()
    if notes:
        print("daemon teardown: " + "; ".join(notes), file=sys.stderr)


@pytest.fixture(scope="session")
def daemon_validator() -> ProtocolValidator:
    return load_validator()


@pytest.fixture
def forwarders(daemon_env: DaemonEnv, daemon_validator: ProtocolValidator) -> Iterator[Callable[..., Forwarder]]:
    """Starts forwarders in `daemon_env`; all are stopped (and their streams checked) before the
    daemon is. `sandbox=` points one at an HTTP sandbox with that sandbox's key in
    HYPERSTACK_API_KEY; `remote=` is `auto` unless given."""
    started: list[Forwarder] = []

    def start(*args: str, framing: str = "ndjson", remote: str = "auto", sandbox: Any = None,
              env: Optional[dict] = None, secrets: Iterable[str] = (), validate: bool = True,
              api_key: Optional[str] = None) -> Forwarder:
        extra = dict(daemon_env.env)
        secrets = list(secrets)
        if sandbox is not None:
            args = ("--base-url", sandbox.base_url, *args)
            key = api_key or sandbox.api_key
            extra["HYPERSTACK_API_KEY"] = key
            secrets.append(key)
        extra.update(env or {})
        forwarder = Forwarder("--remote", remote, *args, framing=framing, env=extra,
                              validator=daemon_validator if validate else None, secrets=secrets)
        started.append(forwarder)
        return forwarder

    yield start
    problems = []
    for forwarder in started:
        if forwarder.proc.poll() is None:
            forwarder.stop()
    for forwarder in started:
        try:
            forwarder.check_clean()
        except AssertionError as error:
            problems.append(str(error))
    assert not problems, "\n".join(problems)


# -- another user --------------------------------------------------------------------------

PEER_USER = "hsrpc-e2e-peer"


class PeerUser:
    """A second local account, for connections from another uid."""

    def __init__(self) -> None:
        if os.geteuid() != 0:
            pytest.skip("needs root to create a second user and run as it")
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv (util-linux)")
        try:
            import pwd
            entry = pwd.getpwnam(PEER_USER)
        except KeyError:
            if shutil.which("useradd") is None:
                pytest.skip("needs useradd to create a second user")
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PEER_USER],
                           check=True, capture_output=True)
            import pwd
            entry = pwd.getpwnam(PEER_USER)
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid
        # The test's own interpreter may live under /root (0700); the system one is readable.
        self.python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

    def python_command(self, code: str, *args: str, bypass_file_permissions: bool = False) -> list[str]:
        """`python3 -c CODE ARGS` as this user. With `bypass_file_permissions` it keeps
        CAP_DAC_OVERRIDE, so it can reach a socket in a 0700 directory of ours: the file
        modes then do not stop it, and only the daemon's SO_PEERCRED check can."""
        command = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups"]
        if bypass_file_permissions:
            command += ["--inh-caps=+dac_override", "--ambient-caps=+dac_override"]
        return command + [self.python, "-c", code, *args]

    def run_python(self, code: str, *args: str, bypass_file_permissions: bool = False,
                   timeout: float = 20) -> subprocess.CompletedProcess:
        return subprocess.run(self.python_command(code, *args, bypass_file_permissions=bypass_file_permissions),
                              capture_output=True, timeout=timeout)


#: Connects to argv[1], writes argv[2] (a hello line), prints JSON {"connected", "error",
#: "received"} with what came back before the daemon closed (or 5 s passed).
PEER_CLIENT = r"""
import json, socket, sys, time
result = {"connected": False, "error": None, "received": ""}
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    result["connected"] = True
    try:
        s.sendall(sys.argv[2].encode() + b"\n")
    except OSError as error:
        result["error"] = "send: " + type(error).__name__
    data = b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            result["error"] = "timeout: still open after 5 s"
            break
        except OSError as error:
            result["error"] = "recv: " + type(error).__name__
            break
        if not chunk:
            result["closed"] = True
            break
        data += chunk
    result["received"] = data.decode("utf-8", "replace")
except OSError as error:
    result["error"] = "connect: " + type(error).__name__ + ": " + str(error)
print(json.dumps(result))
"""

#: Listens on argv[1] (mode 0666) until its stdin closes or argv[2] seconds pass, answering each
#: hello line with argv[3]; writes every byte received, hex-encoded per connection, to stdout as
#: JSON at the end.
PEER_SERVER = r"""
import json, os, socket, sys, threading, time
path, seconds, welcome = sys.argv[1], float(sys.argv[2]), sys.argv[3]
closed = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
os.chmod(path, 0o666)
server.listen(16)
server.settimeout(0.1)
received = []
print("listening", flush=True)
def serve(conn, index):
    data = b""
    answered = False
    conn.settimeout(0.2)
    end = time.monotonic() + seconds
    while time.monotonic() < end and not closed.is_set():
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        received[index] = data.hex()
        if not answered and b"\n" in data:
            answered = True
            try:
                conn.sendall(welcome.encode() + b"\n")
            except OSError:
                break
end = time.monotonic() + seconds
threads = []
while time.monotonic() < end and not closed.is_set():
    try:
        conn, _ = server.accept()
    except socket.timeout:
        continue
    received.append("")
    thread = threading.Thread(target=serve, args=(conn, len(received) - 1), daemon=True)
    thread.start()
    threads.append(thread)
for thread in threads:
    thread.join(1)
print(json.dumps(received), flush=True)
"""


class FakeDaemon:
    """A Unix socket server of ours that answers every hello line with `welcome` and records
    what each connection sent."""

    def __init__(self, path: str | Path, welcome: dict) -> None:
        self.path = str(path)
        self.welcome = json.dumps(welcome).encode() + b"\n"
        self.connections: list[bytearray] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        os.chmod(self.path, 0o600)
        self._server.listen(16)
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self._server.settimeout(0.1)
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            buffer = bytearray()
            self.connections.append(buffer)
            threading.Thread(target=self._serve, args=(conn, buffer), daemon=True).start()

    def _serve(self, conn: socket.socket, buffer: bytearray) -> None:
        answered = False
        conn.settimeout(0.1)
        while not self._closed.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            buffer.extend(chunk)
            if not answered and b"\n" in buffer:
                answered = True
                try:
                    conn.sendall(self.welcome)
                except OSError:
                    break
        conn.close()

    def hellos(self) -> list[dict]:
        found = []
        for buffer in self.connections:
            line, newline, _ = bytes(buffer).partition(b"\n")
            if newline:
                try:
                    found.append(json.loads(line))
                except ValueError:
                    found.append({"unparseable": line[:200].decode("utf-8", "replace")})
        return found

    def after_hello(self) -> list[bytes]:
        """What each connection sent after its hello line."""
        return [bytes(buffer).partition(b"\n")[2] for buffer in self.connections]

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def hello(kind: str, fingerprint: str, **members: Any) -> str:
    return json.dumps({"hyperstackDaemon": 1, "fingerprint": fingerprint, "kind": kind, **members})


def mode_of(path: str | Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
KEY_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{16}$")
