"""Issue 7: SAML 2.0 service provider. Responses are built and signed by saml_idp.py with
the xmlsec1 command and posted to the ACS as a browser would; every SAML line of
shared/SSO.md (d) is a case that must be refused."""
import re
import time
import urllib.parse

import pytest

from conftest import user_body
from saml_idp import IDP_ENTITY, RSA_SHA1, SHA1, SSO_URL, SamlIdP, encode

COMPLETE = "https://app.example.test/sso/done"
COOKIE = "__Host-scimd_saml"


@pytest.fixture(scope="module")
def idp():
    return SamlIdP()


@pytest.fixture
def sp(server_factory, idp):
    s = server_factory(extra_args=["--sso-test-http", "on"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    for name, active in (("alice@example.test", True), ("mallory@example.test", False)):
        r = s.scim("POST", "/Users", token, user_body(name, active=active))
        assert r.status_code == 201, r.text
    r = s.admin("PUT", "/tenants/acme/sso/saml",
                {"metadataXml": idp.metadata(), "signInCompleteUrl": COMPLETE,
                 "idpInitiated": True})
    assert r.status_code == 200, r.text
    s.acs = f"{s.url}/sso/acme/saml/acs"
    s.audience = f"{s.url}/sso/acme/saml/metadata"
    return s


def post(s, xml, cookie=None, raw=None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    body = raw if raw is not None else "SAMLResponse=" + urllib.parse.quote(encode(xml), safe="")
    return s.request("POST", "/sso/acme/saml/acs", data=body, headers=headers,
                     allow_redirects=False)


def start(s):
    r = s.request("GET", "/sso/acme/saml/login?return_to=/mail", allow_redirects=False)
    assert r.status_code == 302, r.text
    sc = r.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=None", "Path=/"):
        assert flag in sc, sc
    cookie = re.search(COOKIE + r"=([A-Za-z0-9_-]+);", sc).group(1)
    req = SamlIdP.parse_request(r.headers["Location"])
    assert r.headers["Location"].startswith(SSO_URL + "?SAMLRequest=")
    request_id = re.search(r' ID="([^"]+)"', req).group(1)
    return request_id, cookie, req


def ok(s, r):
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(COMPLETE + "?"), loc
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    red = s.admin("POST", "/sso/redeem", {"code": q["code"]})
    assert red.status_code == 200, red.text
    return q, red.json()


def refused(s, r, reason):
    assert r.status_code in (403, 404), r.text
    assert "Location" not in r.headers
    for _ in range(40):  # the log is read by another thread
        if f"result=rejected reason={reason}" in s.log:
            break
        time.sleep(0.05)
    assert f"result=rejected reason={reason}" in s.log, s.log[-1500:]
    # Only scimd's own key=value lines: xmlsec and libxml2 print nothing of their own.
    assert all(line.startswith("ts=") for line in s.log_lines), s.log[-1500:]


# ---- configuration and metadata ----

def test_sp_metadata_has_entity_id_and_acs(sp):
    r = sp.request("GET", "/sso/acme/saml/metadata")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/samlmetadata+xml")
    assert f'entityID="{sp.audience}"' in r.text
    assert f'Location="{sp.acs}"' in r.text
    assert 'WantAssertionsSigned="true"' in r.text and "SingleLogoutService" not in r.text
    assert r.headers["X-Frame-Options"] == "DENY"


def test_connection_shows_acs_and_audience_and_pins_the_certificate(sp, idp):
    body = sp.admin("GET", "/tenants/acme/sso/saml").json()
    assert body["acsUrl"] == sp.acs and body["audience"] == sp.audience
    assert body["idpEntityId"] == IDP_ENTITY and body["ssoUrl"] == SSO_URL
    assert body["certificates"][0].strip() == idp.cert_pem().strip()
    assert len(body["certificateNotAfter"]) == 1
    assert body["verified"] is False


def test_metadata_by_url_is_fetched_once(sp, idp):
    import http.server
    import threading

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            body = idp.metadata().encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/metadata"
        r = sp.admin("PUT", "/tenants/acme/sso/saml",
                     {"metadataUrl": url, "signInCompleteUrl": COMPLETE})
        assert r.status_code == 200, r.text
        assert r.json()["idpEntityId"] == IDP_ENTITY and r.json()["metadataUrl"] == url
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_users_of_another_tenant_are_refused(sp, idp):
    sp.make_tenant("other")
    tok = sp.mint("other")["token"]
    assert sp.scim("POST", "/Users", tok, user_body("otto@example.test")).status_code == 201
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, email="otto@example.test")),
            "unknown_user")


def test_bad_certificate_is_refused(sp):
    r = sp.admin("PUT", "/tenants/acme/sso/saml",
                 {"idpEntityId": IDP_ENTITY, "ssoUrl": SSO_URL, "certificates": ["nope"],
                  "signInCompleteUrl": COMPLETE})
    assert r.status_code == 400


# ---- happy paths ----

def test_sp_initiated_login_checks_in_response_to(sp, idp):
    request_id, cookie, req = start(sp)
    assert f'AssertionConsumerServiceURL="{sp.acs}"' in req
    assert f"<saml:Issuer>{sp.audience}</saml:Issuer>" in req
    xml = idp.response(sp.acs, sp.audience, in_response_to=request_id)
    q, who = ok(sp, post(sp, xml, cookie))
    assert q["return_to"] == "/mail"
    assert who["email"] == "alice@example.test" and who["protocol"] == "saml"
    assert who["initiated"] == "sp"
    assert sp.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is True


def test_overview_shows_the_values_to_paste_before_any_connection_exists(sp, idp):
    # The guides' order (docs/host-integration.md): the IdP admin creates the app with the
    # ACS URL and audience first; only then is there metadata (or a client secret) to save.
    sp.make_tenant("fresh")
    assert sp.admin("GET", "/tenants/fresh/sso/saml").status_code == 404
    o = sp.admin("GET", "/tenants/fresh/sso").json()
    base = f"{sp.url}/sso/fresh"
    assert o == {
        "oidc": {"redirectUri": base + "/oidc/callback", "initiateLoginUri": base + "/oidc/initiate",
                 "loginUrl": base + "/oidc/login", "configured": False, "enabled": False,
                 "verified": False, "sharedRedirectUri": f"{sp.url}/sso/oidc/callback",
                 "sharedInitiateLoginUri": f"{sp.url}/sso/oidc/initiate", "redirect": "tenant"},
        "saml": {"acsUrl": base + "/saml/acs", "audience": base + "/saml/metadata",
                 "spEntityId": base + "/saml/metadata", "spMetadataUrl": base + "/saml/metadata",
                 "configured": False, "enabled": False, "verified": False}}
    # The values are the connection's own once saved, and the status follows it.
    o = sp.admin("GET", "/tenants/acme/sso").json()
    conn = sp.admin("GET", "/tenants/acme/sso/saml").json()
    assert {k: o["saml"][k] for k in ("acsUrl", "audience")} == \
        {k: conn[k] for k in ("acsUrl", "audience")}
    assert (o["saml"]["configured"], o["saml"]["enabled"], o["saml"]["verified"]) == \
        (True, True, False)
    assert o["oidc"]["configured"] is False
    request_id, cookie, _ = start(sp)
    ok(sp, post(sp, idp.response(sp.acs, sp.audience, in_response_to=request_id), cookie))
    assert sp.admin("GET", "/tenants/acme/sso").json()["saml"]["verified"] is True
    assert sp.admin("GET", "/tenants/nosuch/sso").status_code == 404


def test_saml_required_gate_opens_after_a_verified_sign_in(sp, idp):
    """issue 5 (d) with issue 7: "SAML required" means an enabled connection that completed
    a sign-in; only then may a token be minted."""
    sp.admin("PATCH", "/tenants/acme", {"samlRequired": True})
    p = sp.cli("token", "mint", "acme", check=False)
    assert p.returncode == 1 and "requires SAML" in p.stderr
    request_id, cookie, _ = start(sp)
    ok(sp, post(sp, idp.response(sp.acs, sp.audience, in_response_to=request_id), cookie))
    assert sp.cli("token", "mint", "acme").returncode == 0
    gate = sp.admin("GET", "/tenants/acme/token-gate").json()
    assert "saml" not in [m["condition"] for m in gate["missing"]]
    # Disabling the connection closes the gate again.
    conn = sp.admin("GET", "/tenants/acme/sso/saml").json()
    r = sp.admin("PUT", "/tenants/acme/sso/saml",
                 {"metadataXml": idp.metadata(), "signInCompleteUrl": COMPLETE,
                  "enabled": False})
    assert r.status_code == 200, (r.text, conn)
    assert "requires SAML" in sp.cli("token", "mint", "acme", check=False).stderr


def test_get_change_put_round_trip_keeps_verified(sp, idp):
    """docs/api.md: GET, change a flag, PUT is accepted with the read-only members (acsUrl,
    audience, certificateNotAfter, …) repeated, and keeps verified; another value of one of them
    or an unknown field is refused."""
    request_id, cookie, _ = start(sp)
    ok(sp, post(sp, idp.response(sp.acs, sp.audience, in_response_to=request_id), cookie))
    g = sp.admin("GET", "/tenants/acme/sso/saml").json()
    assert g["verified"] is True and g["acsUrl"] == sp.acs
    g["enabled"] = False
    r = sp.admin("PUT", "/tenants/acme/sso/saml", g)
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["verified"] is True
    assert {**r.json(), "enabled": True} == {**g, "enabled": True}
    for field, value in (("acsUrl", "https://evil.example/acs"), ("audience", "urn:x"),
                         ("certificateNotAfter", []), ("protocol", "oidc")):
        r = sp.admin("PUT", "/tenants/acme/sso/saml", {**g, field: value})
        assert r.status_code == 400, (field, r.text)
        assert r.json()["error"]["message"].startswith(f'read-only field "{field}"'), r.text
    r = sp.admin("PUT", "/tenants/acme/sso/saml", {**g, "nameIdFormat": "email"})
    assert r.status_code == 400 and r.json()["error"]["message"] == 'unknown field "nameIdFormat"'
    assert sp.admin("GET", "/tenants/acme/sso/saml").json()["verified"] is True


def test_the_same_certificate_with_other_line_breaks_keeps_verified(sp, idp):
    """The console's form sends the certificate it shows without its last newline, an admin
    may paste it on one line: the same certificate, the same identity provider, so a save
    that only changes a flag keeps the connection verified (it reset it, closing a SAML
    token gate until the next sign-in); another certificate still resets it."""
    request_id, cookie, _ = start(sp)
    ok(sp, post(sp, idp.response(sp.acs, sp.audience, in_response_to=request_id), cookie))
    g = sp.admin("GET", "/tenants/acme/sso/saml").json()
    assert g["verified"] is True
    pem = g["certificates"][0]
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    one_line = ("-----BEGIN CERTIFICATE-----\n" + "".join(body.split()) +
                "\n-----END CERTIFICATE-----")
    for cert in (pem.rstrip("\n"), one_line, pem.replace("\n", "\r\n")):
        r = sp.admin("PUT", "/tenants/acme/sso/saml", {
            "idpEntityId": g["idpEntityId"], "ssoUrl": g["ssoUrl"], "certificates": [cert],
            "idpInitiated": not g.get("idpInitiated", False)})
        assert r.status_code == 200, r.text
        assert r.json()["verified"] is True, repr(cert[-40:])
        assert r.json()["certificates"] == [pem]  # stored in one spelling


def test_read_only_fields_of_a_new_connection_are_refused(sp, idp):
    sp.admin("DELETE", "/tenants/acme/sso/saml")
    r = sp.admin("PUT", "/tenants/acme/sso/saml",
                 {"metadataXml": idp.metadata(), "signInCompleteUrl": COMPLETE,
                  "acsUrl": sp.acs})
    assert r.status_code == 400 and 'read-only field "acsUrl"' in r.json()["error"]["message"]


def test_idp_initiated_login_is_accepted_when_enabled(sp, idp):
    _, who = ok(sp, post(sp, idp.response(sp.acs, sp.audience, email="ALICE@example.test")))
    assert who["initiated"] == "idp"


def test_unsolicited_response_is_refused_when_disabled(sp, idp):
    r = sp.admin("PUT", "/tenants/acme/sso/saml",
                 {"metadataXml": idp.metadata(), "signInCompleteUrl": COMPLETE})
    assert r.status_code == 200
    refused(sp, post(sp, idp.response(sp.acs, sp.audience)), "unsolicited_disabled")


def test_signed_response_around_unsigned_assertion_needs_the_option(sp, idp):
    xml = idp.response(sp.acs, sp.audience, sign="response")
    refused(sp, post(sp, xml), "assertion_unsigned")
    r = sp.admin("PUT", "/tenants/acme/sso/saml",
                 {"metadataXml": idp.metadata(), "signInCompleteUrl": COMPLETE,
                  "idpInitiated": True, "acceptSignedResponse": True})
    assert r.status_code == 200
    ok(sp, post(sp, idp.response(sp.acs, sp.audience, sign="response")))


def test_time_inside_the_skew_is_accepted(sp, idp):
    now = int(time.time())
    ok(sp, post(sp, idp.response(sp.acs, sp.audience, not_before=now + 60,
                                 not_on_or_after=now - 60)))


# ---- in response to ----

def test_in_response_to_unknown_or_from_another_browser(sp, idp):
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, in_response_to="_nope"), "x"),
            "in_response_to_unknown")
    request_id, _, _ = start(sp)
    _, other, _ = start(sp)
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, in_response_to=request_id), other),
            "transaction_cookie_mismatch")


def test_expired_request_is_refused(sp, idp):
    request_id, cookie, _ = start(sp)
    sp.execute("UPDATE sso_transactions SET expires_ms = 1")
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, in_response_to=request_id), cookie),
            "in_response_to_unknown")


# ---- the attack list ----

def test_replayed_assertion_is_refused(sp, idp):
    xml = idp.response(sp.acs, sp.audience)
    ok(sp, post(sp, xml))
    refused(sp, post(sp, xml), "assertion_replayed")


def test_unsigned_response_is_refused(sp, idp):
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, sign=None)), "unsigned")


def test_unpinned_key_with_its_cert_in_keyinfo_is_refused(sp, idp):
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, key="evil")), "bad_signature")


def test_changed_byte_of_the_signed_assertion_is_refused(sp, idp):
    xml = idp.response(sp.acs, sp.audience, email="mallory@example.test")
    forged = xml.replace("mallory@example.test", "alice@example.test")
    refused(sp, post(sp, forged), "bad_signature")


def test_xsw_signed_assertion_moved_into_extensions_is_refused(sp, idp):
    good = idp.response(sp.acs, sp.audience, email="mallory@example.test")
    signed = re.search(r"<saml:Assertion .*</saml:Assertion>", good, re.S).group(0)
    evil = idp.response(sp.acs, sp.audience, email="alice@example.test", sign=None)
    evil_as = re.search(r"<saml:Assertion .*</saml:Assertion>", evil, re.S).group(0)
    evil_as = re.sub(r' ID="[^"]+"', ' ID="_evil"', evil_as, count=1)
    wrapped = good.replace(signed, evil_as).replace(
        "<samlp:Status>", f"<samlp:Extensions>{signed}</samlp:Extensions><samlp:Status>")
    refused(sp, post(sp, wrapped), "assertion_count")


def test_xsw_evil_assertion_with_the_signed_id_is_refused(sp, idp):
    good = idp.response(sp.acs, sp.audience, email="mallory@example.test")
    signed = re.search(r"<saml:Assertion .*</saml:Assertion>", good, re.S).group(0)
    evil = signed.replace("mallory@example.test", "alice@example.test")
    refused(sp, post(sp, good.replace(signed, evil + signed)), "duplicate_id")


def test_duplicate_ids_are_refused(sp, idp):
    def dup(xml):
        aid = re.search(r'<saml:Assertion ID="([^"]+)"', xml).group(1)
        return re.sub(r'(<samlp:Response [^>]*?)ID="[^"]+"', rf'\1ID="{aid}"', xml, count=1)
    refused(sp, post(sp, dup(idp.response(sp.acs, sp.audience))), "duplicate_id")


def test_reference_uri_naming_another_element_is_refused(sp, idp):
    def other(xml):
        rid = re.search(r'<samlp:Response [^>]*ID="([^"]+)"', xml).group(1)
        return re.sub(r'Reference URI="#[^"]+"', f'Reference URI="#{rid}"', xml)
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, transform=other)),
            "signature_reference_mismatch")


def test_comment_in_name_id_is_refused(sp, idp):
    xml = idp.response(sp.acs, sp.audience, name_id="alice@example.test<!---->.evil.test")
    refused(sp, post(sp, xml), "bad_name_id")


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE r [<!ENTITY x "alice@example.test">]>',
    '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">',
])
def test_doctype_is_refused(sp, idp, doctype):
    xml = idp.response(sp.acs, sp.audience, sign=None)
    refused(sp, post(sp, doctype + xml), "doctype")


@pytest.mark.parametrize("kw,reason", [
    ({"audience": "https://other.example.test/sp"}, "wrong_audience"),
    ({"recipient": "https://evil.test/acs"}, "wrong_recipient"),
    ({"destination": "https://evil.test/acs"}, "wrong_destination"),
    ({"issuer": "http://www.okta.com/other"}, "wrong_issuer"),
    ({"status": "Requester"}, "status_not_success"),
    ({"not_before": int(time.time()) + 3600}, "not_yet_valid"),
    ({"not_on_or_after": int(time.time()) - 3600}, "confirmation_expired"),
    ({"sig_alg": RSA_SHA1, "digest_alg": SHA1}, "signature_algorithm_not_allowed"),
    ({"extra_transform": '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">'
                         '<ds:XPath>1</ds:XPath></ds:Transform>'}, "bad_signature"),
])
def test_wrong_values_are_refused(sp, idp, kw, reason):
    args = {"audience": sp.audience}
    args.update(kw)
    refused(sp, post(sp, idp.response(sp.acs, **args)), reason)


@pytest.mark.parametrize("offset", ["+00:00", "-00:00", "+02:00", ""])
def test_time_with_an_offset_or_no_zone_is_bad_time(sp, idp, offset):
    """SAML Core §1.3.3: times MUST be UTC "with no time zone component": a time with an
    offset (even +00:00) or none is malformed (bad_time), not expired."""
    def zone(xml):
        return re.sub(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000)Z', r'\g<1>' + offset, xml)
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, transform=zone)), "bad_time")


def test_time_in_conditions_only_that_is_malformed_is_bad_time(sp, idp):
    def cond(xml):
        return re.sub(r'(<saml:Conditions NotBefore="[^"]*)Z"', r'\1+00:00"', xml)
    xml = idp.response(sp.acs, sp.audience, transform=cond)
    assert "+00:00" in xml
    refused(sp, post(sp, xml), "bad_time")


@pytest.mark.parametrize("value", ["2026-12-06T08:00:00+01:00", "tomorrow", ""])
def test_a_malformed_session_not_on_or_after_is_bad_time(sp, idp, value):
    """Optional in AuthnStatement, but a time like the others when present."""
    def session(xml):
        return xml.replace("<saml:AuthnStatement ",
                           f'<saml:AuthnStatement SessionNotOnOrAfter="{value}" ', 1)
    xml = idp.response(sp.acs, sp.audience, transform=session)
    assert "SessionNotOnOrAfter" in xml
    refused(sp, post(sp, xml), "bad_time")
    # A well-formed one signs in.
    good = idp.response(sp.acs, sp.audience, transform=lambda x: x.replace(
        "<saml:AuthnStatement ", '<saml:AuthnStatement SessionNotOnOrAfter="2099-01-01T00:00:00Z" ', 1))
    assert post(sp, good).status_code in (302, 303), "a valid SessionNotOnOrAfter is refused"


def test_inactive_and_unknown_users_are_refused(sp, idp):
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, email="mallory@example.test")),
            "inactive_user")
    # docs/api.md: the event is about the user when one was identified.
    mallory = sp.admin("GET", '/tenants/acme/users?filter=userName eq "mallory@example.test"'
                       ).json()["Resources"][0]["id"]
    assert f"reason=inactive_user user={mallory}" in sp.log
    ev = [e for e in sp.admin("GET", "/tenants/acme/events?order=desc").json()["events"]
          if e["kind"] == "sso.signin"][0]
    assert ev["data"]["reason"] == "inactive_user" and ev["resourceId"] == mallory
    refused(sp, post(sp, idp.response(sp.acs, sp.audience, email="zed@example.test")),
            "unknown_user")


def test_bad_base64_is_refused(sp):
    refused(sp, post(sp, None, raw="SAMLResponse=%%%%"), "bad_encoding")
    # Line breaks are skipped, any other byte outside the alphabet is not.
    refused(sp, post(sp, None, raw="SAMLResponse=PHg%2B%0A%21"), "bad_encoding")
    refused(sp, post(sp, None, raw="SAMLResponse=PHg-"), "bad_encoding")  # base64url
    refused(sp, post(sp, None, raw="SAMLResponse=PH%00g%2B"), "bad_encoding")


@pytest.mark.parametrize("sep", ["\r\n", "\n", " "])
def test_line_wrapped_base64_is_accepted(sp, idp, sep):
    """RFC 2045 §6.8: MIME base64 is wrapped at 76 characters; some IdPs post it so, and
    a decoder ignores the line breaks (and blanks) between its groups."""
    text = encode(idp.response(sp.acs, sp.audience))
    wrapped = sep.join(text[i:i + 76] for i in range(0, len(text), 76)) + sep
    _, body = ok(sp, post(sp, None, raw="SAMLResponse=" + urllib.parse.quote(wrapped, safe="")))
    assert body["userName"] == "alice@example.test"


def test_pretty_printed_name_id_is_the_same_subject(sp, idp):
    """XML white space (space, tab, CR, LF) around an email NameID is not part of it: a
    pretty-printed NameID signs in, and links the same subject as a compact one."""
    xml = idp.response(sp.acs, sp.audience, name_id="\n      alice@example.test\r\n    ")
    _, body = ok(sp, post(sp, xml))
    assert body["userName"] == "alice@example.test"
    ok(sp, post(sp, idp.response(sp.acs, sp.audience, name_id="alice@example.test")))
    links = sp.admin("GET", f"/tenants/acme/users/{body['userId']}/sso-links").json()
    assert [ln["subject"] for ln in links["links"]] == ["alice@example.test"], links
