#!/usr/bin/env bash
# Fuzzes the framers, the JSON layer and RPCConnection in process with libFuzzer + ASan.
#
#   Tests/Fuzz/run.sh [SECONDS]      (default 30; e.g. 600 for a long run)
#
# Builds Sources/hyperstack-rpc-fuzz into .build-fuzz with -sanitize=fuzzer,address,
# runs it time-boxed from the committed seeds (Tests/Fuzz/corpus, and Tests/Fuzz/regressions:
# inputs that once broke an invariant) plus what earlier runs found (.build-fuzz/corpus,
# not committed), prints the number of executions and
# exits non-zero on a crash or a broken invariant. A failing input is saved as
# .build-fuzz/artifacts/crash-*; replay it with
#   .build-fuzz/debug/hyperstack-rpc-fuzz .build-fuzz/artifacts/crash-...
# or, without sanitizers, `swift build --product hyperstack-rpc-fuzz` and
#   .build/debug/hyperstack-rpc-fuzz FILE_OR_DIRECTORY...
# Extra libFuzzer flags can be passed in $FUZZ_FLAGS (e.g. FUZZ_FLAGS="-jobs=2 -workers=2").
set -euo pipefail

seconds="${1:-30}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
cd "$(dirname "$0")/../.."
scratch=.build-fuzz
swift_bin="${SWIFT:-swift}"

echo "fuzz: building hyperstack-rpc-fuzz with -sanitize=fuzzer,address into $scratch" >&2
build_started=$SECONDS
# -D FUZZING selects libFuzzer's driver over the corpus-replay main; LLVMFuzzerRunDriver
# is declared with @_extern(c), hence the experimental Extern feature for this build only.
build_log="$scratch/build.log"
mkdir -p "$scratch"
if ! "$swift_bin" build --scratch-path "$scratch" -c debug --product hyperstack-rpc-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
    -Xswiftc -enable-experimental-feature -Xswiftc Extern >"$build_log" 2>&1; then
    grep -v -e 'ld.gold: warning: Cannot export local symbol' "$build_log" | tail -n 30 >&2
    echo "fuzz: the build failed; full log in $build_log" >&2
    exit 1
fi
binary="$scratch/debug/hyperstack-rpc-fuzz"
echo "fuzz: built in $((SECONDS - build_started)) s" >&2

mkdir -p "$scratch/corpus" "$scratch/artifacts"
rm -f "$scratch"/artifacts/crash-* "$scratch"/artifacts/leak-* "$scratch"/artifacts/timeout-* "$scratch"/artifacts/oom-*
log="$scratch/fuzz.log"
# Per-input leak checks are off: Swift tasks free their memory on other threads after
# the input is done, which makes libFuzzer run LeakSanitizer after every input (50x
# slower) for nothing. ASan still stops at the first memory error.
status=0
# shellcheck disable=SC2086
# Swift's own crash backtracer would read memory ASan guards; libFuzzer reports instead.
SWIFT_BACKTRACE=enable=no "$binary" "$scratch/corpus" Tests/Fuzz/corpus Tests/Fuzz/regressions \
    -max_total_time="$seconds" -dict=Tests/Fuzz/jsonrpc.dict -detect_leaks=0 \
    -timeout=30 -rss_limit_mb=4096 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$scratch/artifacts/" ${FUZZ_FLAGS:-} >"$log" 2>&1 || status=$?

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
tail -n 4 "$log" | grep -v '^stat::' >&2 || true
if [[ $status -ne 0 ]]; then
    grep -E -m 5 -e 'ERROR: (AddressSanitizer|libFuzzer)' -e 'Fatal error' -e 'SUMMARY:' "$log" >&2 || true
    echo "fuzz: FAILED after ${executions:-?} executions (libFuzzer exit $status); full log in $log" >&2
    ls -t "$scratch/artifacts" | head -3 | sed "s|^|fuzz: saved input $scratch/artifacts/|" >&2
    exit 1
fi
echo "fuzz: ${executions:-0} executions in ${seconds} s, 0 crashes (corpus: $(find "$scratch/corpus" -type f | wc -l) found + $(find Tests/Fuzz/corpus Tests/Fuzz/regressions -type f | wc -l) seeds)"
