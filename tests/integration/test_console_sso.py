"""Tenant admins sign in to the console through their tenant's SSO (issues 7 and 8):
/console/sso/{t} runs the tenant's SP-initiated flow against the local identity providers
(sso_op.py, saml_idp.py); a successful sign-in of an active admin of that tenant ends in a
console session scoped to it, and nobody else gets one."""
import re
import time
import urllib.parse

import pytest
import requests

from conftest import TENANT_URN, USER_URN, user_body
from saml_idp import SSO_URL, SamlIdP, encode
from sso_op import CLIENT_ID, CLIENT_SECRET

SSO_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
COMPLETE = "https://app.example.test/sso/done"
TX = "__Host-scimd_tx"
SAML_TX = "__Host-scimd_saml"


def admin_body(email):
    body = user_body(email)
    body["schemas"] = [USER_URN, TENANT_URN]
    body[TENANT_URN] = {"role": "admin"}
    return body


@pytest.fixture
def sso(server_factory, op):
    """acme: alice (admin) and bob (not an admin) over OIDC; other: mallory, its admin."""
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"])
    s.ids = {}
    for slug, users in (("acme", (("alice@example.test", True), ("bob@example.test", False))),
                        ("other", (("mallory@example.test", True),))):
        s.make_tenant(slug)
        token = s.mint(slug)["token"]
        for email, is_admin in users:
            r = s.scim("POST", "/Users", token, admin_body(email) if is_admin else user_body(email))
            assert r.status_code == 201, r.text
            s.ids[email] = r.json()["id"]
        r = s.admin("PUT", f"/tenants/{slug}/sso/oidc",
                    {"issuer": op.issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                     "signInCompleteUrl": COMPLETE, "idpInitiated": True})
        assert r.status_code == 200, r.text
    return s


def console_login(s, tenant="acme", hint="alice", prefix=""):
    """/console/sso/{t} → the provider → the callback, as a browser would."""
    r = s.request("GET", f"{prefix}/console/sso/{tenant}", allow_redirects=False)
    assert r.status_code == 302, r.text
    cookie = re.search(TX + r"=([A-Za-z0-9_-]+);", r.headers["Set-Cookie"]).group(1)
    authz = r.headers["Location"] + "&" + urllib.parse.urlencode({"login_hint": hint})
    at_idp = requests.get(authz, allow_redirects=False, timeout=10)
    assert at_idp.status_code == 302, at_idp.text
    path = at_idp.headers["Location"].split(str(s.port), 1)[1]
    return s.request("GET", path, headers={"Cookie": f"{TX}={cookie}"}, allow_redirects=False)


def session_cookie(r):
    m = re.search(r"scimd_console=([A-Za-z0-9_-]{43});([^,]*)", r.headers.get("Set-Cookie", ""))
    return m


def wait_log(s, text):
    for _ in range(40):  # the log is read by another thread
        if text in s.log:
            return True
        time.sleep(0.05)
    return text in s.log


def test_admin_signs_in_and_gets_a_session_of_that_tenant(sso):
    r = console_login(sso)
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == "/console/#/t/acme"
    m = session_cookie(r)
    assert m, r.headers.get("Set-Cookie")
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in m.group(2), m.group(2)
    c = {"Cookie": f"scimd_console={m.group(1)}"}
    who = sso.request("GET", "/console/api/session", headers=c)
    assert who.status_code == 200, who.text
    body = who.json()
    assert body["scope"] == "tenant" and body["tenant"]["slug"] == "acme"
    assert body["userId"] == sso.ids["alice@example.test"]
    # Scoped to acme: its routes answer, another tenant's and the operator's do not.
    assert sso.request("GET", "/admin/v1/tenants/acme/tokens", headers=c).status_code == 200
    assert sso.request("GET", "/admin/v1/tenants/other/tokens", headers=c).status_code == 403
    assert sso.request("GET", "/admin/v1/tenants", headers=c).status_code == 403
    # The code never left scimd: the host application's page was not involved.
    assert COMPLETE not in r.headers["Location"]
    assert wait_log(sso, "result=success reason=console")
    assert sso.admin("GET", "/tenants/acme/sso/oidc").json()["verified"] is True


def test_non_admin_is_refused_with_a_clear_page(sso):
    r = console_login(sso, hint="bob")
    assert r.status_code == 403
    assert "only open to active users of this tenant with the" in r.text
    assert "Location" not in r.headers and not session_cookie(r)
    assert wait_log(sso, "result=rejected reason=console_not_admin")
    # The way back is the console's sign-in, not the host application's (the refusal comes
    # at the callback, not under /console/).
    assert '<a class="button" href="/console/">Back to the console sign-in</a>' in r.text
    assert "/sso/acme/oidc/login" not in r.text


def test_tenant_on_its_own_url_is_handed_to_the_console_with_a_set_up_link(sso):
    """Issue 17: the callback comes to the tenant's own host, where a console cookie would be of
    no use; the console stays on public_url, so the admin is handed over with a set-up link."""
    own = sso.url + "/acme-eu"
    r = sso.admin("PATCH", "/tenants/acme", {"publicUrl": own})
    assert r.status_code == 200, r.text
    assert sso.admin("GET", "/tenants/acme/sso/oidc").json()["redirectUri"] == \
        own + "/sso/acme/oidc/callback"
    r = console_login(sso, prefix="/acme-eu")
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith(sso.url + "/console/#setup="), r.headers["Location"]
    assert not session_cookie(r)
    token = r.headers["Location"].split("#setup=", 1)[1]
    r = sso.request("POST", "/console/api/setup", json_body={"token": token})
    assert r.status_code == 201, r.text
    assert r.json()["tenant"]["slug"] == "acme" and r.json()["scope"] == "tenant"
    assert r.json()["userId"] == sso.ids["alice@example.test"]
    assert r.json()["scimBaseUrl"] == own + "/scim/v2"
    # Single use, as any set-up link.
    r = sso.request("POST", "/console/api/setup", json_body={"token": token})
    assert r.status_code == 401
    # A non-admin gets the same refusal as on the deployment's host.
    r = console_login(sso, hint="bob", prefix="/acme-eu")
    assert r.status_code == 403 and "only open to active users of this tenant with the" in r.text


def test_admin_of_another_tenant_is_refused(sso):
    r = console_login(sso, tenant="acme", hint="mallory")
    assert r.status_code == 403 and not session_cookie(r)
    assert wait_log(sso, "result=rejected reason=unknown_user")
    # The same person signs in to their own tenant's console.
    r = console_login(sso, tenant="other", hint="mallory")
    assert r.status_code == 302 and r.headers["Location"] == "/console/#/t/other"


def test_admin_demoted_since_the_sign_in_started_is_refused(sso):
    r = sso.request("GET", "/console/sso/acme", allow_redirects=False)
    assert r.status_code == 302
    token = sso.mint("acme")["token"]
    r = sso.scim("PATCH", f"/Users/{sso.ids['alice@example.test']}", token, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": f"{TENANT_URN}:role", "value": "reporting"}]})
    assert r.status_code == 200, r.text
    r = console_login(sso)
    assert r.status_code == 403 and not session_cookie(r)


def test_idp_initiated_sign_in_never_opens_the_console(sso, op):
    r = sso.request("GET", "/sso/acme/oidc/initiate?" + urllib.parse.urlencode(
        {"iss": op.issuer, "target_link_uri": "/console/"}), allow_redirects=False)
    assert r.status_code == 302
    cookie = re.search(TX + r"=([A-Za-z0-9_-]+);", r.headers["Set-Cookie"]).group(1)
    at_idp = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
    path = at_idp.headers["Location"].split(str(sso.port), 1)[1]
    r = sso.request("GET", path, headers={"Cookie": f"{TX}={cookie}"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith(COMPLETE + "?")
    assert not session_cookie(r)


def test_tenant_without_sso_or_unknown_gets_a_page(sso, op):
    sso.make_tenant("bare")
    for slug in ("bare", "nobody"):
        r = sso.request("GET", f"/console/sso/{slug}", allow_redirects=False)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")
        assert "Location" not in r.headers
    r = sso.admin("PUT", "/tenants/acme/sso/oidc",
                  {"issuer": op.issuer, "clientId": CLIENT_ID, "enabled": False,
                   "signInCompleteUrl": COMPLETE})
    assert r.status_code == 200, r.text
    assert sso.request("GET", "/console/sso/acme", allow_redirects=False).status_code == 404


def test_saml_admin_signs_in_to_the_console(server_factory):
    idp = SamlIdP()
    s = server_factory(extra_args=["--sso-test-http", "on"])
    s.make_tenant("mail")
    token = s.mint("mail")["token"]
    r = s.scim("POST", "/Users", token, admin_body("alice@example.test"))
    assert r.status_code == 201, r.text
    r = s.admin("PUT", "/tenants/mail/sso/saml",
                {"metadataXml": idp.metadata(), "signInCompleteUrl": COMPLETE,
                 "idpInitiated": True})
    assert r.status_code == 200, r.text
    acs, audience = f"{s.url}/sso/mail/saml/acs", f"{s.url}/sso/mail/saml/metadata"
    r = s.request("GET", "/console/sso/mail", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith(SSO_URL + "?SAMLRequest=")
    cookie = re.search(SAML_TX + r"=([A-Za-z0-9_-]+);", r.headers["Set-Cookie"]).group(1)
    req = SamlIdP.parse_request(r.headers["Location"])
    request_id = re.search(r' ID="([^"]+)"', req).group(1)

    def post(xml, cookie=None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if cookie:
            headers["Cookie"] = f"{SAML_TX}={cookie}"
        body = "SAMLResponse=" + urllib.parse.quote(encode(xml), safe="")
        return s.request("POST", "/sso/mail/saml/acs", data=body, headers=headers,
                         allow_redirects=False)

    r = post(idp.response(acs, audience, in_response_to=request_id), cookie)
    assert r.status_code == 302 and r.headers["Location"] == "/console/#/t/mail", r.text
    m = session_cookie(r)
    assert m
    who = s.request("GET", "/console/api/session", headers={"Cookie": f"scimd_console={m.group(1)}"})
    assert who.json()["tenant"]["slug"] == "mail"
    # An unsolicited Response goes to the host application, never into the console.
    r = post(idp.response(acs, audience))
    assert r.status_code == 302 and r.headers["Location"].startswith(COMPLETE + "?")
    assert not session_cookie(r)
