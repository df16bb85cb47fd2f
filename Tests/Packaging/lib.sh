# Shared by the packaging tests (sourced): where things are, how a check is announced and how it
# fails, a scratch folder removed on exit, and the checks more than one test makes.
# Every check prints what it checks first; any failure prints FAILED and the evidence, and exits 1.

set -euo pipefail
shopt -s nullglob

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-python3}
TEST_NAME=$(basename "$0" .sh)
#: What a fresh user's PATH holds: the system directories and nothing we built or installed.
BARE_PATH=/usr/bin:/bin
#: The version, from its one source.
VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$ROOT/protocol/openrpc.json" | head -1)
STARTED=$SECONDS

check() { printf '%s: %s\n' "$TEST_NAME" "$*"; }
fail() {
    printf '%s: FAILED: %s\n' "$TEST_NAME" "$1" >&2
    shift
    for evidence in "$@"; do printf '%s\n' "$evidence" | sed 's/^/    /' >&2; done
    exit 1
}
passed() { printf '%s: passed in %d s\n' "$TEST_NAME" "$((SECONDS - STARTED))"; }
need() {
    command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed; it is needed to $2 (make test-deps installs it)"
}

[ -n "$VERSION" ] || fail "no version found in $ROOT/protocol/openrpc.json"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/hs-$TEST_NAME-XXXXXX")
CLEANUPS=()
cleanup() {
    local status=$? i
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[i]}" || true; done
    rm -rf "$SCRATCH"
    return "$status"
}
trap cleanup EXIT
# on_exit COMMAND: run COMMAND when the test ends, however it ends (last registered, first run).
on_exit() { CLEANUPS+=("$1"); }

# bare CMD...: runs CMD as a fresh user would, with PATH holding only the system directories
# (plus $BARE_EXTRA_PATH), HOME in the scratch folder, XDG_RUNTIME_DIR only when
# $XDG_RUNTIME_DIR_FOR_TEST names one, and nothing else inherited. bare_env puts that `env -i ...`
# command in the array BARE, for `exec`.
bare_env() {
    mkdir -p "$SCRATCH/home"
    BARE=(env -i "PATH=$BARE_PATH${BARE_EXTRA_PATH:+:$BARE_EXTRA_PATH}" "HOME=$SCRATCH/home" LANG=C.UTF-8)
    if [ -n "${XDG_RUNTIME_DIR_FOR_TEST:-}" ]; then BARE+=("XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR_FOR_TEST"); fi
}
bare() {
    local BARE
    bare_env
    "${BARE[@]}" "$@"
}

# only_glibc FILE...: ldd shows that each FILE needs no shared library but glibc's own.
only_glibc() {
    local file out library bad
    for file in "$@"; do
        out=$(ldd "$file" 2>&1) || { grep -q 'not a dynamic executable' <<<"$out" && continue; fail "ldd $file failed" "$out"; }
        bad=()
        while read -r library _; do
            case "$library" in
                linux-vdso.so.1 | /lib*/ld-linux*.so.* | ld-linux*.so.* | statically) ;;
                libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | libresolv.so.2 | libutil.so.1) ;;
                *) bad+=("$library") ;;
            esac
        done <<<"$out"
        [ ${#bad[@]} -eq 0 ] || fail "$file needs shared libraries beyond glibc: ${bad[*]} (build it with make release)" "ldd $file:" "$out"
    done
}

# stripped FILE...: no symbol table left (the release binaries ship stripped).
stripped() {
    local file
    for file in "$@"; do
        ! readelf -S -W "$file" | grep -q '\.symtab' || fail "$file is not stripped (it has a .symtab section)"
    done
}

# mode_is MODE FILE...: each FILE is a regular file with exactly that permission mode.
mode_is() {
    local mode=$1 file actual
    shift
    for file in "$@"; do
        [ -f "$file" ] && [ ! -L "$file" ] || fail "$file is not a regular file"
        actual=$(stat -c %a "$file")
        [ "$actual" = "$mode" ] || fail "$file has mode $actual, not $mode"
    done
}

# remote_session_becomes SERVER FORWARDER: a `SERVER --sandbox --remote auto` session, in a private
# runtime directory, answers apiKeys.list and by then its process (/proc/PID/exe) is FORWARDER:
# the full binary found the thin forwarder where it looks and exec'd it. The daemon it started is
# stopped with `SERVER daemon stop` afterwards.
remote_session_becomes() {
    local server=$1 forwarder=$2 run line exe status
    run=$(mktemp -d "$SCRATCH/run-XXXXXX")
    chmod 0700 "$run"
    on_exit "XDG_RUNTIME_DIR_FOR_TEST='$run' bare '$server' daemon stop >/dev/null 2>&1"
    coproc SESSION {
        XDG_RUNTIME_DIR_FOR_TEST=$run
        bare_env
        exec "${BARE[@]}" "$server" --sandbox --remote auto 2>"$run/session.log"
    }
    local pid=$SESSION_PID in=${SESSION[1]} out=${SESSION[0]}
    LIVE_SESSION=$pid
    on_exit 'if [ -n "${LIVE_SESSION:-}" ]; then kill "$LIVE_SESSION" 2>/dev/null; fi'
    printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"apiKeys.list"}' >&"$in"
    read -r -t 30 line <&"$out" || fail "no answer from a --remote auto session of $server within 30 s" "$(cat "$run/session.log")"
    grep -q '"id":1,"result":{"keys":' <<<"$line" || fail "a --remote auto session of $server did not answer apiKeys.list" "$line" "$(cat "$run/session.log")"
    exe=$(readlink "/proc/$pid/exe") || fail "cannot read /proc/$pid/exe of the session"
    [ "$exe" = "$(realpath "$forwarder")" ] ||
        fail "the --remote auto session of $server runs $exe, not the thin forwarder $forwarder" "$(cat "$run/session.log")"
    exec {in}>&-
    status=0
    wait "$pid" || status=$?
    LIVE_SESSION=
    [ "$status" = 0 ] || fail "the --remote auto session ended with status $status at the end of its input" "$(cat "$run/session.log")"
    XDG_RUNTIME_DIR_FOR_TEST=$run bare "$server" daemon stop >"$run/stop.out" 2>&1 ||
        fail "$server daemon stop failed after the session" "$(cat "$run/stop.out")"
    status=0
    XDG_RUNTIME_DIR_FOR_TEST=$run bare "$server" daemon status >/dev/null 2>&1 || status=$?
    [ "$status" = 3 ] || fail "$server daemon status after daemon stop exited $status, not 3 (no daemon)"
}
