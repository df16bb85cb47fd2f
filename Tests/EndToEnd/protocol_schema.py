"""Check hyperstack-rpc wire messages against protocol/openrpc.json.

The end-to-end suites and the client tests use this so that every message the
server sends is held to the published contract, not to whatever the code
happens to do today. Failures raise AssertionError with a message that names
the method, the JSON path and what was expected, so a pytest report reads
like a diff against the contract.

    validator = ProtocolValidator.load()
    validator.check_response("apiKeys.list", response)
    validator.check_notification(notification)

Needs jsonschema >= 4.18 (it brings `referencing`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["ProtocolValidator", "DOCUMENT_URI", "find_openrpc_document"]

#: The URI the document is registered under, so "#/components/..." refs resolve.
DOCUMENT_URI = "urn:hyperstack-rpc:openrpc"

_RELATIVE_PATH = Path("protocol") / "openrpc.json"
_RESPONSE_MEMBERS = {"jsonrpc", "id", "result", "error"}
_NOTIFICATION_MEMBERS = {"jsonrpc", "method", "params"}
_ERROR_MEMBERS = {"code", "message", "data"}
# Answers to a request whose id could not be read (id null); `"id": null` is
# itself a valid request id, so other codes and results may carry id null too.
_NULL_ID_CODES = {-32700, -32600}
_METHOD_NOT_FOUND = -32601


def find_openrpc_document(start: Path | None = None) -> Path:
    """Walk up from `start` (default: this file) to the repo root holding protocol/openrpc.json."""
    here = (start or Path(__file__)).resolve()
    for directory in [here, *here.parents]:
        candidate = directory / _RELATIVE_PATH
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"Could not find {_RELATIVE_PATH} in {here} or any parent directory; "
        "pass the path to ProtocolValidator.load(path=...)."
    )


_SECRET_KEYS = {"secret", "apiKey"}


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<redacted>" if k in _SECRET_KEYS else _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _describe(value: Any, limit: int = 300) -> str:
    """Render a value for an assertion message, without secrets: test output ends up in CI logs."""
    text = json.dumps(_redacted(value), sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ProtocolValidator:
    """The OpenRPC document, loaded once, with helpers that assert messages conform to it."""

    def __init__(self, document: Mapping[str, Any], source: Path | None = None) -> None:
        self.document: dict[str, Any] = copy.deepcopy(dict(document))
        self.source = source
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource(DOCUMENT_URI, resource)
        self._methods: dict[str, tuple[str, dict[str, Any]]] = {}
        for key in ("methods", "x-testMethods"):
            for index, method in enumerate(self.document.get(key, [])):
                self._methods[method["name"]] = (f"/{key}/{index}", method)
        self._notifications: dict[str, tuple[str, dict[str, Any]]] = {
            note["name"]: (f"/x-notifications/{index}", note)
            for index, note in enumerate(self.document.get("x-notifications", []))
        }
        self._error_data: dict[int, str] = {
            int(code): f"/x-errorData/{code}" for code in self.document.get("x-errorData", {})
        }
        self._all_codes = {e["code"] for e in self.document["components"]["errors"].values()}

    @classmethod
    def load(cls, path: str | Path | None = None) -> ProtocolValidator:
        """Read protocol/openrpc.json (found from the repo root unless `path` is given)."""
        source = Path(path) if path is not None else find_openrpc_document()
        with source.open("rb") as handle:
            return cls(json.load(handle), source=source)

    # ----- lookups -------------------------------------------------------------

    @property
    def method_names(self) -> list[str]:
        """Every request method the document describes, test-only ones included."""
        return list(self._methods)

    def method(self, name: str) -> dict[str, Any]:
        """The method object for `name`, with its error $refs left as they are."""
        if name not in self._methods:
            raise AssertionError(f"{name!r} is not a method in {_RELATIVE_PATH}; known: {self.method_names}")
        return self._methods[name][1]

    def allowed_error_codes(self, name: str) -> frozenset[int]:
        """The error codes `name` may answer with, per its `errors` list."""
        return frozenset(self.resolve(e)["code"] for e in self.method(name).get("errors", []))

    def resolve(self, node: Any) -> Any:
        """A deep copy of `node` with every document-local $ref inlined (the document has no cycles)."""
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = self._pointer(node["$ref"])
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            resolved = self.resolve(target)
            if siblings:
                return {"allOf": [resolved], **self.resolve(siblings)}
            return resolved
        return {key: self.resolve(value) for key, value in node.items()}

    def iter_schemas(self) -> Iterator[tuple[str, Any]]:
        """(location, schema) for every JSON Schema in the document, so tests can check_schema them all."""
        for name, schema in self.document["components"]["schemas"].items():
            yield f"components.schemas.{name}", schema
        for name, (_, method) in self._methods.items():
            for param in method["params"]:
                yield f"{name} param {param['name']}", param["schema"]
            yield f"{name} result", method["result"]["schema"]
        for name, (_, note) in self._notifications.items():
            yield f"notification {name} params", note["params"]
        for code, schema in self.document.get("x-errorData", {}).items():
            yield f"x-errorData {code}", schema

    # ----- checks --------------------------------------------------------------

    def check_request(self, method: str, params: Any = None, *, allow_unknown: bool | None = None) -> None:
        """Assert a client would send valid by-name params for `method` (None means params omitted)."""
        pointer, spec = self._methods.get(method, (None, None))
        if spec is None:
            raise AssertionError(f"{method!r} is not a method in {_RELATIVE_PATH}")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise AssertionError(f"{method} takes params by name (an object), got {_describe(params)}")
        if allow_unknown is None:
            allow_unknown = method == "initialize"  # LSP clients send many members we ignore
        known = set()
        for index, param in enumerate(spec["params"]):
            known.add(param["name"])
            if param["name"] not in params:
                if param.get("required"):
                    raise AssertionError(f"{method} request is missing required param {param['name']!r}")
                continue
            self._validate(params[param["name"]], f"{pointer}/params/{index}/schema",
                           f"{method} param {param['name']!r}")
        unknown = set(params) - known
        if unknown and not allow_unknown:
            raise AssertionError(f"{method} request has params the contract does not define: {sorted(unknown)}")

    def check_response(self, method: str | None, message: Any, *, secrets: Iterable[str] = ()) -> Any:
        """Assert `message` is a valid response to a `method` request; returns its result or error object.

        method None means the request could not be attributed to a method (e.g. a -32700 reply).
        secrets: strings (the API key, earlier generated secrets) that must appear nowhere in the
        message. The one exception is result.key.secret of apiKeys.generate, the secret's one home.
        """
        label = f"response to {method}" if method else "response"
        if not isinstance(message, dict):
            raise AssertionError(f"{label} must be a JSON object, got {_describe(message)}")
        extra = set(message) - _RESPONSE_MEMBERS
        if extra:
            raise AssertionError(f"{label} has members JSON-RPC does not allow: {sorted(extra)}")
        if message.get("jsonrpc") != "2.0":
            raise AssertionError(f"{label} must have \"jsonrpc\": \"2.0\", got {_describe(message.get('jsonrpc'))}")
        if "id" not in message:
            raise AssertionError(f"{label} has no id: {_describe(message)}")
        message_id = message["id"]
        if not (message_id is None or _is_int(message_id) or isinstance(message_id, str)):
            raise AssertionError(f"{label} id must be an integer, a string or null, got {_describe(message_id)}")
        if ("result" in message) == ("error" in message):
            raise AssertionError(f"{label} must have exactly one of result and error: {_describe(message)}")

        if "result" in message:
            outcome = self._check_result(method, message, label)
        else:
            outcome = self._check_error(method, message, label)
        self._check_no_secrets(method, message, label, secrets)
        return outcome

    def check_notification(self, message: Any, *, direction: str | None = "serverToClient",
                           secrets: Iterable[str] = ()) -> Any:
        """Assert `message` is a valid notification (by default, one the server may send); returns its params."""
        if not isinstance(message, dict):
            raise AssertionError(f"notification must be a JSON object, got {_describe(message)}")
        if "id" in message:
            raise AssertionError(f"a notification has no id, but this message has one: {_describe(message)}")
        extra = set(message) - _NOTIFICATION_MEMBERS
        if extra:
            raise AssertionError(f"notification has members JSON-RPC does not allow: {sorted(extra)}")
        if message.get("jsonrpc") != "2.0":
            raise AssertionError(f"notification must have \"jsonrpc\": \"2.0\", got {_describe(message.get('jsonrpc'))}")
        name = message.get("method")
        if name not in self._notifications:
            raise AssertionError(
                f"{_describe(name)} is not a notification in {_RELATIVE_PATH}; known: {sorted(self._notifications)}")
        pointer, spec = self._notifications[name]
        if direction is not None and spec["direction"] != direction:
            raise AssertionError(f"{name} is a {spec['direction']} notification, not {direction}")
        if "params" not in message:
            if spec.get("paramsRequired"):
                raise AssertionError(f"{name} notification must carry params")
        else:
            self._validate(message["params"], f"{pointer}/params", f"{name} params")
        self._check_no_secrets(None, message, f"{name} notification", secrets)
        return message.get("params")

    # ----- internals -----------------------------------------------------------

    def _check_result(self, method: str | None, message: dict[str, Any], label: str) -> Any:
        if method is None:
            raise AssertionError("a successful response must be checked against the method that was called")
        if method not in self._methods:
            raise AssertionError(f"{label}: {method!r} is not in {_RELATIVE_PATH}, so it should have failed with -32601")
        pointer, _ = self._methods[method]
        result = message["result"]
        self._validate(result, f"{pointer}/result/schema", f"{method} result")
        if method == "apiKeys.list":
            ids = [key["id"] for key in result["keys"]]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise AssertionError(f"apiKeys.list result lists these ids more than once: {duplicates}")
        if method == "rpc.discover" and result != self.document:
            where = self.source or _RELATIVE_PATH
            raise AssertionError(f"rpc.discover returned a document that differs from {where}; "
                                 "the server must embed it byte-for-byte")
        return result

    def _check_error(self, method: str | None, message: dict[str, Any], label: str) -> dict[str, Any]:
        error = message["error"]
        if not isinstance(error, dict):
            raise AssertionError(f"{label} error must be an object, got {_describe(error)}")
        extra = set(error) - _ERROR_MEMBERS
        if extra:
            raise AssertionError(f"{label} error has members JSON-RPC does not allow: {sorted(extra)}")
        code = error.get("code")
        if not _is_int(code):
            raise AssertionError(f"{label} error.code must be an integer, got {_describe(code)}")
        text = error.get("message")
        if not isinstance(text, str) or not text.strip():
            raise AssertionError(f"{label} error.message must be a non-empty string, got {_describe(text)}")

        if method is None:
            allowed = self._all_codes
        elif method in self._methods:
            allowed = self.allowed_error_codes(method)
        else:
            allowed = frozenset({_METHOD_NOT_FOUND, *_NULL_ID_CODES})
        if code not in allowed:
            raise AssertionError(f"{label} failed with code {code} ({text!r}), which the contract does not "
                                 f"list for it; allowed: {sorted(allowed)}")

        if code in self._error_data:
            if "data" not in error:
                raise AssertionError(f"{label} error {code} must carry error.data: {_describe(error)}")
            self._validate(error["data"], self._error_data[code], f"{label} error {code} data")
        return error

    def _check_no_secrets(self, method: str | None, message: dict[str, Any], label: str,
                          secrets: Iterable[str]) -> None:
        secrets = [s for s in secrets if s]
        if not secrets:
            return
        scanned = message
        if method == "apiKeys.generate" and isinstance(message.get("result"), dict):
            scanned = copy.deepcopy(message)
            key = scanned["result"].get("key")
            if isinstance(key, dict):
                key.pop("secret", None)
        for form in (json.dumps(scanned, ensure_ascii=False), json.dumps(scanned, ensure_ascii=True)):
            for index, secret in enumerate(secrets):
                if secret in form:
                    raise AssertionError(f"{label} leaks secret #{index} (value withheld) outside its one allowed place")

    def _pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise AssertionError(f"only document-local $refs are supported, got {ref!r}")
        node: Any = self.document
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def _validate(self, instance: Any, pointer: str, what: str) -> None:
        escaped = "/".join(p.replace("~", "~0").replace("/", "~1") for p in pointer.split("/"))
        validator = Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{escaped}"}, registry=self._registry)
        errors = list(validator.iter_errors(instance))
        if not errors:
            return
        worst = best_match(errors)
        path = worst.json_path
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise AssertionError(f"{what} does not match {_RELATIVE_PATH}: at {path}: {worst.message}{more}\n"
                             f"value: {_describe(instance)}")
