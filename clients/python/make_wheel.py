"""Builds the platform wheel: the Python client with the release server binaries inside.

    python3 clients/python/make_wheel.py --binaries DIR --dist DIR      (what `make wheel` runs)

DIR holds the stripped release binaries (`make wheel` strips them into .build/package-bin with
`install -s`, as `make install` does). They go into ``hyperstack_rpc/_bin/``, where the client
looks for its server after an explicit path and ``$HYPERSTACK_RPC_BIN`` (``launch.bundled``),
and the thin forwarder sits beside the server, where ``--remote auto`` looks for it. Two
commands, ``hyperstack-rpc`` and ``hyperstack-sandbox``, go into the wheel's scripts: each is a
``#!python`` script that the installer points at its interpreter and that replaces itself with
the bundled binary (``os.execv``), so stdout, signals and exit status are the binary's own.

Why not setuptools: the wheel must carry a platform tag that says what the binaries need, and
building it must work offline from a fresh clone, with nothing installed beyond Python. The
metadata comes from pyproject.toml ([project]) and the version from ``_version.py``, the same
sources ``pip install ./clients/python`` (the pure client, no server) reads.

The tag is computed from the binaries themselves: when every shared library they need is part
of glibc, ``manylinux_2_N_<arch>`` (PEP 600), N being the newest ``GLIBC_2.N`` symbol version
they require, which is exactly the promise that tag makes; otherwise ``linux_<arch>``, with a
warning naming the libraries that keep it from being portable. Reproducible: entries are
sorted and dated ``SOURCE_DATE_EPOCH`` (default 1980-01-01).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, NoReturn, Tuple

HERE = Path(__file__).resolve().parent
PACKAGE = "hyperstack_rpc"
#: The binaries the wheel carries, in hyperstack_rpc/_bin/.
BINARIES = ("hyperstack-rpc", "hyperstack-rpc-forwarder", "hyperstack-sandbox")
#: The commands the wheel installs (each runs the bundled binary of the same name).
COMMANDS = ("hyperstack-rpc", "hyperstack-sandbox")
#: Shared libraries that are glibc itself (a manylinux wheel may need only these of its own).
GLIBC_LIBRARIES = re.compile(r"^(libc|libm|libpthread|libdl|librt|libresolv|libutil|ld-linux-[\w-]+)\.so(\.\d+)*$")
#: ELF e_machine values and the architecture names wheel tags use.
MACHINES = {62: "x86_64", 183: "aarch64"}

COMMAND_SCRIPT = '''#!python
# {name}, as the hyperstack-rpc wheel installs it: replaces itself with the release binary the
# wheel carries ({package}/_bin/{name}), with the same arguments, environment and standard
# streams. It writes nothing on stdout, which belongs to the protocol, and after the exec the
# process (its pid, signals and exit status) is the binary's own. The package is found, not
# imported: importing it would load asyncio for nothing.
import importlib.util
import os
import signal
import sys

spec = importlib.util.find_spec("{package}")
locations = list(spec.submodule_search_locations or []) if spec else []
binary = os.path.join(locations[0], "_bin", "{name}") if locations else "{package}/_bin/{name}"
# Python starts with SIGPIPE and SIGXFSZ ignored, and an ignored signal stays ignored across exec.
for name in ("SIGPIPE", "SIGXFSZ"):
    if hasattr(signal, name):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
try:
    os.execv(binary, [sys.argv[0], *sys.argv[1:]])
except OSError as error:
    sys.stderr.write("{name}: cannot run %s: %s; reinstall the hyperstack-rpc wheel\\n" % (binary, error.strerror))
    sys.exit(127)
'''


def fail(message: str) -> NoReturn:
    sys.stderr.write(f"make_wheel.py: {message}\n")
    raise SystemExit(1)


def project_metadata() -> Tuple[str, str, str]:
    """(distribution name, version, METADATA text) from pyproject.toml, _version.py and the README."""
    try:
        import tomllib
    except ImportError:
        fail(f"building the wheel needs Python 3.11 or later (for tomllib); this is {sys.version.split()[0]}")
    project = tomllib.loads((HERE / "pyproject.toml").read_text())["project"]
    source = (HERE / "src" / PACKAGE / "_version.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"$', source, re.M)
    if not match:
        fail("no __version__ = \"...\" line in src/hyperstack_rpc/_version.py")
    version = match.group(1)
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {version}",
        f"Summary: {project['description']}",
    ]
    if "license" in project:
        lines.append(f"License: {project['license']['text']}")
    lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Classifier: {classifier}" for classifier in project.get("classifiers", [])]
    lines += [f"Requires-Dist: {dependency}" for dependency in project.get("dependencies", [])]
    for extra, dependencies in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {dependency}; extra == "{extra}"' for dependency in dependencies]
    readme = HERE / project["readme"]
    lines.append("Description-Content-Type: text/markdown")
    return project["name"], version, "\n".join(lines) + "\n\n" + readme.read_text()


def elf_machine(path: Path) -> str:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        fail(f"{path} is not a 64-bit little-endian ELF executable")
    machine = int.from_bytes(header[18:20], "little")
    if machine not in MACHINES:
        fail(f"{path}: unsupported ELF machine {machine}")
    return MACHINES[machine]


def dynamic_needs(path: Path) -> Tuple[List[str], int]:
    """The shared libraries ``path`` needs (DT_NEEDED) and the newest GLIBC_2.N it requires (N)."""
    try:
        dump = subprocess.run(["objdump", "-p", str(path)], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        fail(f"objdump -p {path} failed ({error}); binutils is needed to tag the wheel")
    needed = re.findall(r"^\s+NEEDED\s+(\S+)$", dump, re.M)
    if "GLIBC_PRIVATE" in dump:
        needed.append("glibc's private symbols (GLIBC_PRIVATE)")
    glibc = [int(minor) for minor in re.findall(r"\bGLIBC_2\.(\d+)(?:\.\d+)?\b", dump)]
    return needed, max(glibc, default=17)


def platform_tag(binaries: Iterable[Path]) -> str:
    arches, foreign, newest = set(), set(), 17
    for path in binaries:
        arches.add(elf_machine(path))
        needed, glibc = dynamic_needs(path)
        foreign.update(library for library in needed if not GLIBC_LIBRARIES.match(library))
        newest = max(newest, glibc)
    if len(arches) != 1:
        fail(f"the binaries are for different architectures: {sorted(arches)}")
    arch = arches.pop()
    if foreign:
        sys.stderr.write(
            f"make_wheel.py: warning: the binaries need {', '.join(sorted(foreign))} besides glibc, so the wheel is "
            f"tagged linux_{arch} and works only where those are installed (build with `make release`)\n"
        )
        return f"linux_{arch}"
    return f"manylinux_2_{newest}_{arch}"


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build(binaries_dir: Path, dist: Path) -> Path:
    name, version, metadata = project_metadata()
    stem = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"
    binaries = [binaries_dir / binary for binary in BINARIES]
    for path in binaries:
        if not (path.is_file() and os.access(path, os.X_OK)):
            fail(f"{path} is missing or not executable (make wheel builds it with `make release`)")
    tag = f"py3-none-{platform_tag(binaries)}"

    files: Dict[str, Tuple[bytes, int]] = {}
    source = HERE / "src" / PACKAGE
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and "__pycache__" not in relative.parts and relative.parts[0] != "_bin":
            if path.suffix in (".py", ".pyi") or path.name == "py.typed":
                files[f"{PACKAGE}/{relative.as_posix()}"] = (path.read_bytes(), 0o644)
    for path in binaries:
        files[f"{PACKAGE}/_bin/{path.name}"] = (path.read_bytes(), 0o755)
    for command in COMMANDS:
        script = COMMAND_SCRIPT.format(name=command, package=PACKAGE)
        files[f"{stem}.data/scripts/{command}"] = (script.encode(), 0o755)
    info = f"{stem}.dist-info"
    wheel = f"Wheel-Version: 1.0\nGenerator: hyperstack-rpc make_wheel.py\nRoot-Is-Purelib: false\nTag: {tag}\n"
    files[f"{info}/METADATA"] = (metadata.encode(), 0o644)
    files[f"{info}/WHEEL"] = (wheel.encode(), 0o644)
    files[f"{info}/top_level.txt"] = (f"{PACKAGE}\n".encode(), 0o644)

    epoch = max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")), 315532800)
    stamp = time.gmtime(epoch)[:6]
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"{stem}-{tag}.whl"
    partial = target.with_name(f".{target.name}.partial")
    record = []
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files, key=lambda p: (p.startswith(info), p)):
            data, mode = files[path]
            entry = zipfile.ZipInfo(path, date_time=stamp)
            entry.external_attr = (0o100000 | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data, compresslevel=6)
            record.append(record_line(path, data))
        record.append(f"{info}/RECORD,,")
        entry = zipfile.ZipInfo(f"{info}/RECORD", date_time=stamp)
        entry.external_attr = (0o100000 | 0o644) << 16
        archive.writestr(entry, "\n".join(record) + "\n", compress_type=zipfile.ZIP_DEFLATED)
    os.replace(partial, target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binaries", type=Path, required=True, help="folder of the stripped release binaries")
    parser.add_argument("--dist", type=Path, required=True, help="where the wheel is written")
    args = parser.parse_args()
    print(build(args.binaries, args.dist))
    return 0


if __name__ == "__main__":
    sys.exit(main())
