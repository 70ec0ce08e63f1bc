"""The host application's user API, /admin/v1/tenants/{t}/users (issue 5 item 2; docs/api.md).

The same validation, uniqueness, ETags and audit events as SCIM; the host application writes
users of import-only tenants (an HR system as source of truth) and of push tenants too (its
existing users, which the identity provider imports and matches by userName), issue 13."""
import pytest

from conftest import ENTERPRISE_URN, LIST_URN, TENANT_URN, USER_URN, assert_scim_error

HR_USER = {
    "schemas": [USER_URN, ENTERPRISE_URN],
    "userName": "ada@hr.example",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "emails": [{"value": "ada@hr.example", "type": "work", "primary": True}],
    "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
    "title": "Analyst",
    ENTERPRISE_URN: {"department": "Research"},
    "active": True,
}


@pytest.fixture
def hr(server):
    """An import-only tenant "hr" with a token its identity provider imports with."""
    server.make_tenant("hr", provisioningMode="import-only")
    return server.mint("hr")["token"]


def host(server, method, path, body=None, slug="hr", **kw):
    return server.admin(method, f"/tenants/{slug}/users{path}", body, **kw)


def admin_error(r, status, fragment=None):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    if fragment:
        assert fragment in err["message"], err
    return err


def test_host_creates_and_idp_imports_with_deactivated_users(server, hr):
    r = host(server, "POST", "", HR_USER)
    assert r.status_code == 201, r.text
    uid, etag = r.json()["id"], r.headers["ETag"]
    assert r.json()["meta"]["location"].endswith(f"/scim/v2/Users/{uid}")
    other = host(server, "POST", "", {**HR_USER, "userName": "bob@hr.example",
                                      "emails": [{"value": "bob@hr.example"}]}).json()["id"]
    r = host(server, "POST", f"/{other}/deactivate")
    assert r.status_code == 200 and r.json()["active"] is False
    # The identity provider imports: full profile, deactivated user included, filters work.
    page = server.scim("GET", "/Users?startIndex=1&count=10", hr).json()
    assert page["schemas"] == [LIST_URN] and page["totalResults"] == 2
    ada = server.scim("GET", f"/Users/{uid}", hr).json()
    for key in ("name", "emails", "phoneNumbers", "title"):
        assert ada[key] == HR_USER[key]
    assert ada[ENTERPRISE_URN]["department"] == "Research"
    assert server.scim("GET", f"/Users/{uid}", hr).headers["ETag"] == etag
    inactive = server.scim("GET", '/Users?filter=active eq false', hr).json()
    assert [u["userName"] for u in inactive["Resources"]] == ["bob@hr.example"]
    r = host(server, "POST", f"/{other}/reactivate")
    assert r.json()["active"] is True


def test_import_only_refuses_scim_writes_but_not_the_host(server, hr):
    uid = host(server, "POST", "", HR_USER).json()["id"]
    body = assert_scim_error(server.scim("PATCH", f"/Users/{uid}", hr, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "x"}]}), 403)
    assert "import-only" in body["detail"]
    r = host(server, "PATCH", f"/{uid}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]})
    assert r.status_code == 200 and r.json()["title"] == "Lead"
    r = host(server, "PUT", f"/{uid}", {**HR_USER, "title": "Head"})
    assert r.status_code == 200 and r.json()["title"] == "Head"
    assert server.scim("GET", f"/Users/{uid}", hr).json()["title"] == "Head"


def test_same_validation_uniqueness_and_etags_as_scim(server, hr):
    uid = host(server, "POST", "", HR_USER).json()["id"]
    admin_error(host(server, "POST", "", {**HR_USER, "userName": "ADA@hr.example"}), 409,
                "already in use")
    admin_error(host(server, "POST", "", {"schemas": [USER_URN]}), 400, "userName")
    admin_error(host(server, "POST", "", {**HR_USER, "active": "maybe"}), 400)
    r = host(server, "PUT", f"/{uid}", {**HR_USER, "title": "x"}, headers={"If-Match": 'W/"9"'})
    admin_error(r, 412)
    r = host(server, "GET", f"/{uid}", headers={"If-None-Match": 'W/"1"'})
    assert r.status_code == 304
    admin_error(host(server, "GET", "/nope"), 404)
    # Errors on this API are management-API errors, not SCIM errors.
    assert host(server, "GET", "/nope").headers["Content-Type"].startswith("application/json")


def test_host_writes_are_audit_events_by_the_operator(server, hr):
    uid = host(server, "POST", "", HR_USER).json()["id"]
    host(server, "POST", f"/{uid}/deactivate")
    assert host(server, "DELETE", f"/{uid}").status_code == 204
    evs = server.admin("GET", "/tenants/hr/events", params={"kind": "user."}).json()["events"]
    assert [(e["kind"], e["actor"]) for e in evs] == [
        ("user.created", "operator"), ("user.deactivated", "operator"),
        ("user.deleted", "operator")]


def test_remove_policy_applies_to_host_deactivation(server):
    server.make_tenant("acme", deactivationPolicy="remove")
    uid = host(server, "POST", "", HR_USER, slug="acme").json()["id"]
    r = host(server, "POST", f"/{uid}/deactivate", slug="acme")
    assert r.status_code == 200
    # The answer is the user's final state in the host's view: the role it had, as every
    # other answer of this API carries it (docs/api.md), though the user is gone.
    assert r.json()[TENANT_URN] == {"effectiveRole": "reporting", "roleSource": "default"}
    admin_error(host(server, "GET", f"/{uid}", slug="acme"), 404)
    dev = {**HR_USER, "userName": "dev@hr.example", TENANT_URN: {"role": "developer"}}
    uid = host(server, "POST", "", dev, slug="acme").json()["id"]
    r = host(server, "PATCH", f"/{uid}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "active", "value": False}]}, slug="acme")
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()[TENANT_URN] == {"role": "developer", "effectiveRole": "developer",
                                    "roleSource": "direct"}
    # Created inactive: answered and not kept, with the role it would have had.
    r = host(server, "POST", "", {**dev, "active": False}, slug="acme")
    assert r.status_code == 201, r.text
    assert r.json()[TENANT_URN] == {"role": "developer", "effectiveRole": "developer",
                                    "roleSource": "direct"}
    admin_error(host(server, "GET", f"/{r.json()['id']}", slug="acme"), 404)


PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def test_push_tenant_host_and_idp_both_write_settled_by_etags(server, tenant_token):
    # The host brings its existing user into the push tenant; Okta's import finds it.
    r = host(server, "POST", "", HR_USER, slug="acme")
    assert r.status_code == 201, r.text
    uid, etag = r.json()["id"], r.headers["ETag"]
    found = server.scim("GET", "/Users", tenant_token,
                        params={"filter": 'userName eq "ADA@hr.example"'}).json()
    assert [u["id"] for u in found["Resources"]] == [uid]
    # The identity provider updates it (a push), so the host's copy is stale.
    r = server.scim("PATCH", f"/Users/{uid}", tenant_token, {
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Okta"}]})
    assert r.status_code == 200, r.text
    stale = host(server, "PATCH", f"/{uid}", {
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Host"}]},
        slug="acme", headers={"If-Match": etag})
    admin_error(stale, 412)
    assert host(server, "GET", f"/{uid}", slug="acme").json()["title"] == "Okta"
    # With the current tag (or none: last writer wins) the host's write lands.
    current = host(server, "GET", f"/{uid}", slug="acme").headers["ETag"]
    r = host(server, "PATCH", f"/{uid}", {
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Host"}]},
        slug="acme", headers={"If-Match": current})
    assert r.status_code == 200 and r.json()["title"] == "Host"
    assert server.scim("GET", f"/Users/{uid}", tenant_token).json()["title"] == "Host"
    # The audit trail says who wrote what (the fixture's token mint aside).
    evs = server.admin("GET", "/tenants/acme/events", params={"kind": "user."}).json()["events"]
    assert [(e["kind"], e["actor"].split(":")[0]) for e in evs] == [
        ("user.created", "operator"), ("user.updated", "token"), ("user.updated", "operator")]
    # Deactivate, reactivate and remove work in push tenants too.
    assert host(server, "POST", f"/{uid}/deactivate", slug="acme").json()["active"] is False
    assert server.scim("GET", f"/Users/{uid}", tenant_token).json()["active"] is False
    assert host(server, "POST", f"/{uid}/reactivate", slug="acme").json()["active"] is True
    assert host(server, "DELETE", f"/{uid}", slug="acme").status_code == 204
    assert server.scim("GET", f"/Users/{uid}", tenant_token).status_code == 404


def test_host_api_needs_the_operator_key_and_a_real_tenant(server, hr):
    r = server.request("GET", "/admin/v1/tenants/hr/users", token=hr)
    assert r.status_code == 401
    admin_error(host(server, "GET", "", slug="nope"), 404)
    admin_error(host(server, "POST", "/x/deactivate", {"a": 1}), 400, "no body")
    # Another tenant's user is not found, by every route alike (the role route said the
    # user "has no role").
    uid = host(server, "POST", "", HR_USER).json()["id"]
    server.make_tenant("other")
    missing = admin_error(host(server, "GET", f"/{uid}", slug="other"), 404)
    assert admin_error(host(server, "GET", f"/{uid}/role", slug="other"), 404) == missing


def test_host_api_answers_json_and_scim_answers_scim_json(server, hr):
    """The management API is a JSON API (docs/api.md, docs/openapi.json): its users and groups
    are SCIM documents but come as application/json; the same documents over SCIM come as
    application/scim+json (RFC 7644 §8.1)."""
    r = host(server, "POST", "", HR_USER)
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    answers = [r, host(server, "GET", ""), host(server, "GET", f"/{uid}"),
               host(server, "PATCH", f"/{uid}", {"schemas": [PATCH], "Operations": [
                   {"op": "replace", "path": "title", "value": "Lead"}]}),
               host(server, "POST", f"/{uid}/deactivate"),
               server.admin("GET", "/tenants/hr/groups")]
    for a in answers:
        assert a.status_code in (200, 201), a.text
        assert a.headers["Content-Type"] == "application/json", a.text
    for path in (f"/Users/{uid}", "/Users", "/Groups"):
        r = server.scim("GET", path, hr)
        assert r.headers["Content-Type"] == "application/scim+json", path
