#!/usr/bin/env bash
# A long-lived NDJSON session with hyperstack-rpc from bash: the server runs as a coprocess,
# requests are one JSON text per line, and replies and notifications are read line by line
# with jq. Shows an apiKeys.didChange arriving before the response of the generate that caused it.
# The generated secret is written by the server to a new 0600 file (secretFile): it never crosses
# the coprocess pipes, so it is in no variable, no jq input and no trace of the session.
#
# Usage: session.sh [OUTPUT_DIR]
#   HYPERSTACK_RPC_BIN   server executable (default: hyperstack-rpc on PATH)
#   HYPERSTACK_LIVE=1    use the real API (needs HYPERSTACK_API_KEY) instead of the sandbox
set -euo pipefail

rpc_bin="${HYPERSTACK_RPC_BIN:-hyperstack-rpc}"
out_dir="${1:-$(mktemp -d)}"
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
# --allow-secrets-in: secret files may go under OUTPUT_DIR too, besides the server's --secrets-dir.
options=(--framing ndjson --allow-secrets-in "$out_dir")
[[ "${HYPERSTACK_LIVE:-0}" == 1 ]] || options+=(--sandbox)

# stderr goes to a file: an undrained stderr pipe would eventually block the server.
coproc RPC { exec "$rpc_bin" "${options[@]}" 2>"$out_dir/hyperstack-rpc.log"; }
rpc_pid=$RPC_PID
rpc_in=${RPC[1]}
rpc_out=${RPC[0]}

next_id=0

# send METHOD [PARAMS_JSON]: writes one request line; the id is left in $last_id.
send() {
  next_id=$((next_id + 1))
  last_id=$next_id
  jq -nc --arg method "$1" --argjson id "$next_id" --argjson params "${2:-{\}}" \
    '{jsonrpc: "2.0", id: $id, method: $method, params: $params}' >&"$rpc_in"
}

# notify METHOD [PARAMS_JSON]
notify() {
  jq -nc --arg method "$1" --argjson params "${2:-{\}}" '{jsonrpc: "2.0", method: $method, params: $params}' >&"$rpc_in"
}

# receive ID: reads lines until the response to ID, printing notifications on the way;
# the response line is left in $reply. Fails after 30 s of silence.
receive() {
  local line
  while IFS= read -r -t 30 line <&"$rpc_out"; do
    if jq -e 'has("method")' <<<"$line" >/dev/null; then
      # didChange never carries a secret, so it is safe to print.
      jq -r 'if .method == "apiKeys.didChange"
             then "<- notification apiKeys.didChange revision=\(.params.revision) cause=\(.params.cause) added=\([.params.added[].name]) removed=\(.params.removed)"
             else "<- notification \(.method)" end' <<<"$line"
    elif jq -e --argjson id "$1" '.id == $id' <<<"$line" >/dev/null; then
      reply=$line
      return 0
    fi
  done
  echo "no reply to request $1 (server log: $out_dir/hyperstack-rpc.log)" >&2
  return 1
}

send initialize "$(jq -nc --argjson pid $$ '{processId: $pid, clientInfo: {name: "session.sh"}}')"
receive "$last_id"
jq -r '"<- initialize: \(.result.serverInfo.name) \(.result.serverInfo.version)"' <<<"$reply"
notify initialized

send apiKeys.list
receive "$last_id"
jq -r '"<- apiKeys.list: \(.result.keys | length) keys, revision \(.result.revision)"' <<<"$reply"

name="shell-session-$$-$RANDOM"
echo "-> apiKeys.generate $name"
send apiKeys.generate "$(jq -nc --arg name "$name" --arg file "$out_dir/secret" '{name: $name, secretFile: $file}')"
receive "$last_id"
# The reply is {key, revision, secretFile}, with no secret: the server wrote it to the 0600 file.
# (An error 1505 would name a key that was created although its secret was lost: delete it.)
jq -e '.result.secretFile and (.result.key | has("secret") | not)' <<<"$reply" >/dev/null ||
  { echo "generate did not write a secret file: $(jq -c '.error // "the server answered with the secret"' <<<"$reply")" >&2; exit 1; }
jq -r '"<- apiKeys.generate: id=\(.result.key.id) name=\(.result.key.name) revision=\(.result.revision) secretFile=\(.result.secretFile)"' <<<"$reply"
id=$(jq '.result.key.id' <<<"$reply")

send apiKeys.update "$(jq -nc --argjson id 999999 '{id: $id, name: "ghost"}')"
receive "$last_id"
jq -r '"<- apiKeys.update 999999: error \(.error.code) \(.error.message)"' <<<"$reply"

echo "-> apiKeys.delete $id"
send apiKeys.delete "$(jq -nc --argjson id "$id" '{id: $id}')"
receive "$last_id"
jq -r '"<- apiKeys.delete: id=\(.result.id) revision=\(.result.revision)"' <<<"$reply"

send shutdown
receive "$last_id"
echo "<- shutdown: $(jq -c '.result' <<<"$reply")"
notify exit
exec {rpc_in}>&-
status=0
wait "$rpc_pid" || status=$?
echo "server exited with status $status"
