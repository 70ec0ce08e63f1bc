"""Issue 16: "Test sign-in" from the console runs the real flow (…/login?test=1) and ends on a
page of its own: the outcome, the matched user, and what the identity provider sent (OIDC
claims, SAML NameID and attributes), recorded in the sso.signin event the console reads. A test
hands nothing off to the host (no code) and a success verifies the connection."""
import html
import re
import urllib.parse

import pytest

from saml_idp import encode
from test_sso_lifecycle import (COMPLETE, create, idp, oidc_login, oidc_server,  # noqa: F401
                                saml)

SAML_COOKIE = "__Host-scimd_saml"


def last_signin(s):
    evs = s.admin("GET", "/tenants/acme/events?kind=sso.signin&order=desc&limit=1").json()["events"]
    return evs[0]


def oidc_test(s, hint):
    return oidc_login(s, hint, test=1)


def received_on_page(text):
    """The dt/dd pairs of the page's "What the identity provider sent" list."""
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", text)
    return {html.unescape(k): html.unescape(v) for k, v in pairs}


@pytest.fixture
def oidc(server_factory, op):
    return oidc_server(server_factory, op)


def test_oidc_test_sign_in_shows_the_claims_and_verifies_without_handing_off(oidc):
    bob = create(oidc, "bob@example.test")
    assert oidc.admin("GET", "/tenants/acme/sso/oidc").json()["verified"] is False
    r = oidc_test(oidc, "bob")
    assert r.status_code == 200, r.text
    assert "Location" not in r.headers  # nothing handed to the host
    assert "matched the user bob@example.test" in r.text
    seen = received_on_page(r.text)
    assert seen["email"] == "bob@example.test" and seen["sub"] == "00u-bob"
    assert "nonce" not in seen  # protocol noise is left out
    ev = last_signin(oidc)
    assert ev["resourceId"] == bob
    assert ev["data"]["test"] is True and ev["data"]["result"] == "success"
    assert ev["data"]["received"]["email"] == "bob@example.test"
    assert oidc.admin("GET", "/tenants/acme/sso/oidc").json()["verified"] is True


def test_oidc_test_sign_in_refused_names_the_reason_and_keeps_the_claims(oidc):
    r = oidc_test(oidc, "mallory")
    assert r.status_code == 403, r.text
    assert "refused (unknown_user)" in r.text
    assert received_on_page(r.text)["sub"] == "00u-mallory"
    ev = last_signin(oidc)
    assert ev["data"]["result"] == "rejected" and ev["data"]["reason"] == "unknown_user"
    assert ev["data"]["test"] is True and ev["data"]["received"]["sub"] == "00u-mallory"
    assert "resourceId" not in ev or not ev["resourceId"]
    assert oidc.admin("GET", "/tenants/acme/sso/oidc").json()["verified"] is False


def test_a_normal_sign_in_records_no_claims(oidc):
    create(oidc, "bob@example.test")
    done = oidc_login(oidc, "bob", test=0)
    assert done.status_code == 302 and done.headers["Location"].startswith(COMPLETE + "?code=")
    data = last_signin(oidc)["data"]
    assert "received" not in data and "test" not in data


# ---- SAML ----

def with_attributes(xml):
    """Adds an AttributeStatement (a name, two groups, a value cut mid-character) to the
    unsigned assertion."""
    long = "é" * 200  # 400 bytes: cut to whole characters
    stmt = (f'<saml:AttributeStatement>'
            f'<saml:Attribute Name="firstName"><saml:AttributeValue>Alice</saml:AttributeValue></saml:Attribute>'
            f'<saml:Attribute Name="groups"><saml:AttributeValue>Admins</saml:AttributeValue>'
            f'<saml:AttributeValue>Developers</saml:AttributeValue></saml:Attribute>'
            f'<saml:Attribute Name="note"><saml:AttributeValue>{long}</saml:AttributeValue></saml:Attribute>'
            f'</saml:AttributeStatement>')
    return xml.replace("</saml:Assertion>", stmt + "</saml:Assertion>")


def saml_test(s, idp, email):
    r = s.request("GET", "/sso/acme/saml/login?test=1", allow_redirects=False)
    assert r.status_code == 302, r.text
    cookie = r.headers["Set-Cookie"].split(SAML_COOKIE + "=", 1)[1].split(";", 1)[0]
    request_id = re.search(r' ID="([^"]+)"', idp.parse_request(r.headers["Location"])).group(1)
    xml = idp.response(s.acs, s.audience, email=email, in_response_to=request_id,
                       transform=with_attributes)
    body = "SAMLResponse=" + urllib.parse.quote(encode(xml), safe="")
    return s.request("POST", "/sso/acme/saml/acs", data=body, allow_redirects=False,
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "Cookie": f"{SAML_COOKIE}={cookie}"})


def test_saml_test_sign_in_shows_name_id_and_attributes(saml, idp):
    alice = create(saml, "alice@example.test")
    r = saml_test(saml, idp, "alice@example.test")
    assert r.status_code == 200, r.text
    assert "Location" not in r.headers
    seen = received_on_page(r.text)
    assert seen["NameID"] == "alice@example.test"
    assert seen["firstName"] == "Alice"
    assert seen["groups"] == '["Admins","Developers"]'
    ev = last_signin(saml)
    rec = ev["data"]["received"]
    assert rec["groups"] == ["Admins", "Developers"] and rec["firstName"] == "Alice"
    assert rec["note"] == "é" * 127  # 255 bytes kept, the half character dropped
    assert ev["resourceId"] == alice and ev["data"]["test"] is True
    assert saml.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is True


def test_saml_test_sign_in_of_an_unknown_user_is_refused_with_what_was_sent(saml, idp):
    r = saml_test(saml, idp, "nobody@example.test")
    assert r.status_code == 403, r.text
    assert "refused (unknown_user)" in r.text
    assert received_on_page(r.text)["NameID"] == "nobody@example.test"
    assert saml.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is False
