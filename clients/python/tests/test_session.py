"""The sans-I/O session both clients run on, driven with bytes alone: no process, thread or event loop."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from hyperstack_rpc import ClientClosed, KeyChange, NotFound, ProtocolError, ServerDied, calls, launch
from hyperstack_rpc.framing import decode_body, encode_message
from hyperstack_rpc.session import END, Answered, Ignored, MustReply, Notified, Session

KEY = {"id": 7, "name": "ci", "description": None, "createdAt": "2026-05-06T15:18:42Z", "maskedKey": "****abcd"}
CHANGE = {"revision": 3, "cause": "generate", "added": [KEY], "updated": [], "removed": []}


class Waiter:
    """A waiter that remembers its one outcome."""

    def __init__(self, method: str = "apiKeys.list") -> None:
        self.method = method
        self.outcomes: List[Tuple[str, Any]] = []

    def resolve(self, result: Any) -> None:
        self.outcomes.append(("result", result))

    def fail(self, error: BaseException) -> None:
        self.outcomes.append(("error", error))


class Subscriber:
    """A change stream that keeps what is pushed to it."""

    def __init__(self) -> None:
        self.items: List[object] = []

    def _push(self, item: object) -> None:
        self.items.append(item)


def body(frame: bytes) -> Dict[str, Any]:
    return decode_body(frame.partition(b"\r\n\r\n")[2])


def frame(message: Dict[str, Any]) -> bytes:
    return encode_message({"jsonrpc": "2.0", **message})


def drain(session: "Session[Waiter]") -> List[object]:
    events: List[object] = []
    while (event := session.next_event()) is not None:
        events.append(event)
    return events


def test_requests_get_increasing_ids_and_frames_carry_params_only_when_given() -> None:
    session: Session[Waiter] = Session()
    first_id, first = session.request("apiKeys.list", {"refresh": True}, Waiter())
    second_id, second = session.request("$/ping", None, Waiter("$/ping"))
    assert (first_id, second_id) == (1, 2)
    assert body(first) == {"jsonrpc": "2.0", "id": 1, "method": "apiKeys.list", "params": {"refresh": True}}
    assert body(second) == {"jsonrpc": "2.0", "id": 2, "method": "$/ping"}
    assert body(session.notification("initialized", {})) == {"jsonrpc": "2.0", "method": "initialized", "params": {}}


def test_bytes_split_at_every_position_give_the_same_events() -> None:
    stream = (
        frame({"method": "apiKeys.didChange", "params": CHANGE})
        + frame({"id": 1, "result": {"interval": 5}})
        + b"\r\n"
        + frame({"id": 2, "error": {"code": 1404, "message": "gone", "data": {"retryable": False}}})
    )
    for cut in [*range(len(stream) + 1), -1]:
        session: Session[Waiter] = Session()
        changes: List[KeyChange] = []
        session.listeners.add_change(changes.append)
        first, second = Waiter(), Waiter("apiKeys.delete")
        session.request("apiKeys.watch", {"interval": 5}, first)
        session.request("apiKeys.delete", {"id": 1}, second)
        events: List[object] = []
        pieces = [stream[i : i + 1] for i in range(len(stream))] if cut < 0 else [stream[:cut], stream[cut:]]
        for piece in pieces:
            session.feed(piece)
            events += drain(session)
        assert [type(event) for event in events] == [Notified, Answered, Answered], cut
        assert [c.revision for c in changes] == [3]
        assert first.outcomes == [("result", {"interval": 5})]
        assert len(second.outcomes) == 1 and isinstance(second.outcomes[0][1], NotFound)
        assert session.pending_bytes == 0
        session.end_of_output()  # only whole frames were fed


def test_output_that_ends_inside_a_frame_is_a_protocol_error() -> None:
    session: Session[Waiter] = Session()
    whole = frame({"id": 1, "result": {}})
    session.feed(whole[:-2])
    assert session.next_event() is None
    with pytest.raises(ProtocolError, match="2 bytes short"):
        session.end_of_output()


def test_error_responses_become_their_exception_and_malformed_ones_a_protocol_error() -> None:
    session: Session[Waiter] = Session()
    mapped, malformed = Waiter(), Waiter()
    session.request("apiKeys.update", {}, mapped)
    session.request("apiKeys.update", {}, malformed)
    session.receive({"jsonrpc": "2.0", "id": 1, "error": {"code": 1404, "message": "no key 5"}})
    session.receive({"jsonrpc": "2.0", "id": 2, "error": {"code": "1404", "message": "x"}})
    (kind, error), = mapped.outcomes
    assert kind == "error" and type(error) is NotFound and error.message == "no key 5"
    assert isinstance(malformed.outcomes[0][1], ProtocolError)


def test_an_abandoned_call_sends_one_cancel_and_its_late_answer_is_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    session: Session[Waiter] = Session()
    waiter = Waiter("test.sleep")
    request_id, _ = session.request("test.sleep", {"ms": 2000}, waiter)
    cancel = session.abandon(request_id)
    assert cancel is not None and body(cancel) == {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}}
    assert session.abandon(request_id) is None  # nothing left to abandon
    with caplog.at_level(logging.WARNING, logger="hyperstack_rpc"):
        late = session.receive({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32800, "message": "cancelled"}})
        assert isinstance(late, Ignored) and waiter.outcomes == [] and caplog.records == []
        # A second answer to the same id is no longer expected: that one is worth a warning.
        assert isinstance(session.receive({"jsonrpc": "2.0", "id": request_id, "result": {}}), Ignored)
    assert "unknown request id 1" in caplog.text


def test_abandoning_a_call_that_was_already_answered_keeps_its_answer() -> None:
    session: Session[Waiter] = Session()
    waiter = Waiter()
    request_id, _ = session.request("apiKeys.list", None, waiter)
    session.receive({"jsonrpc": "2.0", "id": request_id, "result": {"keys": []}})
    assert session.abandon(request_id) is None
    assert waiter.outcomes == [("result", {"keys": []})]


def test_server_death_fails_every_waiter_and_stream_and_every_later_call() -> None:
    session: Session[Waiter] = Session()
    waiters = [Waiter(), Waiter("apiKeys.generate")]
    for waiter in waiters:
        session.request(waiter.method, None, waiter)
    stream = Subscriber()
    session.subscribe(stream)
    failed = session.disconnect(-9, ["boom", "last words"])
    assert failed == waiters
    for waiter in waiters:
        (kind, error), = waiter.outcomes
        assert kind == "error" and isinstance(error, ServerDied) and error.exit_status == -9
        assert "last words" in str(error)
    assert len(stream.items) == 1 and isinstance(stream.items[0], ServerDied)
    with pytest.raises(ServerDied, match="SIGKILL"):
        session.request("$/ping", None, Waiter())
    with pytest.raises(ServerDied):
        session.notification("exit")
    late = Subscriber()
    session.subscribe(late)
    assert len(late.items) == 1 and isinstance(late.items[0], ServerDied)
    assert isinstance(session.write_failed(None, ()), ServerDied) and session.failed


def test_a_protocol_break_is_the_error_everyone_gets() -> None:
    session: Session[Waiter] = Session()
    waiter = Waiter()
    session.request("apiKeys.list", None, waiter)
    session.disconnect(None, (), ProtocolError("bare JSON line"))
    assert isinstance(waiter.outcomes[0][1], ProtocolError)
    with pytest.raises(ProtocolError, match="bare JSON line"):
        session.request("$/ping", None, Waiter())


def test_closing_fails_pending_calls_by_name_and_ends_streams() -> None:
    session: Session[Waiter] = Session()
    waiter = Waiter("apiKeys.generate")
    session.request("apiKeys.generate", None, waiter)
    stream = Subscriber()
    session.subscribe(stream)
    session.close()
    assert session.closed
    error = waiter.outcomes[0][1]
    assert isinstance(error, ClientClosed) and "apiKeys.generate" in str(error)
    assert stream.items == [END]
    with pytest.raises(ClientClosed, match="cannot send \\$/ping"):
        session.request("$/ping", None, Waiter())
    late = Subscriber()
    session.subscribe(late)
    assert late.items == [END]


def test_changes_fan_out_to_every_subscriber_and_callback_before_the_answer() -> None:
    session: Session[Waiter] = Session()
    order: List[str] = []
    session.listeners.add_change(lambda change: order.append(f"callback {change.revision}"))
    raw: List[Any] = []
    remove_raw = session.listeners.add_notification("apiKeys.didChange", raw.append)
    streams = [Subscriber(), Subscriber()]
    for stream in streams:
        session.subscribe(stream)
    waiter = Waiter("apiKeys.generate")
    session.request("apiKeys.generate", {"name": "ci"}, waiter)
    session.feed(frame({"method": "apiKeys.didChange", "params": CHANGE}) + frame({"id": 1, "result": {}}))
    notified, answered = drain(session)
    assert isinstance(notified, Notified) and notified.method == "apiKeys.didChange"
    assert order == ["callback 3"] and raw == [CHANGE]
    assert isinstance(answered, Answered) and answered.waiter is waiter
    for stream in streams:
        (change,) = stream.items
        assert isinstance(change, KeyChange) and change.added[0].name == "ci"
    session.unsubscribe(streams[0])
    remove_raw()
    session.receive({"jsonrpc": "2.0", "method": "apiKeys.didChange", "params": {**CHANGE, "revision": 4}})
    assert len(streams[0].items) == 1 and len(streams[1].items) == 2 and raw == [CHANGE]


def test_a_malformed_change_reaches_raw_listeners_but_no_stream(caplog: pytest.LogCaptureFixture) -> None:
    session: Session[Waiter] = Session()
    stream = Subscriber()
    session.subscribe(stream)
    raw: List[Any] = []
    session.listeners.add_notification("apiKeys.didChange", raw.append)
    with caplog.at_level(logging.ERROR, logger="hyperstack_rpc"):
        session.receive({"jsonrpc": "2.0", "method": "apiKeys.didChange", "params": {"cause": "magic"}})
    assert raw == [{"cause": "magic"}] and stream.items == [] and "malformed" in caplog.text


def test_callback_results_come_back_for_the_shell_to_run() -> None:
    session: Session[Waiter] = Session()
    session.listeners.add_notification("custom/thing", lambda params: ("ran", params))
    event = session.receive({"jsonrpc": "2.0", "method": "custom/thing", "params": [1]})
    assert isinstance(event, Notified) and event.results == [("ran", [1])]


def test_a_request_from_the_server_gets_method_not_found_to_send_back() -> None:
    session: Session[Waiter] = Session()
    event = session.receive({"jsonrpc": "2.0", "id": "s1", "method": "workspace/configuration"})
    assert isinstance(event, MustReply)
    reply = body(event.frame)
    assert reply["id"] == "s1" and reply["error"]["code"] == -32601


def test_trace_sees_every_message_built_and_received() -> None:
    seen: List[Tuple[str, Dict[str, Any]]] = []
    session: Session[Waiter] = Session(lambda direction, message: seen.append((direction, dict(message))))
    session.request("$/ping", None, Waiter("$/ping"))
    session.feed(frame({"id": 1, "result": {}}))
    drain(session)
    assert [(d, m.get("method", m.get("result"))) for d, m in seen] == [("send", "$/ping"), ("recv", {})]


def test_typed_calls_build_params_and_parse_results_once_for_both_clients() -> None:
    listed = calls.list_keys(True, 5.0)
    assert (listed.method, listed.params) == ("apiKeys.list", {"refresh": True, "maxAge": 5.0})
    result = {"keys": [KEY], "revision": 2, "fetchedAt": "2026-05-06T15:18:43Z", "fromCache": False}
    assert listed.parse(result).keys[0].id == 7
    updated = calls.update(7, "n", None)
    assert updated.params == {"id": 7, "name": "n", "description": None}
    assert updated.parse({"key": KEY, "revision": 3}).name == "ci"
    with pytest.raises(ProtocolError, match="apiKeys.update"):
        updated.parse([])
    assert calls.watch(2).parse({"interval": 2}) == 2.0
    assert (calls.ping().method, calls.ping().params, calls.ping().parse({})) == ("$/ping", None, None)
    assert calls.delete(7).parse({"id": 7, "revision": 4}).revision == 4
    with pytest.raises(ProtocolError, match="initialize"):
        calls.initialize("me").parse(None)


def _executable(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_binaries_are_found_in_the_variable_then_the_checkouts_build_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout, bin_dir = tmp_path / "checkout", tmp_path / "bin"
    monkeypatch.setattr(launch, "repository_root", lambda: checkout)
    monkeypatch.setattr(launch, "BUNDLE_DIR", tmp_path / "no-bundle")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("SOME_BIN", raising=False)
    with pytest.raises(FileNotFoundError, match="swift build") as missing:
        launch.locate("tool", "SOME_BIN")
    assert str(checkout / ".build" / "debug" / "tool") in str(missing.value)
    on_path = _executable(bin_dir / "tool")
    assert launch.locate("tool", "SOME_BIN") == on_path
    release = _executable(checkout / ".build" / "release" / "tool")
    assert launch.locate("tool", "SOME_BIN") == release
    debug = _executable(checkout / ".build" / "debug" / "tool")
    assert launch.locate("tool", "SOME_BIN") == debug
    elsewhere = _executable(tmp_path / "elsewhere" / "tool")
    monkeypatch.setenv("SOME_BIN", elsewhere)
    assert launch.locate("tool", "SOME_BIN") == elsewhere
    assert launch.locate("tool", "SOME_BIN", explicit=on_path) == on_path
    monkeypatch.setenv("SOME_BIN", "tool")  # a name, looked up on PATH
    assert launch.locate("tool", "SOME_BIN") == on_path


def test_the_bundled_binary_comes_after_the_variable_and_before_the_checkout_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order an installed wheel sees: explicit, variable, bundled, PATH (a checkout's build never shadows it)."""
    checkout, bin_dir, bundle = tmp_path / "checkout", tmp_path / "bin", tmp_path / "_bin"
    monkeypatch.setattr(launch, "repository_root", lambda: checkout)
    monkeypatch.setattr(launch, "BUNDLE_DIR", bundle)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("SOME_BIN", raising=False)
    on_path = _executable(bin_dir / "tool")
    _executable(checkout / ".build" / "debug" / "tool")
    bundled = _executable(bundle / "tool")
    assert launch.bundled("tool") == Path(bundled)
    assert launch.locate("tool", "SOME_BIN") == bundled
    elsewhere = _executable(tmp_path / "elsewhere" / "tool")
    monkeypatch.setenv("SOME_BIN", elsewhere)
    assert launch.locate("tool", "SOME_BIN") == elsewhere
    assert launch.locate("tool", "SOME_BIN", explicit=on_path) == on_path
    monkeypatch.setenv("SOME_BIN", "")  # empty counts as unset
    assert launch.locate("tool", "SOME_BIN") == bundled


def test_a_bundled_file_that_is_not_executable_is_an_error_not_a_reason_to_use_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle, bin_dir = tmp_path / "_bin", tmp_path / "bin"
    monkeypatch.setattr(launch, "BUNDLE_DIR", bundle)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("SOME_BIN", raising=False)
    _executable(bin_dir / "tool")
    bundle.mkdir()
    (bundle / "tool").write_text("not a program")
    (bundle / "tool").chmod(0o644)
    with pytest.raises(FileNotFoundError, match="not an executable file; reinstall the wheel"):
        launch.locate("tool", "SOME_BIN")


def test_a_checkout_carries_no_bundled_binary() -> None:
    """Only `make wheel` fills hyperstack_rpc/_bin; one in the source tree would shadow every checkout build."""
    if launch.repository_root() is not None:
        assert not launch.BUNDLE_DIR.exists(), f"{launch.BUNDLE_DIR} exists in the checkout"


def test_the_checkout_is_only_believed_when_it_holds_the_swift_package() -> None:
    root = launch.repository_root()
    here = Path(__file__).resolve().parents[3]
    assert root == (here if (here / "Package.swift").is_file() else None)
