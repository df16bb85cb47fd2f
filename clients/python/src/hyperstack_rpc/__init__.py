"""Python client for hyperstack-rpc, the JSON-RPC server for Hyperstack API keys.

    from hyperstack_rpc import Client

    with Client(sandbox=True) as client:
        created = client.generate("ci-runner")
        print(created.secret)           # shown once, never in repr()
        for key in client.list().keys:
            print(key.id, key.name, key.masked_key)

:class:`AsyncClient` offers the same methods as coroutines.
"""

from ._version import __version__
from .async_client import AsyncChangeStream, AsyncClient
from .calls import KEEP, DescriptionArg, Keep, SecretFileArg
from .client import ChangeStream, Client
from .errors import (
    BadUpstreamResponse,
    ClientClosed,
    Conflict,
    Forbidden,
    HyperstackError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    NotFound,
    OutcomeUnknown,
    ParseError,
    ProtocolError,
    RateLimited,
    RequestCancelled,
    ServerBusy,
    RpcError,
    SecretNotWritten,
    ServerDied,
    Timeout,
    Unauthorized,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
    error_class_for,
)
from .launch import BINARY_ENV, resolve_binary
from .models import ApiKey, Deleted, GeneratedKey, KeyChange, KeyList

__all__ = [
    "__version__",
    "Client",
    "AsyncClient",
    "ChangeStream",
    "AsyncChangeStream",
    "ApiKey",
    "GeneratedKey",
    "KeyList",
    "Deleted",
    "KeyChange",
    "KEEP",
    "Keep",
    "DescriptionArg",
    "SecretFileArg",
    "BINARY_ENV",
    "resolve_binary",
    "HyperstackError",
    "RpcError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "InternalError",
    "RequestCancelled",
    "ServerBusy",
    "UpstreamRejected",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "RateLimited",
    "UpstreamError",
    "BadUpstreamResponse",
    "UpstreamUnavailable",
    "OutcomeUnknown",
    "SecretNotWritten",
    "Timeout",
    "ServerDied",
    "ProtocolError",
    "ClientClosed",
    "error_class_for",
]
