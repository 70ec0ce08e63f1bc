"""Who may mint a SCIM token and when a token works (issue 5 item 3; docs/tenants.md).

Minting needs: a plan that includes SCIM, the integration enabled, an active admin acting (the
CLI acts as the operator), and SAML SSO when the tenant requires it. Using a token needs the plan
and the integration at the time of use."""
import hashlib
import json

import pytest

from conftest import TENANT_URN, USER_URN, assert_scim_error


def mint_as(server, actor, slug="acme"):
    return server.admin("POST", f"/tenants/{slug}/tokens", {"label": "okta", "actingUser": actor})


def refusal(r):
    assert r.status_code == 403, r.text
    body = r.json()["error"]
    assert body["code"] == "FORBIDDEN"
    return body["message"]


@pytest.fixture
def acme(server, tenant_token):
    """Tenant acme with one operator-minted token, an admin and a developer."""
    admin = server.make_admin(tenant_token)
    r = server.scim("POST", "/Users", tenant_token,
                    {"schemas": [USER_URN, TENANT_URN], "userName": "dev@acme.example",
                     TENANT_URN: {"role": "developer"}})
    assert r.status_code == 201
    return {"token": tenant_token, "admin": admin, "dev": r.json()["id"]}


def test_active_admin_mints_through_the_api(server, acme):
    r = mint_as(server, acme["admin"])
    assert r.status_code == 201, r.text
    assert server.scim("GET", "/Users", r.json()["token"]).status_code == 200
    gate = server.admin("GET", "/tenants/acme/token-gate",
                        params={"actingUser": acme["admin"]}).json()
    assert gate == {"allowed": True, "missing": [], "detail": ""}


def test_non_admin_unknown_and_missing_acting_user_are_refused(server, acme):
    assert "not the admin role \"admin\"" in refusal(mint_as(server, acme["dev"]))
    assert "is not a user of this tenant" in refusal(mint_as(server, "0000-nope"))
    r = server.admin("POST", "/tenants/acme/tokens", {"label": "x"})
    assert "no acting user was given" in refusal(r)
    # Another tenant's admin does not count here.
    server.make_tenant("other")
    assert "is not a user of this tenant" in refusal(mint_as(server, acme["admin"], "other"))


def test_deactivated_admin_is_refused(server, acme):
    r = server.scim("PATCH", f"/Users/{acme['admin']}", acme["token"],
                    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200
    assert "is deactivated" in refusal(mint_as(server, acme["admin"]))


def test_admin_by_mapped_group_may_mint(server, acme):
    server.admin("PUT", "/tenants/acme/role-map",
                 {"rules": [{"group": "Owners", "role": "admin", "priority": 1}]})
    assert "not the admin role \"admin\"" in refusal(mint_as(server, acme["dev"]))
    r = server.scim("POST", "/Groups", acme["token"],
                    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                     "displayName": "Owners", "members": [{"value": acme["dev"]}]})
    assert r.status_code == 201
    assert mint_as(server, acme["dev"]).status_code == 201


def test_plan_without_scim_refuses_mint_and_stops_tokens(server, acme):
    server.admin("PATCH", "/tenants/acme", {"plan": "basic"})
    msg = refusal(mint_as(server, acme["admin"]))
    assert 'plan "basic" does not include SCIM' in msg and "premier" in msg
    body = assert_scim_error(server.scim("GET", "/Users", acme["token"]), 401)
    assert "plan" in body["detail"]
    # Nothing was deleted: upgrading brings the same token back.
    assert len(server.admin("GET", "/tenants/acme/tokens").json()["tokens"]) == 1
    server.admin("PATCH", "/tenants/acme", {"plan": "premier"})
    assert server.scim("GET", "/Users", acme["token"]).status_code == 200


def test_disabled_integration_refuses_mint_and_stops_tokens(server, acme):
    server.admin("PATCH", "/tenants/acme", {"integrationEnabled": False})
    assert "integration is not enabled" in refusal(mint_as(server, acme["admin"]))
    r = server.scim("GET", "/Users", acme["token"])
    assert_scim_error(r, 401)
    assert "invalid_token" in r.headers["WWW-Authenticate"]
    cli = server.cli("token", "mint", "acme", check=False)
    assert cli.returncode == 1 and "integration is not enabled" in cli.stderr
    server.admin("PATCH", "/tenants/acme", {"integrationEnabled": True})
    assert server.scim("GET", "/Users", acme["token"]).status_code == 200


def test_saml_required_refuses_until_sso_is_ready(server, acme):
    server.admin("PATCH", "/tenants/acme", {"samlRequired": True})
    assert "requires SAML" in refusal(mint_as(server, acme["admin"]))
    assert "requires SAML" in server.cli("token", "mint", "acme", check=False).stderr
    tid = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    r = server.admin("POST", f"/tenants/acme/tokens/{tid}/rotate",
                     {"actingUser": acme["admin"]})
    assert "requires SAML" in refusal(r)


def test_every_missing_condition_is_named_at_once(server):
    server.make_tenant("acme", plan="free", integrationEnabled=False, samlRequired=True)
    gate = server.admin("GET", "/tenants/acme/token-gate").json()
    assert gate["allowed"] is False
    assert [m["condition"] for m in gate["missing"]] == ["plan", "integration", "actingAdmin",
                                                          "saml"]
    msg = refusal(server.admin("POST", "/tenants/acme/tokens", {}))
    for fragment in ("plan", "integration", "acting user", "SAML"):
        assert fragment in msg
    assert server.admin("GET", "/tenants/acme/tokens").json()["tokens"] == []


def test_scim_plans_are_configuration(server_factory):
    plans = ["--plans", "bronze,silver,gold,enterprise", "--scim-plans", "gold,silver"]
    server = server_factory(extra_args=plans)
    server.make_tenant("acme", plan="silver")
    assert server.cli("token", "mint", "acme", *plans).returncode == 0
    server.make_tenant("ent", plan="enterprise")
    p = server.cli("token", "mint", "ent", *plans, check=False)
    assert p.returncode == 1 and "gold,silver" in p.stderr


def test_a_plan_is_one_of_the_configured_plans(server_factory):
    server = server_factory(extra_args=["--plans", "bronze,silver,gold", "--scim-plans", "gold"])
    r = server.admin("POST", "/tenants", {"slug": "acme", "plan": "platinum"})
    assert r.status_code == 400, r.text
    assert 'plan "platinum" is not one of' in r.json()["error"]["message"]
    assert "bronze,silver,gold" in r.json()["error"]["message"]
    # The built-in default ("enterprise") is not one of these plans: a plan must be given.
    r = server.admin("POST", "/tenants", {"slug": "acme"})
    assert r.status_code == 400 and "give one" in r.json()["error"]["message"], r.text
    assert server.admin("GET", "/tenants").json()["tenants"] == []
    server.make_tenant("acme", plan="gold")
    r = server.admin("PATCH", "/tenants/acme", {"plan": "free"})
    assert r.status_code == 400, r.text
    assert server.admin("GET", "/tenants/acme").json()["plan"] == "gold"
    p = server.cli("tenant", "update", "acme", "--plan", "free", "--plans", "bronze,silver,gold",
                   "--scim-plans", "gold", check=False)
    assert p.returncode != 0 and "not one of" in p.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--plans", "gold", "--scim-plans", "gold,silver"], 'scim_plans names "silver"'),
    (["--plans", "Gold"], 'plan "Gold" must be a short lower-case name'),
    (["--plans", ","], "plans must name at least one plan"),
])
def test_inconsistent_plans_refused_at_start(server_factory, args, fragment):
    server = server_factory(extra_args=args, start=False)
    with pytest.raises(RuntimeError) as e:
        server.start(timeout=5)
    assert fragment in str(e.value)


def test_revoke_is_never_gated(server, acme):
    server.admin("PATCH", "/tenants/acme", {"integrationEnabled": False, "plan": "basic"})
    tid = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    assert server.admin("POST", f"/tenants/acme/tokens/{tid}/revoke").status_code == 200


# --- the audit trail of tokens (docs/api.md "Audit events") -----------------------------------

def token_events(server, slug="acme"):
    r = server.admin("GET", f"/tenants/{slug}/events", params={"kind": "token."})
    assert r.status_code == 200, r.text
    return r.json()["events"]


def test_mint_rotate_and_revoke_are_audited_with_who_acted(server):
    server.make_tenant("acme")
    owner = server.host_user("acme", "Owner@Acme.example", role="admin", externalId="emp-1")
    server.host_user("acme", "dev@acme.example", role="developer")
    r = server.admin("POST", "/tenants/acme/tokens", {"actingUser": "emp-1", "label": "okta"})
    assert r.status_code == 201, r.text
    old = r.json()
    r = server.admin("POST", f"/tenants/acme/tokens/{old['id']}/rotate",
                     {"actingUser": "owner@acme.example", "overlapSeconds": 60})
    assert r.status_code == 201, r.text
    new = r.json()
    assert server.admin("DELETE", f"/tenants/acme/tokens/{old['id']}").status_code == 200
    server.cli("token", "revoke", "acme", new["id"])
    # Revoking again changes nothing and records nothing; a refused mint records nothing.
    assert server.admin("DELETE", f"/tenants/acme/tokens/{old['id']}").status_code == 200
    assert mint_as(server, "dev@acme.example").status_code == 403
    ev = token_events(server)
    assert [(e["kind"], e["actor"]) for e in ev] == [
        ("token.created", "operator"), ("token.rotated", "operator"),
        ("token.revoked", "operator"), ("token.revoked", "cli")]
    created, rotated, revoked, by_cli = (e["data"] for e in ev)
    assert created == {
        "token": {"id": old["id"], "prefix": old["prefix"], "label": "okta", "expires": None,
                  "revoked": None},
        "actingUser": {"id": owner["id"], "given": "emp-1"}}
    assert rotated["token"]["id"] == new["id"] and rotated["token"]["label"] == "okta"
    assert rotated["previous"]["id"] == old["id"]
    assert rotated["previous"]["expires"] is not None and rotated["previous"]["revoked"] is None
    assert rotated["overlapSeconds"] == 60
    assert rotated["actingUser"] == {"id": owner["id"], "given": "owner@acme.example"}
    assert revoked["token"]["id"] == old["id"] and revoked["token"]["revoked"] is not None
    assert "actingUser" not in revoked
    assert by_cli["token"]["id"] == new["id"]
    assert all("resourceType" not in e and "resourceId" not in e for e in ev)
    # Never the secret, nor its hash.
    text = json.dumps(ev)
    for t in (old, new):
        assert t["token"] not in text
        assert hashlib.sha256(t["token"].encode()).hexdigest() not in text


def test_cli_mint_and_rotate_are_audited_as_the_cli(server):
    server.make_tenant("acme")
    t = server.mint("acme", label="azure")
    p = server.cli("token", "rotate", "acme", t["id"], "--overlap", "0")
    new = json.loads(p.stdout)
    ev = token_events(server)
    assert [(e["kind"], e["actor"]) for e in ev] == [("token.created", "cli"),
                                                      ("token.rotated", "cli")]
    assert ev[0]["data"] == {"token": {"id": t["id"], "prefix": t["prefix"], "label": "azure",
                                       "expires": None, "revoked": None}}
    assert ev[1]["data"]["overlapSeconds"] == 0
    assert ev[1]["data"]["previous"]["revoked"] is not None
    assert ev[1]["data"]["token"]["id"] == new["id"]
