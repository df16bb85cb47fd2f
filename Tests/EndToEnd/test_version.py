"""The version has one source, `info.version` in protocol/openrpc.json.

The server reads it from the document it embeds; the package manifests that must carry a
literal (the Node client's package.json, the Python client's _version.py, which pyproject.toml
reads) are released with the server, so they must say the same thing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "protocol" / "openrpc.json").read_text())
VERSION = DOCUMENT["info"]["version"]


def test_the_source_is_a_semantic_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", VERSION), VERSION


def test_the_server_reports_the_documents_version(spawn):
    server = spawn("--sandbox")
    result = server.call("initialize", {"processId": None})
    assert result["serverInfo"] == {"name": "hyperstack-rpc", "version": VERSION}
    assert server.call("rpc.discover")["info"]["version"] == VERSION


def test_the_handshake_example_mirrors_the_version():
    initialize = next(m for m in DOCUMENT["methods"] if m["name"] == "initialize")
    for example in initialize["examples"]:
        assert example["result"]["value"]["serverInfo"]["version"] == VERSION


def test_the_client_packages_carry_the_same_version():
    node = json.loads((ROOT / "clients" / "node" / "package.json").read_text())
    assert node["version"] == VERSION
    python = (ROOT / "clients" / "python" / "src" / "hyperstack_rpc" / "_version.py").read_text()
    assert re.search(r'__version__ = "([^"]+)"', python).group(1) == VERSION
    pyproject = (ROOT / "clients" / "python" / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "\nversion =" not in pyproject.split("[tool.")[0]
    client_js = (ROOT / "clients" / "node" / "src" / "client.js").read_text()
    assert VERSION not in client_js, "client.js reads its version from package.json"
