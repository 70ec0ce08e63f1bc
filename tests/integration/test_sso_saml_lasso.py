"""Issue 7: SAML against a real implementation, Debian's python3-lasso, as the identity
provider (shared/SSO.md (e)). Lasso reads scimd's SP metadata (which tests the metadata),
answers the AuthnRequest scimd sends over HTTP-Redirect, and signs with RSA-SHA256."""
import datetime
import os
import re
import time
import urllib.parse

import lasso
import pytest

from conftest import user_body
from saml_idp import SamlIdP

COMPLETE = "https://app.example.test/sso/done"
COOKIE = "__Host-scimd_saml"


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class LassoIdP:
    def __init__(self, keys, sp_metadata):
        self.keys = keys  # its directory lives as long as it does
        self.dir = keys.dir
        md = os.path.join(self.dir, "lasso-idp.xml")
        with open(md, "w") as f:
            f.write(keys.metadata())
        self.server = lasso.Server(md, keys.key, None, keys.crt)
        self.server.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA256
        sp = os.path.join(self.dir, "scimd-sp.xml")
        with open(sp, "w") as f:
            f.write(sp_metadata)
        self.server.addProvider(lasso.PROVIDER_ROLE_SP, sp)

    def _answer(self, login, email):
        login.validateRequestMsg(True, True)
        now = datetime.datetime.now(datetime.timezone.utc)
        login.buildAssertion(lasso.SAML2_AUTHN_CONTEXT_PASSWORD_PROTECTED_TRANSPORT, iso(now),
                             None, iso(now - datetime.timedelta(minutes=1)),
                             iso(now + datetime.timedelta(minutes=5)))
        login.assertion.subject.nameID.content = email
        login.assertion.subject.nameID.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_EMAIL
        login.buildAuthnResponseMsg()
        return login.msgUrl, login.msgBody

    def sp_initiated(self, redirect_url, email):
        login = lasso.Login(self.server)
        login.processAuthnRequestMsg(urllib.parse.urlsplit(redirect_url).query)
        return self._answer(login, email)

    def idp_initiated(self, sp_entity, email):
        login = lasso.Login(self.server)
        login.initIdpInitiatedAuthnRequest(sp_entity)
        login.request.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_EMAIL
        login.request.nameIdPolicy.allowCreate = True
        login.request.protocolBinding = lasso.SAML2_METADATA_BINDING_POST
        login.processAuthnRequestMsg(None)
        return self._answer(login, email)


@pytest.fixture
def setup(server_factory):
    s = server_factory(extra_args=["--sso-test-http", "on"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    for name, active in (("alice@example.test", True), ("mallory@example.test", False)):
        assert s.scim("POST", "/Users", token, user_body(name, active=active)).status_code == 201
    keys = SamlIdP()
    r = s.admin("PUT", "/tenants/acme/sso/saml",
                {"metadataXml": keys.metadata(), "signInCompleteUrl": COMPLETE,
                 "idpInitiated": True})
    assert r.status_code == 200, r.text
    sp_md = s.request("GET", "/sso/acme/saml/metadata").text
    return s, LassoIdP(keys, sp_md)


def post(s, url, body, cookie=None):
    assert url == f"{s.url}/sso/acme/saml/acs", url
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    return s.request("POST", "/sso/acme/saml/acs",
                     data="SAMLResponse=" + urllib.parse.quote(body, safe=""),
                     headers=headers, allow_redirects=False)


def redeemed(s, r):
    assert r.status_code == 302, (r.text, s.log[-1500:])
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    red = s.admin("POST", "/sso/redeem", {"code": q["code"]})
    assert red.status_code == 200, red.text
    return red.json()


def test_lasso_sp_initiated_sign_in(setup):
    s, idp = setup
    r = s.request("GET", "/sso/acme/saml/login", allow_redirects=False)
    cookie = re.search(COOKIE + r"=([A-Za-z0-9_-]+);", r.headers["Set-Cookie"]).group(1)
    url, body = idp.sp_initiated(r.headers["Location"], "alice@example.test")
    who = redeemed(s, post(s, url, body, cookie))
    assert who["email"] == "alice@example.test" and who["initiated"] == "sp"


def test_lasso_idp_initiated_sign_in(setup):
    s, idp = setup
    url, body = idp.idp_initiated(f"{s.url}/sso/acme/saml/metadata", "alice@example.test")
    who = redeemed(s, post(s, url, body))
    assert who["initiated"] == "idp"


def test_lasso_response_replayed_and_inactive_user_are_refused(setup):
    s, idp = setup
    url, body = idp.idp_initiated(f"{s.url}/sso/acme/saml/metadata", "alice@example.test")
    redeemed(s, post(s, url, body))
    assert post(s, url, body).status_code == 403
    url, body = idp.idp_initiated(f"{s.url}/sso/acme/saml/metadata", "mallory@example.test")
    assert post(s, url, body).status_code == 403
    for _ in range(40):  # the log is read by another thread
        if "reason=assertion_replayed" in s.log and "reason=inactive_user" in s.log:
            break
        time.sleep(0.05)
    assert "reason=assertion_replayed" in s.log and "reason=inactive_user" in s.log
