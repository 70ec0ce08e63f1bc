"""The tenant-free OIDC endpoints (docs/sso.md "One redirect URI for every tenant"): an Okta
Integration Network app registers one redirect URI and one initiate-login URI for every
customer (the Spark HR guide, A1), so GET /sso/oidc/callback finds the tenant from the
transaction its state names, and GET /sso/oidc/initiate from the issuer. Against the local
provider of sso_op.py, which checks that the token request's redirect_uri is the
authorization request's."""
import urllib.parse

import pytest

from conftest import user_body
from sso_op import LocalOP
from test_sso_oidc import (COMPLETE, SSO_KEY, TX, assert_refused, at_idp, begin, callback,
                           connection, handoff_code, redeem)


def tenant_with_alice(s, slug):
    s.make_tenant(slug)
    token = s.mint(slug)["token"]
    r = s.scim("POST", "/Users", token, user_body("alice@example.test"))
    assert r.status_code == 201, r.text


@pytest.fixture
def two(server_factory, op):
    """Tenants acme and beta, each with its own alice, on one provider, both "shared"."""
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"])
    for slug in ("acme", "beta"):
        tenant_with_alice(s, slug)
        r = s.admin("PUT", f"/tenants/{slug}/sso/oidc", connection(op, redirect="shared"))
        assert r.status_code == 200, r.text
        assert r.json()["redirect"] == "shared"
    return s


def redirect_uri_of(authz):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authz).query))["redirect_uri"]


def signin(s, slug):
    authz, cookie = begin(s, f"/sso/{slug}/oidc/login", login_hint="alice")
    back = at_idp(authz)
    return back, cookie


def test_shared_callback_signs_each_tenant_in_to_itself(two):
    for slug in ("acme", "beta"):
        back, cookie = signin(two, slug)
        assert back.startswith(f"{two.url}/sso/oidc/callback?"), back
        got = handoff_code(callback(two, back, cookie))
        assert got["tenant"] == slug
        body = redeem(two, got["code"]).json()
        assert body["tenant"] == slug and body["email"] == "alice@example.test"
        # The sso.signin event is the tenant's, as at its own callback.
        evs = [e for e in two.admin("GET", f"/tenants/{slug}/events").json()["events"]
               if e["kind"] == "sso.signin"]
        assert [e["data"]["result"] for e in evs] == ["success"]
    assert "event=sso_signin tenant=beta protocol=oidc initiated=sp result=success" in two.log
    metrics = two.request("GET", "/metrics").text
    assert 'scimd_sso_signins_total{result="success"} 2' in metrics


def test_a_transaction_of_one_tenant_does_not_complete_as_another(two):
    back, cookie = signin(two, "acme")
    # acme's state at beta's own callback: taken, refused, gone.
    at_beta = back.replace("/sso/oidc/callback", "/sso/beta/oidc/callback")
    assert_refused(two, callback(two, at_beta, cookie), "transaction_of_other_tenant", 400)
    assert_refused(two, callback(two, back, cookie), "unknown_transaction", 400)
    # acme's state with beta's browser cookie at the shared callback: another browser.
    back, _ = signin(two, "acme")
    _, beta_cookie = signin(two, "beta")
    assert_refused(two, callback(two, back, beta_cookie), "transaction_cookie_mismatch", 400)
    def reasons(slug):
        return [e["data"]["reason"] for e in
                two.admin("GET", f"/tenants/{slug}/events").json()["events"]
                if e["kind"] == "sso.signin"]
    # Each refusal is the event of the tenant whose callback or transaction it was.
    assert reasons("beta") == ["transaction_of_other_tenant"]
    assert reasons("acme") == ["transaction_cookie_mismatch"]


def test_shared_callback_is_single_use_and_needs_the_cookie(two):
    back, cookie = signin(two, "acme")
    handoff_code(callback(two, back, cookie))
    assert_refused(two, callback(two, back, cookie), "unknown_transaction", 400)
    back, _ = signin(two, "acme")
    assert_refused(two, callback(two, back, None), "transaction_cookie_missing", 400)
    r = two.request("GET", "/sso/oidc/callback?code=x", allow_redirects=False)
    assert_refused(two, r, "state_missing", 400)
    assert "event=sso_signin tenant=- protocol=oidc" in two.log


def test_shared_callback_checks_the_iss_parameter(two, op):
    back, cookie = signin(two, "acme")
    bad = back.replace(urllib.parse.quote(op.issuer, safe=""),
                       urllib.parse.quote("https://evil.example", safe=""))
    assert bad != back
    assert_refused(two, callback(two, bad, cookie), "wrong_iss_parameter", 400)


def test_a_disabled_connection_refuses_its_shared_callback(two, op):
    back, cookie = signin(two, "acme")
    r = two.admin("PUT", "/tenants/acme/sso/oidc", connection(op, enabled=False))
    assert r.status_code == 200 and r.json()["redirect"] == "shared"  # omitted: kept
    assert_refused(two, callback(two, back, cookie), "connection_disabled", 404)


def test_redirect_setting_chooses_the_redirect_uri_and_the_callback(two, op):
    authz, _ = begin(two, "/sso/acme/oidc/login")
    assert redirect_uri_of(authz) == f"{two.url}/sso/oidc/callback"
    r = two.admin("PUT", "/tenants/beta/sso/oidc", connection(op, redirect="tenant"))
    assert r.status_code == 200 and r.json()["redirect"] == "tenant"
    authz, cookie = begin(two, "/sso/beta/oidc/login", login_hint="alice")
    assert redirect_uri_of(authz) == f"{two.url}/sso/beta/oidc/callback"
    back = at_idp(authz)
    # A transaction completes only at the callback its redirect URI named.
    shared = back.replace("/sso/beta/oidc/callback", "/sso/oidc/callback")
    assert_refused(two, callback(two, shared, cookie), "wrong_callback", 400)
    authz, cookie = begin(two, "/sso/beta/oidc/login", login_hint="alice")
    assert handoff_code(callback(two, at_idp(authz), cookie))["tenant"] == "beta"


def test_default_connection_sends_the_tenant_redirect_uri(server_factory, op):
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"])
    tenant_with_alice(s, "acme")
    r = s.admin("PUT", "/tenants/acme/sso/oidc", connection(op))
    assert r.status_code == 200 and r.json()["redirect"] == "tenant"
    authz, _ = begin(s, "/sso/acme/oidc/login")
    assert redirect_uri_of(authz) == f"{s.url}/sso/acme/oidc/callback"


def test_redirect_values_other_than_tenant_or_shared_are_refused(two, op):
    r = two.admin("PUT", "/tenants/acme/sso/oidc", connection(op, redirect="both"))
    assert r.status_code == 400 and "redirect must be" in r.json()["error"]["message"]
    g = two.admin("GET", "/tenants/acme/sso/oidc").json()
    assert g["sharedRedirectUri"] == f"{two.url}/sso/oidc/callback"
    r = two.admin("PUT", "/tenants/acme/sso/oidc", {**g, "sharedRedirectUri": "https://x/cb"})
    assert r.status_code == 400 and "read-only field" in r.text


def test_overview_lists_the_shared_urls_and_which_is_used(two, op):
    o = two.admin("GET", "/tenants/acme/sso").json()["oidc"]
    assert o["redirectUri"] == f"{two.url}/sso/acme/oidc/callback"
    assert o["sharedRedirectUri"] == f"{two.url}/sso/oidc/callback"
    assert o["sharedInitiateLoginUri"] == f"{two.url}/sso/oidc/initiate"
    assert o["redirect"] == "shared"
    two.make_tenant("gamma")
    assert two.admin("GET", "/tenants/gamma/sso").json()["oidc"]["redirect"] == "tenant"


def test_the_host_own_addresses_of_the_shared_uris(server_factory, op):
    """The Spark HR guide registers the host's own fixed URLs (…/api/OktaAuth/callback); the
    host forwards them to scimd's shared endpoints. The redirect_uri sent, and repeated in the
    token request, is then exactly the registered one (the IdP compares it byte for byte), and
    the overview shows the host's addresses."""
    own_cb = "https://auth.example.test/api/OktaAuth/callback"
    own_init = "https://auth.example.test/api/OktaAuth/initiate"
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on",
                                   "--sso-shared-redirect-uri", own_cb,
                                   "--sso-shared-initiate-uri", own_init])
    tenant_with_alice(s, "acme")
    r = s.admin("PUT", "/tenants/acme/sso/oidc", connection(op, redirect="shared"))
    assert r.status_code == 200 and r.json()["sharedRedirectUri"] == own_cb, r.text
    o = s.admin("GET", "/tenants/acme/sso").json()["oidc"]
    assert (o["sharedRedirectUri"], o["sharedInitiateLoginUri"]) == (own_cb, own_init)
    authz, cookie = begin(s, "/sso/acme/oidc/login", login_hint="alice")
    assert redirect_uri_of(authz) == own_cb
    back = at_idp(authz)
    assert back.startswith(own_cb + "?"), back
    # The host's proxy forwards the browser's request, query and all, to scimd.
    forwarded = f"{s.url}/sso/oidc/callback?" + back.split("?", 1)[1]
    got = handoff_code(callback(s, forwarded, cookie))
    assert got["tenant"] == "acme"
    assert redeem(s, got["code"]).json()["email"] == "alice@example.test"


def test_the_host_own_shared_uris_must_be_https(server_factory):
    s = server_factory(start=False, extra_args=["--sso-key", SSO_KEY,
                                                "--sso-shared-redirect-uri", "http://x.example/cb"])
    with pytest.raises(RuntimeError) as e:
        s.start()
    assert "sso_shared_redirect_uri must be an https URL" in str(e.value)


# ---- the shared initiate-login URI ----

@pytest.fixture
def op2():
    p = LocalOP()
    yield p
    p.stop()


def initiate(s, iss, **params):
    q = urllib.parse.urlencode({"iss": iss, **params})
    return s.request("GET", f"/sso/oidc/initiate?{q}", allow_redirects=False)


def test_shared_initiate_starts_the_tenant_whose_issuer_matches(two, op, op2):
    r = two.admin("PUT", "/tenants/beta/sso/oidc", connection(op2, redirect="shared"))
    assert r.status_code == 200, r.text
    r = initiate(two, op2.issuer, login_hint="alice", target_link_uri="/inbox")
    assert r.status_code == 302, r.text
    authz = r.headers["Location"]
    assert authz.startswith(op2.issuer + "/authorize?")
    cookie = r.headers["Set-Cookie"].split(TX + "=", 1)[1].split(";", 1)[0]
    got = handoff_code(callback(two, at_idp(authz), cookie))
    assert got["tenant"] == "beta" and got["return_to"] == "/inbox"
    assert redeem(two, got["code"]).json()["initiated"] == "idp"


def test_shared_initiate_refuses_an_issuer_several_tenants_trust(two, op):
    r = initiate(two, op.issuer)
    assert_refused(two, r, "initiate_ambiguous_issuer", 400)
    assert "Location" not in r.headers
    for slug in ("acme", "beta"):
        evs = [e["data"] for e in two.admin("GET", f"/tenants/{slug}/events").json()["events"]
               if e["kind"] == "sso.signin"]
        assert evs == [{"protocol": "oidc", "initiated": "idp", "result": "rejected",
                        "reason": "initiate_ambiguous_issuer"}]


def test_a_connection_that_never_signed_in_does_not_make_the_issuer_ambiguous(two, op):
    """Any tenant's admin may save a connection naming any public issuer. Once beta's
    connection has signed someone in (verified: beta holds a client of that IdP), acme's
    never-used one with the same issuer stops counting, so the shared initiate-login URI
    keeps working for beta instead of being refused as ambiguous."""
    back, cookie = signin(two, "beta")
    assert handoff_code(callback(two, back, cookie))["tenant"] == "beta"
    r = initiate(two, op.issuer, login_hint="alice")
    assert r.status_code == 302, r.text
    cookie = r.headers["Set-Cookie"].split(TX + "=", 1)[1].split(";", 1)[0]
    got = handoff_code(callback(two, at_idp(r.headers["Location"]), cookie))
    assert got["tenant"] == "beta"
    # Both verified: ambiguous again, never one picked.
    back, cookie = signin(two, "acme")
    assert handoff_code(callback(two, back, cookie))["tenant"] == "acme"
    assert_refused(two, initiate(two, op.issuer), "initiate_ambiguous_issuer", 400)


def test_shared_initiate_refuses_unknown_disabled_and_idp_initiated_off(two, op, op2):
    assert initiate(two, op2.issuer).status_code == 404  # no tenant trusts it
    assert two.request("GET", "/sso/oidc/initiate", allow_redirects=False).status_code == 404
    # beta disabled: acme is the one enabled connection with the issuer, but has
    # IdP-initiated sign-in off.
    assert two.admin("PUT", "/tenants/beta/sso/oidc",
                     connection(op, enabled=False)).status_code == 200
    assert two.admin("PUT", "/tenants/acme/sso/oidc",
                     connection(op, idpInitiated=False)).status_code == 200
    assert_refused(two, initiate(two, op.issuer), "idp_initiated_disabled", 404)
    # Both disabled: as for an unknown issuer.
    assert two.admin("PUT", "/tenants/acme/sso/oidc",
                     connection(op, enabled=False)).status_code == 200
    r = initiate(two, op.issuer)
    assert r.status_code == 404 and "Location" not in r.headers
    # Re-enabled with IdP-initiated on: acme alone is started.
    assert two.admin("PUT", "/tenants/acme/sso/oidc", connection(op)).status_code == 200
    r = initiate(two, op.issuer, login_hint="alice")
    assert r.status_code == 302 and r.headers["Location"].startswith(op.issuer + "/authorize?")
    assert redirect_uri_of(r.headers["Location"]) == f"{two.url}/sso/oidc/callback"


def test_shared_initiate_accepts_a_form_post(two, op, op2):
    assert two.admin("PUT", "/tenants/beta/sso/oidc",
                     connection(op2, redirect="shared")).status_code == 200
    r = two.request("POST", "/sso/oidc/initiate", data={"iss": op2.issuer},
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith(op2.issuer + "/authorize?")
