"""Tests for protocol_schema.py and for protocol/openrpc.json itself.

The document is the contract every other suite checks the server against, so
it is tested first: it must be tidy JSON, every schema in it must be a valid
JSON Schema, and the validator must accept messages that keep the contract and
reject ones that break it (a secret where none is allowed above all).
"""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from protocol_schema import ProtocolValidator

API_KEY = {
    "id": 42,
    "name": "ci",
    "description": None,
    "createdAt": "2026-05-06T15:18:42Z",
    "maskedKey": "********-****-****-****-********be9a",
}
SECRET = "0b5b1f4e-6a1c-4c5e-9d3a-7f2e8c1dbe9a"


@pytest.fixture(scope="module")
def validator() -> ProtocolValidator:
    return ProtocolValidator.load()


def response(result=None, error=None, id=1):
    message = {"jsonrpc": "2.0", "id": id}
    if error is not None:
        message["error"] = error
    else:
        message["result"] = result
    return message


def did_change(**params):
    body = {"revision": 4, "cause": "generate", "added": [API_KEY], "updated": [], "removed": []}
    body.update(params)
    return {"jsonrpc": "2.0", "method": "apiKeys.didChange", "params": body}


# ----- the document ------------------------------------------------------------

def test_document_is_tidy_ascii_json_with_two_space_indent(validator):
    text = validator.source.read_text(encoding="utf-8")
    assert text.isascii(), "openrpc.json is embedded in the server and returned as ASCII JSON; keep it ASCII"
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=True) + "\n"


def test_document_identity_and_methods(validator):
    doc = validator.document
    assert doc["openrpc"] == "1.3.2"
    assert doc["info"]["title"] == "hyperstack-rpc"
    assert doc["info"]["version"]  # the version's one source; test_version.py checks the rest
    names = [m["name"] for m in doc["methods"]]
    assert names == ["initialize", "shutdown", "$/ping", "rpc.discover", "apiKeys.list",
                     "apiKeys.generate", "apiKeys.update", "apiKeys.delete", "apiKeys.watch"]
    assert all(m["paramStructure"] == "by-name" for m in doc["methods"])
    notes = {n["name"]: n["direction"] for n in doc["x-notifications"]}
    assert notes == {"initialized": "clientToServer", "exit": "clientToServer",
                     "$/cancelRequest": "clientToServer", "apiKeys.didChange": "serverToClient"}


@pytest.mark.parametrize("draft", [Draft202012Validator, Draft7Validator], ids=["2020-12", "draft-07"])
def test_every_schema_is_valid_json_schema(validator, draft):
    locations = []
    for where, schema in validator.iter_schemas():
        resolved = validator.resolve(schema)
        assert "$ref" not in json.dumps(resolved), f"{where} still has a $ref after resolving"
        draft.check_schema(resolved)
        locations.append(where)
    assert len(locations) > 20


def test_error_codes_per_method(validator):
    standard = {-32600, -32602, -32603, -32800}
    # Every method that starts work may be refused at the --max-in-flight cap; the
    # lifecycle methods and $/ping never start work that counts (issue 10, item 3).
    busy = {-32802}
    # Every upstream-backed method passes on whatever upstream answers, 409 included.
    upstream = {1400, 1401, 1403, 1404, 1409, 1429, 1500, 1502, 1503}
    # Through a shared daemon, a mutation in flight when the connection broke is answered 1504 and
    # never re-sent; a read is re-sent, so apiKeys.list never gets it (issue 12).
    outcome_unknown = {1504}
    # apiKeys.generate with secretFile: the key was created, but its secret file could not be written (issue 13).
    secret_not_written = {1505}
    assert validator.allowed_error_codes("$/ping") == standard
    assert validator.allowed_error_codes("initialize") == standard
    assert validator.allowed_error_codes("shutdown") == standard
    assert validator.allowed_error_codes("apiKeys.watch") == standard | busy
    assert validator.allowed_error_codes("rpc.discover") == standard | busy
    assert validator.allowed_error_codes("apiKeys.list") == standard | busy | upstream
    for method in ("apiKeys.delete", "apiKeys.update"):
        assert validator.allowed_error_codes(method) == standard | busy | upstream | outcome_unknown
    assert validator.allowed_error_codes("apiKeys.generate") == (
        standard | busy | upstream | outcome_unknown | secret_not_written)


# ----- responses -----------------------------------------------------------------

def test_valid_results_pass(validator):
    validator.check_response("apiKeys.list", response(
        {"keys": [API_KEY], "revision": 3, "fetchedAt": "2026-05-06T15:20:00.125Z", "fromCache": False}))
    validator.check_response("apiKeys.generate", response(
        {"key": {**API_KEY, "secret": SECRET}, "revision": 4}), secrets=["configured-api-key"])
    validator.check_response("apiKeys.update", response({"key": {**API_KEY, "name": "renamed"}, "revision": 5}))
    validator.check_response("apiKeys.delete", response({"id": 42, "revision": 6}))
    validator.check_response("apiKeys.watch", response({"interval": 0}))
    validator.check_response("$/ping", response({}, id="ping-1"))
    validator.check_response("shutdown", response(None))
    validator.check_response("initialize", response({
        "serverInfo": {"name": "hyperstack-rpc", "version": validator.document["info"]["version"]},
        "capabilities": {"apiKeys": {"list": True, "generate": True, "update": True, "delete": True,
                                     "watch": True, "didChange": True},
                         "framings": ["lsp", "ndjson"]}}))
    validator.check_response("rpc.discover", response(validator.document))


def test_list_result_with_a_secret_fails(validator):
    leaked = {**API_KEY, "secret": SECRET}
    with pytest.raises(AssertionError, match=r"'secret' was unexpected"):
        validator.check_response("apiKeys.list", response(
            {"keys": [leaked], "revision": 3, "fetchedAt": "2026-05-06T15:20:00Z", "fromCache": True}))


def test_update_result_with_a_secret_fails(validator):
    with pytest.raises(AssertionError, match="secret"):
        validator.check_response("apiKeys.update", response({"key": {**API_KEY, "secret": SECRET}, "revision": 5}))


def test_generate_result_without_secret_fails(validator):
    # The one exception, the secretFile param (issue 13), names the file that holds the secret.
    with pytest.raises(AssertionError, match="secret"):
        validator.check_response("apiKeys.generate", response({"key": API_KEY, "revision": 4}))
    validator.check_response("apiKeys.generate", response({"key": API_KEY, "revision": 4, "secretFile": "/s/42"}))
    with pytest.raises(AssertionError):
        validator.check_response("apiKeys.generate", response(
            {"key": {**API_KEY, "secret": SECRET}, "revision": 4, "secretFile": "/s/42"}))


@pytest.mark.parametrize("result, fragment", [
    ({"keys": [], "revision": 1, "fetchedAt": "2026-05-06T15:20:00", "fromCache": True}, "fetchedAt"),
    ({"keys": [], "revision": -1, "fetchedAt": "2026-05-06T15:20:00Z", "fromCache": True}, "revision"),
    ({"keys": [], "revision": 1, "fetchedAt": "2026-05-06T15:20:00Z"}, "'fromCache' is a required property"),
    ({"keys": [{**API_KEY, "id": "42"}], "revision": 1, "fetchedAt": "2026-05-06T15:20:00Z", "fromCache": True},
     "keys"),
    ({"keys": [API_KEY, API_KEY], "revision": 1, "fetchedAt": "2026-05-06T15:20:00Z", "fromCache": True},
     "more than once"),
])
def test_malformed_list_results_fail(validator, result, fragment):
    with pytest.raises(AssertionError, match=fragment):
        validator.check_response("apiKeys.list", response(result))


def test_envelope_rules(validator):
    with pytest.raises(AssertionError, match="exactly one of result and error"):
        validator.check_response("$/ping", {"jsonrpc": "2.0", "id": 1, "result": {},
                                            "error": {"code": -32603, "message": "x"}})
    with pytest.raises(AssertionError, match="jsonrpc"):
        validator.check_response("$/ping", {"jsonrpc": "1.0", "id": 1, "result": {}})
    with pytest.raises(AssertionError, match="no id"):
        validator.check_response("$/ping", {"jsonrpc": "2.0", "result": {}})
    # "id": null is a request like any other, so its result is valid.
    validator.check_response("$/ping", response({}, id=None))


def test_rpc_discover_must_return_this_document(validator):
    stale = json.loads(json.dumps(validator.document))
    stale["methods"] = stale["methods"][:1]
    with pytest.raises(AssertionError, match="byte-for-byte"):
        validator.check_response("rpc.discover", response(stale))


# ----- errors --------------------------------------------------------------------

def test_valid_errors_pass(validator):
    validator.check_response("apiKeys.generate", response(error={
        "code": -32602, "message": "name must be 1 to 200 characters",
        "data": {"field": "name", "reason": "must be 1 to 200 characters"}}))
    validator.check_response("apiKeys.generate", response(error={
        "code": 1409, "message": "A key named 'ci' already exists.",
        "data": {"httpStatus": 409, "reason": "already_exist", "upstreamMessage": "exists", "retryable": False}}))
    validator.check_response("apiKeys.list", response(error={
        "code": 1401, "message": "No API key is configured.", "data": {"retryable": False}}))
    validator.check_response("apiKeys.delete", response(error={
        "code": 1503, "message": "Hyperstack did not answer in time.", "data": {"retryable": True}}))
    validator.check_response("apiKeys.generate", response(error={
        "code": 1504, "message": "outcome unknown: check apiKeys.list", "data": {"method": "apiKeys.generate"}}))
    validator.check_response("test.sleep", response(error={"code": -32800, "message": "Request cancelled"}))
    validator.check_response("no.such.method", response(error={"code": -32601, "message": "Unknown method"}))
    validator.check_response(None, response(error={"code": -32700, "message": "Parse error"}, id=None))


def test_error_code_not_listed_for_method_fails(validator):
    with pytest.raises(AssertionError, match="does not list"):
        validator.check_response("$/ping", response(error={
            "code": 1409, "message": "Conflict", "data": {"retryable": False}}))
    with pytest.raises(AssertionError, match="does not list"):
        validator.check_response("apiKeys.watch", response(error={
            "code": 1401, "message": "Unauthorized", "data": {"retryable": False}}))
    with pytest.raises(AssertionError, match="does not list"):
        validator.check_response("no.such.method", response(error={"code": -32603, "message": "boom"}))
    with pytest.raises(AssertionError, match="does not list"):
        validator.check_response("apiKeys.list", response(error={
            "code": 1504, "message": "outcome unknown: check apiKeys.list", "data": {"method": "apiKeys.list"}}))


@pytest.mark.parametrize("error, fragment", [
    ({"code": 1429, "message": "Rate limited"}, "must carry error.data"),
    ({"code": 1429, "message": "Rate limited", "data": {"httpStatus": 429}}, "'retryable' is a required property"),
    ({"code": 1500, "message": "Upstream failed", "data": {"retryable": True, "apiKey": "k"}}, "unexpected"),
    ({"code": -32602, "message": "Bad params", "data": {"field": "maxAge"}}, "'reason' is a required property"),
    ({"code": -32602, "message": "Bad params"}, "must carry error.data"),
    ({"code": "1401", "message": "Unauthorized", "data": {"retryable": False}}, "must be an integer"),
    ({"code": 1401, "message": "", "data": {"retryable": False}}, "non-empty string"),
    ({"code": 1401, "message": "x", "data": {"retryable": False}, "stack": "..."}, "does not allow"),
])
def test_malformed_errors_fail(validator, error, fragment):
    with pytest.raises(AssertionError, match=fragment):
        validator.check_response("apiKeys.list", response(error=error))


@pytest.mark.parametrize("data, fragment", [
    (None, "must carry error.data"),
    ({}, "'method' is a required property"),
    ({"method": "apiKeys.list"}, "is not one of"),
    ({"method": "apiKeys.delete", "retryable": True}, "unexpected"),
])
def test_malformed_outcome_unknown_fails(validator, data, fragment):
    error = {"code": 1504, "message": "outcome unknown: check apiKeys.list"}
    if data is not None:
        error["data"] = data
    with pytest.raises(AssertionError, match=fragment):
        validator.check_response("apiKeys.delete", response(error=error))


def test_secret_in_error_message_fails_without_echoing_it(validator):
    with pytest.raises(AssertionError, match="leaks secret #0") as failure:
        validator.check_response("apiKeys.list", response(error={
            "code": 1401, "message": f"key {SECRET} was refused", "data": {"retryable": False}}), secrets=[SECRET])
    assert SECRET not in str(failure.value)


def test_generated_secret_is_allowed_only_in_key_secret(validator):
    ok = response({"key": {**API_KEY, "secret": SECRET}, "revision": 4})
    validator.check_response("apiKeys.generate", ok, secrets=[SECRET])
    leaked = response({"key": {**API_KEY, "secret": SECRET, "maskedKey": SECRET}, "revision": 4})
    with pytest.raises(AssertionError, match="leaks secret"):
        validator.check_response("apiKeys.generate", leaked, secrets=[SECRET])


# ----- notifications -------------------------------------------------------------

def test_valid_did_change_passes(validator):
    params = validator.check_notification(did_change(), secrets=[SECRET])
    assert params["revision"] == 4
    validator.check_notification(did_change(cause="delete", added=[], removed=[42]))
    validator.check_notification(did_change(cause="refresh", added=[], updated=[API_KEY]))


def test_did_change_with_a_secret_fails(validator):
    with pytest.raises(AssertionError, match=r"'secret' was unexpected"):
        validator.check_notification(did_change(added=[{**API_KEY, "secret": SECRET}]))
    with pytest.raises(AssertionError, match="leaks secret"):
        validator.check_notification(did_change(added=[{**API_KEY, "description": SECRET}]), secrets=[SECRET])


@pytest.mark.parametrize("message, fragment", [
    (did_change(cause="rename"), "cause"),
    (did_change(removed=["42"]), "removed"),
    (did_change(cause="refresh", added=[]), "apiKeys.didChange params"),
    (did_change(cause="delete", added=[], removed=[]), "removed"),
    ({**did_change(), "id": 7}, "has no id"),
    ({"jsonrpc": "2.0", "method": "apiKeys.didChange"}, "must carry params"),
    ({"jsonrpc": "2.0", "method": "initialized", "params": {}}, "clientToServer"),
    ({"jsonrpc": "2.0", "method": "apiKeys.changed", "params": {}}, "not a notification"),
])
def test_malformed_notifications_fail(validator, message, fragment):
    with pytest.raises(AssertionError, match=fragment):
        validator.check_notification(message)


def test_client_to_server_notifications(validator):
    validator.check_notification({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 3}},
                                 direction="clientToServer")
    validator.check_notification({"jsonrpc": "2.0", "method": "exit"}, direction="clientToServer")
    with pytest.raises(AssertionError, match="'id' is a required property"):
        validator.check_notification({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {}},
                                     direction="clientToServer")


# ----- requests ------------------------------------------------------------------

def test_request_params(validator):
    validator.check_request("apiKeys.generate", {"name": "a" * 200, "description": None})
    validator.check_request("apiKeys.list")
    validator.check_request("initialize", {"processId": None, "capabilities": {}})
    for bad, fragment in [({"name": ""}, "name"), ({"name": "a" * 201}, "name"),
                          ({"description": "x"}, "missing required param 'name'"),
                          ({"name": "x", "colour": "red"}, "does not define")]:
        with pytest.raises(AssertionError, match=fragment):
            validator.check_request("apiKeys.generate", bad)
    with pytest.raises(AssertionError, match="minimum"):
        validator.check_request("apiKeys.watch", {"interval": -1})
    with pytest.raises(AssertionError, match="by name"):
        validator.check_request("apiKeys.delete", [42])
    # Any integer is an id, zero and negative ones included (issue 10, item 14); a fraction is not.
    validator.check_request("apiKeys.delete", {"id": 0})
    with pytest.raises(AssertionError, match="integer"):
        validator.check_request("apiKeys.delete", {"id": 1.5})
