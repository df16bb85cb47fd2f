#!/usr/bin/env bash
# The reliability suites in long mode (soak): 10,000 chaos operations, 1,000,000 pipelined
# requests, 10,000 requests in flight, 100,000 upstream-bound requests flooding a slow upstream
# (peak RSS <= 64 MB), a 10 s slow reader, process faults and the secrets sweep.
#
# Uses HYPERSTACK_RPC_BIN / HYPERSTACK_SANDBOX_BIN when set, else the release build (built
# here if missing). Figures go to $HYPERSTACK_RELIABILITY_REPORT (default
# /tmp/hyperstack-reliability-long.json) and to the end of pytest's output.
# Extra arguments go to pytest, e.g. `Tests/Reliability/run_long.sh -k chaos`.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ -z "${HYPERSTACK_RPC_BIN:-}" || -z "${HYPERSTACK_SANDBOX_BIN:-}" ]]; then
    if [[ ! -x .build/release/hyperstack-rpc || ! -x .build/release/hyperstack-sandbox ]]; then
        make --no-print-directory release
    fi
    export HYPERSTACK_RPC_BIN="${HYPERSTACK_RPC_BIN:-$PWD/.build/release/hyperstack-rpc}"
    export HYPERSTACK_SANDBOX_BIN="${HYPERSTACK_SANDBOX_BIN:-$PWD/.build/release/hyperstack-sandbox}"
fi
export HYPERSTACK_RELIABILITY=long
export HYPERSTACK_RELIABILITY_REPORT="${HYPERSTACK_RELIABILITY_REPORT:-/tmp/hyperstack-reliability-long.json}"
rm -f "$HYPERSTACK_RELIABILITY_REPORT"

started=$(date +%s)
status=0
python3 -m pytest -q -p no:cacheprovider Tests/EndToEnd -k reliability "$@" || status=$?
echo "reliability long run: exit status $status, wall time $(( $(date +%s) - started )) s," \
     "binaries $HYPERSTACK_RPC_BIN and $HYPERSTACK_SANDBOX_BIN, figures in $HYPERSTACK_RELIABILITY_REPORT"
exit "$status"
