"""The two seed guides' orders, end to end through /admin/v1 alone (issue 13; docs/host-integration.md).

SparkPost (push, SAML required): the host creates the tenant and registers its existing account
admin → the SAML connection is saved → that admin signs in through SAML → the gate opens → the
host mints the token on the admin's behalf → Okta imports the host's users and pushes new ones,
updates, roles from groups, and deactivations (which remove, as SparkPost's guide says).

Spark HR (import-only, OIDC): the host creates the tenant and its users → the OIDC connection is
saved → users sign in, SP- and IdP-initiated → the host mints the token → Okta imports, may not
write, and sees the host's deactivation at the next import.

No step uses the CLI or a server flag beyond the test-only ones for local identity providers."""
import pytest

from conftest import ENTERPRISE_URN, SCIM, TENANT_URN, USER_URN, assert_scim_error, user_body
from saml_idp import SamlIdP
from sso_op import CLIENT_ID, CLIENT_SECRET
import test_sso_oidc as oidc
import test_sso_saml as saml

SSO_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def okta_import(s, token, page=2):
    """What Okta's "Import Now" does: pages of startIndex/count until totalResults."""
    users, start = [], 1
    for _ in range(100):
        r = s.scim("GET", f"/Users?startIndex={start}&count={page}", token)
        assert r.status_code == 200, r.text
        body = r.json()
        users += body["Resources"]
        start += body["itemsPerPage"]
        if start > body["totalResults"] or not body["Resources"]:
            break
    return users


def gate(s, slug, acting):
    return s.admin("GET", f"/tenants/{slug}/token-gate", params={"actingUser": acting}).json()


@pytest.fixture(scope="module")
def idp():
    return SamlIdP()


def test_sparkpost_order_push_with_saml_required(server_factory, idp):
    s = server_factory(extra_args=["--sso-test-http", "on"])
    # 1. The host creates the customer's tenant: premier plan, integration enabled by the
    #    operator, SAML required before SCIM, deactivation removes (SparkPost's guide).
    s.make_tenant("acme", plan="premier", samlRequired=True, deactivationPolicy="remove")
    # 2. The host registers its existing account admin and users, with its own ids.
    admin = s.host_user("acme", "alice@example.test", role="admin", externalId="sp-1")
    s.host_user("acme", "bob@example.test", role="developer", externalId="sp-2")
    g = gate(s, "acme", "sp-1")
    assert g["allowed"] is False and [m["condition"] for m in g["missing"]] == ["saml"]
    r = s.admin("POST", "/tenants/acme/tokens", {"actingUser": "sp-1", "label": "okta"})
    assert r.status_code == 403 and "SAML" in r.text
    # 3. SAML is configured (the tenant admin pastes the IdP metadata; the host sends it).
    r = s.admin("PUT", "/tenants/acme/sso/saml",
                {"metadataXml": idp.metadata(), "signInCompleteUrl": saml.COMPLETE})
    assert r.status_code == 200 and r.json()["verified"] is False, r.text
    assert gate(s, "acme", "sp-1")["allowed"] is False
    # 4. The admin signs in through SAML; the host redeems the code and learns the role.
    s.acs = f"{s.url}/sso/acme/saml/acs"
    s.audience = f"{s.url}/sso/acme/saml/metadata"
    request_id, cookie, _ = saml.start(s)
    _, who = saml.ok(s, saml.post(s, idp.response(s.acs, s.audience, email="alice@example.test",
                                                  in_response_to=request_id), cookie))
    assert who["userId"] == admin["id"] and who["role"] == "admin", who
    # 5. The gate opens; the host mints the token on its admin's behalf, by userName.
    assert gate(s, "acme", "alice@example.test")["allowed"] is True
    r = s.admin("POST", "/tenants/acme/tokens",
                {"actingUser": "alice@example.test", "label": "okta"})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    # 6. Okta: Test API Credentials, then Import Now finds the host's users, matched by userName.
    r = s.scim("GET", "/Users?startIndex=1&count=1", token)
    assert r.status_code == 200 and r.json()["totalResults"] == 2
    imported = okta_import(s, token, page=1)
    assert sorted(u["userName"] for u in imported) == ["alice@example.test", "bob@example.test"]
    match = s.scim("GET", "/Users", token, params={"filter": 'userName eq "Bob@Example.test"'})
    assert match.json()["totalResults"] == 1
    # 7. Okta pushes: a new user, an attribute update, roles from groups with priority.
    r = s.scim("POST", "/Users", token, user_body("carol@example.test"))
    assert r.status_code == 201, r.text
    carol = r.json()["id"]
    r = s.scim("PATCH", f"/Users/{carol}", token, {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"name.givenName": "Caroline"}}]})
    assert r.status_code == 200 and r.json()["name"]["givenName"] == "Caroline", r.text
    rules = [{"group": "SparkPost - Admin", "role": "admin", "priority": 1},
             {"group": "SparkPost - Templates", "role": "templates", "priority": 3}]
    assert s.admin("PUT", "/tenants/acme/role-map", {"rules": rules}).status_code == 200
    for name in ("SparkPost - Templates", "SparkPost - Admin"):
        r = s.scim("POST", "/Groups", token, {"schemas": [GROUP], "displayName": name,
                                              "members": [{"value": carol}]})
        assert r.status_code == 201, r.text
    # The host reads roles where it reads users, and can list the admins.
    admins = s.admin("GET", "/tenants/acme/users", params={"role": "admin"}).json()
    assert sorted(u["userName"] for u in admins["Resources"]) == [
        "alice@example.test", "carol@example.test"]
    # 8. Okta deactivates carol: under "remove" the user is gone, with its role in the event.
    r = s.scim("PATCH", f"/Users/{carol}", token, {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200, r.text
    assert s.admin("GET", f"/tenants/acme/users/{carol}").status_code == 404
    events = s.admin("GET", "/tenants/acme/events").json()["events"]
    last = events[-1]
    assert last["kind"] == "user.deleted" and last["data"]["reason"] == "deactivated"
    assert last["data"]["effectiveRole"] == "admin"
    created = [e for e in events if e["kind"] == "user.created"]
    assert [(e["actor"].split(":")[0], e["data"]["effectiveRole"]) for e in created] == [
        ("operator", "admin"), ("operator", "developer"), ("token", "reporting")]


def test_spark_hr_order_import_only_with_oidc(server_factory, op):
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"])
    # 1. The host creates the workspace's tenant (import-only: Spark is the source of truth).
    s.make_tenant("acme", provisioningMode="import-only")
    # 2. Spark's users exist first: the admin and employees, with HR attributes.
    admin = s.host_user("acme", "bob@example.test", role="admin", externalId="hr-7",
                      title="IT lead")
    alice = s.host_user("acme", "alice@example.test", externalId="hr-8",
                      schemas=[USER_URN, ENTERPRISE_URN],
                      **{ENTERPRISE_URN: {"department": "Sales"}})
    # 3. The OIDC connection is saved (org URL, client id and secret from Okta).
    r = s.admin("PUT", "/tenants/acme/sso/oidc", {
        "issuer": op.issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
        "signInCompleteUrl": oidc.COMPLETE, "idpInitiated": True})
    assert r.status_code == 200, r.text
    # 4. Sign-in from Spark (SP-initiated) and from the Okta dashboard (IdP-initiated), each
    #    matched by email to the existing user.
    q = oidc.handoff_code(oidc.login(s, "alice"))
    who = oidc.redeem(s, q["code"]).json()
    assert who["userId"] == alice["id"] and who["role"] == "reporting"
    authz, cookie = oidc.begin(s, "/sso/acme/oidc/initiate", iss=op.issuer, login_hint="bob")
    q = oidc.handoff_code(oidc.callback(s, oidc.at_idp(authz), cookie))
    who = oidc.redeem(s, q["code"]).json()
    assert who["userId"] == admin["id"] and who["initiated"] == "idp" and who["role"] == "admin"
    # 5. The admin generates the SCIM token (through the host, named by Spark's own id).
    r = s.admin("POST", "/tenants/acme/tokens", {"actingUser": "hr-7", "label": "okta"})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    # 6. Okta: Test Connector Configuration; the service says it is read-only.
    spc = s.scim("GET", "/ServiceProviderConfig", token).json()
    assert spc["patch"]["supported"] is False and spc["bulk"]["supported"] is False
    # 7. Import: the whole profile, and writes are refused with a SCIM error.
    imported = {u["userName"]: u for u in okta_import(s, token)}
    assert set(imported) == {"alice@example.test", "bob@example.test"}
    assert imported["alice@example.test"][ENTERPRISE_URN]["department"] == "Sales"
    r = s.scim("POST", "/Users", token, user_body("eve@example.test"))
    assert "import-only" in assert_scim_error(r, 403)["detail"]
    assert r.headers["Content-Type"].startswith(SCIM)
    # 8. Spark deactivates alice: the next import shows active=false, and she cannot sign in.
    r = s.admin("POST", f"/tenants/acme/users/{alice['id']}/deactivate")
    assert r.status_code == 200 and r.json()["active"] is False
    imported = {u["userName"]: u for u in okta_import(s, token)}
    assert imported["alice@example.test"]["active"] is False
    authz, cookie = oidc.begin(s, login_hint="alice")
    r = oidc.callback(s, oidc.at_idp(authz), cookie)
    assert r.status_code in (403, 404) and not r.headers.get("Location", "").startswith(
        oidc.COMPLETE), r.text
    # The host's writes are all in the audit trail, by the operator.
    kinds = [(e["kind"], e["actor"]) for e in
             s.admin("GET", "/tenants/acme/events", params={"kind": "user."}).json()["events"]]
    assert kinds == [("user.created", "operator"), ("user.created", "operator"),
                     ("user.deactivated", "operator")]
