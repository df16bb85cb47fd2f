"""Rows 10 and 11: `hyperstack-rpc mcp` against a peer MCP server built on the official MCP Python SDK.

Issue 13, acceptance 5. bench.py runs these in the same run as rows 1-9 (its `run_rows`), so
ratios compare processes measured minutes apart on the same machine. Both sides serve the same
four tools over stdio and reach the same `hyperstack-sandbox` over HTTP (20 keys); the peer is
`peers/mcp_peer_server.py` (mcp 2.3.0's `MCPServer` with the official Hyperstack SDK).

- Row 10, cold start: spawn → the `tools/list` answer, after `initialize` and
  `notifications/initialized`, timed from outside by `c/mcp_spawntime.c`.
- Row 11, per call: `list_api_keys` through the official SDK's `ClientSession` over stdio,
  one long-lived client (`peers/mcp_sdk_calls.py`) for both servers, rounds interleaved.

A server under test without the `mcp` subcommand fails both rows, loudly: older builds take
`mcp` for an argument of the default `serve` and print its help, so the check reads the usage line.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Dict, List

import bench as harness

#: Ours is a native process: as many spawns as row 1. Each spawn of the peer costs seconds of
#: Python imports, so it gets fewer (the median of 5 is stable to a few percent).
COUNTS = {"full": dict(peer_spawns=5, calls=200, rounds=3), "smoke": dict(peer_spawns=1, calls=10, rounds=1)}
COLD_START_FACTOR = 30  # issue 13: cold start ≥ 30× faster than the peer
PER_CALL_FACTOR = 3  # issue 13: per call ≥ 3× faster through the SDK client
#: The uncached variant asks upstream on every call; our default limit (500 a minute, Infrahub's
#: own) would space those calls 120 ms apart after the burst, which measures the limiter.
UNCACHED_RATE_LIMIT = "1000000"
PEERS = Path(__file__).resolve().parent / "peers"
PEER = PEERS / "mcp_peer_server.py"


def check_mcp(bench: "harness.Bench") -> None:
    """Fails the row unless the binary has the `mcp` subcommand (issue 13)."""
    result = harness.subprocess.run([bench.rpc, "mcp", "--help"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or "USAGE: hyperstack-rpc mcp" not in result.stdout:
        first = (result.stdout.splitlines() or [result.stderr.strip()[:60]])[0][:60]
        raise harness.BenchError(f"no `mcp` subcommand in {bench.rpc} (build it with issue 13); "
                                 f"`mcp --help` printed {first!r}")


def server_env(bench: "harness.Bench", key: str) -> Dict[str, str]:
    """Both servers' environment: the sandbox's key, and a scratch XDG_STATE_HOME (secrets directories)."""
    state = bench.work / "mcp-state"
    state.mkdir(mode=0o700, exist_ok=True)
    return dict(harness.sandbox_env(), HYPERSTACK_API_KEY=key, XDG_STATE_HOME=str(state))


def ours(bench: "harness.Bench", url: str, *more: str) -> List[str]:
    return [bench.rpc, "mcp", "--base-url", url, *more]


def peer(bench: "harness.Bench", url: str, *more: str) -> List[str]:
    return [bench.venv_python, *more, str(PEER), "--base-url", url]


def mcp_spawntime(bench: "harness.Bench", argv: List[str], env: Dict[str, str], count: int, warmup: int) -> dict:
    command = [bench.tool("mcp_spawntime"), "--count", str(count), "--warmup", str(warmup),
               "--stderr", str(bench.work / "mcp-stderr.log"), "--"] + argv
    result = json.loads(harness.run(command, timeout=900, env=env).stdout)
    if result["nonzero_exits"]:
        raise harness.BenchError(f"`{' '.join(argv[:3])} …` exited {result['last_exit']} at end of input "
                                 f"in {result['nonzero_exits']} of {result['count']} runs")
    return result


def import_times(path: str) -> Dict[str, float]:
    """Cumulative ms of each top-level import from `python -X importtime`'s stderr."""
    found: Dict[str, float] = {}
    pattern = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\S.*)$")
    with open(path, errors="replace") as handle:
        for line in handle:
            match = pattern.match(line.rstrip("\n"))
            if match and not match.group(2).startswith(" "):
                found[match.group(2).strip()] = found.get(match.group(2).strip(), 0) + int(match.group(1)) / 1000
    return found


def cold_start(bench: "harness.Bench") -> None:
    """Row 10: spawn → `tools/list` answered, ours against the peer, on one HTTP sandbox."""
    check_mcp(bench)
    counts = COUNTS[bench.mode]
    spawns, warmup = bench.counts["spawns"], 0 if bench.mode == "smoke" else 1
    with bench.start_sandbox() as sandbox:
        env = server_env(bench, sandbox.key)
        before = sandbox.list_requests()
        mine = mcp_spawntime(bench, ours(bench, sandbox.url), env, spawns, warmup)
        between = sandbox.list_requests()
        theirs = mcp_spawntime(bench, peer(bench, sandbox.url), env, counts["peer_spawns"], warmup)
        upstream = {"ours": between - before, "peer": sandbox.list_requests() - between}
        # One more peer spawn with `python -X importtime`: where its start goes (full mode only).
        imports: Dict[str, float] = {}
        if bench.mode == "full":
            log = bench.work / "mcp-importtime.log"
            traced = [bench.tool("mcp_spawntime"), "--count", "1", "--warmup", "0", "--stderr", str(log), "--"]
            harness.run(traced + peer(bench, sandbox.url, "-X", "importtime"), timeout=300, env=env)
            imports = import_times(str(log))
    bench.raw["mcp_cold_start"] = {"ours": mine, "peer": theirs, "peer_imports_ms": imports, "upstream_lists": upstream}
    o, p = mine["median_us"] / 1000, theirs["median_us"] / 1000
    ratio = p / o
    bench.rows.append(harness.Row(
        "10", f"MCP cold start: spawn → `tools/list` answer (after `initialize`), `mcp --base-url` on the HTTP "
              f"sandbox, median of {spawns} (peer: {counts['peer_spawns']})", o,
        "official MCP SDK `MCPServer` + Hyperstack SDK (Python)", p, "ms", ratio, harness.times(ratio, "faster", "slower"),
        f"≥ {COLD_START_FACTOR}× faster", ratio >= COLD_START_FACTOR))
    floor = bench.raw.get("cold_start", {}).get("floor", {}).get("median_us")
    note = (f"- **MCP cold start** (`mcp_spawntime.c`; p90 / min): ours {mine['p90_us'] / 1000:.1f} / "
            f"{mine['min_us'] / 1000:.1f} ms, of which {mine['initialize_median_us'] / 1000:.1f} ms (median) until the "
            f"`initialize` answer; `tools/list` ({mine['tools_list_bytes']:,} bytes) adds the rest. Peer "
            f"{theirs['p90_us'] / 1000:.0f} / {theirs['min_us'] / 1000:.0f} ms, {theirs['initialize_median_us'] / 1000:.0f} ms "
            f"until `initialize` is answered ({theirs['tools_list_bytes']:,}-byte `tools/list`). `GET /api-key` seen by the "
            f"sandbox during the spawns: ours {upstream['ours']}, peer {upstream['peer']}.")
    if floor:
        note += (f" Ours is {o / (floor / 1000):.0f}× the `/bin/true` floor of row 1 "
                 f"({floor / 1000:.2f} ms), where row 1's LSP `initialize` (no `--base-url`) was "
                 f"{bench.raw['cold_start']['ours']['median_us'] / 1000:.1f} ms.")
    if imports:
        total = sum(imports.values())
        top = sorted(imports.items(), key=lambda item: -item[1])[:4]
        note += (f" What dominates the peer is Python importing its libraries: under `python -X importtime` (one "
                 f"spawn, slower than untraced) the imports took {total:.0f} ms, " +
                 ", ".join(f"`{name}` {ms:.0f} ms" for name, ms in top) + "; the rest is the interpreter's "
                 "own start and the server's set-up (tool schemas, the stdio loop).")
    bench.details.append(note)


def capture_answers(bench: "harness.Bench", argv: List[str], env: Dict[str, str]) -> List[str]:
    """Our answers to `initialize`, `tools/list` and one `list_api_keys` call, each result in a file,
    for `mcp_echo.c` to replay: the floor of row 11 gets the very bytes our server sends."""
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "hyperstack-bench", "version": "1"}}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_api_keys", "arguments": {}}},
    ]
    paths = []
    with open(bench.work / "mcp-stderr.log", "ab") as log:
        process = harness.subprocess.Popen(argv, stdin=harness.subprocess.PIPE, stdout=harness.subprocess.PIPE,
                                           stderr=log, env=env)
        try:
            for request in requests:
                process.stdin.write(json.dumps(request).encode() + b"\n")
                if request["id"] == 1:
                    process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
                process.stdin.flush()
                while True:
                    line = process.stdout.readline()
                    if not line:
                        raise harness.BenchError(f"{argv[0]} mcp closed its stdout before answering {request['method']}")
                    answer = json.loads(line)
                    if answer.get("id") == request["id"]:
                        break
                if "result" not in answer:
                    raise harness.BenchError(f"{request['method']} failed: {json.dumps(answer)[:300]}")
                path = bench.work / f"mcp-answer-{request['id']}.json"
                path.write_text(json.dumps(answer["result"], separators=(",", ":")))
                paths.append(str(path))
        finally:
            process.stdin.close()
            process.wait(timeout=30)
            process.stdout.close()
    return paths


def per_call(bench: "harness.Bench") -> None:
    """Row 11: `list_api_keys` per call through the official SDK's ClientSession, ours against the peer."""
    check_mcp(bench)
    counts = COUNTS[bench.mode]
    with bench.start_sandbox() as sandbox:
        env = server_env(bench, sandbox.key)
        answers = capture_answers(bench, ours(bench, sandbox.url), env)
        config = {
            "base_url": sandbox.url, "calls": counts["calls"], "rounds": counts["rounds"],
            "stderr": str(bench.work / "mcp-calls-stderr.log"), "expected_keys": harness.KEY_COUNT,
            "servers": {
                "ours": {"argv": ours(bench, sandbox.url), "env": env},
                "ours uncached": {"argv": ours(bench, sandbox.url, "--rate-limit", UNCACHED_RATE_LIMIT), "env": env},
                "peer": {"argv": peer(bench, sandbox.url), "env": env},
                "floor": {"argv": [bench.tool("mcp_echo"), *answers], "env": {}},
            },
            "variants": [
                {"name": "floor", "server": "floor"},
                {"name": "ours", "server": "ours"},
                {"name": "peer", "server": "peer"},
                {"name": "ours uncached", "server": "ours uncached", "arguments": {"refresh": True}},
            ],
        }
        path = bench.work / "mcp-calls.json"
        path.write_text(json.dumps(config))
        script = str(PEERS / "mcp_sdk_calls.py")
        report = json.loads(harness.run([bench.venv_python, script, str(path)], timeout=900,
                                        env=harness.sandbox_env()).stdout)
    bench.raw["mcp_per_call"] = report
    variants = report["variants"]
    mine, theirs, uncached = variants["ours"], variants["peer"], variants["ours uncached"]
    ratio = theirs["median_us"] / mine["median_us"]
    runs_note = f" (median of {counts['rounds']} interleaved rounds)" if counts["rounds"] > 1 else ""
    bench.rows.append(harness.Row(
        "11", f"MCP `list_api_keys` per call from the official SDK client (`ClientSession`, stdio), HTTP sandbox, "
              f"20 keys, {counts['calls']} calls{runs_note}", mine["median_us"],
        "official MCP SDK `MCPServer` + Hyperstack SDK (Python)", theirs["median_us"], "µs", ratio,
        harness.times(ratio, "faster", "slower"), f"≥ {PER_CALL_FACTOR}× faster", ratio >= PER_CALL_FACTOR))
    uncached_ratio = theirs["median_us"] / uncached["median_us"]
    floor = variants["floor"]
    fmt_runs = lambda v: ", ".join(f"{x:,.0f}" for x in v["all_medians_us"])  # noqa: E731
    bench.details.append(
        f"- **MCP per call** (median per call; p90; client CPU per call, `time.process_time()` of the SDK client): "
        f"ours {mine['median_us']:,.0f} µs, p90 {mine['p90_us']:,.0f} µs, client CPU {mine['client_cpu_per_call_us']:,.0f} µs; "
        f"peer {theirs['median_us']:,.0f} µs, p90 {theirs['p90_us']:,.0f} µs, client CPU "
        f"{theirs['client_cpu_per_call_us']:,.0f} µs. Rounds' medians: ours {fmt_runs(mine)}; peer {fmt_runs(theirs)}. "
        f"What dominates: on our side the SDK client itself ({floor['median_us'] / mine['median_us']:.0%} of our per-call "
        f"time is its floor, below; its CPU goes mostly to validating each result's `structuredContent` against the tool's "
        f"`outputSchema` with `jsonschema`, and to pydantic); on the peer's side its Python server (`MCPServer`'s "
        f"dispatch and pydantic, each sync tool call handed to a worker thread) and the Hyperstack SDK's HTTP request. Ours answers from its cache (`--cache-ttl`, 30 s by default): "
        f"`GET /api-key` during the timed calls: ours {mine['upstream_lists_total']}, peer {theirs['upstream_lists_total']} "
        f"(one per call). Uncached, with `refresh: true` on every call (a second server, `--rate-limit "
        f"{UNCACHED_RATE_LIMIT}` so our limiter does not space the calls out): {uncached['median_us']:,.0f} µs per call "
        f"({harness.times(uncached_ratio, 'faster', 'slower')} than the peer; {uncached['upstream_lists_total']} upstream "
        f"lists). Connecting (spawn, `initialize`, `tools/list`, first call) took {report['connect_and_first_call_s']['ours']:.2f} s "
        f"for ours and {report['connect_and_first_call_s']['peer']:.2f} s for the peer. **The client's floor**: the same "
        f"client against `mcp_echo.c`, which replays our captured answers and does no work, in the same rounds: "
        f"{floor['median_us']:,.0f} µs per call (client CPU {floor['client_cpu_per_call_us']:,.0f} µs), so ours adds "
        f"{mine['median_us'] - floor['median_us']:,.0f} µs to it and the peer {theirs['median_us'] - floor['median_us']:,.0f} µs; "
        f"no server sending these answers can be more than {theirs['median_us'] / floor['median_us']:.1f}× faster than "
        f"the peer through this client.")


def main() -> int:
    """Rows 10 and 11 alone, for working on them (the Markdown rows and notes on stdout):

        Benchmarks/.venv/bin/python Benchmarks/mcp_rows.py --bin-dir DIR [--smoke]

    DIR holds hyperstack-rpc (with `mcp`) and hyperstack-sandbox; `make bench` runs the rows with the others.
    """
    import argparse
    import shutil
    import sys
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    mode = "smoke" if args.smoke else "full"
    work = Path(tempfile.mkdtemp(prefix="hyperstack-bench-mcp."))
    bench = harness.Bench(mode, harness.SMOKE if args.smoke else harness.FULL, Path(args.bin_dir).absolute(), work,
                          sys.executable)
    try:
        bench.compile_tools()
        bench.write_state()
        print(harness.machine_description(), file=sys.stderr)
        for step in (cold_start, per_call):
            try:
                step(bench)
            except Exception as error:  # noqa: BLE001 - as run_rows: report, go on
                bench.rows.append(harness.Row("10" if step is cold_start else "11", f"{step.__name__} (failed)",
                                              error=f"{type(error).__name__}: {error}"))
        report = bench.markdown({}, harness.machine_description(), str(bench.bin_dir))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write(report)
    return 0 if all(row.complete() for row in bench.rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
