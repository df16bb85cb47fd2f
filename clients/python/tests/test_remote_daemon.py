"""``remote=`` end to end: the real hyperstack-rpc as a forwarder, and the shared daemon it starts (issue 12).

These run wherever the other server tests run and FAIL, never skip, against a binary that has
no ``--remote`` yet: a client whose ``remote="auto"`` is silently ignored must not pass. Each
test has its own ``XDG_RUNTIME_DIR`` (``daemon_runtime``), so its own daemon, stopped at teardown.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import List

import pytest

from conftest import CALL_TIMEOUT, DaemonRuntime, HttpSandbox, Wire, process_alive
from hyperstack_rpc import AsyncClient, Client, KeyChange

pytestmark = pytest.mark.daemon


def sandboxed(rpc_bin: str, runtime: DaemonRuntime, remote: str, wire: Wire) -> Client:
    return Client(rpc_bin, sandbox=True, remote=remote, env=runtime.env, timeout=CALL_TIMEOUT, trace=wire)


def test_auto_starts_one_daemon_that_unix_path_clients_share(rpc_bin: str, daemon_runtime: DaemonRuntime) -> None:
    first_wire, second_wire = Wire(), Wire()  # each session numbers its own requests
    with sandboxed(rpc_bin, daemon_runtime, "auto", first_wire) as first:
        assert first.argv[1:5] == ("--framing", "lsp", "--remote", "auto")
        before = first.list()
        status = daemon_runtime.status()
        socket = status["socket"]
        assert socket.startswith(os.path.join(daemon_runtime.directory, "hyperstack-rpc", "daemon-")), socket
        assert socket.endswith(".sock") and process_alive(status["pid"]) and status["pid"] != first.pid

        with sandboxed(rpc_bin, daemon_runtime, f"unix:{socket}", second_wire) as second:
            pushed = second.changes(timeout=10)
            shared = daemon_runtime.status()
            assert (shared["pid"], shared["sessions"]) == (status["pid"], 2)
            assert [(store["upstream"], store["sessions"]) for store in shared["stores"]] == [("sandbox", 2)]

            seen: List[KeyChange] = []
            first.on_change(seen.append)
            created = first.generate("py-remote-shared")
            # The session's own didChange still comes before its response, with the same revision.
            assert [(c.cause, c.revision) for c in seen] == [("generate", created.revision)]
            assert created.revision > before.revision

            # Standalone, each --sandbox server has a sandbox of its own: only a shared daemon can
            # show the second client a key the first one made, and push it without any polling.
            change = pushed.get(timeout=10)
            assert change is not None, "the other session got no apiKeys.didChange for the shared store's generate"
            assert (change.cause, change.revision, change.added) == ("generate", created.revision, (created.key,))
            assert created.key.id in [key.id for key in second.list().keys]
            assert created.secret not in repr(second_wire.received), "another session saw the generated secret"
            pushed.close()
    first_wire.check()
    second_wire.check()


def test_an_asyncio_session_and_a_shell_one_shot_share_the_warm_cache(
    rpc_bin: str, daemon_runtime: DaemonRuntime, wire: Wire
) -> None:
    async def scenario() -> int:
        client = AsyncClient(rpc_bin, sandbox=True, remote="auto", env=daemon_runtime.env, timeout=CALL_TIMEOUT, trace=wire)
        async with client:
            assert client.argv[1:5] == ("--framing", "lsp", "--remote", "auto")
            await client.list()
            created = await client.generate("py-remote-async")
            return created.key.id

    created_id = asyncio.run(asyncio.wait_for(scenario(), 120))
    # The asyncio session has ended; the daemon's store outlives it, so the one-shot is answered from its cache.
    one_shot = daemon_runtime.command("call", "apiKeys.list", "{}", "--sandbox", "--remote", "auto")
    assert one_shot.returncode == 0, one_shot.stderr[-2000:]
    listed = json.loads(one_shot.stdout)
    assert created_id in [key["id"] for key in listed["keys"]]
    assert listed["fromCache"] is True, "the one-shot went upstream instead of using the daemon's warm cache"


def test_the_api_key_reaches_the_daemon_through_neither_argv_nor_environment(
    rpc_bin: str, daemon_runtime: DaemonRuntime, http_sandbox: HttpSandbox, wire: Wire
) -> None:
    wire.secrets.append(HttpSandbox.API_KEY)
    key = HttpSandbox.API_KEY.encode()
    with Client(
        rpc_bin,
        base_url=http_sandbox.base_url,
        api_key=HttpSandbox.API_KEY,
        remote="auto",
        env=daemon_runtime.env,
        timeout=CALL_TIMEOUT,
        trace=wire,
    ) as client:
        assert client.list().revision >= 1  # the daemon called upstream with the key it was handed
        status = daemon_runtime.status()
        assert HttpSandbox.API_KEY not in json.dumps(status)
        [store] = status["stores"]
        assert store["upstream"] == http_sandbox.base_url and store["keyFingerprint"].startswith("sha256:")
        for pid, what in ((client.pid, "forwarder"), (status["pid"], "daemon")):
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                assert key not in cmdline.read(), f"the API key is on the {what}'s command line"
        with open(f"/proc/{status['pid']}/environ", "rb") as environ:
            assert key not in environ.read(), "the API key is in the daemon's environment"
