"""``generate(..., secret_file=)`` and ``access_token=``, against the real server over pipes.

With a secret file the server writes the secret to a new 0600 file and the answer carries only the
path, so the secret never crosses the pipe (the ``trace=`` hook records every message and is
searched for it). A refused path is :class:`InvalidParams` naming the field; a key created whose
file could not be written is :class:`SecretNotWritten` naming the key (provoked as the server's own
tests do: a wrapper that sets ``ulimit -f 0``).

The access token is checked the strict way: a ``hyperstack-sandbox`` that generates only for
``Authorization: Bearer TOKEN`` (``--generate-requires-access-token``) answers generate only if the
token reached the server, and the token must be in the child's environment, not its argv.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets as random_secrets
import stat
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from conftest import CALL_TIMEOUT, TEST_ENV, HttpSandbox, Wire
from hyperstack_rpc import (
    AsyncClient,
    Client,
    GeneratedKey,
    InvalidParams,
    RpcError,
    SecretNotWritten,
    Unauthorized,
)


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "secrets"
    directory.mkdir(mode=0o700)
    os.chmod(directory, 0o700)
    return directory


def start(rpc_bin: str, wire: Wire, secrets_dir: Path, **options: Any) -> Client:
    return Client(
        rpc_bin,
        sandbox=True,
        env=TEST_ENV,
        timeout=CALL_TIMEOUT,
        trace=wire,
        extra_args=["--secrets-dir", str(secrets_dir)],
        **options,
    )


def read_secret(path: Path) -> str:
    text = path.read_text()
    assert text.endswith("\n") and text.count("\n") == 1, "the file should hold the secret and a newline"
    return text[:-1]


def assert_written(created: GeneratedKey, expected: Path) -> str:
    """The file is where it should be, mode 0600, and holds the key's secret; returns that secret."""
    assert created.secret is None
    assert created.secret_file == str(expected)
    assert os.path.isabs(created.secret_file)
    assert stat.S_IMODE(os.lstat(expected).st_mode) == 0o600
    secret = read_secret(expected)
    assert created.key.masked_key is not None and created.key.masked_key.endswith(secret[-4:])
    assert secret not in repr(created)
    return secret


def assert_nowhere(secret: str, wire: Wire, client: Any) -> None:
    """The secret is in no message either way, nor in the server's stderr."""
    assert secret not in json.dumps(wire.sent) + json.dumps(wire.received)
    assert secret not in "\n".join(client.stderr_tail)


def test_secret_file_is_written_0600_and_the_answer_has_only_its_path(
    rpc_bin: str, wire: Wire, secrets_dir: Path, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir(mode=0o700)
    with Client(
        rpc_bin,
        sandbox=True,
        env=TEST_ENV,
        timeout=CALL_TIMEOUT,
        trace=wire,
        extra_args=["--secrets-dir", str(secrets_dir), "--allow-secrets-in", str(allowed)],
    ) as client:
        assert client.supports_secret_file
        relative = client.generate("py-secret-relative", "in the secrets dir", secret_file="ci/runner.key")
        secret = assert_written(relative, secrets_dir / "ci" / "runner.key")
        assert relative.key.name == "py-secret-relative" and relative.key.description == "in the secrets dir"
        assert stat.S_IMODE(os.stat(secrets_dir / "ci").st_mode) == 0o700

        absolute = client.generate("py-secret-pathlike", secret_file=allowed / "pathlike.key")  # os.PathLike
        other = assert_written(absolute, allowed / "pathlike.key")
        assert other != secret

        listed = {k.name for k in client.list(refresh=True).keys}
        assert {"py-secret-relative", "py-secret-pathlike"} <= listed
        sent = [m for m in wire.sent if m.get("method") == "apiKeys.generate"]
        assert [m["params"]["secretFile"] for m in sent] == ["ci/runner.key", str(allowed / "pathlike.key")]

        # Without secret_file the answer carries the secret as before.
        inline = client.generate("py-secret-inline")
        assert inline.secret and inline.secret_file is None
        wire.secrets.append(inline.secret)
        for written in (secret, other):
            assert_nowhere(written, wire, client)
    for written in (secret, other):
        assert_nowhere(written, wire, client)


@pytest.mark.parametrize(
    "requested, fragment",
    [("taken.key", "never overwritten"), ("../escape.key", ".."), ("OUTSIDE", "outside"), ("", "empty")],
)
def test_a_refused_secret_file_is_invalid_params_on_the_field_and_creates_no_key(
    rpc_bin: str, wire: Wire, secrets_dir: Path, tmp_path: Path, requested: str, fragment: str
) -> None:
    (secrets_dir / "taken.key").write_text("already here\n")
    if requested == "OUTSIDE":
        requested = str(tmp_path / "outside.key")
    with start(rpc_bin, wire, secrets_dir) as client:
        before = client.list(refresh=True).keys
        with pytest.raises(InvalidParams) as refused:
            client.generate("py-secret-refused", secret_file=requested)
        assert refused.value.code == -32602
        assert refused.value.data["field"] == "secretFile"
        assert fragment in refused.value.message, refused.value.message
        assert "secretFile" in str(refused.value)
        assert client.list(refresh=True).keys == before, "a refused path must not create a key"
    assert (secrets_dir / "taken.key").read_text() == "already here\n"
    assert not (tmp_path / "outside.key").exists() and not (tmp_path / "escape.key").exists()


def test_a_symlink_cannot_carry_the_secret_out(rpc_bin: str, wire: Wire, secrets_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (secrets_dir / "link").symlink_to(target)
    with start(rpc_bin, wire, secrets_dir) as client:
        with pytest.raises(InvalidParams) as refused:
            client.generate("py-secret-symlink", secret_file="link/x.key")
        assert refused.value.data["field"] == "secretFile"
    assert list(target.iterdir()) == []


def test_bytes_paths_are_refused_before_anything_is_sent(rpc_bin: str, wire: Wire, secrets_dir: Path) -> None:
    with start(rpc_bin, wire, secrets_dir) as client:
        with pytest.raises(TypeError):
            client.generate("py-secret-bytes", secret_file=b"x.key")  # type: ignore[arg-type]
        assert not [m for m in wire.sent if m.get("method") == "apiKeys.generate"]


def test_a_key_whose_file_cannot_be_written_is_secret_not_written_naming_it(
    rpc_bin: str, wire: Wire, secrets_dir: Path, tmp_path: Path
) -> None:
    # ulimit -f 0 lets the server create the file but not write a byte to it (as a full disk would).
    wrapper = tmp_path / "no-room.sh"
    wrapper.write_text(f'#!/bin/sh\ntrap "" XFSZ\nulimit -f 0\nexec "{rpc_bin}" "$@"\n')
    wrapper.chmod(0o700)
    with start(str(wrapper), wire, secrets_dir) as client:
        with pytest.raises(SecretNotWritten) as lost:
            client.generate("py-secret-lost", secret_file="lost.key")
        error = lost.value
        assert isinstance(error, RpcError) and error.code == 1505
        assert error.data["key"]["name"] == "py-secret-lost"
        assert error.key_id is not None and error.key_id == error.data["key"]["id"]
        assert error.secret_file == str(secrets_dir / "lost.key")
        assert not (secrets_dir / "lost.key").exists(), "the partial file should be removed"
        # The key exists, so the caller can do what the error says: delete it.
        assert error.key_id in [k.id for k in client.list(refresh=True).keys]
        client.delete(error.key_id)
        assert error.key_id not in [k.id for k in client.list(refresh=True).keys]


def test_async_client_writes_a_secret_file_and_maps_the_errors(rpc_bin: str, wire: Wire, secrets_dir: Path) -> None:
    async def scenario() -> str:
        async with AsyncClient(
            rpc_bin,
            sandbox=True,
            env=TEST_ENV,
            timeout=CALL_TIMEOUT,
            trace=wire,
            extra_args=["--secrets-dir", str(secrets_dir)],
        ) as client:
            assert client.supports_secret_file
            created = await client.generate("py-async-secret", "async", secret_file=Path("async.key"))
            secret = assert_written(created, secrets_dir / "async.key")
            with pytest.raises(InvalidParams) as refused:
                await client.generate("py-async-secret-again", secret_file="async.key")
            assert refused.value.data["field"] == "secretFile"
            assert [k.name for k in (await client.list(refresh=True)).keys] == ["py-async-secret"]
            assert_nowhere(secret, wire, client)
            return secret

    asyncio.run(asyncio.wait_for(scenario(), 120))


# ------------------------------------------------------------------ access tokens


def fresh(prefix: str) -> str:
    return prefix + random_secrets.token_hex(20)


@pytest.fixture
def strict_sandbox(sandbox_bin: str) -> Iterator[HttpSandbox]:
    """An HTTP sandbox whose generate accepts only ``Authorization: Bearer TOKEN``."""
    token = fresh("pytok")
    sandbox = HttpSandbox(sandbox_bin, "--access-token", token, "--generate-requires-access-token")
    sandbox.token = token  # type: ignore[attr-defined]
    try:
        yield sandbox
    finally:
        sandbox.stop()


def child_environ(pid: int) -> List[bytes]:
    with open(f"/proc/{pid}/environ", "rb") as environ:
        return environ.read().split(b"\0")


def child_cmdline(pid: int) -> bytes:
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return cmdline.read()


def test_access_token_reaches_the_server_in_its_environment_never_its_argv(
    rpc_bin: str, strict_sandbox: HttpSandbox, wire: Wire
) -> None:
    token: str = strict_sandbox.token  # type: ignore[attr-defined]
    wire.secrets += [token, HttpSandbox.API_KEY]
    common = dict(base_url=strict_sandbox.base_url, api_key=HttpSandbox.API_KEY, timeout=CALL_TIMEOUT)
    clean_env = {"HYPERSTACK_ACCESS_TOKEN": None, "HYPERSTACK_RPC_REMOTE": None}

    # Without the token, this sandbox refuses generate: the check below is not vacuous.
    without = Wire()  # its own recorder: request ids restart with each client
    with Client(rpc_bin, env=clean_env, trace=without, **common) as client:  # type: ignore[arg-type]
        with pytest.raises(Unauthorized):
            client.generate("py-no-token")
    without.check()

    with Client(rpc_bin, env=clean_env, access_token=token, trace=wire, **common) as client:  # type: ignore[arg-type]
        assert token not in " ".join(client.argv)
        assert token.encode() not in child_cmdline(client.pid)
        assert b"HYPERSTACK_ACCESS_TOKEN=" + token.encode() in child_environ(client.pid)
        created = client.generate("py-with-token")
        assert created.secret
        wire.secrets.append(created.secret)
        assert "py-with-token" in [k.name for k in client.list(refresh=True).keys]
        assert token not in "\n".join(client.stderr_tail)


def test_async_access_token_reaches_the_server(rpc_bin: str, strict_sandbox: HttpSandbox, wire: Wire) -> None:
    token: str = strict_sandbox.token  # type: ignore[attr-defined]
    wire.secrets += [token, HttpSandbox.API_KEY]

    async def scenario() -> None:
        async with AsyncClient(
            rpc_bin,
            base_url=strict_sandbox.base_url,
            api_key=HttpSandbox.API_KEY,
            access_token=token,
            env={"HYPERSTACK_ACCESS_TOKEN": None, "HYPERSTACK_RPC_REMOTE": None},
            timeout=CALL_TIMEOUT,
            trace=wire,
        ) as client:
            assert token.encode() not in child_cmdline(client.pid)
            assert b"HYPERSTACK_ACCESS_TOKEN=" + token.encode() in child_environ(client.pid)
            created = await client.generate("py-async-with-token")
            assert created.secret
            wire.secrets.append(created.secret)

    asyncio.run(asyncio.wait_for(scenario(), 120))
