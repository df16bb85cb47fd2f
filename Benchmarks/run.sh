#!/usr/bin/env bash
# The benchmark's one entry point (`make bench` / `make bench-smoke`).
#
#   Benchmarks/run.sh           full run against the release build; writes Benchmarks/results/latest.md
#   Benchmarks/run.sh --smoke   tiny counts, < 60 s once the binaries exist; exits non-zero if any row
#                               produces no number (asserts nothing about speed)
#
# Environment:
#   HYPERSTACK_BENCH_BUILD=release|debug   which build to measure (default release). debug is meant for
#                                          --smoke in CI, where a release build would take too long.
#   HYPERSTACK_BENCH_SKIP_BUILD=1          never run `swift build`; the binaries must exist.
#   PYTHON=python3                         the interpreter the venv is made from.
# Other arguments (--strict, --output FILE, --keep-work) are passed to bench.py.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
smoke=0
for argument in "$@"; do
    [[ "$argument" == "--smoke" ]] && smoke=1
done

build="${HYPERSTACK_BENCH_BUILD:-release}"
case "$build" in
    release|debug) ;;
    *) echo "run.sh: HYPERSTACK_BENCH_BUILD must be release or debug, not '$build'" >&2; exit 2 ;;
esac
if [[ "$build" == debug && $smoke == 0 ]]; then
    echo "run.sh: warning: measuring the DEBUG build; the numbers say nothing about the targets" >&2
fi
bin_dir="$root/.build/$build"

# A full run always brings the release build up to date (a no-op when it is). A smoke run
# builds only what is missing: inside a test run SwiftPM may hold the .build lock.
have_binaries() { [[ -x "$bin_dir/hyperstack-rpc" && -x "$bin_dir/hyperstack-rpc-forwarder" && -x "$bin_dir/hyperstack-sandbox" ]]; }
if [[ "${HYPERSTACK_BENCH_SKIP_BUILD:-0}" != 1 ]] && { [[ $smoke == 0 ]] || ! have_binaries; }; then
    if [[ "$build" == release ]]; then
        # Release binaries are built as we ship them (`make release`): the Swift runtime and
        # Foundation linked in statically, which halves start-up time and saves resident memory.
        echo "run.sh: make release" >&2
        make -C "$root" --no-print-directory release >&2
    else
        echo "run.sh: swift build -c debug (hyperstack-rpc, its thin forwarder, hyperstack-sandbox)" >&2
        (cd "$root" && swift build --product hyperstack-rpc >&2 && swift build --product hyperstack-rpc-forwarder >&2 \
            && swift build --product hyperstack-sandbox >&2)
    fi
fi
if ! have_binaries; then
    echo "run.sh: $bin_dir/hyperstack-rpc, hyperstack-rpc-forwarder or hyperstack-sandbox is missing; run swift build -c $build" >&2
    exit 2
fi

# The peers live in Benchmarks/.venv, reinstalled only when requirements.txt changes.
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    echo "run.sh: installing the peers into $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
    echo "$wanted" > "$stamp"
fi

exec "$venv/bin/python" "$here/bench.py" --bin-dir "$bin_dir" --build-name "$build" "$@"
