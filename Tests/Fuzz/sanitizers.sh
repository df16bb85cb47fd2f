#!/usr/bin/env bash
# Runs Swift test suites under ThreadSanitizer and AddressSanitizer (+ LeakSanitizer).
#
#   Tests/Fuzz/sanitizers.sh [thread|address|all]      (default: all)
#
# Each sanitizer builds the package and its tests into its own scratch folder
# (.build-tsan, .build-asan; gitignored), since every dependency must be instrumented
# too; the first build is the slow part, later runs are incremental. The suites run are
# those in $SANITIZER_FILTER (a `swift test --filter` regex), by default the ones that
# exercise our own concurrency and memory handling without a network:
#   JSONRPCTests (connection, framers, cancellation), JanssonJSONTests (the C boundary),
#   APIKeyStoreTests (the cache actor, polling, coalescing), and under ThreadSanitizer also
#   JSONRPCStdioTests (the frame writer, our one @unchecked Sendable class, and the input pump).
# Exits non-zero on any sanitizer report or test failure; reports are in the log printed.
set -euo pipefail

which="${1:-all}"
default_filter="JSONRPCTests|JanssonJSONTests|APIKeyStoreTests"
thread_filter="${SANITIZER_FILTER:-$default_filter|JSONRPCStdioTests|HyperstackMCPTests}"
address_filter="${SANITIZER_FILTER:-$default_filter}"
swift_bin="${SWIFT:-swift}"
cd "$(dirname "$0")/../.."

run() {
    local sanitizer="$1" scratch="$2" filter="$3"
    # Under ThreadSanitizer the project's mutex (Sources/Locking) is a pthread mutex, whose
    # happens-before edges ThreadSanitizer sees; see Lock.swift.
    local defines=()
    [[ "$sanitizer" == thread ]] && defines=(-Xswiftc -DTHREAD_SANITIZER)
    local log="$scratch/sanitizer-test.log"
    mkdir -p "$scratch"
    local started=$SECONDS
    echo "sanitizers: building tests with --sanitize=$sanitizer into $scratch" >&2
    if ! "$swift_bin" build --build-tests --scratch-path "$scratch" --sanitize="$sanitizer" ${defines[@]+"${defines[@]}"} \
        >"$scratch/build.log" 2>&1; then
        tail -n 30 "$scratch/build.log" >&2
        echo "sanitizers: the $sanitizer build failed; full log in $scratch/build.log" >&2
        return 1
    fi
    local built=$SECONDS
    echo "sanitizers: built in $((built - started)) s; running '$filter' under $sanitizer" >&2
    # halt_on_error: the first report fails the run (a test "passing" after a race is not a pass).
    # Swift's own crash backtracer is off: it would read memory the sanitizer guards.
    local status=0
    SWIFT_BACKTRACE=enable=no \
        TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
        ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=0 ${ASAN_OPTIONS:-}" \
        LSAN_OPTIONS="suppressions=$PWD/Tests/Fuzz/lsan-suppressions.txt ${LSAN_OPTIONS:-}" \
        "$swift_bin" test --skip-build --scratch-path "$scratch" --sanitize="$sanitizer" ${defines[@]+"${defines[@]}"} --filter "$filter" \
        >"$log" 2>&1 || status=$?
    grep -E -e 'WARNING: ThreadSanitizer' -e 'ERROR: (AddressSanitizer|LeakSanitizer)' -e 'SUMMARY:' "$log" | head -n 20 >&2 || true
    grep -E -e '^(✔|✘|􁁛|􀢄) Test run with' -e 'Executed [0-9]+ tests' "$log" | tail -n 2 >&2 || true
    if [[ $status -ne 0 ]]; then
        echo "sanitizers: $sanitizer FAILED (exit $status) after $((SECONDS - started)) s; full log in $log" >&2
        return 1
    fi
    echo "sanitizers: $sanitizer passed in $((SECONDS - built)) s of tests, $((SECONDS - started)) s in all"
}

# The daemon and its forwarders share state across threads in code no unit test drives (the
# forwarding session, its replay after a lost daemon, the daemon's accept and session threads):
# the ThreadSanitizer build of the binary runs the daemon's sharing and SIGKILL end-to-end tests,
# and any report from any of its processes fails the run.
run_daemon_under_tsan() {
    local reports=.build-tsan/daemon-tsan
    rm -rf "$reports" && mkdir -p "$reports"
    echo "sanitizers: the daemon end-to-end tests against the ThreadSanitizer build of hyperstack-rpc" >&2
    local status=0
    SWIFT_BACKTRACE=enable=no TSAN_OPTIONS="halt_on_error=0 log_path=$PWD/$reports/report ${TSAN_OPTIONS:-}" \
        HYPERSTACK_RPC_BIN="$PWD/.build-tsan/debug/hyperstack-rpc" \
        HYPERSTACK_SANDBOX_BIN="${HYPERSTACK_SANDBOX_BIN:-$PWD/.build/debug/hyperstack-sandbox}" \
        "${PYTHON:-python3}" -m pytest -q --timeout 300 Tests/EndToEnd/test_daemon_sharing.py \
        Tests/EndToEnd/test_daemon_reliability.py -k "sharing or sigkill or in_process" \
        >"$reports/pytest.log" 2>&1 || status=$?
    tail -n 3 "$reports/pytest.log" >&2
    if compgen -G "$reports/report*" >/dev/null; then
        grep -h -A20 'WARNING: ThreadSanitizer' "$reports"/report* | head -n 60 >&2
        echo "sanitizers: ThreadSanitizer reported races in the daemon or a forwarder; reports in $reports" >&2
        return 1
    fi
    [[ $status -eq 0 ]] || { echo "sanitizers: the daemon tests failed under ThreadSanitizer; log in $reports/pytest.log" >&2; return 1; }
    echo "sanitizers: daemon and forwarders clean under ThreadSanitizer" >&2
}

case "$which" in
    thread) run thread .build-tsan "$thread_filter" && run_daemon_under_tsan ;;
    address) run address .build-asan "$address_filter" ;;
    all) run thread .build-tsan "$thread_filter" && run_daemon_under_tsan && run address .build-asan "$address_filter" ;;
    *) echo "usage: $0 [thread|address|all]" >&2; exit 2 ;;
esac
