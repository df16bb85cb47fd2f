"""JSON-RPC 2.0 rules over real pipes, in both framings, including every example of
section 7 of the specification adapted to our own methods."""

from __future__ import annotations

import pytest

FRAMINGS = ["ndjson", "lsp"]


def raw(process, text: str) -> None:
    """Sends `text` as one frame; NDJSON needs it on one line."""
    process.send_text(text.replace("\n", " "))


@pytest.mark.parametrize("framing", FRAMINGS)
class TestSpecificationExamples:
    def test_positional_params_are_rejected_with_invalid_params(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        response = rpc.request("apiKeys.delete", [42])
        assert response["error"]["code"] == -32602
        assert response["error"]["data"]["field"] == "params"

    def test_named_params(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        result = rpc.call("apiKeys.list", {"refresh": False})
        assert result["keys"] == [] and result["fromCache"] is False

    def test_notifications_get_no_reply(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        rpc.notify("apiKeys.list", {})
        rpc.notify("foobar")
        rpc.send({"jsonrpc": "2.0", "method": "$/ping", "id": "after"})
        assert rpc.read() == {"jsonrpc": "2.0", "id": "after", "result": {}}
        rpc.expect_silence(0.3)

    def test_non_existent_method(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        rpc.send({"jsonrpc": "2.0", "method": "foobar", "id": "1"})
        response = rpc.read()
        assert response["id"] == "1" and response["error"]["code"] == -32601

    def test_invalid_json(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')
        response = rpc.read()
        assert response["id"] is None and response["error"]["code"] == -32700

    def test_invalid_request_object(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, '{"jsonrpc": "2.0", "method": 1, "params": "bar"}')
        response = rpc.read()
        assert response["id"] is None and response["error"]["code"] == -32600

    def test_batch_with_invalid_json(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, '[{"jsonrpc": "2.0", "method": "apiKeys.list", "params": {}, "id": "1"},'
                 '{"jsonrpc": "2.0", "method"]')
        response = rpc.read()
        assert isinstance(response, dict)
        assert response["id"] is None and response["error"]["code"] == -32700

    def test_empty_batch_is_one_invalid_request(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, "[]")
        response = rpc.read()
        assert isinstance(response, dict)
        assert response["id"] is None and response["error"]["code"] == -32600

    def test_batch_of_one_invalid_entry(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, "[1]")
        response = rpc.read()
        assert isinstance(response, list) and len(response) == 1
        assert response[0]["id"] is None and response[0]["error"]["code"] == -32600

    def test_batch_of_three_invalid_entries(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, "[1,2,3]")
        response = rpc.read()
        assert [entry["error"]["code"] for entry in response] == [-32600, -32600, -32600]

    def test_mixed_batch(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, """[
            {"jsonrpc": "2.0", "method": "$/ping", "params": {}, "id": "1"},
            {"jsonrpc": "2.0", "method": "apiKeys.watch", "params": {"interval": 0}},
            {"jsonrpc": "2.0", "method": "apiKeys.list", "params": {"refresh": true}, "id": "2"},
            {"foo": "boo"},
            {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
            {"jsonrpc": "2.0", "method": "apiKeys.delete", "params": {"id": "x"}, "id": "9"}
        ]""")
        response = rpc.read()
        by_id = {}
        for entry in response:
            by_id.setdefault(entry["id"], []).append(entry)
        assert len(response) == 5
        assert by_id["1"][0]["result"] == {}
        assert by_id["2"][0]["result"]["keys"] == []
        assert by_id[None][0]["error"]["code"] == -32600
        assert by_id["5"][0]["error"]["code"] == -32601
        assert by_id["9"][0]["error"]["code"] == -32602

    def test_batch_of_notifications_produces_no_output(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, '[{"jsonrpc": "2.0", "method": "$/ping", "params": {}},'
                 '{"jsonrpc": "2.0", "method": "apiKeys.watch", "params": {"interval": 0}}]')
        rpc.expect_silence(0.5)
        assert rpc.call("$/ping") == {}


@pytest.mark.parametrize("framing", FRAMINGS)
class TestIdsAndErrors:
    @pytest.mark.parametrize("id", ["abc", "", "ünï", 0, -7, 2**53 + 1, 2**63 - 1, -(2**63), None])
    def test_ids_are_echoed_exactly(self, spawn, framing, id):
        rpc = spawn("--sandbox", framing=framing)
        rpc.send({"jsonrpc": "2.0", "method": "$/ping", "id": id})
        response = rpc.read()
        assert response == {"jsonrpc": "2.0", "id": id, "result": {}}

    def test_id_null_is_a_request_not_a_notification(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        rpc.send({"jsonrpc": "2.0", "method": "foobar", "id": None})
        response = rpc.read()
        assert response["id"] is None and response["error"]["code"] == -32601

    @pytest.mark.parametrize("bad_id", ['1.5', '{"a":1}', '[1]', 'true'])
    def test_ids_of_the_wrong_type_are_invalid_requests(self, spawn, framing, bad_id):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, '{"jsonrpc":"2.0","method":"$/ping","id":%s}' % bad_id)
        response = rpc.read()
        assert response["error"]["code"] == -32600 and response["id"] is None

    @pytest.mark.parametrize("text", [
        '{"method":"$/ping","id":1}',
        '{"jsonrpc":"1.0","method":"$/ping","id":1}',
        '{"jsonrpc":"2.0","id":1}',
        '{"jsonrpc":"2.0","method":"$/ping","params":"x","id":1}',
        '"just a string"',
    ])
    def test_not_a_valid_request(self, spawn, framing, text):
        # Explicit framing: under `auto`, a first byte other than { or [ means LSP headers.
        rpc = spawn("--sandbox", "--framing", framing, framing=framing)
        raw(rpc, text)
        response = rpc.read()
        assert response["error"]["code"] == -32600

    def test_integers_beyond_64_bits_are_parse_errors_and_the_server_survives(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, '{"jsonrpc":"2.0","method":"$/ping","id":123456789012345678901234567890}')
        assert rpc.read()["error"]["code"] == -32700
        assert rpc.call("$/ping") == {}

    def test_deep_nesting_is_an_error_not_a_crash(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        raw(rpc, '{"jsonrpc":"2.0","method":"$/ping","id":1,"params":{"x":' + "[" * 50000 + "]" * 50000 + "}}")
        response = rpc.read()
        assert response["error"]["code"] in (-32700, -32600)
        assert rpc.call("$/ping") == {}

    @pytest.mark.parametrize("method,params,field", [
        ("apiKeys.generate", {}, "name"),
        ("apiKeys.generate", {"name": ""}, "name"),
        ("apiKeys.generate", {"name": "x" * 201}, "name"),
        ("apiKeys.generate", {"name": 5}, "name"),
        ("apiKeys.generate", {"name": "ok", "description": 5}, "description"),
        ("apiKeys.update", {"name": "ok"}, "id"),
        ("apiKeys.update", {"id": 1.5, "name": "ok"}, "id"),
        ("apiKeys.update", {"id": True, "name": "ok"}, "id"),  # any integer is an id (issue 10, item 14)
        ("apiKeys.delete", {"id": "3"}, "id"),
        ("apiKeys.list", {"refresh": "yes"}, "refresh"),
        ("apiKeys.list", {"maxAge": -1}, "maxAge"),
        ("apiKeys.watch", {}, "interval"),
        ("apiKeys.watch", {"interval": "often"}, "interval"),
        ("apiKeys.list", [], "params"),
        ("apiKeys.list", 7, "params"),
    ])
    def test_bad_params_name_the_field(self, spawn, framing, method, params, field):
        rpc = spawn("--sandbox", framing=framing)
        rpc.send({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        response = rpc.read()
        if params == 7:
            assert response["error"]["code"] == -32600
            return
        assert response["error"]["code"] == -32602, response
        assert response["error"]["data"]["field"] == field
        assert response["error"]["data"]["reason"]

    def test_unknown_dollar_notification_is_ignored_but_request_is_not_found(self, spawn, framing):
        rpc = spawn("--sandbox", framing=framing)
        rpc.notify("$/setTrace", {"value": "off"})
        rpc.send({"jsonrpc": "2.0", "id": 2, "method": "$/unknownThing"})
        response = rpc.read()
        assert response["id"] == 2 and response["error"]["code"] == -32601

    def test_rpc_discover_returns_the_protocol_document(self, spawn, framing, validator):
        rpc = spawn("--sandbox", framing=framing)
        assert rpc.call("rpc.discover") == validator.document
