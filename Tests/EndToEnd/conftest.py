"""Fixtures shared by the end-to-end suites: the protocol validator, servers, the sandbox."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from protocol_schema import ProtocolValidator  # noqa: E402
from rpc_process import RpcProcess  # noqa: E402
from sandbox_server import SandboxServer  # noqa: E402


@pytest.fixture(scope="session")
def validator() -> ProtocolValidator:
    return ProtocolValidator.load()


@pytest.fixture
def spawn(validator: ProtocolValidator) -> Iterator[Callable[..., RpcProcess]]:
    """Starts hyperstack-rpc processes that are stopped (and checked) after the test."""
    started: list[RpcProcess] = []

    def start(*args: str, framing: str = "ndjson", validate: bool = True, **kwargs) -> RpcProcess:
        process = RpcProcess(*args, framing=framing, validator=validator if validate else None, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.stop()
        process.check_clean()


@pytest.fixture
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer()
    yield server
    server.stop()
