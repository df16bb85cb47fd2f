"""Callback registries and incoming-message routing shared by both clients."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from .calls import CHANGE_NOTIFICATION
from .errors import ProtocolError
from .models import KeyChange

__all__ = ["Listeners", "Tracer", "classify"]

log = logging.getLogger("hyperstack_rpc")

#: ``trace(direction, message)`` sees every message: direction is ``"send"`` or ``"recv"``.
Tracer = Callable[[str, Dict[str, Any]], None]


class Listeners:
    """Who wants to hear about notifications. Thread-safe; callbacks run on the client's reader."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._change: List[Callable[[KeyChange], Any]] = []
        self._by_method: Dict[str, List[Callable[[Any], Any]]] = {}

    def add_change(self, callback: Callable[[KeyChange], Any]) -> Callable[[], None]:
        """Register for parsed ``apiKeys.didChange``; returns a function that unregisters."""
        with self._lock:
            self._change.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._change:
                    self._change.remove(callback)

        return remove

    def add_notification(self, method: str, callback: Callable[[Any], Any]) -> Callable[[], None]:
        """Register for raw params of any notification ``method``; returns a function that unregisters."""
        with self._lock:
            self._by_method.setdefault(method, []).append(callback)

        def remove() -> None:
            with self._lock:
                callbacks = self._by_method.get(method, [])
                if callback in callbacks:
                    callbacks.remove(callback)

        return remove

    def deliver(self, method: str, params: Any) -> Tuple[Optional[KeyChange], List[Any]]:
        """Run the callbacks for one notification.

        Returns the parsed change (for the clients' iterators) and whatever the
        callbacks returned (the asyncio client schedules awaitables among them).
        A callback that raises is logged, never allowed to stop the reader.
        """
        with self._lock:
            raw_callbacks = list(self._by_method.get(method, ()))
            change_callbacks = list(self._change) if method == CHANGE_NOTIFICATION else []
        results: List[Any] = []
        for raw_callback in raw_callbacks:
            results.append(_call_safely(raw_callback, params, method))
        change: Optional[KeyChange] = None
        if method == CHANGE_NOTIFICATION:
            try:
                change = KeyChange.from_json(params)
            except ProtocolError as exc:
                log.error("ignoring a malformed apiKeys.didChange from the server: %s", exc)
                return None, results
            for change_callback in change_callbacks:
                results.append(_call_safely(change_callback, change, method))
        return change, results


def _call_safely(callback: Callable[[Any], Any], argument: Any, method: str) -> Any:
    try:
        return callback(argument)
    except Exception:
        log.exception("a %s callback raised; the client carries on", method)
        return None


def classify(message: Dict[str, Any]) -> str:
    """``"response"``, ``"notification"``, ``"request"`` (server to client) or ``"invalid"``."""
    if "method" in message:
        return "request" if "id" in message else "notification"
    if "id" in message and (("result" in message) != ("error" in message)):
        return "response"
    return "invalid"
