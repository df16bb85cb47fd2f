"""The ``remote=`` option without a server: what each client really spawns, and what it refuses.

The "server" here is a stand-in script that writes down the argv and environment it was started
with, then exits; both clients then raise :class:`ServerDied`. So these tests check what reached
the child process, not what the client meant to send, for the synchronous and the asyncio
client alike (they build the launch in one place, and these tests hold them to that).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from hyperstack_rpc import AsyncClient, Client, ServerDied
from hyperstack_rpc.launch import REMOTE_ENV

RECORDER = """#!{python}
import json, os, sys
with open(os.environ["RECORD_TO"], "w") as out:
    json.dump({{"argv": sys.argv[1:], "env": dict(os.environ)}}, out)
sys.exit(7)
"""

KINDS = ["sync", "asyncio"]


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    script = tmp_path / "fake-hyperstack-rpc"
    script.write_text(RECORDER.format(python=sys.executable))
    script.chmod(0o700)
    return script


def spawned(kind: str, recorder: Path, **options: Any) -> Tuple[List[str], Dict[str, str]]:
    """Start a client of ``kind`` on the recorder; the argv (without the binary) and environment it got."""
    record = recorder.with_name("record.json")
    env = {**options.pop("env", {}), "RECORD_TO": str(record)}
    with pytest.raises(ServerDied) as died:
        if kind == "sync":
            Client(str(recorder), env=env, timeout=10, **options)
        else:
            asyncio.run(AsyncClient(str(recorder), env=env, timeout=10, **options).start())
    assert died.value.exit_status == 7
    seen = json.loads(record.read_text())
    return seen["argv"], seen["env"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("remote", ["auto", "unix:/run/user/1000/hyperstack-rpc/daemon-0123456789abcdef.sock"])
def test_remote_becomes_the_remote_option_and_the_key_stays_in_the_environment(
    kind: str, remote: str, recorder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REMOTE_ENV, raising=False)
    argv, env = spawned(kind, recorder, remote=remote, api_key="k-secret-123", base_url="http://127.0.0.1:1/v1")
    assert argv == ["--framing", "lsp", "--remote", remote, "--base-url", "http://127.0.0.1:1/v1"]
    assert "k-secret-123" not in " ".join(argv) and env["HYPERSTACK_API_KEY"] == "k-secret-123"
    assert REMOTE_ENV not in env


@pytest.mark.parametrize("kind", KINDS)
def test_no_remote_is_standalone_and_passes_nothing(kind: str, recorder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REMOTE_ENV, raising=False)
    argv, env = spawned(kind, recorder, sandbox=True)
    assert argv == ["--framing", "lsp", "--sandbox"]
    assert REMOTE_ENV not in env


@pytest.mark.parametrize("kind", KINDS)
def test_no_remote_leaves_the_callers_environment_to_decide(
    kind: str, recorder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REMOTE_ENV, "auto")
    argv, env = spawned(kind, recorder, sandbox=True)
    assert "--remote" not in argv and env[REMOTE_ENV] == "auto"  # the server reads it itself
    # An explicit remote= wins, as --remote wins over the variable in the server.
    argv, _ = spawned(kind, recorder, sandbox=True, remote="unix:/tmp/other.sock")
    assert argv[argv.index("--remote") + 1] == "unix:/tmp/other.sock"
    # And env= can take the variable away, for a standalone server whatever the caller's environment says.
    argv, env = spawned(kind, recorder, sandbox=True, env={REMOTE_ENV: None})
    assert "--remote" not in argv and REMOTE_ENV not in env


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "remote", ["", "AUTO", " auto", "auto ", "unix:", "unix", "unix:/tmp/a\0b", "tcp:127.0.0.1:1", 1, b"auto", Path("/x")]
)
def test_a_bad_remote_is_a_value_error_before_anything_is_spawned(kind: str, remote: Any) -> None:
    # A binary that does not exist shows that the value is refused before the binary is even looked for.
    options: Dict[str, Any] = {"remote": remote}
    with pytest.raises(ValueError, match=r"remote must be None .*'auto'.*'unix:PATH'.*not ") as refused:
        if kind == "sync":
            Client("/nonexistent/hyperstack-rpc", **options)
        else:
            AsyncClient("/nonexistent/hyperstack-rpc", **options)
    assert repr(remote) in str(refused.value)
