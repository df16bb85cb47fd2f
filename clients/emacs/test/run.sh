#!/usr/bin/env bash
# Headless test of the Emacs client (hyperstack.el) against the real hyperstack-rpc: byte-compiles it
# with every warning an error, then runs the ERT suite (hyperstack-test.el) in `emacs --batch`
# against the HTTP sandbox (hyperstack-sandbox), the embedded sandbox, and the shared daemon.
# Usage: clients/emacs/test/run.sh   (HYPERSTACK_RPC_BIN and HYPERSTACK_SANDBOX_BIN override the binaries)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="$(cd "$here/.." && pwd)"
repo="$(cd "$package/../.." && pwd)"
bin="${HYPERSTACK_RPC_BIN:-$repo/.build/debug/hyperstack-rpc}"
sandbox_bin="${HYPERSTACK_SANDBOX_BIN:-$(dirname "$bin")/hyperstack-sandbox}"

command -v emacs >/dev/null || { echo "emacs: emacs not found (apt-get install -y emacs-nox, or make test-deps)" >&2; exit 1; }
command -v jq >/dev/null || { echo "emacs: jq not found (apt-get install -y jq)" >&2; exit 1; }
[[ -x "$bin" ]] || { echo "emacs: hyperstack-rpc not found at $bin; run swift build or set HYPERSTACK_RPC_BIN" >&2; exit 1; }
[[ -x "$sandbox_bin" ]] || { echo "emacs: hyperstack-sandbox not found at $sandbox_bin; run swift build or set HYPERSTACK_SANDBOX_BIN" >&2; exit 1; }

# A home of its own: no init file, no secret files or daemon state in the developer's home.
state="$(mktemp -d)"
# remote = auto: a daemon of its own, in $runtime (see clients/testing/private-daemon.sh).
source "$repo/clients/testing/private-daemon.sh"
trap 'stop_daemon; rm -rf "$state" "$runtime"' EXIT
export HOME="$state" XDG_CONFIG_HOME="$state/config" XDG_STATE_HOME="$state/state" XDG_RUNTIME_DIR="$runtime"
# Never let a real key from the environment reach the sandboxed runs, nor its daemon setting decide for us.
unset HYPERSTACK_API_KEY HYPERSTACK_API_URL HYPERSTACK_RPC_REMOTE HYPERSTACK_RPC_BIN

# Compile copies of the package and its tests, every warning an error, so no .elc is left in the
# tree; then run the compiled code.
mkdir -p "$state/lisp"
cp "$package/hyperstack.el" "$here/hyperstack-test.el" "$state/lisp/"
emacs -Q --batch -L "$state/lisp" --eval '(setq byte-compile-error-on-warn t)' \
  -f batch-byte-compile "$state/lisp/hyperstack.el" "$state/lisp/hyperstack-test.el"

export HYPERSTACK_TEST_BIN="$bin" HYPERSTACK_TEST_SANDBOX_BIN="$sandbox_bin"
timeout 120 emacs -Q --batch -L "$state/lisp" -l "$state/lisp/hyperstack-test.elc" \
  -f ert-run-tests-batch-and-exit
