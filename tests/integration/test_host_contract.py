"""The host application's contract (issue 13; docs/api.md, docs/host-integration.md): the host
names its users by its own identifiers, reads each user's effective role wherever it reads
users, learns roles and tenants from events and webhooks, and cannot save tenant settings that
make no sense together."""
import json

import pytest
import requests

from conftest import TENANT_URN, USER_URN, user_body
from test_webhooks import FAST, Receiver

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def error_of(r, status):
    assert r.status_code == status, r.text
    return r.json()["error"]["message"]


# --- settings that make no sense together --------------------------------------------------

def test_import_only_with_remove_refused_both_ways(server):
    msg = error_of(server.admin("POST", "/tenants", {
        "slug": "hr", "provisioningMode": "import-only", "deactivationPolicy": "remove"}), 400)
    assert "import-only" in msg and "remove" in msg
    assert server.admin("GET", "/tenants/hr").status_code == 404
    # A push tenant that removes cannot become import-only, nor the reverse.
    server.make_tenant("acme", deactivationPolicy="remove")
    error_of(server.admin("PATCH", "/tenants/acme", {"provisioningMode": "import-only"}), 400)
    server.make_tenant("hr", provisioningMode="import-only")
    error_of(server.admin("PATCH", "/tenants/hr", {"deactivationPolicy": "remove"}), 400)
    assert server.admin("GET", "/tenants/acme").json()["provisioningMode"] == "push"
    assert server.admin("GET", "/tenants/hr").json()["deactivationPolicy"] == "disable"
    # Both at once, in the right order of meaning, is fine.
    r = server.admin("PATCH", "/tenants/acme", {"provisioningMode": "import-only",
                                                "deactivationPolicy": "disable"})
    assert r.status_code == 200, r.text
    p = server.cli("tenant", "update", "hr", "--deactivation", "remove", check=False)
    assert p.returncode != 0 and "import-only" in p.stderr


def test_switch_to_remove_refused_while_inactive_users_exist(server):
    # A tenant that removes users on deactivation holds no inactive user: the switch is
    # refused while some are kept (Okta's reactivation POST of such a userName would be 409
    # for ever), and the settings do not change. Once they are gone it is accepted.
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    keep = server.scim("POST", "/Users", token, user_body("stays@acme.example")).json()
    left = server.scim("POST", "/Users", token, user_body("leaver@acme.example")).json()
    assert server.admin("POST", f"/tenants/acme/users/{left['id']}/deactivate").status_code == 200
    msg = error_of(server.admin("PATCH", "/tenants/acme", {"deactivationPolicy": "remove"}), 409)
    assert "1 inactive user" in msg and "active eq false" in msg, msg
    assert server.admin("GET", "/tenants/acme").json()["deactivationPolicy"] == "disable"
    p = server.cli("tenant", "update", "acme", "--deactivation", "remove", check=False)
    assert p.returncode != 0 and "inactive" in p.stderr
    found = server.admin("GET", "/tenants/acme/users",
                         params={"filter": "active eq false"}).json()["Resources"]
    assert [u["id"] for u in found] == [left["id"]]
    assert server.admin("DELETE", f"/tenants/acme/users/{left['id']}").status_code == 204
    r = server.admin("PATCH", "/tenants/acme", {"deactivationPolicy": "remove"})
    assert r.status_code == 200, r.text
    assert server.scim("GET", f"/Users/{keep['id']}", token).json()["active"] is True


def test_deactivating_an_inactive_user_under_remove_removes_it(server):
    # An inactive user under "remove" (a writer that raced the policy change; simulated here
    # by setting the policy in the database) is removed by the next deactivation, so Okta's
    # reactivation POST of its userName then creates the user afresh (IDP-QUIRKS.md 7).
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    uid = server.scim("POST", "/Users", token, user_body("ghost@acme.example",
                                                          active=False)).json()["id"]
    server.execute("UPDATE tenants SET deactivation = 'remove' WHERE slug = 'acme'")
    r = server.scim("PATCH", f"/Users/{uid}", token, {
        "schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    assert server.scim("GET", f"/Users/{uid}", token).status_code == 404
    r = server.scim("POST", "/Users", token, user_body("ghost@acme.example"))
    assert r.status_code == 201 and r.json()["id"] != uid, r.text
    # An unchanged write of an active user stays a no-op (same version, no event).
    again = server.scim("PUT", f"/Users/{r.json()['id']}", token, user_body("ghost@acme.example"))
    assert again.json()["meta"]["version"] == r.json()["meta"]["version"]


# --- acting users named the host's way ---------------------------------------------------------

def test_acting_user_by_user_name_or_external_id(server):
    server.make_tenant("acme")
    admin = server.host_user("acme", "Owner@Acme.example", role="admin", externalId="emp-1")
    server.host_user("acme", "dev@acme.example", role="developer", externalId="emp-2")
    for ref in (admin["id"], "owner@acme.example", "emp-1"):
        gate = server.admin("GET", "/tenants/acme/token-gate", params={"actingUser": ref}).json()
        assert gate["allowed"] is True, (ref, gate)
    r = server.admin("POST", "/tenants/acme/tokens", {"actingUser": "emp-1", "label": "okta"})
    assert r.status_code == 201, r.text
    r = server.admin("POST", "/tenants/acme/setup-links", {"actingUser": "owner@acme.example"})
    assert r.status_code == 201 and r.json()["actingUser"] == admin["id"], r.text
    # A developer is no admin, whichever way it is named; an unknown name is no user.
    for ref, why in (("emp-2", "acting user emp-2 has the role \"developer\", not the admin role \"admin\""),
                     ("nobody@acme.example", "acting user nobody@acme.example is not a user")):
        msg = error_of(server.admin("POST", "/tenants/acme/tokens", {"actingUser": ref}), 403)
        assert why in msg, msg
    # An externalId shared by two users names nobody in particular.
    server.host_user("acme", "twin@acme.example", role="admin", externalId="emp-2")
    msg = error_of(server.admin("POST", "/tenants/acme/tokens", {"actingUser": "emp-2"}), 409)
    assert "more than one user" in msg
    assert len(server.admin("GET", "/tenants/acme/tokens").json()["tokens"]) == 1


# --- the effective role wherever the host reads users -----------------------------------------

def test_effective_role_in_host_reads_and_role_filter(server):
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    ada = server.host_user("acme", "ada@acme.example", role="developer")
    bob = server.host_user("acme", "bob@acme.example")
    assert ada[TENANT_URN] == {"role": "developer", "effectiveRole": "developer",
                               "roleSource": "direct"}
    assert bob[TENANT_URN] == {"effectiveRole": "reporting", "roleSource": "default"}
    assert TENANT_URN in bob["schemas"]
    # A mapped group moves ada's effective role without writing ada.
    server.admin("PUT", "/tenants/acme/role-map",
                 {"rules": [{"group": "Admins", "role": "admin", "priority": 1}]})
    r = server.scim("POST", "/Groups", token, {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Admins",
        "members": [{"value": ada["id"]}]})
    assert r.status_code == 201, r.text
    got = server.admin("GET", f"/tenants/acme/users/{ada['id']}").json()
    assert got[TENANT_URN]["effectiveRole"] == "admin"
    assert got[TENANT_URN]["roleSource"] == "group"
    # SCIM clients still see only what they wrote.
    assert server.scim("GET", f"/Users/{ada['id']}", token).json()[TENANT_URN] == {
        "role": "developer"}
    # The list carries it on every user, with a projection too, and filters by it.
    page = server.admin("GET", "/tenants/acme/users").json()
    assert {u["userName"]: u[TENANT_URN]["effectiveRole"] for u in page["Resources"]} == {
        "ada@acme.example": "admin", "bob@acme.example": "reporting"}
    page = server.admin("GET", "/tenants/acme/users",
                        params={"role": "Admin", "attributes": "userName"}).json()
    assert page["totalResults"] == 1
    assert page["Resources"][0]["userName"] == "ada@acme.example"
    assert page["Resources"][0][TENANT_URN]["effectiveRole"] == "admin"
    page = server.admin("GET", "/tenants/acme/users", params={
        "role": "reporting", "filter": 'userName sw "a" or userName sw "b"'}).json()
    assert [u["userName"] for u in page["Resources"]] == ["bob@acme.example"]
    assert "not a role" in error_of(
        server.admin("GET", "/tenants/acme/users", params={"role": "owner"}), 400)
    # A role the host wants to read on SCIM is not a SCIM parameter: it is ignored there.
    page = server.scim("GET", "/Users", token, params={"role": "admin"}).json()
    assert page["totalResults"] == 2


def test_user_events_carry_the_effective_role(server):
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    r = server.scim("POST", "/Users", token, {**user_body("ada@acme.example"),
                                              "schemas": [USER_URN, TENANT_URN],
                                              TENANT_URN: {"role": "admin"}})
    uid = r.json()["id"]
    server.scim("PATCH", f"/Users/{uid}", token, {
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "CTO"}]})
    server.scim("PATCH", f"/Users/{uid}", token, {
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": f"{TENANT_URN}:role",
                                            "value": "templates"}]})
    server.scim("DELETE", f"/Users/{uid}", token)
    evs = server.admin("GET", "/tenants/acme/events", params={"kind": "user."}).json()["events"]
    seen = [(e["kind"], e["data"].get("effectiveRole"), e["data"].get("roleSource"))
            for e in evs]
    assert seen == [
        ("user.created", "admin", "direct"),
        ("user.updated", "admin", "direct"),
        ("user.role_changed", None, None),
        ("user.updated", "templates", "direct"),
        ("user.deleted", "templates", "direct"),
    ], seen


def test_webhook_deliveries_name_their_tenant_and_carry_roles(server_factory):
    server = server_factory(extra_args=FAST)
    receiver = Receiver()
    try:
        for slug in ("acme", "globex"):
            server.make_tenant(slug)
            r = server.admin("POST", f"/tenants/{slug}/webhooks", {"url": receiver.url})
            assert r.status_code == 201, r.text
        server.host_user("acme", "ada@acme.example", role="admin")
        server.host_user("globex", "bob@globex.example")
        assert receiver.wait_for(lambda: len(receiver.accepted_events()) == 2)
        with receiver.lock:
            got = [(h, json.loads(raw)) for h, raw, _ in receiver.received]
        by_tenant = {}
        for headers, body in got:
            assert headers["Scimd-Tenant"] == body["tenant"]
            by_tenant[body["tenant"]] = body["events"]
        assert set(by_tenant) == {"acme", "globex"}
        ada = by_tenant["acme"][0]
        assert ada["kind"] == "user.created" and ada["data"]["effectiveRole"] == "admin"
        assert by_tenant["globex"][0]["data"]["effectiveRole"] == "reporting"
    finally:
        receiver.close()


@pytest.mark.parametrize("mode", ["push", "import-only"])
def test_host_writes_users_in_every_mode(server, mode):
    server.make_tenant("acme", provisioningMode=mode)
    uid = server.host_user("acme", "ada@acme.example")["id"]
    r = server.admin("PATCH", f"/tenants/acme/users/{uid}", {
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]})
    assert r.status_code == 200 and r.json()["title"] == "x"


HR_URN = "urn:ietf:params:scim:schemas:extension:sparkhr:2.0:User"


def test_host_view_follows_the_configured_catalogue(server_factory):
    s = server_factory(extra_args=["--roles", "owner,employee", "--default-role", "employee",
                                   "--admin-role", "owner", "--role-schema", HR_URN])
    s.make_tenant("acme")
    body = {**user_body("ada@acme.example"), "schemas": [USER_URN, HR_URN],
            HR_URN: {"role": "OWNER"}}
    r = s.admin("POST", "/tenants/acme/users", body)
    assert r.status_code == 201, r.text
    assert r.json()[HR_URN] == {"role": "owner", "effectiveRole": "owner", "roleSource": "direct"}
    assert TENANT_URN not in r.json()
    page = s.admin("GET", "/tenants/acme/users", params={"role": "owner"}).json()
    assert page["totalResults"] == 1
    ev = s.admin("GET", "/tenants/acme/events").json()["events"][0]
    assert ev["data"]["effectiveRole"] == "owner"


def test_host_view_without_roles(server_factory):
    s = server_factory(extra_args=["--roles", ""])
    s.make_tenant("acme")
    r = s.admin("POST", "/tenants/acme/users", user_body("ada@acme.example"))
    assert r.status_code == 201, r.text
    assert TENANT_URN not in r.json() and r.json()["schemas"] == [USER_URN]
    ev = s.admin("GET", "/tenants/acme/events").json()["events"][0]
    assert ev["data"]["effectiveRole"] is None and ev["data"]["roleSource"] is None
    assert "not a role" in error_of(
        s.admin("GET", "/tenants/acme/users", params={"role": "admin"}), 400)


# --- the SCIM base URL the IT admin pastes into the identity provider -------------------------

def test_tenant_and_token_answers_carry_the_scim_base_url(server):
    base = server.url + "/scim/v2"
    t = server.make_tenant("acme")
    assert t["scimBaseUrl"] == base
    assert server.admin("GET", "/tenants/acme").json()["scimBaseUrl"] == base
    listed = server.admin("GET", "/tenants").json()["tenants"]
    assert [x["scimBaseUrl"] for x in listed] == [base]
    # Read-only: a GET→PATCH round trip with it unchanged works; another value is refused, and
    # so is any value on create.
    got = server.admin("GET", "/tenants/acme").json()
    r = server.admin("PATCH", "/tenants/acme", dict(got, displayName="Acme Inc"))
    assert r.status_code == 200, r.text
    assert r.json()["scimBaseUrl"] == base
    msg = error_of(server.admin("PATCH", "/tenants/acme",
                                {"scimBaseUrl": "https://elsewhere.example/scim/v2"}), 400)
    assert 'read-only field "scimBaseUrl"' in msg
    msg = error_of(server.admin("POST", "/tenants", {"slug": "hr", "scimBaseUrl": base}), 400)
    assert "scimBaseUrl" in msg
    # A tenant on its own public URL: the base follows it, as the console's does.
    own = server.url + "/acme-eu"
    r = server.admin("PATCH", "/tenants/acme", {"publicUrl": own})
    assert r.status_code == 200 and r.json()["scimBaseUrl"] == own + "/scim/v2", r.text
    server.host_user("acme", "owner@acme.example", role="admin")
    r = server.admin("POST", "/tenants/acme/tokens",
                     {"actingUser": "owner@acme.example", "label": "okta"})
    assert r.status_code == 201, r.text
    minted = r.json()
    assert minted["scimBaseUrl"] == own + "/scim/v2"
    # The pair works as pasted.
    r = requests.get(minted["scimBaseUrl"] + "/Users",
                     headers={"Authorization": "Bearer " + minted["token"]}, timeout=10)
    assert r.status_code == 200, r.text
    r = server.admin("POST", f"/tenants/acme/tokens/{minted['id']}/rotate",
                     {"actingUser": "owner@acme.example"})
    assert r.status_code == 201 and r.json()["scimBaseUrl"] == own + "/scim/v2", r.text
    # The console session names the same URL.
    link = server.admin("POST", "/tenants/acme/setup-links",
                        {"actingUser": "owner@acme.example"}).json()
    s = server.request("POST", "/console/api/setup",
                       json_body={"token": link["url"].split("#setup=")[1]})
    assert s.status_code == 201 and s.json()["scimBaseUrl"] == own + "/scim/v2", s.text
