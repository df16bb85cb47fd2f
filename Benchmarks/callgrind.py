#!/usr/bin/env python3
"""Instruction counts under callgrind, for two builds in one run: a slowdown check that does
not depend on what else the machine is doing.

    python3 Benchmarks/callgrind.py --build before=/path/to/hyperstack-rpc --build after=.build-release/release/hyperstack-rpc

For each build it reports, from runs interleaved build by build:
- start-up: instructions from exec to the `initialize` answer, with stdin a file that holds one
  `initialize` frame (the server answers, sees end of input and exits; that exit is included),
  started as editors start it (no arguments, the bench's cold-start row) and with the embedded
  sandbox's options (which run the argument parser);
- per pipelined cached `apiKeys.list` (20 keys, warm cache): the difference between a run of
  `--lists` requests and one of `--lists // 5`, divided by the difference in requests, so the
  start-up, the first (uncached) list and the shutdown cancel out.

valgrind 3.19 cannot read the DWARF 5 that Swift emits, so each binary is copied with its
debug information stripped first (the code is identical). Counts vary by a few hundredths of a
percent between runs (thread interleaving decides how many writes the writer makes), so each
measure is the median of `--repeats` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import KEY_COUNT, Bench  # noqa: E402


def instructions(out_file: Path) -> int:
    for line in out_file.read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary line in {out_file}")


def callgrind(argv: list[str], work: Path, stdin_path: Path | None = None, prefix: list[str] | None = None) -> int:
    out_file = work / f"callgrind.{os.getpid()}.{len(list(work.iterdir()))}.out"
    command = (prefix or []) + ["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={out_file}"] + argv
    with open(stdin_path or os.devnull, "rb") as stdin:
        subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True, timeout=1800,
                       env=server_environment())
    count = instructions(out_file)
    out_file.unlink()
    return count


def server_environment() -> dict:
    """As the bench's cold start: a key in the environment, the default upstream URL."""
    environment = dict(os.environ, HYPERSTACK_API_KEY="callgrind-not-a-real-key")
    environment.pop("HYPERSTACK_API_URL", None)
    return environment


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="append", required=True, metavar="NAME=BINARY",
                        help="a hyperstack-rpc binary to measure; give two or more")
    parser.add_argument("--lists", type=int, default=20_000, help="requests in the long pipelined run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        print("callgrind.py: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="hyperstack-callgrind."))
    try:
        bench = Bench("full", {}, work, work, sys.executable)
        bench.compile_tools()
        bench.write_state()
        builds = {}
        for spec in args.build:
            name, _, binary = spec.partition("=")
            stripped = work / f"rpc-{name}"
            subprocess.run(["objcopy", "--strip-debug", binary, str(stripped)], check=True)
            builds[name] = stripped
        initialize = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None}})
        frame = work / "initialize.lsp"
        frame.write_bytes(b"Content-Length: %d\r\n\r\n%s" % (len(initialize), initialize.encode()))

        short = max(args.lists // 5, 1)
        samples: dict[str, dict[str, list[float]]] = {
            name: {"startup": [], "startup_sandbox": [], "per_list": []} for name in builds}
        for _ in range(args.repeats):
            for name, binary in builds.items():
                samples[name]["startup"].append(callgrind([str(binary)], work, stdin_path=frame))
                server = [str(binary), "--sandbox", "--sandbox-state", bench.fresh_state(), "--cache-ttl", "3600"]
                samples[name]["startup_sandbox"].append(callgrind(server, work, stdin_path=frame))

                def lists(count: int) -> int:
                    loadgen = [bench.tool("loadgen"), "--mode", "pipeline", "--method", "apiKeys.list", "--count",
                               str(count), "--warmup", "2", "--initialize", "--timeout", "1700", "--"]
                    fresh = [str(binary), "--sandbox", "--sandbox-state", bench.fresh_state(), "--cache-ttl", "3600"]
                    return callgrind(fresh, work, prefix=loadgen)

                samples[name]["per_list"].append((lists(args.lists) - lists(short)) / (args.lists - short))

        result = {name: {measure: statistics.median(values) for measure, values in measures.items()}
                  for name, measures in samples.items()}
        names = list(builds)
        print(f"callgrind instruction counts ({KEY_COUNT}-key list, median of {args.repeats} interleaved runs)")
        print(f"{'measure':<28}" + "".join(f"{name:>16}" for name in names) + (f"{'change':>10}" if len(names) == 2 else ""))
        for measure, label in (("startup", "exec → initialize answer"), ("startup_sandbox", "… with --sandbox options"),
                               ("per_list", "per pipelined cached list")):
            values = [result[name][measure] for name in names]
            change = f"{(values[1] / values[0] - 1) * 100:+9.2f}%" if len(names) == 2 else ""
            print(f"{label:<28}" + "".join(f"{value:>16,.0f}" for value in values) + change)
        print(json.dumps({"samples": samples, "medians": result}))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
