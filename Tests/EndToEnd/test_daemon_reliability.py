"""The shared daemon (issue 12), acceptance 5: faults.

- SIGKILL the daemon during pipelined traffic from 5 forwarders: every read is answered, every
  mutation in flight gets its result or 1504, no key is created twice, every stream holds only
  well-formed frames, revisions never go back, a new daemon serves the next requests with the
  session state replayed (initialize's key, the watch interval);
- rounds of 5 forwarders starting at once: each round starts exactly one daemon (the daemon is
  SIGKILLed between rounds, so each round also replaces a stale socket);
- attach/detach cycles leak no descriptors, threads or memory in the daemon;
- with no daemon startable, a forwarder serves in-process and says so once on stderr.

Sizes: 50 rounds and 1,000 cycles in the default suite; HYPERSTACK_RELIABILITY=long
(`Tests/Reliability/run_long.sh -k daemon_reliability`) runs 200 rounds and 5,000 cycles. Figures go to
the reliability report like the other reliability parts.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from daemon_fixtures import (OUTCOME_UNKNOWN, Forwarder, daemon_env, daemon_validator, forwarders,  # noqa: F401
                             fallback_lines, is_daemon_cmdline, _cmdline, _readlink)
from reliability_kit import Figures, ProcessProbe, register_summary, scale, wait_gone
from rpc_process import lsp_frame, ndjson_frame
from sandbox_server import SandboxServer

MUTATIONS = ("apiKeys.generate", "apiKeys.update", "apiKeys.delete")

pytestmark = pytest.mark.timeout(scale(300, 3600))


@pytest.fixture(autouse=True, scope="module")
def _figures(request):
    register_summary(request.config)


# -- SIGKILL mid-traffic -----------------------------------------------------------------

def _traffic(index: int, seeds: list) -> list:
    """(method, params) pipelined by forwarder `index`: reads of every kind, generates with
    names of their own, updates of two seed keys of its own."""
    plan = []
    for k in range(30):
        kind = k % 6
        if kind == 0:
            plan.append(("apiKeys.list", {}))
        elif kind == 1:
            plan.append(("apiKeys.list", {"refresh": True}))
        elif kind == 2:
            plan.append(("$/ping", None))
        elif kind == 3:
            plan.append(("apiKeys.generate", {"name": f"gen-{index}-{k}"}))
        elif kind == 4:
            plan.append(("apiKeys.list", {"maxAge": 0}))
        else:
            plan.append(("apiKeys.update", {"id": seeds[2 * index + (k // 6) % 2], "name": f"upd-{index}-{k}"}))
    return plan


def test_reliability_daemon_sigkill_during_pipelined_traffic(daemon_env, forwarders):
    sandbox = SandboxServer("--max-keys", "100000")
    try:
        for index in range(10):
            status, body = sandbox.http("POST", "/api-key/generate", {"name": f"seed-{index}"})
            assert status in (200, 201), body
        seeds = sorted(key["id"] for key in _sandbox_keys(sandbox))
        assert len(seeds) == 10

        framings = ["ndjson", "lsp", "ndjson", "lsp", "ndjson"]
        fleet = []
        for index, framing in enumerate(framings):
            if index == 0:
                # Its key comes from initialize alone: the replay must carry it to the new daemon.
                forwarder = forwarders("--base-url", sandbox.base_url, framing=framing, secrets=[sandbox.api_key])
                forwarder.call("initialize", {"processId": os.getpid(),
                                              "initializationOptions": {"apiKey": sandbox.api_key}})
            else:
                forwarder = forwarders(framing=framing, sandbox=sandbox)
                forwarder.call("initialize", {"processId": os.getpid()})
            forwarder.notify("initialized", {})
            forwarder.call("apiKeys.list", {}, timeout=30)
            fleet.append(forwarder)
        assert fleet[1].call("apiKeys.watch", {"interval": 30})["interval"] == 30
        before = daemon_env.wait_status(lambda s: s["sessions"] == 5)
        assert [store["pollInterval"] for store in _keyed(before)] == [30], before["stores"]
        victim = before["pid"]
        generates_before = sandbox.route_count("POST /api-key/generate")

        sandbox.faults({"method": "POST", "path": "/api-key/generate", "latency_ms": 400, "count": 200},
                       {"method": "GET", "path": "/api-key", "latency_ms": 150, "count": 40},
                       {"method": "PUT", "path": "/api-key/", "latency_ms": 300, "count": 200})
        sent: list[dict] = []
        for index, forwarder in enumerate(fleet):
            for method, params in _traffic(index, seeds):
                sent.append({"forwarder": index, "method": method, "params": params,
                             "id": forwarder.start_request(method, params)})
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        assert wait_gone(victim, 5)

        outcomes = {"result": 0, OUTCOME_UNKNOWN: 0}
        for entry in sent:
            response = fleet[entry["forwarder"]].wait_response(entry["id"], 60)
            entry["response"] = response
            if entry["method"] in MUTATIONS:
                if "result" in response:
                    outcomes["result"] += 1
                else:
                    assert response["error"]["code"] == OUTCOME_UNKNOWN, (entry["method"], response)
                    assert response["error"].get("data", {}).get("method") == entry["method"], response
                    outcomes[OUTCOME_UNKNOWN] += 1
            else:
                assert "result" in response, f"a read was not answered with its result: {entry['method']} {response}"
        recovered_in = time.monotonic() - killed_at
        assert outcomes[OUTCOME_UNKNOWN] >= 1, "no mutation was in flight at the kill: the test proved nothing"

        for index, forwarder in enumerate(fleet):
            ids = [json.dumps(m.get("id")) for m in forwarder.arrived if "method" not in m]
            assert len(ids) == len(set(ids)), f"forwarder {index} got a response twice"
            assert forwarder.stream_error is None, forwarder.stream_error

        # No key was created twice, and every generate that reached upstream was sent once.
        keys = _sandbox_keys(sandbox)
        names = [key["name"] for key in keys]
        assert len(names) == len(set(names)), "a key name exists twice"
        generated = [name for name in names if name.startswith("gen-")]
        asked = [e for e in sent if e["method"] == "apiKeys.generate"]
        assert sandbox.route_count("POST /api-key/generate") - generates_before == len(generated)
        assert len(generated) <= len(asked)
        by_id = {key["id"]: key["name"] for key in keys}
        for entry in asked:
            if "result" in entry["response"]:
                key = entry["response"]["result"]["key"]
                assert by_id.get(key["id"]) == entry["params"]["name"], entry
        updates = [e for e in sent if e["method"] == "apiKeys.update"]
        assert sandbox.route_count("PUT /api-key/{id}") <= len(updates), "an update was sent twice"

        # A new daemon serves the next requests, with the sessions' state replayed.
        after = daemon_env.wait_status(lambda s: s["sessions"] == 5, timeout=15)
        assert after["pid"] != victim
        assert daemon_env.daemon_pids() == {after["pid"]}
        assert [store["pollInterval"] for store in _keyed(after)] == [30], after["stores"]
        truth = sorted(by_id)
        for index, forwarder in enumerate(fleet):
            fresh = forwarder.call("apiKeys.list", {"refresh": True}, timeout=30)
            assert sorted(key["id"] for key in fresh["keys"]) == truth, f"forwarder {index} sees another key set"
        name = fleet[0].call("apiKeys.generate", {"name": "after-the-kill"}, timeout=30)["key"]["name"]
        assert name == "after-the-kill"
        Figures.record("daemon.sigkill", requests=len(sent), mutation_results=outcomes["result"],
                       outcome_unknown=outcomes[OUTCOME_UNKNOWN], generates_upstream=len(generated),
                       recovered_s=round(recovered_in, 2))
    finally:
        sandbox.stop()


def test_reliability_daemon_revisions_never_go_back_across_a_restart(daemon_env, forwarders, sandbox_server):
    """The protocol promises that revisions never decrease; a client that holds revision N
    ignores a didChange that is not newer. A new daemon must not start counting again."""
    forwarder = forwarders(framing="ndjson", sandbox=sandbox_server)
    forwarder.call("apiKeys.list", {})
    for index in range(5):
        forwarder.call("apiKeys.generate", {"name": f"before-{index}"})
    held = forwarder.call("apiKeys.list", {})["revision"]
    victim = daemon_env.wait_status(lambda s: s["sessions"] == 1)["pid"]
    os.kill(victim, signal.SIGKILL)
    assert wait_gone(victim, 5)
    listed = forwarder.call("apiKeys.list", {}, timeout=30)
    request_id = forwarder.start_request("apiKeys.generate", {"name": "after"})
    response = forwarder.wait_response(request_id, 30)
    assert "result" in response, response
    note = forwarder.wait_notification(predicate=lambda m: m["params"]["revision"] == response["result"]["revision"])
    assert daemon_env.status_object()["pid"] != victim
    assert listed["revision"] >= held and note["params"]["revision"] > held, (
        f"the client held revision {held}; after the restart it got list revision {listed['revision']} and "
        f"a didChange with revision {note['params']['revision']}, which it would ignore as already applied")


def _keyed(status: dict) -> list:
    """The stores that hold a key. (A session whose key comes from initialize is first
    attached, at its hello, to a store without one.)"""
    return [store for store in status["stores"] if store["keyFingerprint"] is not None]


def _sandbox_keys(sandbox: SandboxServer) -> list:
    status, body = sandbox.http("GET", "/api-key")
    assert status == 200, body
    return body["api_keys"]


# -- simultaneous starts -----------------------------------------------------------------

def _daemon_pids_touching(root: str) -> set[int]:
    """Daemon processes whose argv, environment or open files mention `root`."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        argv = _cmdline(pid)
        if not is_daemon_cmdline(argv):
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environ = handle.read()
            links = [_readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            environ, links = b"", []
        if any(root in arg for arg in argv) or root.encode() in environ or any(link.startswith(root) for link in links):
            found.add(pid)
    return found


def test_reliability_daemon_simultaneous_starts_start_exactly_one_daemon(daemon_env):
    rounds = scale(50, 200)
    root = str(daemon_env.root)
    started = time.monotonic()
    seen_daemons: list[int] = []
    for round_number in range(rounds):
        observed: set[int] = set()
        watching = threading.Event()

        def watch() -> None:
            while not watching.is_set():
                observed.update(_daemon_pids_touching(root))
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        fleet = []
        try:
            for index in range(5):
                fleet.append(Forwarder("--remote", "auto", "--sandbox", framing="lsp" if index % 2 else "ndjson",
                                       env=daemon_env.env))
            ids = [forwarder.start_request("apiKeys.list", {}) for forwarder in fleet]
            for forwarder, request_id in zip(fleet, ids):
                response = forwarder.wait_response(request_id, 30)
                assert "result" in response, response
            status = daemon_env.wait_status(lambda s: s["sessions"] == 5, timeout=10)
            watching.set()
            watcher.join(5)
            observed.update(_daemon_pids_touching(root))
            assert daemon_env.daemon_pids() == {status["pid"]}, f"round {round_number}: {daemon_env.daemon_pids()}"
            assert observed == {status["pid"]}, f"round {round_number}: daemons seen {sorted(observed)}"
            assert status["pid"] not in seen_daemons
            seen_daemons.append(status["pid"])
            for forwarder in fleet:
                assert forwarder.fallback_lines() == [], forwarder.stderr_tail()
        finally:
            watching.set()
            for forwarder in fleet:
                forwarder.close_stdin()
            for forwarder in fleet:
                try:
                    forwarder.wait_exit(15)
                except Exception:
                    forwarder.kill()
        for forwarder in fleet:
            forwarder.check_clean()
        daemon_env.kill_daemons({seen_daemons[-1]})
    elapsed = time.monotonic() - started
    Figures.record("daemon.simultaneous_starts", rounds=rounds, forwarders_per_round=5,
                   daemons=len(set(seen_daemons)), seconds=round(elapsed, 1))


# -- attach/detach cycles ----------------------------------------------------------------

def _lsp_session() -> bytes:
    return (lsp_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": os.getpid()}})
            + lsp_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            + lsp_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
            + lsp_frame({"jsonrpc": "2.0", "method": "exit"}))


def _ndjson_session() -> bytes:
    return (ndjson_frame({"jsonrpc": "2.0", "id": 1, "method": "apiKeys.list", "params": {}})
            + ndjson_frame({"jsonrpc": "2.0", "id": 2, "method": "$/ping"}))


def test_reliability_daemon_attach_detach_cycles_leak_nothing(daemon_env):
    cycles = scale(1000, 5000)
    warmup = 150
    lsp_input, ndjson_input = _lsp_session(), _ndjson_session()
    failures: list = []

    def cycle(number: int) -> None:
        kind = number % 3
        if kind == 0:
            completed = daemon_env.call("apiKeys.list", {}, "--sandbox")
            ok = completed.returncode == 0 and b'"keys"' in completed.stdout
        else:
            completed = daemon_env.run("--remote", "auto", "--sandbox",
                                       input=lsp_input if kind == 1 else ndjson_input)
            expected = b'"serverInfo"' if kind == 1 else b'"keys"'
            ok = completed.returncode == 0 and expected in completed.stdout and completed.stdout.count(b'"id"') == 2
        if not ok or fallback_lines(completed.stderr):
            failures.append((number, completed.returncode, completed.stdout[-300:], completed.stderr[-500:]))

    assert daemon_env.call("apiKeys.list", {}, "--sandbox").returncode == 0
    pid = daemon_env.status_object()["pid"]
    probe = ProcessProbe(pid)

    def settle() -> dict:
        daemon_env.wait_status(lambda s: s["sessions"] == 0, timeout=15)
        time.sleep(0.3)
        return probe.snapshot()

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(cycle, range(warmup)))
    baseline = settle()
    peak = dict(baseline)
    started = time.monotonic()
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.is_set():
            try:
                snapshot = probe.snapshot()
            except (OSError, KeyError):
                return
            for name in ("rss_kb", "fds", "threads"):
                peak[name] = max(peak[name], snapshot[name])
            stop_sampling.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(cycle, range(warmup, warmup + cycles)))
    elapsed = time.monotonic() - started
    stop_sampling.set()
    sampler.join(5)
    assert daemon_env.status_object()["pid"] == pid, "the daemon was replaced during the cycles"
    after = settle()
    growth_mb = (after["rss_kb"] - baseline["rss_kb"]) / 1024
    kinds = {kind: sum(1 for failure in failures if failure[0] % 3 == kind) for kind in range(3)}
    Figures.record("daemon.attach_detach", cycles=cycles, seconds=round(elapsed, 1),
                   per_cycle_ms=round(elapsed / cycles * 1000 * 3, 1), baseline=baseline, after=after, peak=peak,
                   failed_cycles={"call": kinds[0], "lsp initialize+shutdown+exit": kinds[1], "ndjson": kinds[2]})
    assert after["fds"] <= baseline["fds"], f"descriptors {baseline['fds']} -> {after['fds']} over {cycles} cycles"
    assert after["threads"] <= baseline["threads"] + 1, f"threads {baseline['threads']} -> {after['threads']}"
    assert growth_mb < 8, f"RSS grew {growth_mb:.1f} MB over {cycles} cycles"
    # Judged last, so the leak figures above are measured whatever happened to the cycles.
    assert failures == [], (f"{len(failures)} of {warmup + cycles} cycles were not answered as a standalone "
                            f"server answers them (by kind: {kinds}); first: {failures[:2]}")


# -- nothing startable -------------------------------------------------------------------

@pytest.mark.parametrize("unusable", ["mode-0770", "symlink"])
def test_with_no_daemon_startable_the_forwarder_serves_in_process_and_says_so_once(daemon_env, forwarders, unusable):
    if unusable == "symlink":
        target = daemon_env.runtime_dir / "elsewhere"
        target.mkdir(mode=0o700)
        os.symlink(target, daemon_env.socket_dir)
    else:
        daemon_env.socket_dir.mkdir()
        os.chmod(daemon_env.socket_dir, 0o770)
    started = time.monotonic()
    forwarder = forwarders("--sandbox", framing="lsp")
    result = forwarder.call("initialize", {"processId": os.getpid()}, timeout=15)
    first_answer = time.monotonic() - started
    assert result["serverInfo"]["name"] == "hyperstack-rpc"
    assert first_answer < 3 + 2, f"the first answer took {first_answer:.1f} s (3 s to give up on the daemon)"
    forwarder.notify("initialized", {})
    assert forwarder.call("apiKeys.list", {})["keys"] == []
    generate_id = forwarder.start_request("apiKeys.generate", {"name": "local"})
    first = forwarder.read()
    assert first.get("method") == "apiKeys.didChange", first
    assert forwarder.wait_response(generate_id)["result"]["revision"] == first["params"]["revision"]
    assert len(forwarder.call("apiKeys.list", {})["keys"]) == 1
    assert forwarder.stop() == 0
    lines = forwarder.fallback_lines()
    assert len(lines) == 1, f"expected one notice on stderr, got {lines!r}\n{forwarder.stderr_tail()}"
    assert "daemon" in lines[0].lower(), lines
    assert daemon_env.daemon_pids() == set()

    completed = daemon_env.call("apiKeys.list", {}, "--sandbox", timeout=20)
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    assert json.loads(completed.stdout)["keys"] == []
    assert len(fallback_lines(completed.stderr)) == 1, completed.stderr.decode(errors="replace")
    if unusable == "symlink":
        assert list(target.iterdir()) == []
