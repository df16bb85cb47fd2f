#!/usr/bin/env bash
# Headless test of the Neovim plugin against the real hyperstack-rpc in sandbox mode.
# Usage: clients/neovim/test/run.sh   (HYPERSTACK_RPC_BIN overrides the server path)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
plugin="$(cd "$here/.." && pwd)"
repo="$(cd "$plugin/../.." && pwd)"
bin="${HYPERSTACK_RPC_BIN:-$repo/.build/debug/hyperstack-rpc}"

command -v nvim >/dev/null || { echo "neovim: nvim not found (apt-get install -y neovim)" >&2; exit 1; }
[[ -x "$bin" ]] || { echo "neovim: hyperstack-rpc not found at $bin; run swift build or set HYPERSTACK_RPC_BIN" >&2; exit 1; }

# Keep Neovim's state (lsp.log receives the server's stderr) out of the developer's home.
state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
export XDG_STATE_HOME="$state" XDG_CACHE_HOME="$state" XDG_DATA_HOME="$state" XDG_CONFIG_HOME="$state"
# Never let a real key from the environment reach the sandboxed run.
unset HYPERSTACK_API_KEY HYPERSTACK_API_URL

export HYPERSTACK_TEST_BIN="$bin"
timeout 60 nvim --headless -u NONE -i NONE -n \
  --cmd "set runtimepath^=$plugin" \
  -c "luafile $here/spec.lua"
