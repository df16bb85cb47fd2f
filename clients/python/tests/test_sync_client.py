"""The synchronous Client against the real hyperstack-rpc binary."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import CALL_TIMEOUT, TEST_ENV, HttpSandbox, Wire
from hyperstack_rpc import (
    Client,
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


def start(rpc_bin: str, wire: Wire, **options: object) -> Client:
    return Client(rpc_bin, sandbox=True, env=TEST_ENV, timeout=CALL_TIMEOUT, trace=wire, **options)  # type: ignore[arg-type]


def test_crud_round_trip_delivers_every_change_in_revision_order(rpc_bin: str, wire: Wire) -> None:
    with start(rpc_bin, wire) as client:
        assert client.server_info["serverInfo"]["name"] == "hyperstack-rpc"
        seen: List[KeyChange] = []
        client.on_change(seen.append)
        stream = client.changes(timeout=10)

        before = client.list()
        created = client.generate("py-sync-crud", "first")
        # The didChange is written before the response, so the callback has already run.
        assert [c.cause for c in seen] == ["generate"]
        assert created.secret and created.secret not in repr(created)
        assert created.key.name == "py-sync-crud" and created.key.description == "first"
        assert created.key.masked_key is not None and created.key.masked_key.endswith(created.secret[-4:])
        assert created.revision > before.revision

        listed = client.list()
        assert created.key.id in [k.id for k in listed.keys]
        assert created.secret not in repr(listed)

        renamed = client.update(created.key.id, "py-sync-renamed")  # description left as is
        assert (renamed.id, renamed.name, renamed.description) == (created.key.id, "py-sync-renamed", "first")
        redescribed = client.update(created.key.id, "py-sync-renamed", description="second")
        assert redescribed.description == "second"

        deleted = client.delete(created.key.id)
        assert deleted.id == created.key.id
        assert created.key.id not in [k.id for k in client.list().keys]

        changes = [stream.get(timeout=10) for _ in range(4)]
        assert all(change is not None for change in changes)
        assert [c.cause for c in changes if c] == ["generate", "update", "update", "delete"]
        revisions = [c.revision for c in changes if c]
        assert revisions == sorted(set(revisions)), f"revisions not strictly increasing: {revisions}"
        assert revisions[0] == created.revision and revisions[-1] == deleted.revision
        assert changes[0] and changes[0].added == (created.key,)
        assert changes[1] and [k.name for k in changes[1].updated] == ["py-sync-renamed"]
        assert changes[3] and changes[3].removed == (created.key.id,)
        assert seen == changes
        assert stream.get(timeout=0.3) is None, "an unexpected extra didChange arrived"
        stream.close()
    assert all(created.secret not in repr(m) for m in wire.received if m.get("method") == "apiKeys.didChange")


def test_update_with_description_none_clears_it(rpc_bin: str, wire: Wire) -> None:
    # protocol/openrpc.json, apiKeys.update: "description: null clears it. Omitted: left as is."
    with start(rpc_bin, wire) as client:
        created = client.generate("py-sync-clear", "to be cleared")
        kept = client.update(created.key.id, "py-sync-clear")
        assert kept.description == "to be cleared"
        cleared = client.update(created.key.id, "py-sync-clear", description=None)
        assert cleared.description is None
        assert [k.description for k in client.list(refresh=True).keys if k.id == created.key.id] == [None]


def test_calls_from_many_threads_each_get_their_own_answer(rpc_bin: str, wire: Wire) -> None:
    with start(rpc_bin, wire) as client:
        created = client.generate("py-sync-threads")
        failures: List[BaseException] = []

        def worker() -> None:
            try:
                for _ in range(20):
                    client.ping()
                    assert created.key.id in [k.id for k in client.list().keys]
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                failures.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []


def test_a_fast_call_is_not_held_up_by_a_slow_one_reading_the_pipe(rpc_bin: str, wire: Wire) -> None:
    # The slow call's thread holds the right to read while it waits; it must hand the
    # fast answer over at once, not when its own answer finally comes.
    with start(rpc_bin, wire) as client:
        slow_done = threading.Event()

        def slow() -> None:
            client.request("test.sleep", {"ms": 1500})
            slow_done.set()

        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.2)  # the slow call is now the one reading
        began = time.monotonic()
        for _ in range(20):
            client.ping()
        fast = time.monotonic() - began
        assert not slow_done.is_set() and fast < 1.0, f"20 pings took {fast:.2f} s behind a 1.5 s call"
        thread.join(timeout=10)
        assert slow_done.is_set()


def test_a_callback_that_calls_the_client_gets_a_clear_error(rpc_bin: str, wire: Wire) -> None:
    with start(rpc_bin, wire) as client:
        errors: List[BaseException] = []

        def reenter(_change: KeyChange) -> None:
            try:
                client.ping()
            except RuntimeError as exc:
                errors.append(exc)

        client.on_change(reenter)
        client.generate("py-sync-reenter")  # its didChange is read by this very call
        assert len(errors) == 1 and "callback" in str(errors[0])
        client.ping()


def test_error_codes_raise_their_classes(rpc_bin: str, wire: Wire) -> None:
    with start(rpc_bin, wire) as client:
        with pytest.raises(NotFound) as not_found:
            client.update(999999, "nobody")
        assert not_found.value.code == 1404 and isinstance(not_found.value, RpcError)

        client.generate("py-sync-duplicate")
        with pytest.raises(Conflict) as conflict:
            client.generate("py-sync-duplicate")
        assert conflict.value.code == 1409

        with pytest.raises(InvalidParams) as invalid:
            client.generate("")
        assert invalid.value.code == -32602
        assert invalid.value.data["field"] == "name"
        assert "name" in str(invalid.value)

        with pytest.raises(MethodNotFound):
            client.request("no.such.method", {})
        client.ping()


def test_timeout_sends_cancel_and_the_client_stays_usable(rpc_bin: str, wire: Wire) -> None:
    with start(rpc_bin, wire) as client:
        began = time.monotonic()
        with pytest.raises(Timeout) as timed_out:
            client.request("test.sleep", {"ms": 2000}, timeout=0.05)
        assert time.monotonic() - began < 1.5
        assert isinstance(timed_out.value, TimeoutError) and isinstance(timed_out.value, RpcError)

        sleep_id = next(m["id"] for m in wire.sent if m.get("method") == "test.sleep")
        cancels = [m for m in wire.sent if m.get("method") == "$/cancelRequest"]
        assert cancels == [{"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": sleep_id}}]

        client.ping()
        assert client.list().revision >= 1
        # The server honours the cancel: its one answer is -32800, which the client swallows.
        deadline = time.monotonic() + 10
        while not wire.responses_to(sleep_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r["error"]["code"] for r in wire.responses_to(sleep_id)] == [-32800]
        client.ping()


def test_server_death_fails_every_pending_call_quickly(rpc_bin: str, wire: Wire) -> None:
    client = start(rpc_bin, wire)
    try:
        outcomes: Dict[str, BaseException] = {}

        def other_call() -> None:
            try:
                client.request("test.sleep", {"ms": 10000})
            except BaseException as exc:  # noqa: BLE001 - recorded for the assertion below
                outcomes["other"] = exc

        other = threading.Thread(target=other_call)
        other.start()
        killer = threading.Timer(0.5, os.kill, (client.pid, signal.SIGKILL))
        killer.start()
        began = time.monotonic()
        with pytest.raises(ServerDied) as died:
            client.request("test.sleep", {"ms": 10000})
        assert time.monotonic() - began < 5
        other.join(timeout=10)
        assert isinstance(outcomes.get("other"), ServerDied)

        assert died.value.exit_status == -signal.SIGKILL
        assert "SIGKILL" in str(died.value)
        assert died.value.stderr_tail and died.value.stderr_tail[-1] in str(died.value)
        with pytest.raises(ServerDied):
            client.ping()
    finally:
        client.close()


def test_server_that_fails_to_start_raises_server_died_with_its_stderr(rpc_bin: str) -> None:
    with pytest.raises(ServerDied) as died:
        Client(rpc_bin, sandbox=True, extra_args=["--no-such-option"], timeout=CALL_TIMEOUT)
    assert died.value.exit_status not in (None, 0)
    assert "no-such-option" in str(died.value)


def test_a_server_speaking_the_wrong_framing_is_a_protocol_error_not_a_hang(rpc_bin: str) -> None:
    began = time.monotonic()
    with pytest.raises(ProtocolError, match="ndjson"):
        Client(rpc_bin, sandbox=True, extra_args=["--framing", "ndjson"], timeout=CALL_TIMEOUT)
    assert time.monotonic() - began < 10


def test_a_megabyte_of_stderr_does_not_block_the_server(rpc_bin: str, wire: Wire) -> None:
    with start(rpc_bin, wire) as client:
        client.request("test.stderr", {"bytes": 1048576})
        client.ping()
        deadline = time.monotonic() + 30
        while client.stderr_bytes < 1048576 and time.monotonic() < deadline:
            client.ping()
            time.sleep(0.05)
        assert client.stderr_bytes >= 1048576
        assert 0 < len(client.stderr_tail) <= 50
        assert client.list().revision >= 1


def test_non_ascii_names_round_trip(rpc_bin: str, wire: Wire) -> None:
    with start(rpc_bin, wire) as client:
        created = client.generate(NON_ASCII_NAME, "naïve \u2029 ✓ 𝄞")
        assert created.key.name == NON_ASCII_NAME
        assert created.key.description == "naïve \u2029 ✓ 𝄞"
        assert NON_ASCII_NAME in [k.name for k in client.list(refresh=True).keys]
        renamed = client.update(created.key.id, NON_ASCII_NAME + " ☃☃")
        assert renamed.name == NON_ASCII_NAME + " ☃☃"
        assert client.delete(created.key.id).id == created.key.id


def test_sandbox_state_persists_between_servers(rpc_bin: str, wire: Wire, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with start(rpc_bin, wire, sandbox_state=str(state)) as client:
        created = client.generate("py-sync-persisted")
    second_wire = Wire()  # request ids restart with each server
    with start(rpc_bin, second_wire, sandbox_state=str(state)) as client:
        assert created.key.id in [k.id for k in client.list().keys]
    second_wire.check()


def test_change_made_elsewhere_arrives_as_refresh(rpc_bin: str, http_sandbox: HttpSandbox, wire: Wire) -> None:
    wire.secrets.append(HttpSandbox.API_KEY)
    with Client(
        rpc_bin, base_url=http_sandbox.base_url, api_key=HttpSandbox.API_KEY, timeout=CALL_TIMEOUT, trace=wire
    ) as client:
        assert HttpSandbox.API_KEY not in " ".join(client.argv)
        with open(f"/proc/{client.pid}/cmdline", "rb") as cmdline:
            assert HttpSandbox.API_KEY.encode() not in cmdline.read()

        stream = client.changes(timeout=15)
        client.list()
        assert client.watch(0.2) == pytest.approx(0.2)
        made = http_sandbox.post("/api-key/generate", {"name": "py-sync-made-elsewhere"})
        wire.secrets.append(made["api_key"]["key"])

        change = stream.get(timeout=15)
        assert change is not None, "no apiKeys.didChange arrived for a key created directly upstream"
        assert change.cause == "refresh"
        assert [k.name for k in change.added] == ["py-sync-made-elsewhere"]
        assert client.watch(0) == 0
