"""Row 11: `list_api_keys` per call through the official MCP Python SDK's client, ours and the peer.

One long-lived Python process (so neither side pays for the client's imports): the official
SDK (`mcp` 2.3.0) spawns each server with `stdio_client`, opens a `ClientSession`, runs the
handshake, lists the tools (as agents do, and so the SDK validates every result against the
tool's output schema) and makes one untimed call, which must list the 20 keys. Then, in
`rounds` interleaved rounds, each variant makes `calls` calls one after another; every call is
timed on its own (`time.perf_counter`), and the client's CPU time (`time.process_time`) and the
sandbox's `GET /api-key` count are taken around each batch. All servers stay alive for the whole
run. Prints one JSON object: per variant, each round's median and the round with the median median.

    python mcp_sdk_calls.py CONFIG.json

CONFIG: {"base_url": URL, "calls": N, "rounds": R, "stderr": PATH, "expected_keys": 20,
         "servers": {NAME: {"argv": [...], "env": {...}}, ...},
         "variants": [{"name": NAME, "server": NAME, "arguments": {...}}, ...]}
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.request
from contextlib import AsyncExitStack

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client


class Failed(Exception):
    """What went wrong, in a sentence: printed on stderr, exit status 1."""


def leaves(error: BaseException):
    """The exceptions inside (nested) exception groups, as anyio's task groups wrap them."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from leaves(inner)
    else:
        yield error


def list_requests(base_url: str) -> int:
    """`GET /api-key` requests the HTTP sandbox has answered so far."""
    with urllib.request.urlopen(base_url.rsplit("/v1", 1)[0] + "/_sandbox/stats", timeout=10) as response:
        return int(json.loads(response.read())["requests"].get("GET /api-key", 0))


def key_count(result) -> int:
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise Failed(f"list_api_keys failed: {text[:300]}")
    return len((result.structured_content or {}).get("keys") or [])


async def measure(config: dict) -> dict:
    errlog = open(config["stderr"], "a")
    sessions = {}
    async with AsyncExitStack() as stack:
        for name, server in config["servers"].items():
            parameters = StdioServerParameters(command=server["argv"][0], args=server["argv"][1:], env=server["env"])
            read, write = await stack.enter_async_context(stdio_client(parameters, errlog=errlog))
            session = await stack.enter_async_context(ClientSession(read, write, read_timeout_seconds=60))
            started = time.perf_counter()
            await session.initialize()
            tools = {tool.name for tool in (await session.list_tools()).tools}
            if "list_api_keys" not in tools:
                raise Failed(f"{name} lists no list_api_keys tool (it has {sorted(tools)})")
            found = key_count(await session.call_tool("list_api_keys", {}))
            if found != config["expected_keys"]:
                raise Failed(f"{name} listed {found} keys, expected {config['expected_keys']}")
            sessions[name] = (session, time.perf_counter() - started)
        runs = {variant["name"]: [] for variant in config["variants"]}
        for _ in range(config["rounds"]):
            for variant in config["variants"]:
                session = sessions[variant["server"]][0]
                arguments = variant.get("arguments") or {}
                samples = []
                before = list_requests(config["base_url"])
                cpu_started = time.process_time()
                for _ in range(config["calls"]):
                    started = time.perf_counter()
                    result = await session.call_tool("list_api_keys", arguments)
                    samples.append(time.perf_counter() - started)
                    if key_count(result) != config["expected_keys"]:
                        raise Failed(f"{variant['name']} lost keys mid-run")
                cpu = time.process_time() - cpu_started
                samples.sort()
                runs[variant["name"]].append({
                    "median_us": statistics.median(samples) * 1e6,
                    "mean_us": statistics.fmean(samples) * 1e6,
                    "p90_us": samples[int(0.9 * (len(samples) - 1))] * 1e6,
                    "min_us": samples[0] * 1e6,
                    "client_cpu_per_call_us": cpu / len(samples) * 1e6,
                    "upstream_lists": list_requests(config["base_url"]) - before,
                })
    errlog.close()
    report = {"calls": config["calls"], "rounds": config["rounds"],
              "connect_and_first_call_s": {name: round(value[1], 4) for name, value in sessions.items()}, "variants": {}}
    for name, results in runs.items():
        chosen = sorted(results, key=lambda r: r["median_us"])[len(results) // 2]
        report["variants"][name] = dict(chosen, all_medians_us=[round(r["median_us"], 1) for r in results],
                                        upstream_lists_total=sum(r["upstream_lists"] for r in results))
    return report


def main() -> int:
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    try:
        report = anyio.run(measure, config)
    except BaseException as error:  # noqa: BLE001 - reported in one line, not as a task-group traceback
        failures = [inner for inner in leaves(error) if isinstance(inner, Failed)]
        if not failures:
            raise
        print(f"mcp_sdk_calls: {failures[0]}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
