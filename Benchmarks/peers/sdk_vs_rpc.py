"""Rows 4 and 6: the official Hyperstack SDK against our Python client through hyperstack-rpc.

Runs inside Benchmarks/.venv (which has the SDK); our client is imported from
clients/python/src. Every mode talks to a running hyperstack-sandbox over HTTP and
counts upstream requests from its /_sandbox/stats, before and after the measured
work. Prints one JSON object.

    python sdk_vs_rpc.py sdk-list        BASE_URL KEY COUNT
    python sdk_vs_rpc.py rpc-list        BASE_URL KEY COUNT RPC_BINARY
    python sdk_vs_rpc.py sdk-efficiency  BASE_URL KEY
    python sdk_vs_rpc.py rpc-efficiency  BASE_URL KEY RPC_BINARY
"""

import asyncio
import json
import os
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Dict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python", "src"))

EXPECTED_KEYS = 20
CONCURRENT_LISTS = 100


def stats(base_url: str) -> Dict[str, int]:
    """Upstream requests per route so far ("GET /api-key": n, ...)."""
    root = base_url.rsplit("/v1", 1)[0]
    with urllib.request.urlopen(root + "/_sandbox/stats", timeout=10) as response:
        return json.loads(response.read())["requests"]


def delta(before: Dict[str, int], after: Dict[str, int]) -> Dict[str, int]:
    return {route: after.get(route, 0) - before.get(route, 0) for route in after if after.get(route, 0) != before.get(route, 0)}


def sdk_api(base_url: str, key: str):
    import hyperstack

    configuration = hyperstack.Configuration(host=base_url)
    configuration.api_key["apiKey"] = key
    return hyperstack.ApiKeyApi(hyperstack.ApiClient(configuration))


def check_count(count: int) -> None:
    if count != EXPECTED_KEYS:
        raise SystemExit(f"expected {EXPECTED_KEYS} keys from the sandbox, got {count}")


def sdk_list(base_url: str, key: str, count: int) -> dict:
    api = sdk_api(base_url, key)
    before = stats(base_url)
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(count):
        keys = api.get_api_key().api_keys
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    check_count(len(keys or []))
    return {"calls": count, "per_call_us": elapsed / count * 1e6, "cpu_per_call_us": cpu / count * 1e6,
            "upstream": delta(before, stats(base_url))}


def rpc_list(base_url: str, key: str, count: int, binary: str) -> dict:
    from hyperstack_rpc import Client

    with Client(binary=binary, base_url=base_url, api_key=key, timeout=60) as client:
        before = stats(base_url)
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(count):
            keys = client.list().keys
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        check_count(len(keys))
        upstream = delta(before, stats(base_url))
    return {"calls": count, "per_call_us": elapsed / count * 1e6, "cpu_per_call_us": cpu / count * 1e6,
            "upstream": upstream}


def sdk_efficiency(base_url: str, key: str) -> dict:
    api = sdk_api(base_url, key)
    api.api_client.configuration.connection_pool_maxsize = CONCURRENT_LISTS
    before = stats(base_url)
    with ThreadPoolExecutor(max_workers=CONCURRENT_LISTS) as pool:
        results = list(pool.map(lambda _: len(api.get_api_key().api_keys or []), range(CONCURRENT_LISTS)))
    for found in results:
        check_count(found)
    lists = delta(before, stats(base_url))
    before = stats(base_url)
    import hyperstack

    api.generate_api_key(hyperstack.GenerateUpdateApiKeyPayload(name="bench-sdk-mutation", description="made by the bench"))
    check_count(len(api.get_api_key().api_keys or []) - 1)
    mutation = delta(before, stats(base_url))
    return {"concurrent_lists": CONCURRENT_LISTS, "lists_upstream": lists, "mutation_then_list_upstream": mutation}


def rpc_efficiency(base_url: str, key: str, binary: str) -> dict:
    from hyperstack_rpc import AsyncClient

    async def run() -> dict:
        async with AsyncClient(binary=binary, base_url=base_url, api_key=key, timeout=60) as client:
            before = stats(base_url)
            results = await asyncio.gather(*(client.list() for _ in range(CONCURRENT_LISTS)))
            for result in results:
                check_count(len(result.keys))
            lists = delta(before, stats(base_url))
            before = stats(base_url)
            await client.generate("bench-rpc-mutation", "made by the bench")
            check_count(len((await client.list()).keys) - 1)
            mutation = delta(before, stats(base_url))
        return {"concurrent_lists": CONCURRENT_LISTS, "lists_upstream": lists, "mutation_then_list_upstream": mutation}

    return asyncio.run(run())


def main() -> None:
    mode, base_url, key, *rest = sys.argv[1:]
    if mode == "sdk-list":
        result = sdk_list(base_url, key, int(rest[0]))
    elif mode == "rpc-list":
        result = rpc_list(base_url, key, int(rest[0]), rest[1])
    elif mode == "sdk-efficiency":
        result = sdk_efficiency(base_url, key)
    elif mode == "rpc-efficiency":
        result = rpc_efficiency(base_url, key, rest[0])
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
