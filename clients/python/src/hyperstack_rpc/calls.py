"""The typed methods, written once for both clients: each is a :class:`Call` (method, params, parser).

The synchronous and asyncio clients only perform a :class:`Call` (``request`` its method with its
params, hand the result to its parser), so the wire shapes cannot drift apart between them.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Generic, Optional, TypeVar, Union

from ._version import __version__
from .errors import ProtocolError
from .models import ApiKey, Deleted, GeneratedKey, KeyList

__all__ = ["KEEP", "Keep", "DescriptionArg", "SecretFileArg", "Call"]

T = TypeVar("T")


class Keep:
    """Type of :data:`KEEP`, the "leave the description as it is" marker for ``update``."""

    _instance: Optional["Keep"] = None

    def __new__(cls) -> "Keep":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"

    def __reduce__(self) -> str:
        return "KEEP"


#: Pass as ``update(..., description=KEEP)`` (the default) to leave the description unchanged;
#: ``None`` clears it.
KEEP = Keep()

#: What ``update`` accepts as a description: new text, ``None`` to clear, or :data:`KEEP`.
DescriptionArg = Union[str, None, Keep]

CHANGE_NOTIFICATION = "apiKeys.didChange"


def initialize_params(client_name: str) -> Dict[str, Any]:
    """``initialize`` params: our pid lets the server exit if we die without closing it."""
    return {"processId": os.getpid(), "clientInfo": {"name": client_name, "version": __version__}}


def list_params(refresh: bool, max_age: Optional[float]) -> Dict[str, Any]:
    """``apiKeys.list`` params."""
    params: Dict[str, Any] = {}
    if refresh:
        params["refresh"] = True
    if max_age is not None:
        params["maxAge"] = max_age
    return params


#: What ``generate(..., secret_file=)`` accepts: a path as text or an :class:`os.PathLike`.
SecretFileArg = Union[str, "os.PathLike[str]", None]


def generate_params(name: str, description: Optional[str], secret_file: SecretFileArg = None) -> Dict[str, Any]:
    """``apiKeys.generate`` params; a ``None`` description or secret file is simply left out.

    ``secret_file`` is sent as text (``os.fspath``); a bytes path is refused here, since the
    protocol carries only strings.
    """
    params: Dict[str, Any] = {"name": name}
    if description is not None:
        params["description"] = description
    if secret_file is not None:
        path = os.fspath(secret_file)
        if not isinstance(path, str):
            raise TypeError(f"secret_file must be a str or os.PathLike[str], not {type(path).__name__}")
        params["secretFile"] = path
    return params


def update_params(key_id: int, name: str, description: DescriptionArg) -> Dict[str, Any]:
    """``apiKeys.update`` params: KEEP omits description (unchanged), None sends null (cleared)."""
    params: Dict[str, Any] = {"id": key_id, "name": name}
    if not isinstance(description, Keep):
        params["description"] = description
    return params


def parse_watch(result: Any) -> float:
    """``apiKeys.watch`` result: the interval now in force."""
    interval = result.get("interval") if isinstance(result, dict) else None
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise ProtocolError(f"apiKeys.watch result should be {{interval: number}} but is {result!r}")
    return float(interval)


def check_ping(result: Any) -> None:
    """``$/ping`` answers ``{}``."""
    if not isinstance(result, dict):
        raise ProtocolError(f"$/ping result should be an object but is {result!r}")


def parse_initialize(result: Any) -> Dict[str, Any]:
    """``initialize`` result: ``serverInfo`` and ``capabilities``."""
    if not isinstance(result, dict):
        raise ProtocolError(f"initialize result should be an object but is {result!r}")
    return result


def parse_update(result: Any) -> ApiKey:
    """``apiKeys.update`` result: the key as it is now."""
    if not isinstance(result, dict):
        raise ProtocolError(f"apiKeys.update result should be an object but is {result!r}")
    return ApiKey.from_json(result.get("key"), "result.key")


class Call(Generic[T]):
    """One typed call: what to send and how to read the answer. Both clients perform it the same way."""

    __slots__ = ("method", "params", "parse")

    def __init__(self, method: str, params: Any, parse: Callable[[Any], T]) -> None:
        self.method = method
        self.params = params
        self.parse = parse

    def __repr__(self) -> str:
        return f"Call({self.method!r}, {self.params!r})"


def initialize(client_name: str) -> Call[Dict[str, Any]]:
    """The handshake both clients open with."""
    return Call("initialize", initialize_params(client_name), parse_initialize)


def list_keys(refresh: bool, max_age: Optional[float]) -> Call[KeyList]:
    """``apiKeys.list``."""
    return Call("apiKeys.list", list_params(refresh, max_age), KeyList.from_json)


def generate(name: str, description: Optional[str], secret_file: SecretFileArg = None) -> Call[GeneratedKey]:
    """``apiKeys.generate``."""
    return Call("apiKeys.generate", generate_params(name, description, secret_file), GeneratedKey.from_json)


def update(key_id: int, name: str, description: DescriptionArg) -> Call[ApiKey]:
    """``apiKeys.update``."""
    return Call("apiKeys.update", update_params(key_id, name, description), parse_update)


def delete(key_id: int) -> Call[Deleted]:
    """``apiKeys.delete``."""
    return Call("apiKeys.delete", {"id": key_id}, Deleted.from_json)


def watch(interval: float) -> Call[float]:
    """``apiKeys.watch``."""
    return Call("apiKeys.watch", {"interval": interval}, parse_watch)


def ping() -> Call[None]:
    """``$/ping``."""
    return Call("$/ping", None, check_ping)
