"""A key's whole life through hyperstack-rpc against the real hyperstack-sandbox over HTTP.

generate → list → update → delete, in both framings, checking the order in which the
messages arrived on the server's stdout: one apiKeys.didChange per mutation, written
before that mutation's response and carrying the same revision; revisions strictly
increasing; no didChange for the first load; a secret appears once, in its generate result.
"""

from __future__ import annotations

import pytest

MASK_PREFIX = "********-****-****-****-********"
DID_CHANGE = "apiKeys.didChange"


def public_fields(key: dict) -> dict:
    """An ApiKey as list shows it: everything but the secret."""
    return {name: value for name, value in key.items() if name != "secret"}


def check_mutation_order(rpc, mutation_ids: list) -> None:
    """Every mutation response is preceded by exactly one didChange with its revision, and
    the didChanges' revisions strictly increase in the order they were written."""
    arrived = list(rpc.arrived)
    changes = [(index, m) for index, m in enumerate(arrived) if m.get("method") == DID_CHANGE]
    revisions = [m["params"]["revision"] for _, m in changes]
    assert revisions == sorted(set(revisions)), f"didChange revisions are not strictly increasing: {revisions}"
    assert len(changes) == len(mutation_ids), (
        f"{len(mutation_ids)} mutations but {len(changes)} didChange notifications: {revisions}")
    for request_id in mutation_ids:
        position, response = next((i, m) for i, m in enumerate(arrived)
                                  if "method" not in m and m.get("id") == request_id)
        revision = response["result"]["revision"]
        matching = [index for index, m in changes if m["params"]["revision"] == revision]
        assert len(matching) == 1, f"{rpc.method_of(response)} revision {revision}: didChanges {revisions}"
        assert matching[0] < position, (
            f"the didChange for {rpc.method_of(response)} (revision {revision}) was written after its response")


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_key_lifecycle(spawn, sandbox_server, framing):
    server = sandbox_server
    rpc = server.spawn_rpc(spawn, framing=framing)
    secrets: list[str] = []
    mutations: list = []

    # First load: from upstream, no didChange.
    first = rpc.call("apiKeys.list")
    assert first["keys"] == [] and first["fromCache"] is False
    assert [m for m in rpc.arrived if m.get("method") == DID_CHANGE] == []

    # generate: the secret comes back once, masked everywhere else.
    request = rpc.start_request("apiKeys.generate", {"name": "ci-runner", "description": "CI runner"})
    mutations.append(request)
    generated = rpc.wait_response(request)["result"]
    key = generated["key"]
    secret = key["secret"]
    secrets.append(secret)
    rpc.secrets.append(secret)
    assert len(secret) > 4
    assert key["name"] == "ci-runner" and key["description"] == "CI runner"
    assert key["maskedKey"] == MASK_PREFIX + secret[-4:]
    assert generated["revision"] > first["revision"]
    change = rpc.wait_notification(DID_CHANGE)["params"]
    assert change == {"revision": generated["revision"], "cause": "generate",
                      "added": [public_fields(key)], "updated": [], "removed": []}

    listed = rpc.call("apiKeys.list")
    assert listed["fromCache"] is True
    assert listed["revision"] == generated["revision"]
    assert listed["keys"] == [public_fields(key)]
    assert listed["keys"][0]["maskedKey"] == MASK_PREFIX + secret[-4:]

    # A second key, so update and delete have something to leave alone.
    request = rpc.start_request("apiKeys.generate", {"name": "laptop"})
    mutations.append(request)
    other = rpc.wait_response(request)["result"]
    secrets.append(other["key"]["secret"])
    rpc.secrets.append(other["key"]["secret"])
    assert other["key"]["description"] is None
    assert other["revision"] > generated["revision"]

    # update: rename and re-describe; then rename only, which keeps the description.
    request = rpc.start_request("apiKeys.update", {"id": key["id"], "name": "ci", "description": "the CI"})
    mutations.append(request)
    updated = rpc.wait_response(request)["result"]
    assert updated["key"] == {**public_fields(key), "name": "ci", "description": "the CI"}
    assert updated["revision"] > other["revision"]
    change = rpc.wait_notification(DID_CHANGE, predicate=lambda m: m["params"]["cause"] == "update")["params"]
    assert change == {"revision": updated["revision"], "cause": "update",
                      "added": [], "updated": [updated["key"]], "removed": []}

    request = rpc.start_request("apiKeys.update", {"id": key["id"], "name": "ci-2"})
    mutations.append(request)
    renamed = rpc.wait_response(request)["result"]
    assert renamed["key"]["name"] == "ci-2" and renamed["key"]["description"] == "the CI"
    assert renamed["revision"] > updated["revision"]

    listed = rpc.call("apiKeys.list")
    assert listed["revision"] == renamed["revision"]
    assert listed["keys"] == sorted([renamed["key"], public_fields(other["key"])], key=lambda k: k["id"])

    # delete
    request = rpc.start_request("apiKeys.delete", {"id": key["id"]})
    mutations.append(request)
    deleted = rpc.wait_response(request)["result"]
    assert deleted == {"id": key["id"], "revision": deleted["revision"]}
    assert deleted["revision"] > renamed["revision"]
    change = rpc.wait_notification(DID_CHANGE, predicate=lambda m: m["params"]["cause"] == "delete")["params"]
    assert change == {"revision": deleted["revision"], "cause": "delete", "added": [], "updated": [], "removed": [key["id"]]}

    listed = rpc.call("apiKeys.list")
    assert listed["revision"] == deleted["revision"]
    assert listed["keys"] == [public_fields(other["key"])]

    # The cache agrees with upstream, and a forced reload finds nothing new (so no didChange).
    status, body = server.http("GET", "/api-key")
    assert status == 200 and [k["id"] for k in body["api_keys"]] == [other["key"]["id"]]
    reloaded = rpc.call("apiKeys.list", {"refresh": True})
    assert reloaded["fromCache"] is False
    assert reloaded["revision"] == deleted["revision"]
    assert reloaded["keys"] == listed["keys"]

    check_mutation_order(rpc, mutations)
    assert rpc.secret_leaks(secrets + [server.api_key]) == []
    assert rpc.stop() == 0
    assert rpc.secret_leaks(secrets) == []
    for secret in secrets:
        assert secret.encode() not in rpc.stderr


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_concurrent_mutations_each_announced_before_their_response(spawn, sandbox_server, framing):
    """Mutations written back-to-back still get one didChange each, before their response."""
    rpc = sandbox_server.spawn_rpc(spawn, framing=framing)
    rpc.call("apiKeys.list")
    ids = [rpc.start_request("apiKeys.generate", {"name": f"key-{n}"}) for n in range(6)]
    results = [rpc.wait_response(i)["result"] for i in ids]
    secrets = [r["key"]["secret"] for r in results]
    key_ids = [r["key"]["id"] for r in results]
    assert len(set(key_ids)) == 6
    assert len({r["revision"] for r in results}) == 6

    updates = [rpc.start_request("apiKeys.update", {"id": k, "name": f"renamed-{k}"}) for k in key_ids[:3]]
    deletes = [rpc.start_request("apiKeys.delete", {"id": k}) for k in key_ids[3:]]
    for request in updates + deletes:
        assert "result" in rpc.wait_response(request)

    check_mutation_order(rpc, ids + updates + deletes)
    listed = rpc.call("apiKeys.list")
    assert sorted(k["name"] for k in listed["keys"]) == sorted(f"renamed-{k}" for k in key_ids[:3])
    assert listed["revision"] == max(m["params"]["revision"] for m in rpc.arrived if m.get("method") == DID_CHANGE)
    assert rpc.secret_leaks(secrets) == []


def test_generated_secret_is_not_in_a_later_list_or_upstream_listing(spawn, sandbox_server):
    """The secret is gone for good after generate: a forced reload shows only the mask."""
    rpc = sandbox_server.spawn_rpc(spawn)
    secret = rpc.call("apiKeys.generate", {"name": "once"})["key"]["secret"]
    rpc.secrets.append(secret)
    reloaded = rpc.call("apiKeys.list", {"refresh": True})
    assert [k["maskedKey"] for k in reloaded["keys"]] == [MASK_PREFIX + secret[-4:]]
    assert rpc.secret_leaks([secret]) == []


@pytest.mark.parametrize("framing", ["ndjson", "lsp"])
def test_names_beyond_ascii_survive_the_round_trip(spawn, sandbox_server, framing):
    """Non-ASCII (and U+2028) in a name travel upstream and back; the server still writes ASCII only."""
    rpc = sandbox_server.spawn_rpc(spawn, framing=framing)
    name = "ключ \u2028 \U0001F511 ü"
    generated = rpc.call("apiKeys.generate", {"name": name, "description": "line\nbreak \u2029"})
    rpc.secrets.append(generated["key"]["secret"])
    assert generated["key"]["name"] == name
    listed = rpc.call("apiKeys.list", {"refresh": True})
    assert [(k["name"], k["description"]) for k in listed["keys"]] == [(name, "line\nbreak \u2029")]
    status, body = sandbox_server.http("GET", "/api-key")
    assert [k["name"] for k in body["api_keys"]] == [name]
    assert all(byte < 0x80 for byte in rpc.raw_stdout)


def test_name_length_limits(spawn, sandbox_server):
    rpc = sandbox_server.spawn_rpc(spawn)
    longest = rpc.call("apiKeys.generate", {"name": "n" * 200})
    rpc.secrets.append(longest["key"]["secret"])
    assert longest["key"]["name"] == "n" * 200
    too_long = rpc.request("apiKeys.update", {"id": longest["key"]["id"], "name": "n" * 201})
    assert too_long["error"]["code"] == -32602 and too_long["error"]["data"]["field"] == "name"
    assert sandbox_server.route_count("PUT /api-key/{id}") == 0


def generated_key(rpc, description: str) -> int:
    key = rpc.call("apiKeys.generate", {"name": "k", "description": description})
    rpc.secrets.append(key["key"]["secret"])
    return key["key"]["id"]


def test_update_without_description_keeps_it(spawn, sandbox_server):
    rpc = sandbox_server.spawn_rpc(spawn)
    key_id = generated_key(rpc, "keep me")
    assert rpc.call("apiKeys.update", {"id": key_id, "name": "k1"})["key"]["description"] == "keep me"
    listed = rpc.call("apiKeys.list", {"refresh": True})
    assert [(k["name"], k["description"]) for k in listed["keys"]] == [("k1", "keep me")]


def test_update_with_null_description_clears_it(spawn, sandbox_server):
    rpc = sandbox_server.spawn_rpc(spawn)
    key_id = generated_key(rpc, "clear me with null")
    updated = rpc.call("apiKeys.update", {"id": key_id, "name": "k2", "description": None})
    assert updated["key"]["description"] is None
    listed = rpc.call("apiKeys.list", {"refresh": True})
    assert [(k["name"], k["description"]) for k in listed["keys"]] == [("k2", None)]


def test_update_with_empty_description_clears_it(spawn, sandbox_server):
    rpc = sandbox_server.spawn_rpc(spawn)
    key_id = generated_key(rpc, "clear me")
    cleared = rpc.call("apiKeys.update", {"id": key_id, "name": "k3", "description": ""})["key"]["description"]
    assert cleared in ("", None)
    listed = rpc.call("apiKeys.list", {"refresh": True})
    assert [(k["name"], k["description"]) for k in listed["keys"]] == [("k3", cleared)]
