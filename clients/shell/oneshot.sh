#!/usr/bin/env bash
# One-shot use of hyperstack-rpc from a shell: `hyperstack-rpc call METHOD PARAMS_JSON [options]`
# prints the result on stdout (exit 0), the error object on stderr (exit 1), or usage (exit 2).
# Each step below is a pattern to copy. The generated secret is written by the server itself
# to a new 0600 file (apiKeys.generate's secretFile): it never reaches this shell, its pipes or
# its variables, and it is never echoed or passed on a command line (argv is visible in `ps`).
#
# Usage: oneshot.sh [OUTPUT_DIR]
#   HYPERSTACK_RPC_BIN   server executable (default: hyperstack-rpc on PATH)
#   HYPERSTACK_LIVE=1    talk to the real API (needs HYPERSTACK_API_KEY); default is the sandbox,
#                        with state in OUTPUT_DIR so successive one-shots see each other's keys.
set -euo pipefail

rpc_bin="${HYPERSTACK_RPC_BIN:-hyperstack-rpc}"
out_dir="${1:-$(mktemp -d)}"
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)  # secretFile paths are absolute (or relative to --secrets-dir)

# Logs go to a file so that stderr carries nothing but the error object of a failed call.
# --allow-secrets-in lets the server write secret files under OUTPUT_DIR (besides its
# --secrets-dir, by default ~/.local/state/hyperstack-rpc/secrets).
options=(--log-file "$out_dir/hyperstack-rpc.log" --allow-secrets-in "$out_dir")
if [[ "${HYPERSTACK_LIVE:-0}" != 1 ]]; then
  options+=(--sandbox --sandbox-state "$out_dir/sandbox-state.json")
fi

# rpc METHOD [PARAMS_JSON]: one call, one process. The exit status is hyperstack-rpc's.
rpc() { "$rpc_bin" call "$@" "${options[@]}"; }

# 1. List: the result is {keys, revision, fetchedAt, fromCache}.
count=$(rpc apiKeys.list '{}' | jq '.keys | length')
echo "list: $count keys"

# 2. Generate. Build params with jq so any name is quoted correctly. With secretFile the server
#    writes the secret to that new file (O_EXCL, mode 0600, never overwriting) and answers with
#    {key, revision, secretFile} and no secret at all, so the answer is safe in a variable. 1505
#    means the key was created but the file could not be written: nobody has the secret, so the
#    key is deleted (error.data.key.id).
name="shell-oneshot-$$-$RANDOM"
secret_file="$out_dir/secret"
params=$(jq -nc --arg name "$name" --arg description "made by oneshot.sh" --arg file "$secret_file" \
  '{name: $name, description: $description, secretFile: $file}')
status=0
generated=$(rpc apiKeys.generate "$params" 2>"$out_dir/generate.err") || status=$?
if [[ $status -ne 0 ]]; then
  if [[ $(jq '.code' "$out_dir/generate.err") == 1505 ]]; then
    rpc apiKeys.delete "$(jq -c '{id: .data.key.id}' "$out_dir/generate.err")" >/dev/null
  fi
  echo "generate failed (exit $status): $(cat "$out_dir/generate.err")" >&2
  exit 1
fi
rm -f "$out_dir/generate.err"
# A server too old for secretFile would have answered with the secret: refuse to go on.
jq -e 'has("secretFile") and (.key | has("secret") | not)' <<<"$generated" >/dev/null ||
  { echo "this hyperstack-rpc does not support secretFile (capabilities.apiKeys.secretFile)" >&2; exit 1; }
id=$(jq '.key.id' <<<"$generated")
jq -r '"generate: id=\(.key.id) name=\(.key.name) revision=\(.revision) secret=<written by the server to \(.secretFile)>"' \
  <<<"$generated"

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

# 7. A secretFile that exists is refused, -32602 with data.field, before any key is created.
status=0
error=$(rpc apiKeys.generate "$(jq -nc --arg file "$secret_file" '{name: "never-made", secretFile: $file}')" 2>&1 >/dev/null) || status=$?
echo "existing secret file: exit=$status code=$(jq '.code' <<<"$error") field=$(jq -r '.data.field' <<<"$error")"

# 8. A usage error (unknown option): exit status 2.
status=0
"$rpc_bin" call apiKeys.list '{}' --no-such-option >/dev/null 2>&1 || status=$?
echo "usage: exit=$status"

# 9. Delete, and check it is gone.
rpc apiKeys.delete "$(jq -nc --argjson id "$id" '{id: $id}')" | jq -r '"delete: id=\(.id) revision=\(.revision)"'
rpc apiKeys.list '{}' | jq -r --argjson id "$id" '"after delete: \([.keys[] | select(.id == $id)] | length) matching keys"'
