"""Shared pieces of the reliability suites (Tests/EndToEnd/test_reliability_*.py).

- `LONG` / `scale()`: the run size. HYPERSTACK_RELIABILITY=long selects the soak sizes;
  anything else (the default test suite) the short ones.
- `Figures`: what each part reached, printed at the end of the pytest run and written to
  $HYPERSTACK_RELIABILITY_REPORT (default /tmp/hyperstack-reliability-<mode>.json) so the
  numbers can be quoted.
- `ProcessProbe`: RSS, high-water mark, threads, open descriptors and CPU time of a pid,
  from /proc.
- `PipelinedClient`: a lean client for large request counts: raw pre-built frames from a
  writer thread, a reader that counts frames and checks ids without parsing every body.
- `secret_forms()` / `find_secrets()`: every spelling of a secret worth looking for
  (raw, JSON-escaped, base64 at each alignment, percent-encoded), and a scanner over
  named byte blobs that reports where one was found without printing it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

LONG = os.environ.get("HYPERSTACK_RELIABILITY", "").strip().lower() == "long"
MODE = "long" if LONG else "short"


def scale(short: Any, long: Any) -> Any:
    """The short-mode value normally, the long-mode value under HYPERSTACK_RELIABILITY=long."""
    return long if LONG else short


# -- figures ---------------------------------------------------------------------------

class Figures:
    """Collects one JSON object per reliability part; printed in pytest's terminal summary."""

    _lock = threading.Lock()
    parts: dict = {}

    @classmethod
    def path(cls) -> Path:
        return Path(os.environ.get("HYPERSTACK_RELIABILITY_REPORT") or f"/tmp/hyperstack-reliability-{MODE}.json")

    @classmethod
    def record(cls, part: str, **figures: Any) -> None:
        figures = {"mode": MODE, **figures}
        with cls._lock:
            cls.parts[part] = figures
            try:
                existing = json.loads(cls.path().read_text())
                if not isinstance(existing, dict):
                    existing = {}
            except (OSError, ValueError):
                existing = {}
            existing[part] = figures
            cls.path().write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
        print(f"[reliability {MODE}] {part}: {json.dumps(figures, sort_keys=True)}", file=sys.stderr, flush=True)

    @classmethod
    def summary_lines(cls) -> list[str]:
        return [f"{part}: {json.dumps(figures, sort_keys=True)}" for part, figures in cls.parts.items()]


class _SummaryPlugin:
    """Registered at run time by the suites, so the figures show without `-s`."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = Figures.summary_lines()
        if not lines:
            return
        terminalreporter.section(f"reliability figures ({MODE} mode; also in {Figures.path()})")
        for line in lines:
            terminalreporter.write_line(line)


def register_summary(config: Any) -> None:
    """Adds the figures section to pytest's summary (once per session)."""
    if not config.pluginmanager.has_plugin("hyperstack-reliability-figures"):
        config.pluginmanager.register(_SummaryPlugin(), "hyperstack-reliability-figures")


# -- /proc -----------------------------------------------------------------------------

class ProcessProbe:
    """Reads a live process's resource use from /proc (Linux only)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def status(self) -> dict:
        """VmRSS and VmHWM in kB, Threads."""
        values = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM", "Threads"):
                    values[name] = int(rest.split()[0])
        return values

    def rss_kb(self) -> int:
        return self.status()["VmRSS"]

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    def snapshot(self) -> dict:
        status = self.status()
        return {"rss_kb": status["VmRSS"], "hwm_kb": status["VmHWM"], "threads": status["Threads"],
                "fds": self.fds(), "cpu_s": round(self.cpu_seconds(), 2)}


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# -- a lean pipelined client -------------------------------------------------------------

_ID = re.compile(rb'^\{"jsonrpc":"2\.0","id":(\d+),', re.M)
_ERROR_CODE = re.compile(rb'"code":(-?\d+)')


class PipelinedClient:
    """Drives hyperstack-rpc with NDJSON requests whose bodies are prepared as bytes.

    `requests(i)` gives the frame for id `i`. A writer thread sends them in chunks while at
    most `window` are unanswered; the reader thread counts response lines and ticks each id
    off in a bitmap (responses may come in any order), so a million requests cost seconds of
    client CPU, not minutes. `pause_reading` stops the reader (the slow-reader test).
    """

    def __init__(self, args: Iterable[str], env: Optional[dict] = None, binary: Optional[str] = None) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "EndToEnd"))
        from rpc_process import binary_path  # noqa: E402 (the harness's choice of binary)

        full_env = dict(os.environ)
        full_env.setdefault("HYPERSTACK_RPC_TEST_METHODS", "1")
        full_env.pop("HYPERSTACK_API_KEY", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen([binary or binary_path(), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, bufsize=0)
        self.probe = ProcessProbe(self.proc.pid)
        self.stderr_tail = bytearray()
        self.stderr_bytes = 0
        self.sent = 0
        self.received = 0
        self.errors: list = []
        #: error responses by code, e.g. {-32802: 19000, 1404: 1000}
        self.error_codes: dict = {}
        self.anomalies: list = []
        self.bytes_received = 0
        self.notifications = 0
        self.total = 0
        self._seen = bytearray()
        self._progress = threading.Condition()
        self._read_allowed = threading.Event()
        self._read_allowed.set()
        self.writer_blocked_since: Optional[float] = None
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._writer: Optional[threading.Thread] = None

    # writing
    def start(self, total: int, frame: Callable[[int], bytes], window: int = 2000, chunk: int = 256) -> None:
        """Sends `total` more requests from a thread; ids continue from the previous batch (1, 2, ...)."""
        assert self._writer is None or not self._writer.is_alive(), "the previous batch is still being written"
        first_id = self.total + 1
        self._seen.extend(bytearray(total))
        self.total += total

        def write() -> None:
            assert self.proc.stdin is not None
            next_id = first_id
            end = first_id + total
            try:
                while next_id < end:
                    with self._progress:
                        while self.sent - self.received + chunk > window and self.proc.poll() is None:
                            self._progress.wait(0.5)
                    count = min(chunk, end - next_id)
                    data = b"".join(frame(i) for i in range(next_id, next_id + count))
                    self.writer_blocked_since = time.monotonic()
                    self.proc.stdin.write(data)
                    self.writer_blocked_since = None
                    next_id += count
                    with self._progress:
                        self.sent += count
            except (BrokenPipeError, OSError) as error:
                self.anomalies.append(f"writing stdin failed after {self.sent} requests: {error}")

        self._writer = threading.Thread(target=write, daemon=True)
        self._writer.start()

    def wait_done(self, timeout: float) -> bool:
        """Waits until every request is answered."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while self.received < self.total:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.proc.poll() is not None and not self._reader.is_alive():
                    return self.received >= self.total
                self._progress.wait(min(remaining, 0.5))
        return True

    def missing_ids(self, limit: int = 10) -> list:
        return [1 + index for index, seen in enumerate(self._seen) if not seen][:limit]

    def pause_reading(self) -> None:
        self._read_allowed.clear()

    def resume_reading(self) -> None:
        self._read_allowed.set()

    # reading
    def _read(self) -> None:
        assert self.proc.stdout is not None
        descriptor = self.proc.stdout.fileno()
        tail = b""
        while True:
            self._read_allowed.wait()
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                break
            self.bytes_received += len(chunk)
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            tail = data[cut:]
            lines = data[:cut]
            count = lines.count(b"\n")
            ids = _ID.findall(lines)
            if len(ids) != count:
                self._inspect(lines)
            for raw in ids:
                index = int(raw) - 1
                if 0 <= index < len(self._seen):
                    if self._seen[index]:
                        self.anomalies.append(f"id {int(raw)} answered twice")
                    self._seen[index] = 1
                else:
                    self.anomalies.append(f"response with unexpected id {int(raw)}")
            if b'"error"' in lines:
                for code in _ERROR_CODE.findall(lines):
                    self.error_codes[int(code)] = self.error_codes.get(int(code), 0) + 1
                for line in lines.splitlines() if len(self.errors) < 20 else ():
                    if b'"error"' in line and len(self.errors) < 20:
                        self.errors.append(line[:300].decode("ascii", "replace"))
            with self._progress:
                self.received += len(ids)
                self._progress.notify_all()
        if tail:
            self.anomalies.append(f"stdout ended inside a line: {tail[:100]!r}")
        with self._progress:
            self._progress.notify_all()

    def _inspect(self, lines: bytes) -> None:
        for line in lines.splitlines():
            if _ID.match(line + b"\n"):
                continue
            if line.startswith(b'{"jsonrpc":"2.0","method":'):
                self.notifications += 1
            elif len(self.anomalies) < 20:
                self.anomalies.append(f"unexpected line: {line[:200]!r}")

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read(65536), b""):
            self.stderr_bytes += len(chunk)
            self.stderr_tail.extend(chunk)
            del self.stderr_tail[:-8192]

    def close(self, timeout: float = 30.0) -> int:
        """Closes stdin (end of input) and returns the exit status."""
        if self._writer is not None:
            self._writer.join(timeout)
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        self._read_allowed.set()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the server did not exit after end of input") from None
        finally:
            self._reader.join(5)
            self._stderr_thread.join(5)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# -- secrets ---------------------------------------------------------------------------

def secret_forms(secret: str) -> dict[str, bytes]:
    """Spellings of `secret` a leak could take, by name. Base64 is taken at the three
    alignments a secret embedded in a longer text can have, trimmed to the characters that
    depend only on the secret."""
    raw = secret.encode("utf-8")
    forms = {
        "raw": raw,
        "json-escaped": json.dumps(secret)[1:-1].encode(),
        "json-escaped-ascii": json.dumps(secret, ensure_ascii=True)[1:-1].encode(),
        "percent-encoded": urllib.parse.quote(secret, safe="").encode(),
        "hex": raw.hex().encode(),
    }
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        # The first ceil(shift*4/3) characters mix in the padding bytes; the last block
        # mixes in whatever follows; keep the middle.
        start = (shift * 4 + 2) // 3
        end = len(encoded) - 4
        core = encoded[start:end]
        if len(core) >= 8:
            forms[f"base64@{shift}"] = core
            forms[f"base64url@{shift}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    return {name: form for name, form in forms.items() if form}


def find_secrets(blobs: dict[str, bytes], secrets: Iterable[str]) -> list[str]:
    """Where any form of any secret occurs in the named blobs; the secret itself is withheld
    from the report (test output lands in CI logs)."""
    found = []
    secrets = [s for s in dict.fromkeys(secrets) if s]
    for number, secret in enumerate(secrets):
        for form_name, form in secret_forms(secret).items():
            for blob_name, blob in blobs.items():
                if form in blob:
                    found.append(f"secret #{number} ({form_name}) in {blob_name}")
    return found


def file_mode(path: str | Path) -> int:
    return os.stat(path).st_mode & 0o777

