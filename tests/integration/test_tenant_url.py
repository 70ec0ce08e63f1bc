"""A tenant's own public URL (issue 17; docs/deploy.md "A tenant on its own host"): an
enterprise customer on https://acme.id.example.com/… while the deployment's public_url is
https://id.example.com. Every URL scimd writes for that tenant (SCIM locations, the SCIM base
URL, SSO values) uses it, its path is served as public_url's is, and its SAML sign-ins must
name it; other tenants keep public_url. The tests use http://127.0.0.1:{port}/acme-eu, the
loopback form the rules allow."""
import time
import urllib.parse

import pytest

from conftest import user_body
from saml_idp import SamlIdP, encode

COMPLETE = "https://app.example.test/sso/done"
PATH = "/acme-eu"
SSO_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


@pytest.fixture(scope="module")
def idp():
    return SamlIdP()


@pytest.fixture
def two(server_factory):
    """acme on its own URL (a path on this host), globex on the deployment's."""
    s = server_factory(extra_args=["--sso-test-http", "on", "--sso-key", SSO_KEY])
    s.tenant_url = s.url + PATH
    body = s.make_tenant("acme", publicUrl=s.tenant_url + "/")
    assert body["publicUrl"] == s.tenant_url  # the trailing '/' is dropped
    assert s.make_tenant("globex")["publicUrl"] is None
    s.acme = s.mint("acme")["token"]
    s.globex = s.mint("globex")["token"]
    return s


def test_scim_locations_use_the_tenant_url_and_its_path_is_served(two):
    s = two
    r = s.request("POST", PATH + "/scim/v2/Users", token=s.acme,
                  json_body=user_body("ada@acme.example"))
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    assert r.headers["Location"] == f"{s.tenant_url}/scim/v2/Users/{uid}"
    assert r.json()["meta"]["location"] == r.headers["Location"]
    # The path is served as public_url's: under it and at the root alike.
    for base in (PATH + "/scim/v2", "/scim/v2"):
        r = s.request("GET", f"{base}/Users/{uid}", token=s.acme)
        assert r.status_code == 200, base
        assert r.json()["meta"]["location"] == f"{s.tenant_url}/scim/v2/Users/{uid}"
    r = s.request("GET", "/scim/v2/ServiceProviderConfig", token=s.acme)
    assert r.json()["meta"]["location"] == f"{s.tenant_url}/scim/v2/ServiceProviderConfig"
    # A look-alike path is not stripped.
    assert s.request("GET", PATH + "x/scim/v2/Users", token=s.acme).status_code == 404


def test_another_tenant_keeps_the_deployment_url(two):
    s = two
    r = s.scim("POST", "/Users", s.globex, user_body("bo@globex.example"))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{s.url}/scim/v2/Users/{r.json()['id']}"
    r = s.scim("GET", "/ServiceProviderConfig", s.globex)
    assert r.json()["meta"]["location"] == f"{s.url}/scim/v2/ServiceProviderConfig"


def test_clearing_it_restores_public_url_and_stops_serving_its_path(two):
    s = two
    r = s.admin("PATCH", "/tenants/acme", {"publicUrl": None})
    assert r.status_code == 200 and r.json()["publicUrl"] is None, r.text
    assert s.admin("GET", "/tenants/acme").json()["publicUrl"] is None
    r = s.scim("POST", "/Users", s.acme, user_body("cy@acme.example"))
    assert r.headers["Location"] == f"{s.url}/scim/v2/Users/{r.json()['id']}"
    assert s.request("GET", PATH + "/scim/v2/Users", token=s.acme).status_code == 404


@pytest.mark.parametrize("value, words", [
    ("acme.id.example.com", "absolute https://"),
    ("/acme", "absolute https://"),
    ("http://acme.id.example.com", "http:// only for 127.0.0.1 and localhost"),
    ("https://acme.id.example.com/x?y=1", "query or fragment"),
    ("https://acme.id.example.com/#top", "query or fragment"),
    ("https:///acme", "no host"),
    ("https://acme.id.example.com/scim", "must not start with /scim"),
    ("https://acme.id.example.com/a//b", "empty"),
    ("https://acme.id.example.com/a b", "only letters"),
    ("https://acme\".example.com", "only letters"),
    ("", "or null to clear it"),
    (42, "or null to clear it"),
])
def test_invalid_public_url_is_400_and_changes_nothing(two, value, words):
    s = two
    before = s.admin("GET", "/tenants/acme").json()
    r = s.admin("PATCH", "/tenants/acme", {"publicUrl": value, "displayName": "Changed"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "INVALID_VALUE"
    assert words in r.json()["error"]["message"], r.json()
    assert s.admin("GET", "/tenants/acme").json() == before
    r = s.admin("POST", "/tenants", {"slug": "initech", "publicUrl": value})
    assert r.status_code == 400, r.text
    assert s.admin("GET", "/tenants/initech").status_code == 404


def test_cli_sets_and_clears_it(two):
    s = two
    out = s.cli("tenant", "update", "globex", "--tenant-url", "https://globex.id.example.com/g")
    assert '"publicUrl": "https://globex.id.example.com/g"' in out.stdout
    assert s.admin("GET", "/tenants/globex").json()["publicUrl"] == \
        "https://globex.id.example.com/g"
    p = s.cli("tenant", "update", "globex", "--tenant-url", "http://globex.example.com",
              check=False)
    assert p.returncode == 1 and "publicUrl must use https://" in p.stderr
    s.cli("tenant", "update", "globex", "--tenant-url", "none")
    assert s.admin("GET", "/tenants/globex").json()["publicUrl"] is None


# ---- single sign-on ----

@pytest.fixture
def saml(two, idp):
    s = two
    for slug, token in (("acme", s.acme), ("globex", s.globex)):
        r = s.scim("POST", "/Users", token, user_body("alice@example.test"))
        assert r.status_code == 201, r.text
        r = s.admin("PUT", f"/tenants/{slug}/sso/saml",
                    {"metadataXml": idp.metadata(), "signInCompleteUrl": COMPLETE,
                     "idpInitiated": True})
        assert r.status_code == 200, r.text
    return s


def post(s, path, xml):
    return s.request("POST", path, allow_redirects=False,
                     headers={"Content-Type": "application/x-www-form-urlencoded"},
                     data="SAMLResponse=" + urllib.parse.quote(encode(xml), safe=""))


def refused(s, r, reason):
    assert r.status_code == 403, r.text
    assert "Location" not in r.headers
    for _ in range(40):  # the log is read by another thread
        if f"result=rejected reason={reason}" in s.log:
            return
        time.sleep(0.05)
    assert f"result=rejected reason={reason}" in s.log, s.log[-1500:]


def test_saml_values_are_under_the_tenant_url(saml):
    s = saml
    acme = s.admin("GET", "/tenants/acme/sso/saml").json()
    assert acme["acsUrl"] == f"{s.tenant_url}/sso/acme/saml/acs"
    assert acme["audience"] == f"{s.tenant_url}/sso/acme/saml/metadata"
    meta = s.request("GET", PATH + "/sso/acme/saml/metadata")
    assert meta.status_code == 200
    assert f'entityID="{s.tenant_url}/sso/acme/saml/metadata"' in meta.text
    assert f'Location="{s.tenant_url}/sso/acme/saml/acs"' in meta.text
    globex = s.admin("GET", "/tenants/globex/sso/saml").json()
    assert globex["acsUrl"] == f"{s.url}/sso/globex/saml/acs"
    # The SP-initiated request names the tenant's ACS URL and entity ID.
    r = s.request("GET", PATH + "/sso/acme/saml/login", allow_redirects=False)
    assert r.status_code == 302, r.text
    req = SamlIdP.parse_request(r.headers["Location"])
    assert f'AssertionConsumerServiceURL="{s.tenant_url}/sso/acme/saml/acs"' in req
    assert f">{s.tenant_url}/sso/acme/saml/metadata</" in req


def test_saml_sign_in_must_name_the_tenant_url(saml, idp):
    s = saml
    acme = (f"{s.tenant_url}/sso/acme/saml/acs", f"{s.tenant_url}/sso/acme/saml/metadata")
    deployment = (f"{s.url}/sso/acme/saml/acs", f"{s.url}/sso/acme/saml/metadata")
    refused(s, post(s, PATH + "/sso/acme/saml/acs", idp.response(*deployment)),
            "wrong_destination")
    refused(s, post(s, PATH + "/sso/acme/saml/acs", idp.response(acme[0], deployment[1])),
            "wrong_audience")
    assert s.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is False
    r = post(s, PATH + "/sso/acme/saml/acs", idp.response(*acme))
    assert r.status_code == 302 and r.headers["Location"].startswith(COMPLETE + "?"), r.text
    assert s.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is True
    # The other tenant still signs in with the deployment's values.
    r = post(s, "/sso/globex/saml/acs", idp.response(f"{s.url}/sso/globex/saml/acs",
                                                     f"{s.url}/sso/globex/saml/metadata"))
    assert r.status_code == 302 and r.headers["Location"].startswith(COMPLETE + "?"), r.text


def test_changing_the_url_resets_verified_and_the_old_values_stop_working(saml, idp):
    s = saml
    acme = (f"{s.tenant_url}/sso/acme/saml/acs", f"{s.tenant_url}/sso/acme/saml/metadata")
    assert post(s, PATH + "/sso/acme/saml/acs", idp.response(*acme)).status_code == 302
    assert s.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is True
    # The same value again changes nothing.
    r = s.admin("PATCH", "/tenants/acme", {"publicUrl": s.tenant_url})
    assert r.status_code == 200, r.text
    assert s.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is True
    # A new URL: new SSO values, and the IdP must be told, so verified waits for a sign-in.
    r = s.admin("PATCH", "/tenants/acme", {"publicUrl": None})
    assert r.status_code == 200, r.text
    conn = s.admin("GET", "/tenants/acme/sso/saml").json()
    assert conn["verified"] is False
    assert conn["acsUrl"] == f"{s.url}/sso/acme/saml/acs"
    refused(s, post(s, "/sso/acme/saml/acs", idp.response(*acme)), "wrong_destination")
    assert s.admin("GET", "/tenants/globex/sso/saml").json()["acsUrl"] == \
        f"{s.url}/sso/globex/saml/acs"


def test_oidc_values_are_under_the_tenant_url(two, op):
    from sso_op import CLIENT_ID, CLIENT_SECRET
    s = two
    r = s.admin("PUT", "/tenants/acme/sso/oidc",
                {"issuer": op.issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                 "signInCompleteUrl": COMPLETE})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["redirectUri"] == f"{s.tenant_url}/sso/acme/oidc/callback"
    assert body["initiateLoginUri"] == f"{s.tenant_url}/sso/acme/oidc/initiate"
    assert body["loginUrl"] == f"{s.tenant_url}/sso/acme/oidc/login"
    r = s.request("GET", PATH + "/sso/acme/oidc/login", allow_redirects=False)
    assert r.status_code == 302, r.text
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    assert q["redirect_uri"] == f"{s.tenant_url}/sso/acme/oidc/callback"
