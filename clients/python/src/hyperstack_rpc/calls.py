"""The typed methods' params and results, shared by both clients.

Keeping the wire shapes here means the synchronous and asyncio clients cannot
drift apart: each of their typed methods is one ``request`` plus one parser.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Union

from ._version import __version__
from .errors import ProtocolError

__all__ = ["KEEP", "Keep", "DescriptionArg"]


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


def generate_params(name: str, description: Optional[str]) -> Dict[str, Any]:
    """``apiKeys.generate`` params; a ``None`` description is simply left out."""
    params: Dict[str, Any] = {"name": name}
    if description is not None:
        params["description"] = description
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
