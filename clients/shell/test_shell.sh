#!/usr/bin/env bash
# Runs oneshot.sh and session.sh against the real hyperstack-rpc (sandbox) and checks their output.
# Exit status is non-zero if any check fails. HYPERSTACK_RPC_BIN overrides the server path.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export HYPERSTACK_RPC_BIN="${HYPERSTACK_RPC_BIN:-$repo/.build/debug/hyperstack-rpc}"
unset HYPERSTACK_API_KEY HYPERSTACK_API_URL HYPERSTACK_LIVE  # a sandbox run must never reach the real API

command -v jq >/dev/null || { echo "shell: jq is required (apt-get install -y jq)" >&2; exit 1; }
[[ -x "$HYPERSTACK_RPC_BIN" ]] || { echo "shell: hyperstack-rpc not found at $HYPERSTACK_RPC_BIN; run swift build or set HYPERSTACK_RPC_BIN" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# check NAME COMMAND...: runs a test command, counts and reports the result.
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok   - $name"
  else
    failed=$((failed + 1))
    echo "FAIL - $name"
  fi
}

has_line() { grep -Eq -- "$2" "$1" || { echo "  expected a line matching /$2/ in $1:" >&2; sed 's/^/    /' "$1" >&2; return 1; }; }

# ---- oneshot.sh -------------------------------------------------------------------------
status=0
timeout 120 "$here/oneshot.sh" "$work/oneshot" >"$work/oneshot.out" 2>"$work/oneshot.err" || status=$?

oneshot_runs() {
  [[ $status -eq 0 ]] || { echo "  oneshot.sh exited $status; stderr:" >&2; sed 's/^/    /' "$work/oneshot.err" >&2; return 1; }
}
oneshot_crud() {
  has_line "$work/oneshot.out" '^list: [0-9]+ keys$' &&
  has_line "$work/oneshot.out" '^generate: id=[0-9]+ name=shell-oneshot-[0-9]+-[0-9]+ revision=[0-9]+ secret=<written by the server to /.*/oneshot/secret>$' &&
  has_line "$work/oneshot.out" '^listed: id=[0-9]+ name=shell-oneshot-' &&
  has_line "$work/oneshot.out" '^update: id=[0-9]+ name=shell-oneshot-.*-renamed revision=[0-9]+$' &&
  has_line "$work/oneshot.out" '^delete: id=[0-9]+ revision=[0-9]+$' &&
  has_line "$work/oneshot.out" '^after delete: 0 matching keys$'
}
oneshot_exit_codes() {
  has_line "$work/oneshot.out" '^error: exit=1 code=1404 ' &&
  has_line "$work/oneshot.out" '^invalid: exit=1 code=-32602 field=name$' &&
  has_line "$work/oneshot.out" '^existing secret file: exit=1 code=-32602 field=secretFile$' &&
  has_line "$work/oneshot.out" '^usage: exit=2$'
}
oneshot_secret() {
  local file="$work/oneshot/secret"
  [[ -s $file ]] || { echo "  no secret saved in $file" >&2; return 1; }
  [[ $(stat -c %a "$file") == 600 ]] || { echo "  $file has mode $(stat -c %a "$file"), want 600" >&2; return 1; }
  ! grep -rqF -- "$(cat "$file")" "$work/oneshot.out" "$work/oneshot.err" "$work/oneshot/hyperstack-rpc.log" ||
    { echo "  the secret appears in output or logs" >&2; return 1; }
}
check "oneshot.sh exits 0" oneshot_runs
check "oneshot.sh list/generate/update/delete" oneshot_crud
check "oneshot.sh exit codes: 1 with the error object on stderr, 2 for usage" oneshot_exit_codes
check "oneshot.sh keeps the secret in a 0600 file only" oneshot_secret
oneshot_file_untouched() {
  # The refused second generate must not have overwritten the file, nor created a key.
  [[ $(wc -l <"$work/oneshot/secret") == 1 ]] || { echo "  the secret file does not hold one line" >&2; return 1; }
  ! grep -q never-made "$work/oneshot/sandbox-state.json" || { echo "  a refused secretFile created a key" >&2; return 1; }
}
check "oneshot.sh: an existing secretFile is refused and left alone" oneshot_file_untouched

# ---- session.sh -------------------------------------------------------------------------
status=0
timeout 120 "$here/session.sh" "$work/session" >"$work/session.out" 2>"$work/session.err" || status=$?

session_runs() {
  [[ $status -eq 0 ]] || { echo "  session.sh exited $status; stderr:" >&2; sed 's/^/    /' "$work/session.err" >&2; return 1; }
  has_line "$work/session.out" '^<- initialize: hyperstack-rpc [0-9]' &&
  has_line "$work/session.out" '^<- apiKeys.list: [0-9]+ keys, revision [0-9]+$' &&
  has_line "$work/session.out" '^<- apiKeys.update 999999: error 1404 ' &&
  has_line "$work/session.out" '^server exited with status 0$'
}
session_did_change() {
  # The notification comes first and carries the revision of the generate response that follows it.
  local notification response
  notification=$(grep -n 'apiKeys.didChange .*cause=generate' "$work/session.out" | head -1)
  response=$(grep -n '^<- apiKeys.generate:' "$work/session.out" | head -1)
  [[ -n $notification && -n $response ]] || { echo "  missing didChange or generate reply:" >&2; sed 's/^/    /' "$work/session.out" >&2; return 1; }
  [[ ${notification%%:*} -lt ${response%%:*} ]] || { echo "  didChange arrived after the response" >&2; return 1; }
  local rev_n rev_r
  rev_n=$(sed -E 's/.*revision=([0-9]+).*/\1/' <<<"$notification")
  rev_r=$(sed -E 's/.*revision=([0-9]+).*/\1/' <<<"$response")
  [[ $rev_n == "$rev_r" ]] || { echo "  didChange revision $rev_n != generate revision $rev_r" >&2; return 1; }
  has_line "$work/session.out" 'apiKeys.didChange .*cause=delete .*removed=\[[0-9]+\]'
}
session_secret() {
  local file="$work/session/secret"
  [[ -s $file && $(stat -c %a "$file") == 600 ]] || { echo "  secret file missing or not 0600" >&2; return 1; }
  ! grep -rqF -- "$(cat "$file")" "$work/session.out" "$work/session.err" "$work/session/hyperstack-rpc.log" ||
    { echo "  the secret appears in output or logs" >&2; return 1; }
}
check "session.sh runs a full NDJSON session and the server exits 0" session_runs
check "session.sh shows didChange before the generate reply, same revision" session_did_change
check "session.sh keeps the secret out of output and logs" session_secret
session_secret_file() {
  has_line "$work/session.out" "^<- apiKeys.generate: id=[0-9]+ name=shell-session-[0-9]+-[0-9]+ revision=[0-9]+ secretFile=$work/session/secret\$"
}
check "session.sh: the generate reply names the secret file" session_secret_file

# ---- the secret never passes through the shell ------------------------------------------
# Run both scripts again with `bash -x` (every command and assignment, expanded, goes to the trace)
# and with a jq on PATH that records its arguments, every file it is given and all it reads on
# stdin (every pipe and here-string of the scripts ends in jq). The secret the server wrote must
# be in none of it.
mkdir -p "$work/bin"
real_jq=$(command -v jq)
cat >"$work/bin/jq" <<'EOF_JQ'
#!/usr/bin/env bash
# Records the arguments, the input files (those after the filter, and --slurpfile/--rawfile ones)
# and stdin, then runs the real jq.
{
  printf 'jq'; printf ' %q' "$@"; printf '\n'
  args=("$@") i=0 filter_seen=0
  while ((i < ${#args[@]})); do
    case ${args[i]} in
      --arg | --argjson) i=$((i + 3)) ;;
      --slurpfile | --rawfile) cat -- "${args[i + 2]}"; i=$((i + 3)) ;;
      -*) i=$((i + 1)) ;;
      *) ((filter_seen)) && cat -- "${args[i]}"; filter_seen=1; i=$((i + 1)) ;;
    esac
  done
} >>"$JQ_RECORD" 2>/dev/null
tee -a "$JQ_RECORD" | exec "$REAL_JQ" "$@"
EOF_JQ
chmod 700 "$work/bin/jq"
for script in oneshot session; do
  status=0
  PATH="$work/bin:$PATH" REAL_JQ="$real_jq" JQ_RECORD="$work/$script-jq.record" timeout 120 bash -x "$here/$script.sh" "$work/$script-traced" \
    </dev/null >"$work/$script-traced.out" 2>"$work/$script-traced.trace" || status=$?
  traced_secret() {
    local file="$work/$script-traced/secret"
    [[ $status -eq 0 ]] || { echo "  $script.sh under bash -x exited $status:" >&2; tail -20 "$work/$script-traced.trace" >&2; return 1; }
    [[ -s $file && $(stat -c %a "$file") == 600 ]] || { echo "  $file missing or not 0600" >&2; return 1; }
    grep -q 'apiKeys' "$work/$script-jq.record" || { echo "  the recording jq saw nothing: the check would be vacuous" >&2; return 1; }
    ! grep -qF -- "$(cat "$file")" "$work/$script-jq.record" "$work/$script-traced.trace" "$work/$script-traced.out" ||
      { echo "  the secret went through the shell (jq input or bash -x trace)" >&2; return 1; }
  }
  check "$script.sh: the secret passes through no pipe, variable or jq of the shell" traced_secret
done

echo "shell: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
