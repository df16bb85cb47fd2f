#!/usr/bin/env bash
# The npm tarball, dist/hyperstack-rpc-<version>.tgz (issue 14, part 2), as a new user gets it:
#   npm install ./dist/hyperstack-rpc-*.tgz
# into an empty folder, offline, with PATH holding only the system directories and node's, then:
# - the binaries it carries (node_modules/hyperstack-rpc/bin) are stripped, executable and need
#   nothing beyond glibc (ldd); the package says so (os, cpu) and carries the server's version;
# - the Node example (clients/node/examples/demo.js, copied into the project) runs against the
#   embedded sandbox, on the bundled server;
# - sessions run the bundled server, and with remote: 'auto' the forwarder beside it;
# - the package's commands (node_modules/.bin) are the binaries themselves.
# `make packaging-tests` runs `make npm-pack` first.
source "$(dirname "$0")/lib.sh"

need node "run the Node client"
need npm "install the tarball"
need readelf "check that the binaries are stripped"
BARE_EXTRA_PATH=$(dirname "$(command -v node)")

tarballs=("$ROOT"/dist/hyperstack-rpc-*.tgz)
check "dist/ holds one tarball, hyperstack-rpc-$VERSION.tgz"
[ ${#tarballs[@]} -eq 1 ] || fail "expected one tarball in $ROOT/dist, found ${#tarballs[@]} (run make npm-pack)" "${tarballs[@]}"
tarball=${tarballs[0]}
[ "$(basename "$tarball")" = "hyperstack-rpc-$VERSION.tgz" ] || fail "$(basename "$tarball") is not hyperstack-rpc-$VERSION.tgz"

PROJECT=$SCRATCH/project
mkdir -p "$PROJECT"
check "npm install $(basename "$tarball") into an empty folder, offline, with PATH=$BARE_PATH:$BARE_EXTRA_PATH"
out=$(cd "$PROJECT" && bare npm install --offline --no-audit --no-fund --cache "$SCRATCH/npm-cache" "$tarball" 2>&1) ||
    fail "npm install $tarball failed" "$out"
PACKAGE=$PROJECT/node_modules/hyperstack-rpc
[ -d "$PACKAGE" ] && [ ! -L "$PACKAGE" ] || fail "npm install put no package at $PACKAGE" "$out"

check "the package is $VERSION for linux, and its binaries are executable, stripped and need only glibc"
manifest=$(cd "$PROJECT" && bare node -p 'const m = require("hyperstack-rpc/package.json"); JSON.stringify([m.version, m.os, m.cpu, m.bin, m.dependencies ?? {}])')
[ "$manifest" = "[\"$VERSION\",[\"linux\"],[\"$(node -p process.arch)\"],{\"hyperstack-rpc\":\"bin/hyperstack-rpc\",\"hyperstack-sandbox\":\"bin/hyperstack-sandbox\"},{}]" ] ||
    fail "the installed package.json says [version, os, cpu, bin, dependencies] = $manifest"
binaries=("$PACKAGE/bin/hyperstack-rpc" "$PACKAGE/bin/hyperstack-rpc-forwarder" "$PACKAGE/bin/hyperstack-sandbox")
mode_is 755 "${binaries[@]}"
stripped "${binaries[@]}"
only_glibc "${binaries[@]}"
bare /bin/sh -c 'command -v hyperstack-rpc' >/dev/null && fail "hyperstack-rpc is on the bare PATH; the test would not show the bundled one is used"

check "the Node example (clients/node/examples/demo.js, copied into the project) runs against the embedded sandbox"
cp "$ROOT/clients/node/examples/demo.js" "$PROJECT/demo.mjs"
out=$(cd "$PROJECT" && bare node demo.mjs 2>&1) || fail "the Node example failed" "$out"
grep -q "^connected to hyperstack-rpc $VERSION (embedded sandbox)$" <<<"$out" || fail "the example did not connect to hyperstack-rpc $VERSION" "$out"
grep -q "^  ↳ didChange revision 2 (generate): added #1 'demo-key'$" <<<"$out" || fail "the example saw no didChange for its key" "$out"
grep -q "^done: the server shut down cleanly$" <<<"$out" || fail "the example did not finish" "$out"

check "sessions run the bundled hyperstack-rpc, and remote: 'auto' the forwarder beside it; the lookup order"
run=$(mktemp -d "$SCRATCH/run-XXXXXX")
chmod 0700 "$run"
on_exit "XDG_RUNTIME_DIR_FOR_TEST='$run' bare '$PACKAGE/bin/hyperstack-rpc' daemon stop >/dev/null 2>&1"
cp "$(dirname "$0")/npm_session.mjs" "$PROJECT/session.mjs"
out=$(cd "$PROJECT" && bare node session.mjs "$VERSION" "$run" 2>&1) || fail "the sessions through the package failed" "$out"
XDG_RUNTIME_DIR_FOR_TEST=$run bare "$PACKAGE/bin/hyperstack-rpc" daemon stop >"$SCRATCH/stop.out" 2>&1 ||
    fail "hyperstack-rpc daemon stop failed after the remote session" "$(cat "$SCRATCH/stop.out")"

check "node_modules/.bin/hyperstack-rpc is the bundled binary: --version, call apiKeys.list '{}' --sandbox"
[ "$(realpath "$PROJECT/node_modules/.bin/hyperstack-rpc")" = "$(realpath "$PACKAGE/bin/hyperstack-rpc")" ] ||
    fail "node_modules/.bin/hyperstack-rpc is not a link to the bundled binary"
out=$(cd "$PROJECT" && bare npx --offline --no-install hyperstack-rpc --version 2>&1) || fail "npx hyperstack-rpc --version failed" "$out"
[[ $out == "$VERSION (build "* ]] || fail "npx hyperstack-rpc --version printed '$out'"
out=$(cd "$PROJECT" && bare node_modules/.bin/hyperstack-rpc call apiKeys.list '{}' --sandbox 2>&1) ||
    fail "node_modules/.bin/hyperstack-rpc call apiKeys.list failed" "$out"
[[ $out =~ ^\{\"keys\":\[\],\"revision\":1,.*\}$ ]] || fail "hyperstack-rpc call apiKeys.list printed '$out'"

passed
