# Sourced by the editor clients' headless tests (clients/neovim/test/run.sh, clients/emacs/test/run.sh):
# a fresh 0700 runtime directory in $runtime, so a remote = auto test gets a shared daemon of its own,
# and stop_daemon, which stops it through the socket `daemon status` names (or by its pid).
# Needs $bin (the hyperstack-rpc under test) and jq.
runtime="$(mktemp -d /tmp/hs-xdg-XXXXXXXX)"
chmod 700 "$runtime"
stop_daemon() {
  local status pid socket
  status="$(XDG_RUNTIME_DIR="$runtime" "$bin" daemon status 2>/dev/null </dev/null)" || return 0  # no daemon
  pid="$(jq -r .pid <<<"$status")" socket="$(jq -r .socket <<<"$status")"
  "$bin" daemon stop --remote "unix:$socket" </dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}
