"""POST /scim/v2/Bulk (RFC 7644 §3.7): bulkId references, failOnErrors, per-operation
versions, limits, circles, import-only tenants, audit events, one transaction per operation."""
import json

from conftest import SCIM, USER_URN, assert_scim_error, user_body

BULK_REQ = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESP = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def bulk(server, token, ops, **extra):
    return server.scim("POST", "/Bulk", token, {"schemas": [BULK_REQ], "Operations": ops, **extra})


def ok(r):
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(SCIM)
    body = r.json()
    assert body["schemas"] == [BULK_RESP]
    return body["Operations"]


def post_user(bulk_id, name, **extra):
    return {"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": user_body(name, **extra)}


def users(server, token):
    r = server.scim("GET", "/Users", token)
    assert r.status_code == 200, r.text
    return sorted(u["userName"] for u in r.json()["Resources"])


def events(server, slug="acme"):
    """The tenant's resource events (the fixture's token mint is an event too)."""
    r = server.admin("GET", f"/tenants/{slug}/events")
    assert r.status_code == 200, r.text
    return [e for e in r.json()["events"] if not e["kind"].startswith("token.")]


def test_bulk_creates_user_and_group_with_member_by_bulk_id(server, tenant_token):
    # The group comes first and names a user created later in the same request: the planner
    # runs the user first (RFC 7644 §3.7.2).
    ops = ok(bulk(server, tenant_token, [
        {"method": "POST", "path": "/Groups", "bulkId": "g1",
         "data": {"schemas": [GROUP_URN], "displayName": "Tour Guides",
                  "members": [{"type": "User", "value": "bulkId:u1"}]}},
        post_user("u1", "alice@x.example"),
    ]))
    assert [o["bulkId"] for o in ops] == ["g1", "u1"]
    assert all(o["method"] == "POST" and o["status"] == "201" for o in ops), ops
    assert all("response" not in o for o in ops)
    uid = ops[1]["location"].rsplit("/", 1)[1]
    gid = ops[0]["location"].rsplit("/", 1)[1]
    assert ops[1]["location"] == f"{server.url}/scim/v2/Users/{uid}"
    assert ops[0]["location"] == f"{server.url}/scim/v2/Groups/{gid}"
    assert ops[0]["version"] == 'W/"1"' and ops[1]["version"] == 'W/"1"'
    g = server.scim("GET", f"/Groups/{gid}", tenant_token).json()
    assert [m["value"] for m in g["members"]] == [uid]
    u = server.scim("GET", f"/Users/{uid}", tenant_token).json()
    assert [x["value"] for x in u["groups"]] == [gid]


def test_bulk_put_patch_delete_with_bulk_id_path_and_audit_per_operation(server, tenant_token):
    tok_id = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    ops = ok(bulk(server, tenant_token, [
        post_user("u1", "bob@x.example"),
        {"method": "PATCH", "path": "/Users/bulkId:u1",
         "data": {"schemas": [PATCH_URN],
                  "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]}},
        {"method": "PUT", "path": "/Users/bulkId:u1",
         "data": user_body("bob@x.example", title="Chief")},
        {"method": "DELETE", "path": "/Users/bulkId:u1"},
    ]))
    assert [(o["method"], o["status"]) for o in ops] == [
        ("POST", "201"), ("PATCH", "200"), ("PUT", "200"), ("DELETE", "204")]
    uid = ops[0]["location"].rsplit("/", 1)[1]
    assert {o["location"] for o in ops} == {f"{server.url}/scim/v2/Users/{uid}"}
    assert [o.get("version") for o in ops] == ['W/"1"', 'W/"2"', 'W/"3"', None]
    evs = events(server)
    assert [e["kind"] for e in evs] == ["user.created", "user.updated", "user.updated",
                                        "user.deleted"]
    assert all(e["actor"] == f"token:{tok_id}" and e["resourceId"] == uid for e in evs)
    assert server.scim("GET", f"/Users/{uid}", tenant_token).status_code == 404


def test_bulk_fail_on_errors_stops_and_leaves_later_operations_out(server, tenant_token):
    ops = ok(bulk(server, tenant_token, [
        post_user("a", "a@x.example"),
        post_user("dup", "a@x.example"),                        # 409 uniqueness
        {"method": "PUT", "path": "/Users/no-such-id", "data": user_body("z@x.example")},  # 404
        post_user("c", "c@x.example"),                          # never runs
    ], failOnErrors=2))
    assert [(o.get("bulkId"), o["status"]) for o in ops] == [
        ("a", "201"), ("dup", "409"), (None, "404")]
    assert ops[1]["response"]["scimType"] == "uniqueness"
    assert ops[1]["response"]["status"] == "409"
    assert ops[1]["response"]["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert "location" not in ops[1]
    assert ops[2]["location"] == f"{server.url}/scim/v2/Users/no-such-id"
    assert users(server, tenant_token) == ["a@x.example"]


def test_bulk_without_fail_on_errors_runs_every_operation(server, tenant_token):
    ops = ok(bulk(server, tenant_token, [
        post_user("a", "a@x.example"),
        post_user("b", "a@x.example"),
        post_user("c", "c@x.example"),
    ]))
    assert [o["status"] for o in ops] == ["201", "409", "201"]
    assert users(server, tenant_token) == ["a@x.example", "c@x.example"]


def test_bulk_version_mismatch_is_412_in_that_operation_and_changes_nothing(server, tenant_token):
    r = server.scim("POST", "/Users", tenant_token, user_body("v@x.example", title="Old"))
    uid = r.json()["id"]
    patch = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title",
                                                       "value": "New"}]}
    ops = ok(bulk(server, tenant_token, [
        {"method": "PATCH", "path": f"/Users/{uid}", "version": 'W/"7"', "data": patch},
        {"method": "DELETE", "path": f"/Users/{uid}", "version": 'W/"9"'},
        {"method": "PATCH", "path": f"/Users/{uid}", "version": 'W/"1"', "data": patch},
    ]))
    assert [o["status"] for o in ops] == ["412", "412", "200"]
    assert ops[0]["response"]["status"] == "412"
    assert ops[2]["version"] == 'W/"2"'
    u = server.scim("GET", f"/Users/{uid}", tenant_token).json()
    assert u["title"] == "New" and u["meta"]["version"] == 'W/"2"'


def test_bulk_import_only_tenant_refuses_each_write_with_403(server):
    server.make_tenant("ro", provisioningMode="import-only")
    token = server.mint("ro")["token"]
    ops = ok(bulk(server, token, [
        post_user("a", "a@x.example"),
        {"method": "DELETE", "path": "/Users/abc"},
    ]))
    assert [o["status"] for o in ops] == ["403", "403"]
    assert all("import-only" in o["response"]["detail"] for o in ops)
    assert users(server, token) == []
    assert events(server, "ro") == []
    spc = server.scim("GET", "/ServiceProviderConfig", token).json()
    assert spc["bulk"]["supported"] is False


def test_bulk_limits_are_advertised_and_413(server_factory):
    server = server_factory(["--bulk-max-operations", "2", "--bulk-max-payload", "2048"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    spc = server.scim("GET", "/ServiceProviderConfig", token).json()
    assert spc["bulk"] == {"supported": True, "maxOperations": 2, "maxPayloadSize": 2048}
    body = assert_scim_error(bulk(server, token, [post_user(str(i), f"{i}@x.example")
                                                  for i in range(3)]), 413)
    assert "maxOperations is 2" in body["detail"]
    big = [post_user("a", "a@x.example", title="x" * 2100)]
    body = assert_scim_error(bulk(server, token, big), 413)
    assert "maxPayloadSize is 2048" in body["detail"]
    assert users(server, token) == []


def test_bulk_payload_is_lowered_to_the_body_limit(server_factory):
    server = server_factory(["--bulk-max-payload", "4096", "--body-limit", "2048"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    spc = server.scim("GET", "/ServiceProviderConfig", token).json()
    assert spc["bulk"]["maxPayloadSize"] == 2048


def test_bulk_default_limits_are_1000_operations_and_1_mib(server, tenant_token):
    spc = server.scim("GET", "/ServiceProviderConfig", tenant_token).json()
    assert spc["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576}


def test_bulk_circular_references_are_409_and_write_nothing(server, tenant_token):
    ops = ok(bulk(server, tenant_token, [
        post_user("a", "a@x.example", nickName="bulkId:b"),
        post_user("b", "b@x.example", nickName="bulkId:a"),
        post_user("self", "s@x.example", nickName="bulkId:self"),
        post_user("c", "c@x.example"),
    ]))
    assert [(o["bulkId"], o["status"]) for o in ops] == [
        ("a", "409"), ("b", "409"), ("self", "409"), ("c", "201")]
    assert all("circular" in o["response"]["detail"] for o in ops[:3])
    assert users(server, tenant_token) == ["c@x.example"]


def test_bulk_unknown_and_failed_bulk_ids(server, tenant_token):
    ops = ok(bulk(server, tenant_token, [
        {"method": "PATCH", "path": "/Users/bulkId:nope",
         "data": {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title",
                                                          "value": "x"}]}},
        post_user("bad", "not an email", emails="oops"),   # invalid: fails
        {"method": "POST", "path": "/Groups", "bulkId": "g",
         "data": {"schemas": [GROUP_URN], "displayName": "G",
                  "members": [{"value": "bulkId:bad"}]}},
    ]))
    assert [o["status"] for o in ops] == ["400", "400", "409"]
    assert ops[0]["response"]["scimType"] == "invalidValue"
    assert "nope" in ops[0]["response"]["detail"]
    assert "bad" in ops[2]["response"]["detail"]
    assert server.scim("GET", "/Groups", tenant_token).json()["totalResults"] == 0


def test_bulk_hostile_operations_are_refused_one_by_one(server, tenant_token):
    ops = ok(bulk(server, tenant_token, [
        "not an object",
        {"method": "GET", "path": "/Users"},
        {"method": "POST", "path": "/Tenants", "bulkId": "t", "data": {}},
        {"method": "POST", "path": "/Users/../Groups", "bulkId": "p", "data": {}},
        {"method": "DELETE", "path": "/Users/a/b"},
        {"method": "POST", "path": "/Users", "data": user_body("nobid@x.example")},
        post_user("twice", "t1@x.example"),
        post_user("twice", "t2@x.example"),
        {"method": "PUT", "path": "/Users/x"},
        {"method": "PATCH", "path": "/Users/x", "data": [], "version": 3},
    ]))
    assert len(ops) == 10
    assert all(o["status"] == "400" for o in ops), ops
    assert "method" not in ops[0] and "method" not in ops[1]
    assert users(server, tenant_token) == []


def test_bulk_whole_request_errors(server, tenant_token):
    r = server.scim("POST", "/Bulk", tenant_token, {"Operations": []})
    assert_scim_error(r, 400, "invalidSyntax")
    assert_scim_error(server.scim("POST", "/Bulk", tenant_token,
                                  {"schemas": [BULK_REQ], "Operations": {}}), 400, "invalidSyntax")
    assert_scim_error(bulk(server, tenant_token, [], failOnErrors=0), 400, "invalidValue")
    assert_scim_error(bulk(server, tenant_token, [], failOnErrors="1"), 400, "invalidValue")
    deep = {}
    for _ in range(40):
        deep = {"a": deep}
    assert_scim_error(bulk(server, tenant_token, [post_user("d", "d@x.example", x=deep)]), 400,
                      "invalidSyntax")
    assert_scim_error(server.request("POST", "/scim/v2/Bulk", token=tenant_token,
                                     data=json.dumps({"schemas": [BULK_REQ], "Operations": []}),
                                     headers={"Content-Type": "text/plain"}), 415)
    assert ok(bulk(server, tenant_token, [])) == []
    assert users(server, tenant_token) == []


def test_bulk_failing_group_operation_writes_nothing_half(server, tenant_token):
    r = server.scim("POST", "/Users", tenant_token, user_body("m@x.example"))
    uid = r.json()["id"]
    # The second member is unknown: the group create is refused whole, in its transaction.
    ops = ok(bulk(server, tenant_token, [
        {"method": "POST", "path": "/Groups", "bulkId": "g",
         "data": {"schemas": [GROUP_URN], "displayName": "Half",
                  "members": [{"value": uid}, {"value": "no-such-user"}]}},
    ]))
    assert ops[0]["status"] in ("400", "404"), ops
    assert server.scim("GET", "/Groups", tenant_token).json()["totalResults"] == 0
    assert server.scim("GET", f"/Users/{uid}", tenant_token).json().get("groups") is None
    assert [e["kind"] for e in events(server)] == ["user.created"]
