"""Issue 14: identity lifecycle across SCIM and SSO. A link of an IdP subject to a user follows
the user's life (deleted with it, re-made by the next sign-in of a user created again), the
verified mark follows the IdP a connection trusts, email-shaped NameIDs compare without letter
case, the Okta "-admin" URL is refused on every field that names the org, and admins see and
remove a user's links."""
import time
import urllib.parse

import pytest
import requests

from conftest import user_body
from saml_idp import IDP_ENTITY, SamlIdP, encode
from sso_op import CLIENT_ID, CLIENT_SECRET

SSO_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
COMPLETE = "https://app.example.test/sso/done"
TX = "__Host-scimd_tx"


# ---- helpers ----

def wait_log(s, needle):
    for _ in range(40):  # the log is read by another thread
        if needle in s.log:
            return True
        time.sleep(0.05)
    return needle in s.log


def signed_in(s, r):
    """The redeemed identity of a successful sign-in."""
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(COMPLETE + "?"), loc
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    red = s.admin("POST", "/sso/redeem", {"code": q["code"]})
    assert red.status_code == 200, red.text
    return red.json()


def refused(s, r, reason):
    assert r.status_code == 403, r.text
    assert "Location" not in r.headers
    assert wait_log(s, f"result=rejected reason={reason}"), s.log[-1500:]


def links(s, user_id, status=200):
    r = s.admin("GET", f"/tenants/acme/users/{user_id}/sso-links")
    assert r.status_code == status, r.text
    return r.json()["links"] if status == 200 else r.json()


def create(s, name, **extra):
    r = s.scim("POST", "/Users", s.scim_token, user_body(name, **extra))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def set_active(s, user_id, active):
    r = s.scim("PATCH", f"/Users/{user_id}", s.scim_token,
               {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": active}}]})
    assert r.status_code in (200, 204), r.text


def last_event(s, kind):
    evs = s.admin("GET", "/tenants/acme/events").json()["events"]
    found = [e for e in evs if e["kind"] == kind]
    return found[-1] if found else None


# ---- OIDC ----

def oidc_connection(op, **extra):
    body = {"issuer": op.issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
            "signInCompleteUrl": COMPLETE, "idpInitiated": True}
    body.update(extra)
    return body


def oidc_server(server_factory, op, **tenant):
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"])
    s.make_tenant("acme", **tenant)
    s.scim_token = s.mint("acme")["token"]
    r = s.admin("PUT", "/tenants/acme/sso/oidc", oidc_connection(op))
    assert r.status_code == 200, r.text
    return s


@pytest.fixture
def oidc(server_factory, op):
    return oidc_server(server_factory, op)


def oidc_login(s, hint, **query):
    """A whole SP-initiated sign-in at the test OP as `hint`; the callback's answer."""
    q = urllib.parse.urlencode({"login_hint": hint, **query})
    r = s.request("GET", "/sso/acme/oidc/login?" + q, allow_redirects=False)
    assert r.status_code == 302, r.text
    cookie = r.headers["Set-Cookie"].split(TX + "=", 1)[1].split(";", 1)[0]
    at_idp = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
    assert at_idp.status_code == 302, at_idp.text
    path = at_idp.headers["Location"].split(str(s.port), 1)[1]
    return s.request("GET", path, headers={"Cookie": f"{TX}={cookie}"}, allow_redirects=False)


def test_oidc_deleted_then_recreated_user_signs_in_and_is_linked_again(oidc, op):
    first = create(oidc, "bob@example.test")
    assert signed_in(oidc, oidc_login(oidc, "bob"))["userId"] == first
    assert [(l["protocol"], l["issuer"], l["subject"]) for l in links(oidc, first)] == \
        [("oidc", op.issuer, "00u-bob")]
    assert oidc.scim("DELETE", f"/Users/{first}", oidc.scim_token).status_code == 204
    # The link went with the user, in the same transaction.
    assert links(oidc, first, status=404)
    second = create(oidc, "bob@example.test")
    assert second != first and links(oidc, second) == []
    assert signed_in(oidc, oidc_login(oidc, "bob"))["userId"] == second
    assert [l["subject"] for l in links(oidc, second)] == ["00u-bob"]
    assert "reason=removed_user" not in oidc.log


def test_oidc_deactivated_user_is_refused_and_signs_in_again_when_rehired(oidc):
    uid = create(oidc, "bob@example.test")
    assert signed_in(oidc, oidc_login(oidc, "bob"))["userId"] == uid
    set_active(oidc, uid, False)
    refused(oidc, oidc_login(oidc, "bob"), "inactive_user")
    assert len(links(oidc, uid)) == 1  # deactivated, not removed: the link stays
    set_active(oidc, uid, True)
    assert signed_in(oidc, oidc_login(oidc, "bob"))["userId"] == uid


def test_oidc_remove_policy_deactivation_drops_links_and_okta_repost_signs_in(server_factory,
                                                                             op):
    s = oidc_server(server_factory, op, deactivationPolicy="remove")
    first = create(s, "bob@example.test")
    assert signed_in(s, oidc_login(s, "bob"))["userId"] == first
    set_active(s, first, False)  # removed under the tenant's policy
    assert links(s, first, status=404)
    refused(s, oidc_login(s, "bob"), "unknown_user")
    second = create(s, "bob@example.test")  # Okta reactivates by POSTing the user again
    assert signed_in(s, oidc_login(s, "bob"))["userId"] == second


def test_oidc_email_claim_matches_in_any_letter_case(oidc):
    # sso_op's alice says "Alice@Example.test"; the user is stored in other letters.
    uid = create(oidc, "ALICE@example.TEST")
    assert signed_in(oidc, oidc_login(oidc, "alice"))["userId"] == uid


def test_admin_lists_and_removes_links_with_an_event(oidc):
    uid = create(oidc, "bob@example.test")
    other = create(oidc, "alice@example.test")
    signed_in(oidc, oidc_login(oidc, "bob"))
    signed_in(oidc, oidc_login(oidc, "alice"))
    got = links(oidc, uid)
    assert len(got) == 1 and set(got[0]) == {"protocol", "issuer", "subject", "created"}
    assert got[0]["created"].endswith("Z")
    r = oidc.admin("DELETE", f"/tenants/acme/users/{uid}/sso-links")
    assert r.status_code == 204, r.text
    assert links(oidc, uid) == []
    assert len(links(oidc, other)) == 1  # only that user's links
    ev = last_event(oidc, "user.sso_unlinked")
    assert ev["actor"] == "operator" and ev["resourceId"] == uid
    assert ev["data"] == {"count": 1, "links": [{"issuer": got[0]["issuer"],
                                                  "subject": "00u-bob"}]}
    # Nothing left: 204 again, and no second event.
    n = len(oidc.admin("GET", "/tenants/acme/events").json()["events"])
    assert oidc.admin("DELETE", f"/tenants/acme/users/{uid}/sso-links").status_code == 204
    assert len(oidc.admin("GET", "/tenants/acme/events").json()["events"]) == n
    # The next sign-in is a first sign-in again.
    assert signed_in(oidc, oidc_login(oidc, "bob"))["userId"] == uid
    assert len(links(oidc, uid)) == 1


def test_links_of_an_unknown_user_are_404(oidc):
    missing = "00000000-0000-4000-8000-000000000000"
    assert oidc.admin("GET", f"/tenants/acme/users/{missing}/sso-links").status_code == 404
    assert oidc.admin("DELETE", f"/tenants/acme/users/{missing}/sso-links").status_code == 404
    assert last_event(oidc, "user.sso_unlinked") is None
    assert oidc.request("GET", f"/admin/v1/tenants/acme/users/{missing}/sso-links") \
        .status_code == 401


def test_oidc_verified_resets_when_the_idp_changes_only(oidc, op):
    create(oidc, "bob@example.test")
    signed_in(oidc, oidc_login(oidc, "bob"))
    get = lambda: oidc.admin("GET", "/tenants/acme/sso/oidc").json()  # noqa: E731
    assert get()["verified"] is True
    first = get()["firstSignIn"]
    # The same values again, and a flag toggled: still verified, same first sign-in.
    for body in (oidc_connection(op), oidc_connection(op, idpInitiated=False)):
        r = oidc.admin("PUT", "/tenants/acme/sso/oidc", body)
        assert r.status_code == 200, r.text
        assert r.json()["verified"] is True and r.json()["firstSignIn"] == first
    # Another client ID is another relying party: not verified until someone signs in.
    r = oidc.admin("PUT", "/tenants/acme/sso/oidc", oidc_connection(op, clientId="other-client"))
    assert r.status_code == 200, r.text
    assert r.json()["verified"] is False and "firstSignIn" not in r.json()


@pytest.mark.parametrize("field,value,right", [
    ("oktaOrgUrl", "https://ACME-Admin.okta.com", "https://acme.okta.com"),
    ("oktaOrgUrl", "https://acme-admin.okta.com/", "https://acme.okta.com/"),
    ("issuer", "https://acme-ADMIN.okta.com/oauth2/default", "https://acme.okta.com/oauth2/default"),
])
def test_okta_admin_url_is_refused_in_every_oidc_field(oidc, op, field, value, right):
    before = oidc.admin("GET", "/tenants/acme/sso/oidc").json()
    # An issuer beside the org URL no longer hides an admin org URL (and vice versa).
    body = {"oktaOrgUrl": "https://acme.okta.com", "issuer": op.issuer, "clientId": "x",
            "clientSecret": "y", "signInCompleteUrl": COMPLETE}
    body[field] = value
    r = oidc.admin("PUT", "/tenants/acme/sso/oidc", body)
    assert r.status_code == 400, r.text
    msg = r.json()["error"]["message"]
    assert msg.startswith(field + ":") and "admin console" in msg and f"use {right} " in msg
    assert oidc.admin("GET", "/tenants/acme/sso/oidc").json() == before


# ---- SAML ----

@pytest.fixture(scope="module")
def idp():
    return SamlIdP()


@pytest.fixture
def saml(server_factory, idp):
    s = server_factory(extra_args=["--sso-test-http", "on"])
    s.make_tenant("acme")
    s.scim_token = s.mint("acme")["token"]
    r = s.admin("PUT", "/tenants/acme/sso/saml", saml_connection(idp))
    assert r.status_code == 200, r.text
    s.acs = f"{s.url}/sso/acme/saml/acs"
    s.audience = f"{s.url}/sso/acme/saml/metadata"
    return s


def saml_connection(idp, **extra):
    body = {"metadataXml": idp.metadata(), "signInCompleteUrl": COMPLETE, "idpInitiated": True}
    body.update(extra)
    return body


def saml_post(s, idp, email, name_id=None):
    xml = idp.response(s.acs, s.audience, email=email, name_id=name_id)
    body = "SAMLResponse=" + urllib.parse.quote(encode(xml), safe="")
    return s.request("POST", "/sso/acme/saml/acs", data=body, allow_redirects=False,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_saml_deleted_then_recreated_user_signs_in(saml, idp):
    first = create(saml, "alice@example.test")
    assert signed_in(saml, saml_post(saml, idp, "alice@example.test"))["userId"] == first
    assert [(l["protocol"], l["issuer"], l["subject"]) for l in links(saml, first)] == \
        [("saml", IDP_ENTITY, "alice@example.test")]
    assert saml.scim("DELETE", f"/Users/{first}", saml.scim_token).status_code == 204
    refused(saml, saml_post(saml, idp, "alice@example.test"), "unknown_user")
    second = create(saml, "alice@example.test")
    assert signed_in(saml, saml_post(saml, idp, "alice@example.test"))["userId"] == second


def test_saml_user_deleted_by_the_management_api_loses_its_links(server_factory, idp):
    # An import-only tenant: the host application owns its users through /admin/v1.
    s = server_factory(extra_args=["--sso-test-http", "on"])
    s.make_tenant("acme", provisioningMode="import-only")
    assert s.admin("PUT", "/tenants/acme/sso/saml", saml_connection(idp)).status_code == 200
    s.acs = f"{s.url}/sso/acme/saml/acs"
    s.audience = f"{s.url}/sso/acme/saml/metadata"

    def create_host(name):
        r = s.admin("POST", "/tenants/acme/users", user_body(name))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    first = create_host("alice@example.test")
    assert signed_in(s, saml_post(s, idp, "alice@example.test"))["userId"] == first
    assert s.admin("DELETE", f"/tenants/acme/users/{first}").status_code == 204
    assert links(s, first, status=404)
    second = create_host("alice@example.test")
    assert signed_in(s, saml_post(s, idp, "alice@example.test"))["userId"] == second


def test_saml_deactivated_user_is_refused_then_rehired(saml, idp):
    uid = create(saml, "alice@example.test")
    signed_in(saml, saml_post(saml, idp, "alice@example.test"))
    set_active(saml, uid, False)
    refused(saml, saml_post(saml, idp, "alice@example.test"), "inactive_user")
    set_active(saml, uid, True)
    assert signed_in(saml, saml_post(saml, idp, "alice@example.test"))["userId"] == uid


def test_saml_email_name_id_in_other_letter_case_is_the_same_user(saml, idp):
    uid = create(saml, "alice@example.test")
    assert signed_in(saml, saml_post(saml, idp, "alice@example.test"))["userId"] == uid
    r = saml_post(saml, idp, "ALICE@Example.TEST")
    assert signed_in(saml, r)["userId"] == uid
    assert "linked_to_other_subject" not in saml.log
    assert [l["subject"] for l in links(saml, uid)] == ["alice@example.test"]


def test_saml_verified_resets_when_the_idp_changes_and_the_gate_follows(saml, idp):
    saml.admin("PATCH", "/tenants/acme", {"samlRequired": True})
    gate = lambda: [m["condition"] for m in  # noqa: E731
                    saml.admin("GET", "/tenants/acme/token-gate").json()["missing"]]
    assert "saml" in gate()
    create(saml, "alice@example.test")
    signed_in(saml, saml_post(saml, idp, "alice@example.test"))
    assert "saml" not in gate()
    # Same IdP re-saved, a flag toggled: still verified.
    for body in (saml_connection(idp), saml_connection(idp, idpInitiated=False)):
        r = saml.admin("PUT", "/tenants/acme/sso/saml", body)
        assert r.status_code == 200 and r.json()["verified"] is True, r.text
    assert "saml" not in gate()
    cert = idp.cert_pem()
    base = {"idpEntityId": IDP_ENTITY, "ssoUrl": saml.admin(
        "GET", "/tenants/acme/sso/saml").json()["ssoUrl"], "certificates": [cert],
        "signInCompleteUrl": COMPLETE, "idpInitiated": True}
    r = saml.admin("PUT", "/tenants/acme/sso/saml", base)  # the same IdP, given by hand
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    for change in ({"idpEntityId": "http://www.okta.com/exkOTHER"},
                   {"ssoUrl": "https://acme.okta.com/app/other/sso/saml"},
                   {"certificates": [cert, open(idp.evil_crt).read()]}):
        r = saml.admin("PUT", "/tenants/acme/sso/saml", base)
        if not r.json()["verified"]:  # the previous change reset it: sign in again
            r = saml.admin("PUT", "/tenants/acme/sso/saml", base)
            signed_in(saml, saml_post(saml, idp, "alice@example.test"))
        assert saml.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is True
        r = saml.admin("PUT", "/tenants/acme/sso/saml", {**base, **change})
        assert r.status_code == 200, r.text
        assert r.json()["verified"] is False, change
        assert "saml" in gate(), change


@pytest.mark.parametrize("field,value,right", [
    ("ssoUrl", "https://ACME-admin.okta.com/app/x/sso/saml",
     "https://acme.okta.com/app/x/sso/saml"),
    ("idpEntityId", "https://acme-admin.oktapreview.com/exk1",
     "https://acme.oktapreview.com/exk1"),
    ("metadataUrl", "https://acme-Admin.okta.com/app/x/sso/saml/metadata",
     "https://acme.okta.com/app/x/sso/saml/metadata"),
])
def test_okta_admin_url_is_refused_in_every_saml_field(saml, idp, field, value, right):
    before = saml.admin("GET", "/tenants/acme/sso/saml").json()
    body = {"idpEntityId": IDP_ENTITY, "ssoUrl": before["ssoUrl"],
            "certificates": [idp.cert_pem()], "signInCompleteUrl": COMPLETE}
    if field == "metadataUrl":
        body = {"metadataUrl": value, "signInCompleteUrl": COMPLETE}
    else:
        body[field] = value
    r = saml.admin("PUT", "/tenants/acme/sso/saml", body)
    assert r.status_code == 400, r.text
    msg = r.json()["error"]["message"]
    assert msg.startswith(field + ":") and f"use {right} " in msg, msg
    assert saml.admin("GET", "/tenants/acme/sso/saml").json() == before


def test_saml_admin_named_host_outside_okta_is_not_refused(saml, idp):
    before = saml.admin("GET", "/tenants/acme/sso/saml").json()
    r = saml.admin("PUT", "/tenants/acme/sso/saml",
                   {"idpEntityId": "https://corp-admin.example.test/idp",
                    "ssoUrl": before["ssoUrl"], "certificates": [idp.cert_pem()],
                    "signInCompleteUrl": COMPLETE})
    assert r.status_code == 200, r.text
