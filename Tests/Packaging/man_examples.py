"""Checks a man page from argument-parser's manual plugin has an example for every command.

    man_examples.py COMMAND PAGE RENDERED [SUBCOMMAND-PATH...]

RENDERED is what `man -l PAGE` printed; each SUBCOMMAND-PATH is one subcommand, its names
joined by spaces ("daemon stop"); none means the program itself. An example is a line part
starting "Example:" or "Example (what it shows):". Exits non-zero, saying what is missing, unless
the rendered page has a NAME section and at least as many examples as commands, and each
command's own description (in the page's source) holds one. Used by test_install.sh.
"""

import re
import sys

#: "Example:" or "Example (Claude Code):".
EXAMPLE = re.compile(r"\bExamples?(?: \([^)\n]{1,60}\))?:")

command, page, rendered_file, *paths = sys.argv[1:]
rendered = open(rendered_file, encoding="utf-8").read()
if not re.search(rf"^NAME\n\s+{re.escape(command)} ", rendered, re.M):
    sys.exit(f"man -l rendered no NAME section for {command}:\n{rendered}")
# groff hyphenates at line ends ("Exam‐" / "ple:"); join those before counting.
words = " ".join(re.sub(r"[\u2010-]\n\s*", "", rendered).split())
found = len(EXAMPLE.findall(words))
if found < len(paths):
    sys.exit(f"man -l renders {found} examples for {len(paths)} commands:\n{rendered}")
# In argument-parser's mdoc a subcommand is an `.It Em NAME` item, nested in its parent's list;
# its discussion runs to the next `.It`. A program without subcommands has its discussion in
# DESCRIPTION, before the first item.
lines = open(page, encoding="utf-8").read().splitlines()
missing = []
for path in paths:
    start = next(i for i, line in enumerate(lines) if line.startswith(".Sh DESCRIPTION"))
    try:
        for name in path.split():
            start = next(i for i in range(start + 1, len(lines)) if lines[i] == f".It Em {name}")
    except StopIteration:
        missing.append(f"{command} {path}: not in the page")
        continue
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(".It ")), len(lines))
    if not any(EXAMPLE.search(line) for line in lines[start:end]):
        missing.append(f"{command} {path}".strip() + ": no Example: in its description")
if missing:
    sys.exit("\n".join(missing))
print(f"{command}: {len(paths)} commands, each with an example")
