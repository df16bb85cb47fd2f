"""Typed views of the values the server sends, and their strict parsers.

Parsing is strict on purpose: a field of the wrong type means the server broke
the wire contract, and a :class:`~hyperstack_rpc.errors.ProtocolError` naming
the field is far easier to act on than a ``KeyError`` three calls later.
"""

from __future__ import annotations

import functools

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

from .errors import ProtocolError

__all__ = ["ApiKey", "GeneratedKey", "KeyList", "Deleted", "KeyChange", "parse_timestamp"]


@dataclass(frozen=True)
class ApiKey:
    """One Hyperstack API key as listed: never the secret, only its masked form."""

    id: int
    name: str
    description: Optional[str]
    #: When the key was created (timezone-aware, UTC), if upstream said.
    created_at: Optional[datetime]
    #: The key with all but its last characters hidden, e.g. ``********-...-be9a``.
    masked_key: Optional[str]

    @classmethod
    def from_json(cls, value: Any, where: str = "key") -> "ApiKey":
        """Parse a protocol ``ApiKey`` object."""
        fast = _well_formed_key(value)
        if fast is not None:
            return fast
        obj = _object(value, where)
        key_id = _int(obj, "id", where)
        name = _str(obj, "name", where)
        description = _optional_str(obj, "description", where)
        created = _optional_str(obj, "createdAt", where)
        return cls(
            id=key_id,
            name=name,
            description=description,
            created_at=None if created is None else parse_timestamp(created, f"{where}.createdAt"),
            masked_key=_optional_str(obj, "maskedKey", where),
        )


@dataclass(frozen=True)
class GeneratedKey:
    """A freshly generated key. ``secret`` is shown here once and nowhere else, so it is kept out of ``repr``.

    With ``generate(..., secret_file=...)`` the server wrote the secret to a new file of mode 0600
    instead: then ``secret`` is ``None`` and ``secret_file`` is that file's absolute path (the
    secret never crossed the pipe). Otherwise ``secret_file`` is ``None``.
    """

    key: ApiKey
    secret: Optional[str] = field(repr=False)
    #: The store revision this generation produced (matches its didChange).
    revision: int
    #: The absolute path of the file holding the secret, when one was asked for.
    secret_file: Optional[str] = None

    @classmethod
    def from_json(cls, value: Any) -> "GeneratedKey":
        """Parse an ``apiKeys.generate`` result (with the secret, or with ``secretFile`` and no secret)."""
        obj = _object(value, "result")
        key_obj = _object(obj.get("key"), "result.key")
        secret_file: Optional[str] = None
        secret: Optional[str] = None
        if "secretFile" in obj:
            secret_file = obj["secretFile"]
            if not isinstance(secret_file, str) or not secret_file:
                raise ProtocolError(f"result.secretFile should be a non-empty string but is {secret_file!r}")
            if "secret" in key_obj:  # (never quoted: it would be the secret)
                raise ProtocolError("apiKeys.generate result has both secretFile and result.key.secret")
        else:
            secret = _str(key_obj, "secret", "result.key")
        return cls(
            key=ApiKey.from_json(key_obj, "result.key"),
            secret=secret,
            revision=_int(obj, "revision", "result"),
            secret_file=secret_file,
        )


@dataclass(frozen=True)
class KeyList:
    """The result of ``apiKeys.list``."""

    keys: Tuple[ApiKey, ...]
    revision: int
    #: When this list was loaded from upstream (timezone-aware, UTC).
    fetched_at: datetime
    #: True if served from the server's cache rather than fetched for this call.
    from_cache: bool

    @classmethod
    def from_json(cls, value: Any) -> "KeyList":
        """Parse an ``apiKeys.list`` result."""
        obj = _object(value, "result")
        keys = _array(obj, "keys", "result")
        return cls(
            keys=_parse_keys(keys, "result.keys"),
            revision=_int(obj, "revision", "result"),
            fetched_at=parse_timestamp(_str(obj, "fetchedAt", "result"), "result.fetchedAt"),
            from_cache=_bool(obj, "fromCache", "result"),
        )


@dataclass(frozen=True)
class Deleted:
    """The result of ``apiKeys.delete``."""

    id: int
    revision: int

    @classmethod
    def from_json(cls, value: Any) -> "Deleted":
        """Parse an ``apiKeys.delete`` result."""
        obj = _object(value, "result")
        return cls(id=_int(obj, "id", "result"), revision=_int(obj, "revision", "result"))


@dataclass(frozen=True)
class KeyChange:
    """An ``apiKeys.didChange`` notification: how the key set moved to ``revision``.

    ``cause`` is ``"generate"``, ``"update"``, ``"delete"`` or ``"refresh"``
    (a reload that found the upstream set had changed, e.g. a key made elsewhere).
    """

    revision: int
    cause: str
    added: Tuple[ApiKey, ...]
    updated: Tuple[ApiKey, ...]
    removed: Tuple[int, ...]

    @classmethod
    def from_json(cls, value: Any) -> "KeyChange":
        """Parse ``apiKeys.didChange`` params."""
        obj = _object(value, "params")
        cause = _str(obj, "cause", "params")
        if cause not in ("generate", "update", "delete", "refresh"):
            raise ProtocolError(f"params.cause of apiKeys.didChange is {cause!r}, not one the protocol defines")
        removed = _array(obj, "removed", "params")
        for i, item in enumerate(removed):
            if not _is_int(item):
                raise ProtocolError(f"params.removed[{i}] of apiKeys.didChange is not an integer: {item!r}")
        return cls(
            revision=_int(obj, "revision", "params"),
            cause=cause,
            added=_parse_keys(_array(obj, "added", "params"), "params.added"),
            updated=_parse_keys(_array(obj, "updated", "params"), "params.updated"),
            removed=tuple(removed),
        )


def _parse_keys(values: List[Any], where: str) -> Tuple[ApiKey, ...]:
    """Parse an array of ``ApiKey`` objects; ``where`` names the array in error messages."""
    keys: List[ApiKey] = []
    for value in values:
        key = _well_formed_key(value)
        if key is None:
            # The slow path names the exact element and field that is wrong.
            key = ApiKey.from_json(value, f"{where}[{len(keys)}]")
        keys.append(key)
    return tuple(keys)


_KEY_FIELDS = frozenset(("id", "name", "description", "createdAt", "maskedKey"))


def _well_formed_key(value: Any) -> Optional[ApiKey]:
    """The fast path of ``ApiKey.from_json``: a key exactly as the server sends it, or None.

    Listing twenty keys is the hot path of every client, so the common, valid shape is
    checked in one go; anything unusual (or wrong) falls back to the field-by-field
    parser, which says precisely what is wrong.
    """
    if type(value) is not dict or not _KEY_FIELDS.issubset(value):
        return None
    key_id = value["id"]
    name = value["name"]
    description = value["description"]
    created = value["createdAt"]
    masked = value["maskedKey"]
    if (
        type(key_id) is not int
        or type(name) is not str
        or (description is not None and type(description) is not str)
        or (masked is not None and type(masked) is not str)
    ):
        return None
    if created is None:
        created_at = None
    elif type(created) is str and len(created) == 20 and created[10] == "T" and created[19] == "Z":
        created_at = _parse_canonical(created)
        if created_at is None:
            return None
    else:
        return None
    # What the generated __init__ of a frozen dataclass does, without its five
    # object.__setattr__ calls (six times faster; equality, hashing and repr are unchanged).
    key = _new_object(ApiKey)
    fields = key.__dict__
    fields["id"] = key_id
    fields["name"] = name
    fields["description"] = description
    fields["created_at"] = created_at
    fields["masked_key"] = masked
    return key


_new_object = object.__new__


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def parse_timestamp(text: str, where: str = "timestamp") -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime.

    The server's own form (``2026-05-06T15:18:42Z``) takes a fast, cached path, since
    the same few timestamps come back in every listing; anything else is parsed by hand
    because ``datetime.fromisoformat`` rejects ``Z`` before Python 3.11.
    """
    if len(text) == 20 and text[10] == "T" and text[19] == "Z":
        fast = _parse_canonical(text)
        if fast is not None:
            return fast
    match = _RFC3339.match(text)
    if match is None:
        raise ProtocolError(f"{where} is not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    microsecond = int((fraction + "000000")[:6]) if fraction else 0
    try:
        stamp = datetime(year, month, day, hour, minute, min(second, 59), microsecond, tzinfo=timezone.utc)
    except ValueError as exc:
        raise ProtocolError(f"{where} is not a valid date and time: {text!r} ({exc})") from None
    if match.group(9) is not None:
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        stamp -= offset if match.group(9) == "+" else -offset
    return stamp


@functools.lru_cache(maxsize=4096)
def _parse_canonical(text: str) -> Optional[datetime]:
    """``YYYY-MM-DDTHH:MM:SSZ``, or None to fall back to the full parser."""
    try:
        return datetime.fromisoformat(text[:19] + "+00:00")
    except ValueError:
        return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(value: Any, where: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"{where} should be an object but is {value!r}")
    return value


def _missing(obj: Dict[str, Any], name: str, where: str, kind: str) -> ProtocolError:
    if name not in obj:
        return ProtocolError(f"{where}.{name} is missing (expected {kind}) in {obj!r}")
    return ProtocolError(f"{where}.{name} should be {kind} but is {obj[name]!r}")


def _int(obj: Dict[str, Any], name: str, where: str) -> int:
    value = obj.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _missing(obj, name, where, "an integer")
    return value


def _str(obj: Dict[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise _missing(obj, name, where, "a string")
    return value


def _optional_str(obj: Dict[str, Any], name: str, where: str) -> Optional[str]:
    if name not in obj:
        raise _missing(obj, name, where, "a string or null")
    value = obj[name]
    if value is not None and not isinstance(value, str):
        raise _missing(obj, name, where, "a string or null")
    return value


def _bool(obj: Dict[str, Any], name: str, where: str) -> bool:
    value = obj.get(name)
    if not isinstance(value, bool):
        raise _missing(obj, name, where, "a boolean")
    return value


def _array(obj: Dict[str, Any], name: str, where: str) -> List[Any]:
    value = obj.get(name)
    if not isinstance(value, list):
        raise _missing(obj, name, where, "an array")
    return value
