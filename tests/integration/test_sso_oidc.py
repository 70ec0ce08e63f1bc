"""Issue 7: OpenID Connect relying party against a local test provider (sso_op.py) on
127.0.0.1. Every attack of shared/SSO.md (d) that concerns OIDC is a test that must fail
closed: no hand-off code, an error page, an event with a reason code."""
import re
import time
import urllib.parse

import pytest
import requests

from conftest import SCIM, user_body
from sso_op import CLIENT_ID, CLIENT_SECRET, hs256_token, raw_token

SSO_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
COMPLETE = "https://app.example.test/sso/done"
TX = "__Host-scimd_tx"


@pytest.fixture
def sso(server_factory, op):
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    for name, active in (("alice@example.test", True), ("bob@example.test", True),
                         ("carol@example.test", True), ("mallory@example.test", False)):
        r = s.scim("POST", "/Users", token, user_body(name, active=active))
        assert r.status_code == 201, r.text
    s.scim_token = token
    r = s.admin("PUT", "/tenants/acme/sso/oidc", connection(op))
    assert r.status_code == 200, r.text
    return s


def connection(op, **extra):
    body = {"issuer": op.issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
            "signInCompleteUrl": COMPLETE, "idpInitiated": True}
    body.update(extra)
    return body


def tx_cookie(r):
    """scimd's transaction cookie, asserting its flags (SSO.md (a) "Login start")."""
    sc = r.headers.get("Set-Cookie", "")
    m = re.search(TX + r"=([A-Za-z0-9_-]+);", sc)
    assert m, sc
    for flag in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in sc, sc
    return m.group(1)


def begin(s, path="/sso/acme/oidc/login", **params):
    r = s.request("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""),
                  allow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["X-Frame-Options"] == "DENY"
    return r.headers["Location"], tx_cookie(r)


def at_idp(authorize_url):
    r = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    return r.headers["Location"]


def callback(s, callback_url, cookie):
    path = callback_url.split(str(s.port), 1)[1]
    headers = {"Cookie": f"{TX}={cookie}"} if cookie else {}
    return s.request("GET", path, headers=headers, allow_redirects=False)


def login(s, hint="alice", **params):
    authz, cookie = begin(s, login_hint=hint, **params)
    return callback(s, at_idp(authz), cookie)


def handoff_code(r):
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(COMPLETE + "?"), loc
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))


def redeem(s, code):
    return s.admin("POST", "/sso/redeem", {"code": code})


def assert_refused(s, r, reason, status=None):
    assert r.status_code in ((status,) if status else (400, 401, 403, 404)), r.text
    assert "Location" not in r.headers or not r.headers["Location"].startswith(COMPLETE)
    for _ in range(40):  # the log is read by another thread
        if f"result=rejected reason={reason}" in s.log:
            break
        time.sleep(0.05)
    assert f"result=rejected reason={reason}" in s.log, s.log[-2000:]


# ---- configuration ----

def test_saved_connection_never_returns_the_secret_and_shows_the_urls(sso, op):
    r = sso.admin("GET", "/tenants/acme/sso/oidc")
    assert r.status_code == 200
    body = r.json()
    assert CLIENT_SECRET not in r.text and "clientSecret" not in body
    assert body["clientSecretSet"] is True
    assert body["redirectUri"] == f"{sso.url}/sso/acme/oidc/callback"
    assert body["initiateLoginUri"] == f"{sso.url}/sso/acme/oidc/initiate"
    assert body["verified"] is False and body["enabled"] is True
    # Sealed at rest: the database holds no plain secret.
    raw = sso.dump()
    assert CLIENT_SECRET.encode() not in raw


def test_okta_admin_url_is_refused_naming_the_org_url(sso):
    r = sso.admin("PUT", "/tenants/acme/sso/oidc",
                  {"issuer": "https://acme-admin.okta.com", "clientId": "x", "clientSecret": "y",
                   "signInCompleteUrl": COMPLETE})
    assert r.status_code == 400
    msg = r.json()["error"]["message"]
    assert "admin" in msg and "https://acme.okta.com" in msg


def test_discovery_issuer_mismatch_is_refused(sso, op):
    r = sso.admin("PUT", "/tenants/acme/sso/oidc", connection(op, issuer=op.issuer + "/"))
    assert r.status_code == 400
    assert "must match exactly" in r.json()["error"]["message"]


@pytest.mark.parametrize("issuer", [
    "https://login.microsoftonline.com/common/v2.0",
    "https://login.microsoftonline.com/COMMON/v2.0",
    "https://login.microsoftonline.com/Organizations/v2.0",
    "https://login.microsoftonline.com/CONSUMERS/v2.0",
    "https://Login.MicrosoftOnline.com/common/v2.0",
])
def test_entra_multi_tenant_issuer_is_refused_in_any_case(sso, issuer):
    """docs/sso.md: Entra's common, organizations and consumers are no directory; the host is
    case-insensitive and so is Entra about the alias, so is the refusal (before discovery)."""
    r = sso.admin("PUT", "/tenants/acme/sso/oidc",
                  {"issuer": issuer, "clientId": "x", "clientSecret": "y",
                   "signInCompleteUrl": COMPLETE})
    assert r.status_code == 400, r.text
    assert "use the Entra tenant id (a GUID)" in r.json()["error"]["message"], r.text


def test_get_change_put_round_trip_keeps_verified(sso, op):
    """docs/api.md: a PUT of what GET answered, with a flag changed, is accepted (the read-only
    members repeated as they are) and keeps verified; other values of them, and unknown fields,
    are refused."""
    handoff_code(login(sso, "alice"))
    g = sso.admin("GET", "/tenants/acme/sso/oidc").json()
    assert g["verified"] is True and "discovery" in g and "redirectUri" in g
    r = sso.admin("PUT", "/tenants/acme/sso/oidc", g)
    assert r.status_code == 200, r.text
    assert r.json() == g
    g["enabled"] = False
    r = sso.admin("PUT", "/tenants/acme/sso/oidc", g)
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["verified"] is True
    assert r.json()["firstSignIn"] == g["firstSignIn"]
    for field, value in (("redirectUri", "https://evil.example/cb"), ("verified", False),
                         ("discovery", {}), ("clientSecretSet", False)):
        r = sso.admin("PUT", "/tenants/acme/sso/oidc", {**g, field: value})
        assert r.status_code == 400, (field, r.text)
        assert r.json()["error"]["message"].startswith(f'read-only field "{field}"'), r.text
    r = sso.admin("PUT", "/tenants/acme/sso/oidc", {**g, "scopes": ["openid"]})
    assert r.status_code == 400 and r.json()["error"]["message"] == 'unknown field "scopes"'
    assert sso.admin("GET", "/tenants/acme/sso/oidc").json()["verified"] is True


def test_plain_http_issuer_needs_the_test_flag(server_factory, op):
    s = server_factory(extra_args=["--sso-key", SSO_KEY])
    s.make_tenant("acme")
    r = s.admin("PUT", "/tenants/acme/sso/oidc", connection(op))
    assert r.status_code == 400
    assert "https" in r.json()["error"]["message"]


@pytest.mark.parametrize("issuer", ["https://127.0.0.1:9", "https://localhost:9",
                                    "https://[::1]:9", "https://10.0.0.1:9"])
def test_issuer_on_an_internal_address_is_refused_before_connecting(server_factory, issuer):
    # SSO.md (a): discovery must not become a way to reach the operator's network (SSRF).
    # 10.0.0.1 is refused by address before any connection is attempted.
    s = server_factory(extra_args=["--sso-key", SSO_KEY])
    s.make_tenant("acme")
    r = s.admin("PUT", "/tenants/acme/sso/oidc",
                {"issuer": issuer, "clientId": "x", "clientSecret": "y",
                 "signInCompleteUrl": COMPLETE})
    assert r.status_code == 400, r.text
    assert "internal" in r.json()["error"]["message"]


def test_unreachable_issuer_is_503_but_no_database_error(server_factory):
    """A wrong issuer or an identity provider's outage is 503, logged with its cause, and not
    counted in scimd_store_errors_total, the "database failing requests" alert's metric
    (docs/alerts.md): a customer's typo must not page the operator about the database."""
    import socket
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"])
    s.make_tenant("acme")
    r = s.admin("PUT", "/tenants/acme/sso/oidc",
                {"issuer": f"http://127.0.0.1:{port}", "clientId": "x",
                 "clientSecret": "y", "signInCompleteUrl": COMPLETE})
    assert r.status_code == 503, r.text
    assert "cannot reach the identity provider" in r.json()["error"]["message"]
    text = s.request("GET", "/metrics").text
    assert 'scimd_store_errors_total{code="unavailable"} 0' in text
    assert 'scimd_store_errors_total{code="internal"} 0' in text
    deadline = time.monotonic() + 10  # the log is read by another thread
    while "an outside server failed: cannot reach" not in s.log and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "an outside server failed: cannot reach the identity provider" in s.log
    assert s.request("GET", "/healthz").status_code == 200


def test_secret_without_sso_key_is_refused(server_factory, op):
    s = server_factory(extra_args=["--sso-test-http", "on"])
    s.make_tenant("acme")
    r = s.admin("PUT", "/tenants/acme/sso/oidc", connection(op))
    assert r.status_code == 400
    assert "sso_key" in r.json()["error"]["message"]


def test_cli_sets_a_connection_through_the_same_checks(sso, op, tmp_path):
    body = tmp_path / "oidc.json"
    body.write_text(__import__("json").dumps(connection(op, idpInitiated=False)))
    p = sso.cli("sso", "set", "acme", "oidc", "--file", str(body), "--sso-key", SSO_KEY,
                "--sso-test-http", "on")
    assert '"idpInitiated": false' in p.stdout and CLIENT_SECRET not in p.stdout
    body.write_text(__import__("json").dumps(connection(op, issuer="https://acme-admin.okta.com")))
    p = sso.cli("sso", "set", "acme", "oidc", "--file", str(body), "--sso-key", SSO_KEY,
                check=False)
    assert p.returncode == 1 and "https://acme.okta.com" in p.stderr
    # The daemon signs in with what the CLI saved.
    handoff_code(login(sso, "alice"))


def test_cli_shows_the_same_connection(sso):
    sso.stop()
    p = sso.cli("sso", "show", "acme", "oidc", "--sso-key", SSO_KEY)
    assert '"clientSecretSet": true' in p.stdout and CLIENT_SECRET not in p.stdout


# ---- happy paths ----

def test_sp_initiated_login_hands_off_a_single_use_code(sso, op):
    authz, cookie = begin(sso, return_to="/reports/q3", login_hint="alice")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authz).query))
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 22 and len(q["nonce"]) >= 22
    assert q["redirect_uri"] == f"{sso.url}/sso/acme/oidc/callback"
    assert q["scope"].split() == ["openid", "email", "profile"]
    r = callback(sso, at_idp(authz), cookie)
    assert r.headers["Referrer-Policy"] == "no-referrer"
    got = handoff_code(r)
    assert got["tenant"] == "acme" and got["return_to"] == "/reports/q3"
    rr = redeem(sso, got["code"])
    assert rr.status_code == 200, rr.text
    body = rr.json()
    assert body["email"] == "alice@example.test" and body["protocol"] == "oidc"
    assert body["initiated"] == "sp" and body["tenant"] == "acme"
    assert redeem(sso, got["code"]).status_code == 404  # single use
    assert sso.admin("GET", "/tenants/acme/sso/oidc").json()["verified"] is True
    assert "result=success" in sso.log
    metrics = sso.request("GET", "/metrics").text
    assert 'scimd_sso_signins_total{result="success"} 1' in metrics


def test_redeem_tells_the_effective_role_and_sign_ins_are_audit_events(sso, op):
    body = redeem(sso, handoff_code(login(sso, "alice"))["code"]).json()
    assert body["role"] == "reporting"
    # A mapped admin group makes alice an admin; the hand-off says so.
    sso.admin("PUT", "/tenants/acme/role-map",
              {"rules": [{"group": "Owners", "role": "admin", "priority": 1}]})
    r = sso.scim("POST", "/Users", sso.scim_token,
                 {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                  "userName": "nobody@example.test"})
    alice = [e for e in sso.admin("GET", "/tenants/acme/events").json()["events"]
             if e["kind"] == "sso.signin"][0]["resourceId"]
    sso.scim("POST", "/Groups", sso.scim_token,
             {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
              "displayName": "Owners", "members": [{"value": alice}]})
    assert redeem(sso, handoff_code(login(sso, "alice"))["code"]).json()["role"] == "admin"
    assert r.status_code == 201
    # Refusals are events too, with their reason code.
    assert login(sso, "mallory").status_code == 403
    evs = [e for e in sso.admin("GET", "/tenants/acme/events").json()["events"]
           if e["kind"] == "sso.signin"]
    assert [e["data"]["result"] for e in evs] == ["success", "success", "rejected"]
    assert evs[0]["actor"] == "sso:oidc" and evs[0]["resourceType"] == "User"
    assert evs[0]["data"] == {"protocol": "oidc", "initiated": "sp", "result": "success",
                              "reason": "ok"}
    # docs/api.md: about the user when one was identified, a deactivated one included.
    mallory = sso.scim("GET", '/Users?filter=userName eq "mallory@example.test"',
                       sso.scim_token).json()["Resources"][0]["id"]
    assert evs[2]["data"]["reason"] == "inactive_user" and evs[2]["resourceId"] == mallory


def test_idp_initiated_login_starts_a_fresh_flow(sso, op):
    authz, cookie = begin(sso, "/sso/acme/oidc/initiate", iss=op.issuer, login_hint="bob",
                          target_link_uri=sso.url + "/inbox")
    got = handoff_code(callback(sso, at_idp(authz), cookie))
    body = redeem(sso, got["code"]).json()
    assert body["email"] == "bob@example.test" and body["initiated"] == "idp"
    assert got["return_to"] == "/inbox"


def test_email_case_variants_match(sso, op):
    # The provider sends "Alice@Example.test"; the user is alice@example.test.
    assert redeem(sso, handoff_code(login(sso, "alice"))["code"]).status_code == 200


def test_deactivated_user_cannot_redeem_a_code(sso, op):
    got = handoff_code(login(sso, "bob"))
    users = sso.scim("GET", '/Users?filter=userName eq "bob@example.test"', sso.scim_token).json()
    uid = users["Resources"][0]["id"]
    r = sso.scim("PATCH", f"/Users/{uid}", sso.scim_token,
                 {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                  "Operations": [{"op": "replace", "path": "active", "value": False}]})
    assert r.status_code == 200, r.text
    assert redeem(sso, got["code"]).status_code == 403


def test_rotated_key_is_fetched_once_then_accepted(sso, op):
    handoff_code(login(sso, "alice"))
    from jwcrypto import jwk
    new = jwk.JWK.generate(kty="RSA", size=2048, kid="k2", alg="RS256", use="sig")
    op.keys.append(new)
    op.mutate = lambda h, c: op.sign({**h, "kid": "k2"}, c, key=new)
    hits = op.jwks_hits
    handoff_code(login(sso, "alice"))
    assert op.jwks_hits == hits + 1
    # A flood of unknown kids makes no further fetch within the minute.
    op.mutate = lambda h, c: op.sign({**h, "kid": "nope"}, c)
    for _ in range(3):
        assert_refused(sso, login(sso, "alice"), "unknown_kid")
    assert op.jwks_hits == hits + 1


# ---- who gets in ----

def test_unknown_user_is_refused(sso, op):
    import sso_op
    sso_op.USERS["zed"] = {"sub": "00u-zed", "email": "zed@example.test", "email_verified": True}
    try:
        assert_refused(sso, login(sso, "zed"), "unknown_user", 403)
    finally:
        del sso_op.USERS["zed"]


def test_inactive_user_is_refused(sso, op):
    assert_refused(sso, login(sso, "mallory"), "inactive_user", 403)


def gus_users(sso, *actives):
    """Users named gus-0, gus-1, … (active as given, oldest first), all with the email
    gus@example.test, and the provider's user "gus" who signs in with it (a new subject)."""
    import sso_op
    sso_op.USERS["gus"] = {"sub": "00u-gus", "email": "gus@example.test", "email_verified": True}
    for i, active in enumerate(actives):
        r = sso.scim("POST", "/Users", sso.scim_token,
                     user_body(f"gus-{i}", active=active,
                               emails=[{"value": "gus@example.test", "type": "work"}]))
        assert r.status_code == 201, r.text


@pytest.fixture
def gus():
    yield
    import sso_op
    sso_op.USERS.pop("gus", None)


def test_deactivated_user_with_the_same_email_does_not_make_it_ambiguous(sso, op, gus):
    """SSO.md (a): the email must match exactly one *active* user; the deactivated old
    account of a re-hire must not lock the new one out."""
    gus_users(sso, False, True)
    body = redeem(sso, handoff_code(login(sso, "gus"))["code"]).json()
    assert body["userName"] == "gus-1"


def test_two_active_users_with_the_email_are_ambiguous(sso, op, gus):
    gus_users(sso, False, True, True)
    assert_refused(sso, login(sso, "gus"), "ambiguous_email", 403)


def test_only_deactivated_users_with_the_email_are_inactive_user(sso, op, gus):
    gus_users(sso, False, False)
    assert_refused(sso, login(sso, "gus"), "inactive_user", 403)


def user_id(sso, user_name):
    r = sso.scim("GET", f'/Users?filter=userName eq "{user_name}"', sso.scim_token)
    return r.json()["Resources"][0]["id"]


def last_signin_event(sso):
    return [e for e in sso.admin("GET", "/tenants/acme/events?order=desc").json()["events"]
            if e["kind"] == "sso.signin"][0]


def test_refusing_a_deactivated_user_names_them_in_log_and_event(sso, op):
    """docs/api.md: sso.signin is about the user when one was identified; a deactivated
    user is identified (by email at a first sign-in, by the link later)."""
    mallory = user_id(sso, "mallory@example.test")
    assert_refused(sso, login(sso, "mallory"), "inactive_user", 403)
    assert f"reason=inactive_user user={mallory}" in sso.log
    ev = last_signin_event(sso)
    assert ev["resourceType"] == "User" and ev["resourceId"] == mallory
    # Linked first, deactivated after: the link names the user.
    bob = user_id(sso, "bob@example.test")
    handoff_code(login(sso, "bob"))
    r = sso.admin("POST", f"/tenants/acme/users/{bob}/deactivate")
    assert r.status_code in (200, 204), r.text
    assert login(sso, "bob").status_code == 403
    for _ in range(40):
        if f"reason=inactive_user user={bob}" in sso.log:
            break
        time.sleep(0.05)
    assert f"reason=inactive_user user={bob}" in sso.log, sso.log[-1500:]
    ev = last_signin_event(sso)
    assert ev["data"]["reason"] == "inactive_user" and ev["resourceId"] == bob


def test_several_deactivated_users_with_the_email_name_nobody(sso, op, gus):
    gus_users(sso, False, False)  # no single user was identified
    assert_refused(sso, login(sso, "gus"), "inactive_user", 403)
    assert "reason=inactive_user user=-" in sso.log
    assert last_signin_event(sso).get("resourceId") is None


def test_unverified_email_is_refused(sso, op):
    assert_refused(sso, login(sso, "carol"), "email_not_verified", 401)


def test_email_linked_to_another_subject_is_refused_and_names_the_user(sso, op):
    handoff_code(login(sso, "alice"))
    assert_refused(sso, login(sso, "alice2"), "linked_to_other_subject", 403)
    # The admin sees whose account another subject of the same IdP tried to take.
    alice = user_id(sso, "alice@example.test")
    assert f"reason=linked_to_other_subject user={alice}" in sso.log, sso.log[-1500:]
    ev = last_signin_event(sso)
    assert ev["data"]["reason"] == "linked_to_other_subject" and ev["resourceId"] == alice


def no_email(h, c):
    return h, {k: v for k, v in c.items() if k not in ("email", "email_verified")}


def test_userinfo_supplies_a_missing_email(sso, op):
    op.mutate = no_email
    got = handoff_code(login(sso, "bob"))
    assert redeem(sso, got["code"]).json()["email"] == "bob@example.test"


def test_userinfo_about_another_subject_is_refused(sso, op):
    op.mutate = no_email
    op.userinfo_mutate = lambda c: {**c, "sub": "00u-alice"}
    assert_refused(sso, login(sso, "bob"), "userinfo_sub_mismatch")


def test_userinfo_with_unverified_email_is_refused(sso, op):
    op.mutate = no_email
    assert_refused(sso, login(sso, "carol"), "email_not_verified")


# ---- state, cookie, mix-up ----

def test_state_missing_unknown_and_reused(sso, op):
    authz, cookie = begin(sso, login_hint="alice")
    cb = at_idp(authz)
    no_state = re.sub(r"state=[^&]*&?", "", cb)
    assert_refused(sso, callback(sso, no_state, cookie), "state_missing")
    unknown = re.sub(r"state=[^&]*", "state=AAAA", cb)
    assert_refused(sso, callback(sso, unknown, cookie), "unknown_transaction")
    handoff_code(callback(sso, cb, cookie))
    assert_refused(sso, callback(sso, cb, cookie), "unknown_transaction")


def test_callback_without_or_with_another_cookie_is_refused(sso, op):
    authz, _ = begin(sso, login_hint="alice")
    assert_refused(sso, callback(sso, at_idp(authz), None), "transaction_cookie_missing")
    authz, _ = begin(sso, login_hint="alice")
    _, other = begin(sso, login_hint="alice")
    assert_refused(sso, callback(sso, at_idp(authz), other), "transaction_cookie_mismatch")


def test_iss_parameter_of_another_issuer_is_refused_before_the_token_request(sso, op):
    authz, cookie = begin(sso, login_hint="alice")
    cb = at_idp(authz).replace(urllib.parse.quote(op.issuer, safe=""),
                               urllib.parse.quote("https://evil.test", safe=""))
    hits = op.token_hits
    assert_refused(sso, callback(sso, cb, cookie), "wrong_iss_parameter")
    assert op.token_hits == hits


def test_missing_iss_parameter_is_refused_when_announced(sso, op):
    op.iss_param = False
    assert_refused(sso, login(sso, "alice"), "iss_parameter_missing")


def test_code_replay_gets_no_session(sso, op):
    authz, cookie = begin(sso, login_hint="alice")
    cb = at_idp(authz)
    handoff_code(callback(sso, cb, cookie))
    # A second transaction replaying the first code: the provider refuses it.
    authz2, cookie2 = begin(sso, login_hint="alice")
    cb2 = at_idp(authz2)
    code1 = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(cb).query))["code"]
    code2 = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(cb2).query))["code"]
    assert_refused(sso, callback(sso, cb2.replace(code2, code1), cookie2),
                   "token_request_refused")


# ---- ID-token attacks ----

@pytest.mark.parametrize("name,mutate,reason", [
    ("wrong_iss", lambda op: lambda h, c: (h, {**c, "iss": "https://evil.test"}), "wrong_issuer"),
    ("wrong_aud", lambda op: lambda h, c: (h, {**c, "aud": "other-client"}), "wrong_audience"),
    ("extra_aud", lambda op: lambda h, c: (h, {**c, "aud": [CLIENT_ID, "other"]}),
     "wrong_audience"),
    ("wrong_azp", lambda op: lambda h, c: (h, {**c, "azp": "other"}), "wrong_azp"),
    ("expired", lambda op: lambda h, c: (h, {**c, "exp": int(time.time()) - 600}), "expired"),
    ("iat_future", lambda op: lambda h, c: (h, {**c, "iat": int(time.time()) + 600}),
     "iat_in_future"),
    # Core §2: exp and iat are required NumericDates (RFC 7519 §2: JSON numbers).
    ("iat_missing", lambda op: lambda h, c: (h, {k: v for k, v in c.items() if k != "iat"}),
     "iat_missing"),
    ("exp_missing", lambda op: lambda h, c: (h, {k: v for k, v in c.items() if k != "exp"}),
     "exp_missing"),
    ("exp_string", lambda op: lambda h, c: (h, {**c, "exp": str(c["exp"])}), "malformed_payload"),
    ("iat_string", lambda op: lambda h, c: (h, {**c, "iat": str(c["iat"])}), "malformed_payload"),
    ("bad_nonce", lambda op: lambda h, c: (h, {**c, "nonce": "x" * 43}), "bad_nonce"),
    ("no_nonce", lambda op: lambda h, c: (h, {k: v for k, v in c.items() if k != "nonce"}),
     "bad_nonce"),
    ("alg_none", lambda op: lambda h, c: raw_token({"alg": "none", "kid": "k1"}, c),
     "alg_not_allowed"),
    ("hs256_public_key", lambda op: lambda h, c: hs256_token({"alg": "HS256", "kid": "k1"}, c,
                                                             op.public_pem()),
     "alg_not_allowed"),
    ("crit", lambda op: lambda h, c: raw_token({**h, "crit": ["exp"]}, c, b"x" * 256),
     "crit_header"),
    ("bad_signature", lambda op: lambda h, c: op.sign(h, c)[:-4] + "AAAA", "bad_signature"),
    ("jwe", lambda op: lambda h, c: "a.b.c.d.e", "encrypted_token"),
])
def test_id_token_attack_is_refused(sso, op, name, mutate, reason):
    op.mutate = mutate(op)
    assert_refused(sso, login(sso, "alice"), reason)


def test_entra_token_of_another_directory_is_refused(sso, op):
    r = sso.admin("PUT", "/tenants/acme/sso/oidc", connection(op, entraTenantId="tid-1"))
    assert r.status_code == 200, r.text
    # Entra sends no email_verified: accepted when tid is the configured directory.
    op.mutate = lambda h, c: (h, {**{k: v for k, v in c.items() if k != "email_verified"},
                                  "tid": "tid-1"})
    handoff_code(login(sso, "bob"))
    op.mutate = lambda h, c: (h, {**c, "tid": "tid-2"})
    assert_refused(sso, login(sso, "bob"), "wrong_tid")


def test_wrong_code_verifier_gets_no_session(sso, op):
    authz, cookie = begin(sso, login_hint="alice")
    cb = at_idp(authz)
    # Swap the stored PKCE verifier: the provider must refuse the code (RFC 7636 §4.6).
    verifier = "x" * 43
    if sso.dsn:
        sso.execute("UPDATE sso_transactions SET data ="
                    f" jsonb_set(data::jsonb, '{{verifier}}', '\"{verifier}\"')::text")
    else:
        sso.execute(f"UPDATE sso_transactions SET data = json_set(data, '$.verifier', '{verifier}')")
    assert_refused(sso, callback(sso, cb, cookie), "token_request_refused")


def test_attacker_key_via_jku_or_jwk_header_is_refused(sso, op):
    from jwcrypto import jwk
    evil = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")
    op.mutate = lambda h, c: op.sign({**h, "jwk": json_public(evil), "jku": "https://evil.test"},
                                     c, key=evil)
    assert_refused(sso, login(sso, "alice"), "bad_signature")


def json_public(k):
    import json
    return json.loads(k.export_public())


# ---- initiate and return_to ----

def test_initiate_with_a_foreign_issuer_is_400_without_redirect(sso, op):
    r = sso.request("GET", "/sso/acme/oidc/initiate?iss=https%3A%2F%2Fevil.test",
                    allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers


def test_initiate_drops_an_off_site_target_link_uri(sso, op):
    authz, cookie = begin(sso, "/sso/acme/oidc/initiate", iss=op.issuer, login_hint="bob",
                          target_link_uri="https://evil.test/inbox")
    assert "return_to" not in handoff_code(callback(sso, at_idp(authz), cookie))


def test_initiate_is_404_when_idp_initiated_is_off(sso, op):
    r = sso.admin("PUT", "/tenants/acme/sso/oidc", connection(op, idpInitiated=False))
    assert r.status_code == 200
    r = sso.request("GET", "/sso/acme/oidc/initiate?iss=" + urllib.parse.quote(op.issuer),
                    allow_redirects=False)
    assert r.status_code == 404


@pytest.mark.parametrize("evil", ["//evil.test", "/\\evil.test", "https://evil.test/x",
                                  "evil.test", "/ok\r\nX: y"])
def test_open_redirects_through_return_to_are_dropped(sso, op, evil):
    authz, cookie = begin(sso, login_hint="alice", return_to=evil)
    got = handoff_code(callback(sso, at_idp(authz), cookie))
    assert "return_to" not in got


def test_sso_responses_forbid_framing(sso):
    r = sso.request("GET", "/sso/acme/oidc/login", allow_redirects=False)
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"


def test_unknown_tenant_is_404(sso):
    assert sso.request("GET", "/sso/nope/oidc/login", allow_redirects=False).status_code == 404
