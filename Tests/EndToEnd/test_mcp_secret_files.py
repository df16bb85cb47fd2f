"""Generated secrets go to new files, never into MCP messages or logs: the 0600 mode, O_EXCL (an
existing path is never overwritten, and no key is created for it), symlink and '..' refusals, the
allowed roots, a write that fails after the key exists, --mcp-inline-secrets, and the same rules
for apiKeys.generate {secretFile} in the JSON-RPC server."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from mcp_support import LATEST, McpPipe, assert_no_secret, default_secrets_dir, launched_pipes, server_env
from rpc_process import binary_path


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def state_home(tmp_path):
    return tmp_path / "state"


@pytest.fixture
def mcp(state_home):
    def make(*args: str, **kwargs) -> McpPipe:
        process = McpPipe("--sandbox", "--log-level", "trace", *args, state_home=state_home, **kwargs)
        process.initialize(LATEST)
        return process

    yield from launched_pipes(make)


def generate(server: McpPipe, **arguments) -> dict:
    return server.tool("generate_api_key", {"name": "k", **arguments})["result"]


def keys(server: McpPipe) -> list:
    return server.tool("list_api_keys", {"refresh": True})["result"]["structuredContent"]["keys"]


def error_text(result: dict) -> str:
    assert result["isError"] is True, result
    return result["content"][0]["text"]


def read_secret(path) -> str:
    with open(path) as file:
        return file.read().strip()


def test_the_default_file_is_named_after_the_key_in_a_private_directory(mcp, state_home):
    server = mcp()
    result = generate(server)
    key = result["structuredContent"]["key"]
    directory = default_secrets_dir(state_home)
    assert result["structuredContent"]["secretFile"] == str(directory / str(key["id"]))
    assert mode(directory) == 0o700
    assert mode(directory / str(key["id"])) == 0o600
    secret = read_secret(directory / str(key["id"]))
    assert key["maskedKey"].endswith(secret[-4:]) and "secret" not in key
    assert server.stop() == 0
    assert server.secret_leaks([secret]) == []
    assert_no_secret([secret], "stdout or the trace log", bytes(server.raw_stdout) + bytes(server.stderr))


def test_a_relative_name_lands_inside_the_secrets_directory(mcp, state_home, tmp_path):
    chosen = tmp_path / "chosen-secrets"
    server = mcp("--secrets-dir", str(chosen))
    result = generate(server, secretFile="team/./ci.key")
    assert result["structuredContent"]["secretFile"] == str(chosen / "team" / "ci.key")
    assert mode(chosen) == 0o700 and mode(chosen / "team") == 0o700 and mode(chosen / "team" / "ci.key") == 0o600
    assert not default_secrets_dir(state_home).exists()


def test_an_existing_file_is_never_overwritten_and_no_key_is_created(mcp, state_home):
    directory = default_secrets_dir(state_home)
    directory.mkdir(parents=True, mode=0o700)
    (directory / "taken").write_text("precious\n")
    server = mcp()
    text = error_text(generate(server, secretFile="taken"))
    assert "never overwritten" in text and "No key was created" in text
    assert (directory / "taken").read_text() == "precious\n"
    assert keys(server) == []


def test_a_symlink_is_refused_where_the_file_or_a_directory_would_be(mcp, state_home, tmp_path):
    directory = default_secrets_dir(state_home)
    directory.mkdir(parents=True, mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere / "stolen", directory / "link")
    os.symlink(elsewhere, directory / "linked-dir")
    server = mcp()
    assert "symbolic link" in error_text(generate(server, secretFile="link"))
    assert "symbolic link" in error_text(generate(server, secretFile="linked-dir/key"))
    assert list(elsewhere.iterdir()) == []
    assert keys(server) == []


@pytest.mark.parametrize("requested", ["../escape", "a/../../escape", "/etc/hyperstack-test-key", "sub/"])
def test_dot_dot_and_paths_outside_the_allowed_directories_are_refused(mcp, requested):
    server = mcp()
    assert "No key was created" in error_text(generate(server, secretFile=requested))
    assert keys(server) == []
    assert not os.path.exists("/etc/hyperstack-test-key")


def test_absolute_paths_under_the_secrets_dir_or_an_allowed_directory(mcp, state_home, tmp_path):
    project = tmp_path / "project"
    project.mkdir(mode=0o755)
    server = mcp("--allow-secrets-in", str(project))
    inside = generate(server, secretFile=str(default_secrets_dir(state_home) / "abs.key"))
    assert inside["structuredContent"]["secretFile"] == str(default_secrets_dir(state_home) / "abs.key")
    allowed = server.tool("generate_api_key", {"name": "k2", "secretFile": str(project / "keys" / "k2")})["result"]
    assert allowed["isError"] is False, allowed
    assert mode(project / "keys" / "k2") == 0o600 and mode(project / "keys") == 0o700
    refused = server.tool("generate_api_key", {"name": "k3", "secretFile": str(tmp_path / "not-allowed")})["result"]
    assert "--allow-secrets-in" in error_text(refused)
    assert [k["name"] for k in keys(server)] == ["k", "k2"]


def test_a_write_that_fails_after_the_key_exists_names_the_key(state_home):
    """RLIMIT_FSIZE 0 (SIGXFSZ ignored) makes the secret's write fail with EFBIG once the key exists."""
    wrapper = 'trap "" XFSZ; ulimit -f 0; exec "$0" mcp --sandbox'
    process = subprocess.Popen(["sh", "-c", wrapper, binary_path()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, **server_env(state_home)})
    def send(message):
        process.stdin.write((json.dumps(message) + "\n").encode())
        process.stdin.flush()

    def answer(id):
        while True:
            line = process.stdout.readline()
            assert line, f"stdout closed before the answer to {id}"
            message = json.loads(line)
            if message.get("id") == id:
                return message

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": LATEST, "capabilities": {}}})
    answer(1)
    # The list goes out only after the generate has answered: pipelined, it could run first.
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "generate_api_key", "arguments": {"name": "lost"}}})
    answers = {2: answer(2)}
    send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_api_keys", "arguments": {}}})
    answers[3] = answer(3)
    process.stdin.close()
    err = process.stderr.read()
    assert process.wait(timeout=30) == 0, err
    listed = answers[3]["result"]["structuredContent"]["keys"]
    assert [k["name"] for k in listed] == ["lost"]
    text = error_text(answers[2]["result"])
    assert f"(id {listed[0]['id']}) was created" in text and "delete_api_key" in text
    assert not (default_secrets_dir(state_home) / str(listed[0]["id"])).exists(), "a partial secret file was left"


def test_inline_secrets_only_when_asked_for(mcp, state_home):
    server = mcp("--mcp-inline-secrets")
    assert "--mcp-inline-secrets" in server.call("tools/list")["tools"][1]["description"]
    result = generate(server)
    secret = result["structuredContent"]["key"]["secret"]
    assert secret and "secretFile" not in result["structuredContent"]
    assert not default_secrets_dir(state_home).exists()
    # A secretFile still wins: that secret goes to the file only.
    to_file = server.tool("generate_api_key", {"name": "f", "secretFile": "f.key"})["result"]["structuredContent"]
    assert "secret" not in to_file["key"] and read_secret(to_file["secretFile"])
    assert server.stop() == 0
    assert_no_secret([secret, read_secret(to_file["secretFile"])], "the trace log", bytes(server.stderr))


# ----- the JSON-RPC server: apiKeys.generate {secretFile} ---------------------------------------

def test_json_rpc_generate_writes_to_a_secret_file_by_the_same_rules(spawn, state_home, tmp_path):
    rpc = spawn("--sandbox", "--log-level", "trace", env=server_env(state_home))
    capabilities = rpc.call("initialize", {})["capabilities"]
    assert capabilities["apiKeys"]["secretFile"] is True
    result = rpc.call("apiKeys.generate", {"name": "editor", "secretFile": "editor.key"})
    path = default_secrets_dir(state_home) / "editor.key"
    assert result["secretFile"] == str(path) and "secret" not in result["key"]
    assert mode(path) == 0o600
    secret = read_secret(path)
    assert result["key"]["maskedKey"].endswith(secret[-4:])
    for requested, fragment in [("editor.key", "never overwritten"), ("../x", ".."), (str(tmp_path / "x"), "outside"),
                                ("", "empty")]:
        error = rpc.request("apiKeys.generate", {"name": "refused", "secretFile": requested})["error"]
        assert error["code"] == -32602 and error["data"]["field"] == "secretFile", error
        assert fragment in error["message"], (requested, error["message"])
    assert [k["name"] for k in rpc.call("apiKeys.list", {"refresh": True})["keys"]] == ["editor"]
    # Without secretFile the answer still carries the secret, as before.
    assert rpc.call("apiKeys.generate", {"name": "inline"})["key"]["secret"]
    assert rpc.stop() == 0
    assert rpc.secret_leaks([secret]) == []
    assert_no_secret([secret], "the trace log", bytes(rpc.stderr))


def test_json_rpc_generate_names_the_key_when_its_file_cannot_be_written(state_home):
    wrapper = 'trap "" XFSZ; ulimit -f 0; exec "$0" --sandbox --framing ndjson'
    process = subprocess.Popen(["sh", "-c", wrapper, binary_path()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, **server_env(state_home)})
    request = {"jsonrpc": "2.0", "id": 1, "method": "apiKeys.generate", "params": {"name": "lost", "secretFile": "lost.key"}}
    out, err = process.communicate((json.dumps(request) + "\n").encode(), timeout=30)
    answer = next(m for m in map(json.loads, out.splitlines()) if m.get("id") == 1)
    assert answer["error"]["code"] == 1505, answer
    assert answer["error"]["data"]["key"]["name"] == "lost"
    assert answer["error"]["data"]["secretFile"] == str(default_secrets_dir(state_home) / "lost.key")
    assert not (default_secrets_dir(state_home) / "lost.key").exists()
