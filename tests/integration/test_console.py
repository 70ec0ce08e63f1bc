"""Issue 8: the web console's sessions, set-up links, tenant scope, CSRF, headers and the
management API additions it reads (groups, filtered events)."""

import requests

from conftest import OPERATOR_KEY, USER_URN, TENANT_URN

JSON = {"Content-Type": "application/json"}


def operator_session(server):
    s = requests.Session()
    r = s.post(server.url + "/console/api/session", json={"operatorKey": OPERATOR_KEY})
    assert r.status_code == 201, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf"]
    return s, r


def tenant_with_admin(server, slug):
    server.make_tenant(slug)
    token = server.mint(slug)["token"]
    admin = server.make_admin(token, f"admin@{slug}.example")
    return token, admin


def setup_link(server, slug, admin):
    r = server.admin("POST", f"/tenants/{slug}/setup-links", {"actingUser": admin})
    assert r.status_code == 201, r.text
    return r.json()


def redeem(server, url):
    token = url.split("#setup=", 1)[1]
    s = requests.Session()
    r = s.post(server.url + "/console/api/setup", json={"token": token})
    if r.status_code == 201:
        s.headers["X-CSRF-Token"] = r.json()["csrf"]
    return s, r


def test_operator_sign_in_sets_a_strict_http_only_cookie(server):
    s, r = operator_session(server)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("scimd_console=")
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in cookie
    assert "Secure" not in cookie  # plain http on loopback
    assert OPERATOR_KEY not in r.text
    assert r.json()["scope"] == "operator"
    assert s.get(server.url + "/admin/v1/tenants").status_code == 200


def test_secure_cookie_with_an_https_public_url(server_factory):
    s = server_factory(["--public-url", "https://id.example.com"])
    r = requests.post(s.url + "/console/api/session", json={"operatorKey": OPERATOR_KEY})
    assert "; Secure" in r.headers["Set-Cookie"]


def test_wrong_operator_key_is_401_and_form_posts_are_415(server):
    r = requests.post(server.url + "/console/api/session", json={"operatorKey": "nope" * 8})
    assert r.status_code == 401
    r = requests.post(server.url + "/console/api/session",
                      data={"operatorKey": OPERATOR_KEY})  # a cross-site form's shape
    assert r.status_code == 415


def test_state_changing_requests_need_the_csrf_token(server):
    s, _ = operator_session(server)
    token = s.headers.pop("X-CSRF-Token")
    r = s.post(server.url + "/admin/v1/tenants", json={"slug": "acme"})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
    r = s.post(server.url + "/admin/v1/tenants", json={"slug": "acme"},
               headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    # With the token but a body without Content-Type (docs/console.md: JSON, said so).
    r = s.post(server.url + "/admin/v1/tenants", data=b'{"slug": "acme"}',
               headers={"X-CSRF-Token": token})
    assert r.status_code == 415, r.text
    r = s.post(server.url + "/admin/v1/tenants", json={"slug": "acme"},
               headers={"X-CSRF-Token": token})
    assert r.status_code == 201


def test_console_writes_from_another_origin_are_refused(server):
    """../shared/SSO.md: console writes carry the synchronizer token and come from the
    console's own origin (public_url's scheme, host and port). A browser sends Origin with
    every write; a client that sends none relies on the token alone."""
    s, _ = operator_session(server)
    own = server.url.rstrip("/")
    for origin in ("https://evil.example", "null", own + ".evil.example", own + "0"):
        r = s.post(server.url + "/admin/v1/tenants", json={"slug": "acme"},
                   headers={"Origin": origin})
        assert r.status_code == 403 and "origin" in r.json()["error"]["message"], (origin, r.text)
        r = s.delete(server.url + "/console/api/session", headers={"Origin": origin})
        assert r.status_code == 403, origin
    r = requests.post(server.url + "/console/api/session", json={"operatorKey": OPERATOR_KEY},
                      headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    # Reads are not writes; the own origin and no Origin at all are let through.
    assert s.get(server.url + "/admin/v1/tenants",
                 headers={"Origin": "https://evil.example"}).status_code == 200
    r = s.post(server.url + "/admin/v1/tenants", json={"slug": "acme"}, headers={"Origin": own})
    assert r.status_code == 201, r.text
    r = s.post(server.url + "/admin/v1/tenants", json={"slug": "beta"})
    assert r.status_code == 201, r.text


def test_sign_out_ends_the_session(server):
    s, _ = operator_session(server)
    r = s.delete(server.url + "/console/api/session")
    assert r.status_code == 204
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    s.cookies.clear()
    assert s.get(server.url + "/console/api/session").status_code == 401


def test_setup_link_opens_one_tenant_once(server):
    _, admin = tenant_with_admin(server, "acme")
    link = setup_link(server, "acme", admin)
    assert "#setup=" in link["url"] and link["url"].startswith(server.url + "/console/")
    s, r = redeem(server, link["url"])
    assert r.status_code == 201, r.text
    assert r.json()["scope"] == "tenant" and r.json()["tenant"]["slug"] == "acme"
    assert r.json()["userId"] == admin
    assert s.get(server.url + "/admin/v1/tenants/acme/tokens").status_code == 200
    # Single use.
    _, again = redeem(server, link["url"])
    assert again.status_code == 401 and "already used" in again.json()["error"]["message"]
    # The token of the link never reaches the access log.
    assert link["url"].split("#setup=")[1] not in server.log


def test_expired_setup_link_is_refused(server):
    _, admin = tenant_with_admin(server, "acme")
    link = setup_link(server, "acme", admin)
    server.execute("UPDATE setup_links SET expires_ms = 1")
    _, r = redeem(server, link["url"])
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_setup_link_needs_an_active_admin(server):
    token, _ = tenant_with_admin(server, "acme")
    r = server.scim("POST", "/Users", token, {"schemas": [USER_URN],
                                              "userName": "dev@acme.example"})
    r = server.admin("POST", "/tenants/acme/setup-links", {"actingUser": r.json()["id"]})
    assert r.status_code == 403 and "not the admin role" in r.json()["error"]["message"]


def test_tenant_admin_session_never_reaches_another_tenant(server):
    _, admin = tenant_with_admin(server, "acme")
    other_token, _ = tenant_with_admin(server, "globex")
    s, _ = redeem(server, setup_link(server, "acme", admin)["url"])
    for path in ("/tenants/globex", "/tenants/globex/tokens", "/tenants/globex/users",
                 "/tenants/globex/events", "/tenants/globex/groups", "/tenants/globex/role-map",
                 "/tenants/globex/webhooks"):
        r = s.get(server.url + "/admin/v1" + path)
        assert r.status_code == 403, (path, r.text)
    r = s.post(server.url + "/admin/v1/tenants/globex/tokens", json={})
    assert r.status_code == 403
    # Operator-only routes, even for its own tenant.
    assert s.get(server.url + "/admin/v1/tenants").status_code == 403
    assert s.patch(server.url + "/admin/v1/tenants/acme",
                   json={"plan": "free"}).status_code == 403
    assert s.delete(server.url + "/admin/v1/tenants/acme").status_code == 403
    assert s.post(server.url + "/admin/v1/tenants/acme/setup-links",
                  json={"actingUser": "x"}).status_code == 403
    # Its own tenant, yes; its users only to read.
    assert s.get(server.url + "/admin/v1/tenants/acme").status_code == 200
    assert s.get(server.url + "/admin/v1/tenants/acme/users").status_code == 200
    r = s.post(server.url + "/admin/v1/tenants/acme/users",
               json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                     "userName": "new@acme.example"})
    assert r.status_code == 403 and "host application's setting" in r.text


def test_tenant_admin_mints_as_itself_and_events_name_it(server):
    _, admin = tenant_with_admin(server, "acme")
    s, _ = redeem(server, setup_link(server, "acme", admin)["url"])
    # The body's actingUser is ignored: the session acts as its bound admin.
    r = s.post(server.url + "/admin/v1/tenants/acme/tokens",
               json={"actingUser": "someone-else", "label": "okta"})
    assert r.status_code == 201, r.text
    new_token = r.json()["token"]
    assert server.scim("GET", "/Users", new_token).status_code == 200
    gate = s.get(server.url + "/admin/v1/tenants/acme/token-gate").json()
    assert gate["allowed"] is True
    r = s.put(server.url + "/admin/v1/tenants/acme/role-map",
              json={"rules": [{"group": "Admins", "role": "admin", "priority": 1}]})
    assert r.status_code == 200
    ev = s.get(server.url + "/admin/v1/tenants/acme/events?order=desc&kind=role_map.").json()
    assert ev["events"][0]["actor"] == f"console:{admin}"


def test_session_ends_when_its_admin_is_deactivated(server):
    token, admin = tenant_with_admin(server, "acme")
    s, _ = redeem(server, setup_link(server, "acme", admin)["url"])
    server.scim("PATCH", f"/Users/{admin}", token, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert s.get(server.url + "/admin/v1/tenants/acme").status_code == 401


def test_events_filter_by_resource_and_kind_newest_first(server):
    token, admin = tenant_with_admin(server, "acme")
    other = server.scim("POST", "/Users", token, {"schemas": [USER_URN],
                                                  "userName": "b@acme.example"}).json()["id"]
    server.scim("PATCH", f"/Users/{other}", token, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"title": "Lead"}}]})
    r = server.admin("GET", f"/tenants/acme/events?order=desc&resource={other}")
    kinds = [e["kind"] for e in r.json()["events"]]
    assert kinds[0] == "user.updated" and "user.created" in kinds
    assert all(e["resourceId"] == other for e in r.json()["events"])
    r = server.admin("GET", "/tenants/acme/events?kind=user.created&order=asc")
    assert [e["resourceId"] for e in r.json()["events"]] == [admin, other]
    assert server.admin("GET", "/tenants/acme/events?order=up").status_code == 400


def test_events_query_bounds_and_kind_prefix(server):
    token, admin = tenant_with_admin(server, "acme")
    for name in ("b", "c"):
        server.scim("POST", "/Users", token, {"schemas": [USER_URN],
                                              "userName": f"{name}@acme.example"})
    every = server.admin("GET", "/tenants/acme/events?order=asc").json()["events"]
    seqs = [int(e["id"]) for e in every]
    users = [int(e["id"]) for e in every if e["kind"] == "user.created"]
    assert len(users) == 3 and seqs == sorted(seqs)

    def query(q):
        r = server.admin("GET", "/tenants/acme/events?" + q)
        assert r.status_code == 200, r.text
        return [int(e["id"]) for e in r.json()["events"]]

    # A prefix ends in '.'; without it the kind must match exactly.
    assert query("order=asc&kind=user.") == users
    assert query("order=asc&kind=user") == []
    # '_' and '%' are not wildcards.
    assert query("order=asc&kind=user_") == [] and query("order=asc&kind=%25") == []
    # after and before bound the read on both sides; before=0 is no bound.
    assert query(f"order=asc&kind=user.&after={users[0]}&before={users[2]}") == [users[1]]
    assert query(f"order=desc&kind=user.&before={users[2]}") == [users[1], users[0]]
    assert query("order=desc&kind=user.&before=0&limit=2") == [users[2], users[1]]
    assert query(f"order=asc&resource=nobody&after={seqs[0]}") == []


def test_groups_are_readable_through_the_management_api(server):
    token, _ = tenant_with_admin(server, "acme")
    g = server.scim("POST", "/Groups", token, {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"})
    r = server.admin("GET", "/tenants/acme/groups")
    assert r.status_code == 200 and r.json()["totalResults"] == 1
    r = server.admin("GET", f"/tenants/acme/groups/{g.json()['id']}")
    assert r.json()["displayName"] == "Eng"


def test_tenant_admin_saves_sso_through_the_api_with_its_checks(server):
    """The console's SSO forms use /admin/v1/tenants/{t}/sso/*: the same refusal of the Okta
    admin console URL, and another tenant's connections stay out of reach."""
    _, admin = tenant_with_admin(server, "acme")
    tenant_with_admin(server, "other")
    s, r = redeem(server, setup_link(server, "acme", admin)["url"])
    assert r.status_code == 201
    # signInCompleteUrl is the host's (test_permissions.py): the tenant admin leaves it out.
    body = {"oktaOrgUrl": "https://acme-admin.okta.com", "clientId": "x", "clientSecret": "y"}
    r = s.put(server.url + "/admin/v1/tenants/acme/sso/oidc", json=body)
    assert r.status_code == 400 and "https://acme.okta.com" in r.json()["error"]["message"]
    assert s.get(server.url + "/admin/v1/tenants/acme/sso/oidc").status_code == 404
    assert s.get(server.url + "/admin/v1/tenants/other/sso/oidc").status_code == 403
    r = s.put(server.url + "/admin/v1/tenants/acme/sso/oidc", json=body,
              headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    assert requests.post(server.url + "/console/api/check/okta-org-url",
                         json={"url": "https://acme.okta.com"}).status_code in (404, 405)


def test_console_page_and_assets_headers(server):
    r = requests.get(server.url + "/console/")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    import re
    js = re.search(r'/console/assets/(app\.[0-9a-f]{16}\.js)', r.text).group(1)
    a = requests.get(server.url + "/console/assets/" + js)
    assert a.status_code == 200 and a.headers["Content-Type"].startswith("text/javascript")
    assert a.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert requests.get(server.url + "/console/assets/app.js").status_code == 404
    assert requests.get(server.url + "/console/assets/index.html").status_code == 404


def test_last_scim_requests_per_token_with_their_error(server):
    token, admin = tenant_with_admin(server, "acme")
    other_token, _ = tenant_with_admin(server, "globex")
    body = {"schemas": [USER_URN], "userName": "dup@acme.example"}
    server.scim("POST", "/Users", token, body)
    server.scim("POST", "/Users", token, body)  # 409
    server.scim("GET", "/Users", other_token)
    r = server.admin("GET", "/tenants/acme/requests")
    reqs = r.json()["requests"]
    assert reqs[0]["status"] == 409 and reqs[0]["route"] == "/scim/v2/Users"
    assert "already in use" in reqs[0]["detail"] and reqs[0]["method"] == "POST"
    assert reqs[1]["status"] == 201 and reqs[1]["detail"] is None
    assert all(q["route"].startswith("/scim/v2/") for q in reqs)
    assert len(reqs) == 3  # make_admin's POST, then the two above; never globex's
    tok_id = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    assert server.admin("GET", f"/tenants/acme/requests?token={tok_id}&limit=1").json()[
        "requests"][0]["status"] == 409


def test_a_deleted_tenants_requests_are_not_shown_to_a_new_tenant_of_its_slug(server):
    # SQLite gives a new tenant the row id of the last deleted one: the request log (in
    # memory, by tenant id) must not show the old customer's userNames to the new one.
    token, _ = tenant_with_admin(server, "reuse")
    server.scim("POST", "/Users", token, {"schemas": [USER_URN], "userName": "ceo@old.example"})
    assert server.admin("DELETE", "/tenants/reuse").status_code == 204
    server.make_tenant("reuse")
    assert server.admin("GET", "/tenants/reuse/requests").json()["requests"] == []
    token = server.mint("reuse")["token"]
    assert server.scim("GET", "/Users", token).status_code == 200
    reqs = server.admin("GET", "/tenants/reuse/requests").json()["requests"]
    assert [(q["method"], q["status"]) for q in reqs] == [("GET", 200)]


def test_refused_tokens_are_in_their_tenants_request_log(server):
    # The failures an admin most needs to see — the IdP still using a revoked or expired
    # token, or the tenant's integration switched off — are logged for the token's tenant;
    # a token that is nobody's is logged nowhere.
    token, _ = tenant_with_admin(server, "acme")
    other, _ = tenant_with_admin(server, "globex")
    server.admin("PATCH", "/tenants/acme", {"integrationEnabled": False})
    assert server.scim("GET", "/Users", token).status_code == 401
    server.admin("PATCH", "/tenants/acme", {"integrationEnabled": True})
    stale = server.mint("acme")
    server.admin("POST", f"/tenants/acme/tokens/{stale['id']}/revoke")
    assert server.scim("GET", "/Users", stale["token"]).status_code == 401
    assert server.scim("GET", "/Users", "scimd_" + "A" * 43).status_code == 401
    reqs = server.admin("GET", "/tenants/acme/requests").json()["requests"]
    assert [(q["token"], q["status"]) for q in reqs[:2]] == [(stale["id"], 401),
                                                             (reqs[1]["token"], 401)]
    assert "revoked" in reqs[0]["detail"]
    assert "cannot be used now" in reqs[1]["detail"] and reqs[1]["token"] != stale["id"]
    assert len(reqs) == 3  # make_admin's POST and the two refusals
    assert len(server.admin("GET", "/tenants/globex/requests").json()["requests"]) == 1
    assert server.admin("GET", f"/tenants/acme/requests?token={stale['id']}").json()[
        "requests"] == reqs[:1]
