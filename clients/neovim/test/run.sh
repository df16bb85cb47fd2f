#!/usr/bin/env bash
# Headless test of the Neovim plugin against the real hyperstack-rpc in sandbox mode: standalone
# (spec.lua), then through the shared daemon with remote = 'auto' (spec_remote.lua).
# Usage: clients/neovim/test/run.sh   (HYPERSTACK_RPC_BIN overrides the server path)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
plugin="$(cd "$here/.." && pwd)"
repo="$(cd "$plugin/../.." && pwd)"
bin="${HYPERSTACK_RPC_BIN:-$repo/.build/debug/hyperstack-rpc}"

command -v nvim >/dev/null || { echo "neovim: nvim not found (apt-get install -y neovim)" >&2; exit 1; }
command -v jq >/dev/null || { echo "neovim: jq not found (apt-get install -y jq)" >&2; exit 1; }
[[ -x "$bin" ]] || { echo "neovim: hyperstack-rpc not found at $bin; run swift build or set HYPERSTACK_RPC_BIN" >&2; exit 1; }

# Keep Neovim's state (lsp.log receives the server's stderr) out of the developer's home.
state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
export XDG_STATE_HOME="$state" XDG_CACHE_HOME="$state" XDG_DATA_HOME="$state" XDG_CONFIG_HOME="$state"
# Never let a real key from the environment reach the sandboxed run, nor its daemon setting decide for us.
unset HYPERSTACK_API_KEY HYPERSTACK_API_URL HYPERSTACK_RPC_REMOTE

export HYPERSTACK_TEST_BIN="$bin" HYPERSTACK_TEST_DIR="$here"
timeout 60 nvim --headless -u NONE -i NONE -n \
  --cmd "set runtimepath^=$plugin" \
  -c "luafile $here/spec.lua"

# remote = auto: a daemon of its own, in $runtime (see clients/testing/private-daemon.sh).
source "$repo/clients/testing/private-daemon.sh"
trap 'stop_daemon; rm -rf "$state" "$runtime"' EXIT
XDG_RUNTIME_DIR="$runtime" timeout 60 nvim --headless -u NONE -i NONE -n \
  --cmd "set runtimepath^=$plugin" \
  -c "luafile $here/spec_remote.lua"
