#!/usr/bin/env bash
# One-shot use of hyperstack-rpc from a shell: `hyperstack-rpc call METHOD PARAMS_JSON [options]`
# prints the result on stdout (exit 0), the error object on stderr (exit 1), or usage (exit 2).
# Each step below is a pattern to copy. The generated secret is written to a 0600 file and
# never echoed, never passed on a command line (argv is visible in `ps`).
#
# Usage: oneshot.sh [OUTPUT_DIR]
#   HYPERSTACK_RPC_BIN   server executable (default: hyperstack-rpc on PATH)
#   HYPERSTACK_LIVE=1    talk to the real API (needs HYPERSTACK_API_KEY); default is the sandbox,
#                        with state in OUTPUT_DIR so successive one-shots see each other's keys.
set -euo pipefail

rpc_bin="${HYPERSTACK_RPC_BIN:-hyperstack-rpc}"
out_dir="${1:-$(mktemp -d)}"
mkdir -p "$out_dir"

# Logs go to a file so that stderr carries nothing but the error object of a failed call.
options=(--log-file "$out_dir/hyperstack-rpc.log")
if [[ "${HYPERSTACK_LIVE:-0}" != 1 ]]; then
  options+=(--sandbox --sandbox-state "$out_dir/sandbox-state.json")
fi

# rpc METHOD [PARAMS_JSON]: one call, one process. The exit status is hyperstack-rpc's.
rpc() { "$rpc_bin" call "$@" "${options[@]}"; }

# 1. List: the result is {keys, revision, fetchedAt, fromCache}.
count=$(rpc apiKeys.list '{}' | jq '.keys | length')
echo "list: $count keys"

# 2. Generate. Build params with jq so any name is quoted correctly. The result carries the
#    secret, so it goes straight into an owner-only file (not a variable, not a here-string:
#    bash may spill those to /tmp), and only redacted fields are printed.
name="shell-oneshot-$$-$RANDOM"
params=$(jq -nc --arg name "$name" --arg description "made by oneshot.sh" '{name: $name, description: $description}')
secret_file="$out_dir/secret"
(
  umask 077
  rpc apiKeys.generate "$params" >"$out_dir/generated.json"
  jq -j '.key.secret' "$out_dir/generated.json" >"$secret_file"
)
id=$(jq '.key.id' "$out_dir/generated.json")
jq -r --arg file "$secret_file" \
  '"generate: id=\(.key.id) name=\(.key.name) revision=\(.revision) secret=<saved to \($file), \(.key.secret | length) chars>"' \
  "$out_dir/generated.json"
rm -f "$out_dir/generated.json"

# 3. The new key is listed (masked).
rpc apiKeys.list '{}' | jq -r --argjson id "$id" '.keys[] | select(.id == $id) | "listed: id=\(.id) name=\(.name) masked=\(.maskedKey)"'

# 4. Update: name is required even when only the description changes.
rpc apiKeys.update "$(jq -nc --argjson id "$id" --arg name "$name-renamed" '{id: $id, name: $name, description: null}')" \
  | jq -r '"update: id=\(.key.id) name=\(.key.name) revision=\(.revision)"'

# 5. An RPC error: exit status 1, and the error object ({code, message, data}) on stderr.
status=0
error=$(rpc apiKeys.update '{"id": 999999, "name": "ghost"}' 2>&1 >/dev/null) || status=$?
echo "error: exit=$status code=$(jq '.code' <<<"$error") message=$(jq -c '.message' <<<"$error")"

# 6. Local validation: an empty name is -32602 with data.field, before any upstream call.
status=0
error=$(rpc apiKeys.generate '{"name": ""}' 2>&1 >/dev/null) || status=$?
echo "invalid: exit=$status code=$(jq '.code' <<<"$error") field=$(jq -r '.data.field' <<<"$error")"

# 7. A usage error (unknown option): exit status 2.
status=0
"$rpc_bin" call apiKeys.list '{}' --no-such-option >/dev/null 2>&1 || status=$?
echo "usage: exit=$status"

# 8. Delete, and check it is gone.
rpc apiKeys.delete "$(jq -nc --argjson id "$id" '{id: $id}')" | jq -r '"delete: id=\(.id) revision=\(.revision)"'
rpc apiKeys.list '{}' | jq -r --argjson id "$id" '"after delete: \([.keys[] | select(.id == $id)] | length) matching keys"'
