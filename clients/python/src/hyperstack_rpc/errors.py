"""Exceptions raised by the hyperstack-rpc client.

Every failure the server reports arrives as an :class:`RpcError` subclass chosen
by its JSON-RPC error code, so callers can ``except NotFound`` instead of
comparing numbers. Failures of the connection itself (the server died, the
client was closed, the server broke the protocol) have their own classes under
:class:`HyperstackError`, because they carry no code.
"""

from __future__ import annotations

import signal
from typing import Any, Dict, Optional, Sequence, Tuple, Type


class HyperstackError(Exception):
    """Base of every exception this package raises on purpose."""


class RpcError(HyperstackError):
    """An error response from the server (or, for :class:`Timeout`, on its behalf).

    ``data`` is the JSON-RPC ``error.data`` member as parsed JSON (``None`` when
    absent): ``{field, reason}`` for -32602, ``{httpStatus?, reason?,
    upstreamMessage?, retryable}`` for the 14xx/15xx upstream codes, ``{method}`` for 1504.
    """

    #: The code this class stands for; ``None`` on the base class.
    CODE: Optional[int] = None

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self) -> str:
        text = f"{self.message} (JSON-RPC error {self.code})"
        if isinstance(self.data, dict):
            field = self.data.get("field")
            reason = self.data.get("reason")
            if isinstance(field, str) and isinstance(reason, str):
                text += f"; field {field!r}: {reason}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, data={self.data!r})"

    def __reduce__(self) -> Tuple[Any, ...]:
        # OSError (a base of Timeout) rewrites ``args``; rebuild from our own fields.
        return (type(self), (self.code, self.message, self.data))

    @property
    def retryable(self) -> bool:
        """Whether the server said trying again later may succeed (upstream errors only)."""
        return isinstance(self.data, dict) and self.data.get("retryable") is True


class ParseError(RpcError):
    """-32700: the server could not parse what the client sent."""

    CODE = -32700


class InvalidRequest(RpcError):
    """-32600: not a valid request, or a request after ``shutdown``."""

    CODE = -32600


class MethodNotFound(RpcError):
    """-32601: the server does not offer this method."""

    CODE = -32601


class InvalidParams(RpcError):
    """-32602: the params failed local validation; ``data`` is ``{field, reason}``."""

    CODE = -32602


class InternalError(RpcError):
    """-32603: the server failed in a way it did not expect."""

    CODE = -32603


class RequestCancelled(RpcError):
    """-32800: the request was cancelled with ``$/cancelRequest``."""

    CODE = -32800


class ServerBusy(RpcError):
    """-32802: the server is at its ``--max-in-flight`` limit and did not start the request.

    Nothing was done; send the request again once some answers have arrived.
    """

    CODE = -32802


class UpstreamRejected(RpcError):
    """1400: the Hyperstack API rejected the request as malformed."""

    CODE = 1400


class Unauthorized(RpcError):
    """1401: no API key is configured, or the Hyperstack API refused it."""

    CODE = 1401


class Forbidden(RpcError):
    """1403: the Hyperstack API forbids this (for example the key limit is reached)."""

    CODE = 1403


class NotFound(RpcError):
    """1404: no API key with that id exists upstream."""

    CODE = 1404


class Conflict(RpcError):
    """1409: the change conflicts with existing state (for example a duplicate name)."""

    CODE = 1409


class RateLimited(RpcError):
    """1429: the Hyperstack API is rate limiting this client; back off and retry."""

    CODE = 1429


class UpstreamError(RpcError):
    """1500: the Hyperstack API failed with a 5xx status."""

    CODE = 1500


class BadUpstreamResponse(RpcError):
    """1502: the Hyperstack API answered with something the server could not understand."""

    CODE = 1502


class UpstreamUnavailable(RpcError):
    """1503: the Hyperstack API could not be reached or did not answer in time."""

    CODE = 1503


class OutcomeUnknown(RpcError):
    """1504: a mutation was in flight when the connection to the shared daemon broke (``remote=``).

    It may or may not have happened upstream, and it was not sent again: call ``list()`` to see
    (for a ``generate``, whether the key exists; its secret, if so, is lost: delete the key and
    generate another). ``data`` is ``{"method": ...}``, the method of the call.
    """

    CODE = 1504


class SecretNotWritten(RpcError):
    """1505: ``generate(..., secret_file=...)`` created the key, but its secret could not be written to the file.

    Nobody has the secret: delete the key (:attr:`key_id`) and generate another. ``data`` is
    ``{"key": ApiKey, "revision": ..., "secretFile": path, "reason": ...}``; the partial file was removed.
    """

    CODE = 1505

    @property
    def key_id(self) -> Optional[int]:
        """The id of the key that was created, from ``data.key.id``."""
        key = self.data.get("key") if isinstance(self.data, dict) else None
        key_id = key.get("id") if isinstance(key, dict) else None
        return key_id if isinstance(key_id, int) and not isinstance(key_id, bool) else None

    @property
    def secret_file(self) -> Optional[str]:
        """The path the secret could not be written to, from ``data.secretFile``."""
        path = self.data.get("secretFile") if isinstance(self.data, dict) else None
        return path if isinstance(path, str) else None


class Timeout(RpcError, TimeoutError):
    """The call did not complete within its timeout.

    Raised by the client itself, not received from the server. It is both an
    :class:`RpcError` (code -32800, like the cancellation it triggers) and the
    builtin :class:`TimeoutError`, so either ``except`` clause catches it. Before
    raising, the client sends ``$/cancelRequest`` for the call and will ignore
    the server's late answer; the client remains usable.
    """

    CODE = -32800

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)

    @classmethod
    def after(cls, method: str, seconds: float) -> "Timeout":
        """Build the error for ``method`` having waited ``seconds``."""
        return cls(
            cls.CODE,
            f"{method} did not answer within {seconds:g} s; the client sent $/cancelRequest and moved on",
            {"method": method, "timeout": seconds},
        )


class ServerDied(HyperstackError):
    """The server process exited (or closed its output) while calls were pending or being made.

    ``exit_status`` follows :attr:`subprocess.Popen.returncode`: the exit code,
    or minus the signal number if a signal killed it (``None`` if unknown).
    ``stderr_tail`` holds the last lines the server wrote to stderr, which
    usually say why it stopped.
    """

    def __init__(self, exit_status: Optional[int], stderr_tail: Sequence[str] = ()) -> None:
        self.exit_status = exit_status
        self.stderr_tail: Tuple[str, ...] = tuple(stderr_tail)
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"hyperstack-rpc server {describe_exit_status(self.exit_status)}"
        if self.stderr_tail:
            text += "; last lines of its stderr:\n" + "\n".join("    " + line for line in self.stderr_tail)
        else:
            text += " without writing anything to stderr"
        return text

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.exit_status, self.stderr_tail))


class ProtocolError(HyperstackError):
    """The server sent something the wire protocol does not allow.

    This points at a server bug (or the wrong program being spawned); the
    message quotes what was received.
    """


class ClientClosed(HyperstackError):
    """The client was closed; start a new one to make more calls."""


def describe_exit_status(status: Optional[int]) -> str:
    """Turn a Popen-style return code into words ("exited with status 1", "was killed by SIGKILL")."""
    if status is None:
        return "stopped with an unknown exit status"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by {name} (exit status {status})"
    return f"exited with status {status}"


_BY_CODE: Dict[int, Type[RpcError]] = {
    cls.CODE: cls
    for cls in (
        ParseError,
        InvalidRequest,
        MethodNotFound,
        InvalidParams,
        InternalError,
        RequestCancelled,
        ServerBusy,
        UpstreamRejected,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        RateLimited,
        UpstreamError,
        BadUpstreamResponse,
        UpstreamUnavailable,
        OutcomeUnknown,
        SecretNotWritten,
    )
    if cls.CODE is not None
}


def error_class_for(code: int) -> Type[RpcError]:
    """The exception class for a JSON-RPC error code; unknown codes map to :class:`RpcError`."""
    return _BY_CODE.get(code, RpcError)


def error_from_response(error: Any) -> RpcError:
    """Build the exception for a response's ``error`` member, checking its shape."""
    if not isinstance(error, dict):
        raise ProtocolError(f"error member of a response is not an object: {error!r}")
    code = error.get("code")
    message = error.get("message")
    if not isinstance(code, int) or isinstance(code, bool):
        raise ProtocolError(f"error.code is not an integer: {error!r}")
    if not isinstance(message, str):
        raise ProtocolError(f"error.message is not a string: {error!r}")
    return error_class_for(code)(code, message, error.get("data"))
