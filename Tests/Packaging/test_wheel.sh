#!/usr/bin/env bash
# The platform wheel, dist/hyperstack_rpc-<version>-<tags>.whl (issue 14, part 2), as a new user
# gets it: in a fresh venv in an empty folder, with PATH holding only the system directories,
#   pip install dist/*.whl
# then:
# - the bundled binaries (hyperstack_rpc/_bin) are stripped, executable and need nothing beyond
#   glibc (ldd), and the wheel's manylinux_2_N tag is the newest GLIBC_2.N they require;
# - the demo and a Client(sandbox=True) session work, on the bundled server, found after an
#   explicit path and $HYPERSTACK_RPC_BIN;
# - the hyperstack-rpc command is the bundled binary itself once started (same pid, so its stdout,
#   exit statuses and signals are the server's): --version, `call apiKeys.list '{}' --sandbox`,
#   exit statuses 1 and 2, SIGTERM; a --remote auto session becomes the forwarder beside it.
# `make packaging-tests` runs `make wheel` first.
source "$(dirname "$0")/lib.sh"

need "$PYTHON" "create the virtual environment"
need objdump "read the glibc versions the binaries require"
need readelf "check that the binaries are stripped"

wheels=("$ROOT"/dist/hyperstack_rpc-*.whl)
check "dist/ holds one wheel, hyperstack_rpc-$VERSION-py3-none-<platform>.whl"
[ ${#wheels[@]} -eq 1 ] || fail "expected one wheel in $ROOT/dist, found ${#wheels[@]} (run make wheel)" "${wheels[@]}"
wheel=${wheels[0]}
[[ $(basename "$wheel") == "hyperstack_rpc-$VERSION-py3-none-"*.whl ]] || fail "$(basename "$wheel") is not a py3-none wheel of version $VERSION"

VENV=$SCRATCH/venv
WORK=$SCRATCH/empty
mkdir -p "$WORK"
check "a fresh venv, in an empty folder with PATH=$BARE_PATH: pip install $(basename "$wheel")"
"$PYTHON" -m venv "$VENV" || fail "$PYTHON -m venv $VENV failed"
out=$(cd "$WORK" && bare "$VENV/bin/python" -m pip install --no-index --disable-pip-version-check -q "$wheel" 2>&1) ||
    fail "pip install $wheel failed" "$out"
SITE=$(cd "$WORK" && bare "$VENV/bin/python" -c 'import hyperstack_rpc, pathlib; print(pathlib.Path(hyperstack_rpc.__file__).parent)')
[[ $SITE == "$VENV"/* ]] || fail "hyperstack_rpc is imported from $SITE, not from the venv"
BUNDLED=$SITE/_bin

check "the bundled binaries are executable, stripped and need only glibc; the tag is manylinux_2_N, N their newest GLIBC_2.N"
binaries=("$BUNDLED/hyperstack-rpc" "$BUNDLED/hyperstack-rpc-forwarder" "$BUNDLED/hyperstack-sandbox")
for binary in "${binaries[@]}"; do [ -x "$binary" ] || fail "$binary is missing or not executable"; done
mode_is 755 "${binaries[@]}"
stripped "${binaries[@]}"
only_glibc "${binaries[@]}"
[[ $(basename "$wheel") =~ -py3-none-manylinux_2_([0-9]+)_(x86_64|aarch64)\.whl$ ]] ||
    fail "$(basename "$wheel") is not tagged manylinux_2_N_<arch> although its binaries need only glibc"
tagged_glibc=${BASH_REMATCH[1]}
required=$(objdump -T "${binaries[@]}" | grep -o 'GLIBC_2\.[0-9]*' | sed 's/GLIBC_2\.//' | sort -n | tail -1)
[ "$required" = "$tagged_glibc" ] ||
    fail "the binaries require GLIBC_2.$required at most, but the wheel is tagged manylinux_2_$tagged_glibc"
bare /bin/sh -c 'command -v hyperstack-rpc' >/dev/null && fail "hyperstack-rpc is on the bare PATH; the test would not show the bundled one is used"

check "the demo (clients/python/examples/demo.py, copied into the empty folder) runs on the bundled server"
cp "$ROOT/clients/python/examples/demo.py" "$WORK/demo.py"
out=$(cd "$WORK" && bare "$VENV/bin/python" demo.py 2>&1) || fail "the demo failed" "$out"
grep -q "^connected to hyperstack-rpc $VERSION (embedded sandbox)$" <<<"$out" || fail "the demo did not connect to hyperstack-rpc $VERSION" "$out"
grep -q "^done: the server shut down cleanly$" <<<"$out" || fail "the demo did not finish" "$out"

check "a Client(sandbox=True) session: generate, list, delete, on the bundled binary; then the lookup order"
cp "$(dirname "$0")/wheel_session.py" "$WORK/session.py"
out=$(cd "$WORK" && bare "$VENV/bin/python" session.py "$BUNDLED" "$VERSION" 2>&1) || fail "the Client(sandbox=True) session failed" "$out"

COMMAND=$VENV/bin/hyperstack-rpc
check "the hyperstack-rpc command: --version, call apiKeys.list '{}' --sandbox, exit statuses 1 and 2"
[ -x "$COMMAND" ] && [ -x "$VENV/bin/hyperstack-sandbox" ] || fail "the wheel installed no hyperstack-rpc and hyperstack-sandbox commands in $VENV/bin"
out=$(cd "$WORK" && bare "$COMMAND" --version 2>&1) || fail "hyperstack-rpc --version failed" "$out"
[ "$out" = "$(bare "$BUNDLED/hyperstack-rpc" --version)" ] && [[ $out == "$VERSION (build "* ]] ||
    fail "the command's --version is not the bundled binary's '$VERSION (build ...)'" "$out"
out=$(cd "$WORK" && bare "$COMMAND" call apiKeys.list '{}' --sandbox 2>"$SCRATCH/call.err") ||
    fail "hyperstack-rpc call apiKeys.list '{}' --sandbox failed" "$(cat "$SCRATCH/call.err")"
[[ $out =~ ^\{\"keys\":\[\],\"revision\":1,.*\}$ ]] && [ "$(wc -l <<<"$out")" = 1 ] ||
    fail "hyperstack-rpc call apiKeys.list printed something other than one JSON result on stdout" "$out"
status=0
(cd "$WORK" && bare "$COMMAND" call no.such.method '{}' --sandbox >"$SCRATCH/out" 2>&1) || status=$?
[ "$status" = 1 ] || fail "a failed method exited $status through the command, not 1" "$(cat "$SCRATCH/out")"
status=0
(cd "$WORK" && bare "$COMMAND" --no-such-option >"$SCRATCH/out" 2>&1) || status=$?
[ "$status" = 2 ] || fail "a usage error exited $status through the command, not 2" "$(cat "$SCRATCH/out")"
status=0
(cd "$WORK" && bare "$VENV/bin/hyperstack-sandbox" --help >"$SCRATCH/out" 2>&1) || status=$?
[ "$status" = 0 ] && grep -q "^USAGE: hyperstack-sandbox" "$SCRATCH/out" || fail "hyperstack-sandbox --help failed" "$(cat "$SCRATCH/out")"

check "the command becomes the bundled binary (same pid), which answers and exits 0 on SIGTERM"
coproc SERVE { cd "$WORK" && bare_env && exec "${BARE[@]}" "$COMMAND" --sandbox 2>"$SCRATCH/serve.err"; }
serve_pid=$SERVE_PID
LIVE_SESSION=$serve_pid
on_exit 'if [ -n "${LIVE_SESSION:-}" ]; then kill "$LIVE_SESSION" 2>/dev/null; fi'
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"$/ping"}' >&"${SERVE[1]}"
read -r -t 30 line <&"${SERVE[0]}" || fail "no answer through the command within 30 s" "$(cat "$SCRATCH/serve.err")"
[ "$line" = '{"jsonrpc":"2.0","id":1,"result":{}}' ] || fail "\$/ping through the command answered '$line'"
exe=$(readlink "/proc/$serve_pid/exe")
[ "$exe" = "$BUNDLED/hyperstack-rpc" ] || fail "the command's process is $exe, not the bundled binary: it did not exec it"
kill -TERM "$serve_pid"
status=0
wait "$serve_pid" || status=$?
LIVE_SESSION=
[ "$status" = 0 ] || fail "the server started by the command exited $status on SIGTERM, not 0" "$(cat "$SCRATCH/serve.err")"

check "a --remote auto session from the command runs the forwarder bundled beside the server"
remote_session_becomes "$COMMAND" "$BUNDLED/hyperstack-rpc-forwarder"

passed
