#!/usr/bin/env python3
"""Sends one request COUNT times in a single write and counts the answers, RUNS times.

Every request must be answered exactly once; this shows answers that never come, and
whether one more request pushes them out (then they were stuck in the output queue). It
reproduced the FrameWriter lost wake-up (answers queued during an inline write, left
there until the next write) in about one burst in three with the server built with
AddressSanitizer (Tests/Fuzz/sanitizers.sh builds one at .build-asan/debug):

    python3 Tests/Fuzz/burst_stress.py --bin .build-asan/debug/hyperstack-rpc \\
        --method apiKeys.list --params '{"refresh":true}' --count 2000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time


def run_once(binary: str, method: str, params: str, count: int, wait: float) -> tuple[int, list[int]]:
    proc = subprocess.Popen([binary, "--sandbox", "--rate-limit", "1000000", "--framing", "ndjson", "--log-level", "error"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    answered: set = set()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            for entry in message if isinstance(message, list) else [message]:
                if isinstance(entry, dict) and "method" not in entry:
                    answered.add(entry.get("id"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert proc.stdin is not None
    lines = (f'{{"jsonrpc":"2.0","id":{100 + i},"method":{json.dumps(method)},"params":{params}}}\n' for i in range(count))
    proc.stdin.write("".join(lines).encode())
    proc.stdin.flush()
    deadline = time.monotonic() + wait
    while len(answered) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    if len(answered) < count:
        # Does any later write push the missing answers out (stuck in the output queue)?
        before = len(answered)
        proc.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"$/ping"}\n')
        proc.stdin.flush()
        time.sleep(1)
        print(f"  after one more request: {len(answered) - before - (1 in answered)} of the missing answers arrived")
        answered.discard(1)
    proc.kill()
    proc.wait()
    missing = sorted(set(range(100, 100 + count)) - answered)
    return count - len(missing), missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=".build/debug/hyperstack-rpc")
    parser.add_argument("--method", default="apiKeys.list")
    parser.add_argument("--params", default='{"refresh":true}')
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the last answers")
    args = parser.parse_args()
    failures = 0
    for run in range(args.runs):
        got, missing = run_once(args.bin, args.method, args.params, args.count, args.wait)
        print(f"run {run}: {got}/{args.count} answered" + (f"; missing ids {missing[:20]}" if missing else ""))
        failures += bool(missing)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
