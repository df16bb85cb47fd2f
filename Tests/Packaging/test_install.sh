#!/usr/bin/env bash
# `make install` and `make uninstall` into a temporary PREFIX (issue 14, part 1):
# - the files installed are exactly the Makefile's INSTALLED_FILES, with their modes, the
#   binaries stripped and needing nothing beyond glibc;
# - the installed `hyperstack-rpc --version` prints the version and the build fingerprint;
# - a `--remote auto` session started from the installed bin/ becomes the libexec forwarder;
# - bash, zsh and fish accept the completions, and bash and fish complete the subcommands;
# - `man -l` renders both pages, with an "Example:" for every subcommand (every command for a
#   program without subcommands);
# - `make uninstall` leaves no file behind.
# `make packaging-tests` runs it after building the release binaries and the manuals, so it runs
# `make -o release -o manuals install`; run alone, it needs `make release manuals` first.
source "$(dirname "$0")/lib.sh"

need make "run make install"
need zsh "check the zsh completions"
need fish "check the fish completions"
need man "render the man pages"
need readelf "check that the binaries are stripped"

PREFIX_DIR=$SCRATCH/prefix
COMMANDS=(hyperstack-rpc hyperstack-sandbox)
MAKE_ARGS=(-C "$ROOT" --no-print-directory PREFIX="$PREFIX_DIR" DESTDIR=)

check "make install PREFIX=$PREFIX_DIR"
make "${MAKE_ARGS[@]}" -o release -o manuals install >"$SCRATCH/install.log" 2>&1 ||
    fail "make install PREFIX=$PREFIX_DIR failed" "$(tail -30 "$SCRATCH/install.log")"

check "the installed files are exactly INSTALLED_FILES"
# shellcheck disable=SC2016  # $(INSTALLED_FILES) is make's
expected=$(make "${MAKE_ARGS[@]}" -s --eval 'hs-print-installed-files: ; @printf "%s\n" $(INSTALLED_FILES)' \
    hs-print-installed-files | sort)
[ -n "$expected" ] || fail "the Makefile's INSTALLED_FILES is empty"
installed=$(cd "$PREFIX_DIR" && find . ! -type d | sed 's|^\./||' | sort)
[ "$installed" = "$expected" ] ||
    fail "make install wrote other files than INSTALLED_FILES" "$(diff <(echo "$expected") <(echo "$installed") || true)"

check "modes: programs 0755, stripped, needing only glibc; completions and man pages 0644"
programs=("${COMMANDS[@]/#/$PREFIX_DIR/bin/}" "$PREFIX_DIR/libexec/hyperstack-rpc/hyperstack-rpc-forwarder")
mode_is 755 "${programs[@]}"
stripped "${programs[@]}"
only_glibc "${programs[@]}"
mapfile -t shared < <(find "$PREFIX_DIR/share" -type f)
mode_is 644 "${shared[@]}"

check "the installed hyperstack-rpc --version prints $VERSION and the build fingerprint"
version=$(bare "$PREFIX_DIR/bin/hyperstack-rpc" --version 2>&1) || fail "hyperstack-rpc --version failed" "$version"
[[ $version =~ ^${VERSION//./\\.}\ \(build\ [0-9a-f]{16}\)$ ]] ||
    fail "hyperstack-rpc --version printed something other than '$VERSION (build <fingerprint>)'" "$version"
help=$(bare "$PREFIX_DIR/bin/hyperstack-sandbox" --help 2>&1) || fail "the installed hyperstack-sandbox --help failed" "$help"

check "a --remote auto session from the installed bin/ runs the forwarder in libexec/hyperstack-rpc/"
remote_session_becomes "$PREFIX_DIR/bin/hyperstack-rpc" "$PREFIX_DIR/libexec/hyperstack-rpc/hyperstack-rpc-forwarder"

check "bash -n, zsh -n and fish --no-execute accept the completions"
for command in "${COMMANDS[@]}"; do
    bash_file=$PREFIX_DIR/share/bash-completion/completions/$command
    zsh_file=$PREFIX_DIR/share/zsh/site-functions/_$command
    fish_file=$PREFIX_DIR/share/fish/vendor_completions.d/$command.fish
    out=$(bash -n "$bash_file" 2>&1) || fail "bash -n rejects $bash_file" "$out"
    out=$(zsh -n "$zsh_file" 2>&1) || fail "zsh -n rejects $zsh_file" "$out"
    out=$(fish --no-execute "$fish_file" 2>&1) || fail "fish --no-execute rejects $fish_file" "$out"
    out=$(bash -c 'source "$1" && complete -p "$2"' _ "$bash_file" "$command" 2>&1) ||
        fail "sourcing $bash_file registers no completion for $command" "$out"
done

check "the completions offer hyperstack-rpc's subcommands (bash and fish, asking the installed binary)"
subcommands_of() { # the SUBCOMMANDS a --help lists
    bare "$@" --help | sed -n '/^SUBCOMMANDS:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p'
}
mapfile -t top < <(subcommands_of "$PREFIX_DIR/bin/hyperstack-rpc")
[ ${#top[@]} -gt 0 ] || fail "hyperstack-rpc --help lists no subcommands"
offered=$(BARE_EXTRA_PATH= BARE_PATH=$PREFIX_DIR/bin:$BARE_PATH bare bash -c '
    source "$1"; COMP_WORDS=(hyperstack-rpc ""); COMP_CWORD=1; COMP_LINE="hyperstack-rpc "; COMP_POINT=${#COMP_LINE}
    spec=$(complete -p hyperstack-rpc); function=${spec##*-F }; function=${function%% *}
    "$function" hyperstack-rpc "" hyperstack-rpc; printf "%s\n" "${COMPREPLY[@]}"' _ \
    "$PREFIX_DIR/share/bash-completion/completions/hyperstack-rpc" 2>&1) || fail "bash completion failed" "$offered"
for subcommand in "${top[@]}"; do
    grep -qx -- "$subcommand" <<<"$offered" || fail "bash does not complete 'hyperstack-rpc $subcommand'" "$offered"
done
offered=$(BARE_PATH=$PREFIX_DIR/bin:$BARE_PATH bare fish --no-config -c \
    'source $argv[1]; complete -C "hyperstack-rpc "' "$PREFIX_DIR/share/fish/vendor_completions.d/hyperstack-rpc.fish" 2>&1) ||
    fail "fish completion failed" "$offered"
for subcommand in "${top[@]}"; do
    cut -f1 <<<"$offered" | grep -qx -- "$subcommand" || fail "fish does not complete 'hyperstack-rpc $subcommand'" "$offered"
done

check "man -l renders both pages, with an Example: for every subcommand"
for command in "${COMMANDS[@]}"; do
    page=$PREFIX_DIR/share/man/man1/$command.1
    MANWIDTH=100 man -l -P cat "$page" >"$SCRATCH/man.txt" 2>"$SCRATCH/man.err" || fail "man -l $page failed" "$(cat "$SCRATCH/man.err")"
    [ ! -s "$SCRATCH/man.err" ] || fail "man -l $page warned" "$(cat "$SCRATCH/man.err")"
    # The commands to look for: every subcommand at every depth, as --help lists them, or the
    # program itself when it has none.
    paths=()
    walk() {
        local sub children
        mapfile -t children < <(subcommands_of "$PREFIX_DIR/bin/$command" "$@")
        if [ $# -gt 0 ]; then paths+=("$*"); fi
        for sub in "${children[@]}"; do walk "$@" "$sub"; done
    }
    walk
    [ ${#paths[@]} -gt 0 ] || paths=("")
    out=$("$PYTHON" "$(dirname "$0")/man_examples.py" "$command" "$page" "$SCRATCH/man.txt" "${paths[@]}" 2>&1) ||
        fail "the man page $page lacks examples" "$out"
    printf '    %s\n' "$out"
done

check "make uninstall PREFIX=$PREFIX_DIR leaves no file behind"
make "${MAKE_ARGS[@]}" uninstall >"$SCRATCH/uninstall.log" 2>&1 ||
    fail "make uninstall PREFIX=$PREFIX_DIR failed" "$(cat "$SCRATCH/uninstall.log")"
left=$(cd "$PREFIX_DIR" && find . ! -type d)
[ -z "$left" ] || fail "make uninstall left files behind" "$left"
[ ! -e "$PREFIX_DIR/libexec/hyperstack-rpc" ] || fail "make uninstall left $PREFIX_DIR/libexec/hyperstack-rpc"

passed
