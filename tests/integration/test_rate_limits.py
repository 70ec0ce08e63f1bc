"""Rate limits (issue 15, item 9): failed authentications per token prefix (SCIM), per client
address (other credentials), SSO starts and callbacks, console sign-in. Past a limit: 429 with Retry-After (a
SCIM error under /scim/), counted in /metrics; what was refused changed nothing."""
import re

import requests

from conftest import OPERATOR_KEY, assert_scim_error


def metric(server, limit):
    text = requests.get(server.url + "/metrics", timeout=5).text
    return int(re.search(rf'^scimd_http_rate_limited_total\{{limit="{limit}"\}} (\d+)$', text,
                         re.M).group(1))


def well_formed(start):
    """A token of scimd's shape (scimd_ and 43 base64url characters) that no tenant has."""
    return (start + "x" * 49)[:49]


def test_failed_scim_authentications_per_address_are_429_with_retry_after(server_factory):
    server = server_factory(["--auth-failure-limit", "5"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    for i in range(5):
        r = server.scim("GET", "/Users", f"scimd_bogus{i:03d}_xxxxxxxxxxxxxxxxxxxxxxxx")
        assert_scim_error(r, 401)
    r = server.scim("GET", "/Users", "scimd_another_xxxxxxxxxxxxxxxxxxxxxxxxx")
    body = assert_scim_error(r, 429)
    assert "retry" in body["detail"]
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert_scim_error(server.scim("GET", "/Users", None), 429)
    # The address is blocked for what is not a scimd token (garbage, none) until the window
    # ends; a well-formed token is limited by its own prefix only, so a valid one still
    # works (identity providers share addresses across customers: test below).
    assert server.scim("GET", "/Users", token).status_code == 200
    assert server.request("GET", "/healthz").status_code == 200
    assert metric(server, "auth") == 2


def test_one_tenants_stale_token_does_not_block_another_from_the_same_address(server_factory):
    """Okta and Entra send every customer's requests from shared address ranges: a customer
    whose token was revoked (its IdP keeps retrying) is limited by that token alone, never
    the other customers, nor its own tenant's new token (the rotation that fixes it)."""
    server = server_factory(["--auth-failure-limit", "5"])
    for slug in ("acme", "globex"):
        server.make_tenant(slug)
    stale = server.mint("acme")
    server.admin("POST", f"/tenants/acme/tokens/{stale['id']}/revoke")
    fresh = server.mint("acme")["token"]
    other = server.mint("globex")["token"]
    for _ in range(5):
        assert_scim_error(server.scim("GET", "/Users", stale["token"]), 401)
    assert_scim_error(server.scim("GET", "/Users", stale["token"]), 429)
    for token in (other, fresh):
        for _ in range(3):
            assert server.scim("GET", "/Users", token).status_code == 200
    assert metric(server, "auth") == 1


def test_successes_do_not_count(server_factory):
    server = server_factory(["--auth-failure-limit", "3"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    for _ in range(10):
        assert server.scim("GET", "/Users", token).status_code == 200
    assert metric(server, "auth") == 0


def test_operator_key_guessing_is_429_in_the_admin_style(server_factory):
    server = server_factory(["--auth-failure-limit", "3"])
    for i in range(3):
        r = server.request("GET", "/admin/v1/tenants", token=f"wrong-key-{i}-0123456789")
        assert r.status_code == 401
    r = server.request("GET", "/admin/v1/tenants", token=OPERATOR_KEY)
    assert r.status_code == 429 and r.json()["error"]["code"] == "RATE_LIMITED"
    assert int(r.headers["Retry-After"]) >= 1


def test_limit_per_token_prefix_counts_across_addresses(server_factory):
    """Failures for one token prefix count together whatever the address (here two
    loopback addresses), so a botnet cannot spread guesses at one token."""
    server = server_factory(["--auth-failure-limit", "4"])
    prefix = "scimd_AbCdEfGh"
    sess = requests.Session()
    for i in range(2):
        r = server.scim("GET", "/Users", well_formed(prefix + f"wrong{i}"))
        assert r.status_code == 401
    from requests.adapters import HTTPAdapter

    class Src(HTTPAdapter):
        def init_poolmanager(self, *a, **kw):
            kw["source_address"] = ("127.0.0.2", 0)
            super().init_poolmanager(*a, **kw)

    sess.mount("http://", Src())
    for i in range(2):
        r = sess.get(server.url + "/scim/v2/Users", timeout=5,
                     headers={"Authorization": "Bearer " + well_formed(f"{prefix}other{i}")})
        assert r.status_code == 401
    r = sess.get(server.url + "/scim/v2/Users", timeout=5,
                 headers={"Authorization": "Bearer " + well_formed(f"{prefix}more_")})
    assert_scim_error(r, 429)
    # Another prefix from the second address is not blocked.
    r = sess.get(server.url + "/scim/v2/Users", timeout=5,
                 headers={"Authorization": "Bearer " + well_formed("scimd_ZZZZZZZZ")})
    assert r.status_code == 401


def test_sso_start_and_callback_are_limited_per_address(server_factory):
    server = server_factory(["--sso-rate-limit", "4"])
    server.make_tenant("acme")
    statuses = [server.request("GET", "/sso/acme/oidc/login", allow_redirects=False).status_code
                for _ in range(2)]
    statuses += [server.request("GET", "/sso/acme/oidc/callback?code=x&state=y",
                                allow_redirects=False).status_code for _ in range(2)]
    assert 429 not in statuses, statuses
    r = server.request("GET", "/sso/acme/oidc/callback?code=x&state=y", allow_redirects=False)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert server.request("GET", "/sso/acme/saml/login", allow_redirects=False).status_code == 429
    assert metric(server, "sso") == 2


def test_console_sign_in_failures_are_limited(server_factory):
    server = server_factory(["--signin-failure-limit", "3"])
    for i in range(3):
        r = server.request("POST", "/console/api/session", json_body={"operatorKey": f"wrong-key-{i}-0123456789"})
        assert r.status_code in (401, 403), r.text
    r = server.request("POST", "/console/api/session", json_body={"operatorKey": OPERATOR_KEY})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "Set-Cookie" not in r.headers
    assert metric(server, "signin") == 1
