"""The asyncio AsyncClient against the real hyperstack-rpc binary.

Each test drives its coroutine with asyncio.run (no pytest plugin needed),
under an overall deadline so a bug shows up as a failure, not a hang.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any, Awaitable, List, TypeVar

import pytest

from conftest import CALL_TIMEOUT, TEST_ENV, HttpSandbox, Wire
from hyperstack_rpc import (
    AsyncClient,
    Conflict,
    InvalidParams,
    KeyChange,
    MethodNotFound,
    NotFound,
    ProtocolError,
    RpcError,
    ServerDied,
    Timeout,
)

NON_ASCII_NAME = "café \u2028 ☃"
T = TypeVar("T")


def run(coroutine: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, 120)

    return asyncio.run(bounded())


def start(rpc_bin: str, wire: Wire, **options: Any) -> AsyncClient:
    return AsyncClient(rpc_bin, sandbox=True, env=TEST_ENV, timeout=CALL_TIMEOUT, trace=wire, **options)


def test_crud_round_trip_delivers_every_change_in_revision_order(rpc_bin: str, wire: Wire) -> None:
    async def scenario() -> None:
        async with start(rpc_bin, wire) as client:
            assert client.server_info["serverInfo"]["name"] == "hyperstack-rpc"
            seen: List[KeyChange] = []
            client.on_change(seen.append)
            stream = client.changes(timeout=10)

            before = await client.list()
            created = await client.generate("py-async-crud", "first")
            assert [c.cause for c in seen] == ["generate"]  # written before the response
            assert created.secret and created.secret not in repr(created)
            assert created.key.masked_key is not None and created.key.masked_key.endswith(created.secret[-4:])
            assert created.revision > before.revision
            assert created.key.id in [k.id for k in (await client.list()).keys]

            renamed = await client.update(created.key.id, "py-async-renamed")
            assert (renamed.name, renamed.description) == ("py-async-renamed", "first")
            redescribed = await client.update(created.key.id, "py-async-renamed", description="second")
            assert redescribed.description == "second"
            deleted = await client.delete(created.key.id)
            assert deleted.id == created.key.id
            assert created.key.id not in [k.id for k in (await client.list()).keys]

            changes: List[KeyChange] = []
            async for change in stream:
                changes.append(change)
                if len(changes) == 4:
                    break
            assert [c.cause for c in changes] == ["generate", "update", "update", "delete"]
            revisions = [c.revision for c in changes]
            assert revisions == sorted(set(revisions)), f"revisions not strictly increasing: {revisions}"
            assert revisions[0] == created.revision and revisions[-1] == deleted.revision
            assert changes[0].added == (created.key,)
            assert changes[3].removed == (created.key.id,)
            assert seen == changes
            assert await stream.get(timeout=0.3) is None, "an unexpected extra didChange arrived"

    run(scenario())


def test_update_with_description_none_clears_it(rpc_bin: str, wire: Wire) -> None:
    # protocol/openrpc.json, apiKeys.update: "description: null clears it. Omitted: left as is."
    async def scenario() -> None:
        async with start(rpc_bin, wire) as client:
            created = await client.generate("py-async-clear", "to be cleared")
            assert (await client.update(created.key.id, "py-async-clear")).description == "to be cleared"
            cleared = await client.update(created.key.id, "py-async-clear", description=None)
            assert cleared.description is None

    run(scenario())


def test_concurrent_calls_each_get_their_own_answer(rpc_bin: str, wire: Wire) -> None:
    async def scenario() -> None:
        async with start(rpc_bin, wire) as client:
            names = [f"py-async-concurrent-{i}" for i in range(10)]
            created = await asyncio.gather(*(client.generate(name) for name in names))
            assert [g.key.name for g in created] == names
            assert len({g.revision for g in created}) == len(names)
            listed = await asyncio.gather(*(client.list() for _ in range(40)))
            assert all(set(names) <= {k.name for k in result.keys} for result in listed)

    run(scenario())


def test_error_codes_raise_their_classes(rpc_bin: str, wire: Wire) -> None:
    async def scenario() -> None:
        async with start(rpc_bin, wire) as client:
            with pytest.raises(NotFound) as not_found:
                await client.update(999999, "nobody")
            assert not_found.value.code == 1404 and isinstance(not_found.value, RpcError)
            await client.generate("py-async-duplicate")
            with pytest.raises(Conflict) as conflict:
                await client.generate("py-async-duplicate")
            assert conflict.value.code == 1409
            with pytest.raises(InvalidParams) as invalid:
                await client.generate("")
            assert invalid.value.code == -32602 and invalid.value.data["field"] == "name"
            with pytest.raises(MethodNotFound):
                await client.request("no.such.method", {})
            await client.ping()

    run(scenario())


def test_timeout_sends_cancel_and_the_client_stays_usable(rpc_bin: str, wire: Wire) -> None:
    async def scenario() -> None:
        async with start(rpc_bin, wire) as client:
            began = time.monotonic()
            with pytest.raises(Timeout) as timed_out:
                await client.request("test.sleep", {"ms": 2000}, timeout=0.05)
            assert time.monotonic() - began < 1.5
            assert isinstance(timed_out.value, TimeoutError) and isinstance(timed_out.value, RpcError)

            sleep_id = next(m["id"] for m in wire.sent if m.get("method") == "test.sleep")
            cancels = [m for m in wire.sent if m.get("method") == "$/cancelRequest"]
            assert cancels == [{"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": sleep_id}}]
            await client.ping()
            deadline = time.monotonic() + 10
            while not wire.responses_to(sleep_id) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert [r["error"]["code"] for r in wire.responses_to(sleep_id)] == [-32800]
            assert (await client.list()).revision >= 1

    run(scenario())


def test_cancelling_the_awaiting_task_cancels_the_request(rpc_bin: str, wire: Wire) -> None:
    async def scenario() -> None:
        async with start(rpc_bin, wire) as client:
            task = asyncio.ensure_future(client.request("test.sleep", {"ms": 2000}))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            sleep_id = next(m["id"] for m in wire.sent if m.get("method") == "test.sleep")
            deadline = time.monotonic() + 10
            while not wire.responses_to(sleep_id) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": sleep_id}} in wire.sent
            assert [r["error"]["code"] for r in wire.responses_to(sleep_id)] == [-32800]
            await client.ping()

    run(scenario())


def test_server_death_fails_every_pending_call_quickly(rpc_bin: str, wire: Wire) -> None:
    async def scenario() -> None:
        client = await start(rpc_bin, wire).start()
        try:
            asyncio.get_running_loop().call_later(0.5, os.kill, client.pid, signal.SIGKILL)
            began = time.monotonic()
            outcomes = await asyncio.gather(
                client.request("test.sleep", {"ms": 10000}),
                client.request("test.sleep", {"ms": 10000}),
                return_exceptions=True,
            )
            assert time.monotonic() - began < 5
            assert all(isinstance(outcome, ServerDied) for outcome in outcomes), outcomes
            died = outcomes[0]
            assert isinstance(died, ServerDied)
            assert died.exit_status == -signal.SIGKILL
            assert "SIGKILL" in str(died)
            assert died.stderr_tail and died.stderr_tail[-1] in str(died)
            with pytest.raises(ServerDied):
                await client.ping()
        finally:
            await client.close()

    run(scenario())


def test_server_that_fails_to_start_raises_server_died_with_its_stderr(rpc_bin: str) -> None:
    async def scenario() -> None:
        with pytest.raises(ServerDied) as died:
            await AsyncClient(rpc_bin, sandbox=True, extra_args=["--no-such-option"], timeout=CALL_TIMEOUT).start()
        assert died.value.exit_status not in (None, 0)
        assert "no-such-option" in str(died.value)

    run(scenario())


def test_a_server_speaking_the_wrong_framing_is_a_protocol_error_not_a_hang(rpc_bin: str) -> None:
    async def scenario() -> None:
        began = time.monotonic()
        with pytest.raises(ProtocolError, match="ndjson"):
            await AsyncClient(rpc_bin, sandbox=True, extra_args=["--framing", "ndjson"], timeout=CALL_TIMEOUT).start()
        assert time.monotonic() - began < 10

    run(scenario())


def test_a_megabyte_of_stderr_does_not_block_the_server(rpc_bin: str, wire: Wire) -> None:
    async def scenario() -> None:
        async with start(rpc_bin, wire) as client:
            await client.request("test.stderr", {"bytes": 1048576})
            deadline = time.monotonic() + 30
            while client.stderr_bytes < 1048576 and time.monotonic() < deadline:
                await client.ping()
                await asyncio.sleep(0.05)
            assert client.stderr_bytes >= 1048576
            assert 0 < len(client.stderr_tail) <= 50
            assert (await client.list()).revision >= 1

    run(scenario())


def test_non_ascii_names_round_trip(rpc_bin: str, wire: Wire) -> None:
    async def scenario() -> None:
        async with start(rpc_bin, wire) as client:
            created = await client.generate(NON_ASCII_NAME, "naïve \u2029 ✓ 𝄞")
            assert (created.key.name, created.key.description) == (NON_ASCII_NAME, "naïve \u2029 ✓ 𝄞")
            assert NON_ASCII_NAME in [k.name for k in (await client.list(refresh=True)).keys]
            renamed = await client.update(created.key.id, NON_ASCII_NAME + " ☃☃")
            assert renamed.name == NON_ASCII_NAME + " ☃☃"

    run(scenario())


def test_change_made_elsewhere_arrives_as_refresh(rpc_bin: str, http_sandbox: HttpSandbox, wire: Wire) -> None:
    wire.secrets.append(HttpSandbox.API_KEY)

    async def scenario() -> None:
        async with AsyncClient(
            rpc_bin, base_url=http_sandbox.base_url, api_key=HttpSandbox.API_KEY, timeout=CALL_TIMEOUT, trace=wire
        ) as client:
            assert HttpSandbox.API_KEY not in " ".join(client.argv)
            stream = client.changes(timeout=15)
            await client.list()
            assert await client.watch(0.2) == pytest.approx(0.2)
            made = await asyncio.get_running_loop().run_in_executor(
                None, http_sandbox.post, "/api-key/generate", {"name": "py-async-made-elsewhere"}
            )
            wire.secrets.append(made["api_key"]["key"])
            change = await stream.get(timeout=15)
            assert change is not None, "no apiKeys.didChange arrived for a key created directly upstream"
            assert change.cause == "refresh"
            assert [k.name for k in change.added] == ["py-async-made-elsewhere"]
            assert await client.watch(0) == 0

    run(scenario())
