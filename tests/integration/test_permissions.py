"""Issue 13 item 6: who may change what, the host application (operator key, or the operator's
console session) or a tenant admin's console session. docs/api.md "Who may change what" is the
expected table; the list of routes comes from the route table itself (src/http/router.c), so a
new /admin/v1 route without a row there, or without a request below, fails here. Every route is
called each way; every 403 is checked to change nothing (read back through the operator key)."""
import itertools
import pathlib
import re
import subprocess
import urllib.parse

import pytest
import requests

from conftest import OPERATOR_KEY, TENANT_URN, USER_URN

ROOT = pathlib.Path(__file__).resolve().parents[2]
SSO_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
COMPLETE = "https://app.example.test/sso/done"
OTHER = "https://evil.example.test/steal"
CALLERS = ("operator key", "operator console", "tenant admin console")
HOST_MESSAGE = "host application's setting"


def route_table():
    """(method, path) -> auth kind of every /admin/v1 route in src/http/router.c."""
    src = (ROOT / "src/http/router.c").read_text()
    rows = re.findall(r'\{\s*"([A-Z]+)",\s*"(/admin/v1[^"]*)",\s*\w+,\s*\w+,\s*(ROUTE_AUTH_\w+)\s*\}',
                      src)
    assert len(rows) > 30, "the route table did not parse"
    return {(m, p): a for m, p, a in rows}


def host_fields_table():
    """(method, path) -> [field] of router.c's host_fields[] (fields a tenant admin keeps)."""
    src = (ROOT / "src/http/router.c").read_text()
    lists = dict(re.findall(r'static const char \*const (\w+)\[\] = \{ ([^}]*)\};', src))
    out = {}
    for m, p, name in re.findall(r'\{ "([A-Z]+)", "(/admin/v1[^"]*)", (\w+_host_fields) \}', src):
        out[(m, p)] = re.findall(r'"(\w+)"', lists[name])
    return out


def doc_table():
    """(method, path) -> {caller: "allowed" | "403"} from docs/api.md."""
    doc = (ROOT / "docs/api.md").read_text()
    section = doc.split("## Who may change what", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r'^\| `([A-Z]+) (/admin/v1[^`]*)` \| (allowed|403) \| (allowed|403) \| '
                      r'(allowed|403) \|$', section, re.M)
    table = {(m, p): dict(zip(CALLERS, cells)) for m, p, *cells in rows}
    assert len(table) == len(rows), "a route has two rows in docs/api.md"
    return table, section


def test_docs_table_is_the_route_table():
    routes, (doc, section) = route_table(), doc_table()
    assert set(doc) == set(routes), (
        f"routes without a row in docs/api.md: {sorted(set(routes) - set(doc))}; "
        f"rows without a route: {sorted(set(doc) - set(routes))}")
    for key, auth in routes.items():
        # SESSION routes (process-wide facts) and NONE ones (public) reach every console.
        assert auth in ("ROUTE_AUTH_HOST", "ROUTE_AUTH_TENANT", "ROUTE_AUTH_SESSION",
                        "ROUTE_AUTH_NONE"), (key, auth)
        assert doc[key]["operator key"] == doc[key]["operator console"] == "allowed", key
        assert doc[key]["tenant admin console"] == (
            "403" if auth == "ROUTE_AUTH_HOST" else "allowed"), key
    fields = host_fields_table()
    assert fields, "router.c's host_fields[] did not parse"
    for key, names in fields.items():
        assert routes[key] == "ROUTE_AUTH_TENANT", key
        for name in names:
            row = [line for line in section.splitlines() if line.startswith(f"| `{name}` |")]
            assert row and f"`{key[0]} {key[1]}`" in row[0], (name, key)


# ---- the walk ----

class World:
    """One scimd with tenants acme (its admin signed in to the console) and globex, each with
    SSO connections, a webhook, a group and users; the operator key and console sessions."""

    def __init__(self, server, op):
        self.s, self.op, self.n = server, op, itertools.count()
        self.admin_of = {}
        for slug in ("acme", "globex"):
            server.make_tenant(slug)
            token = server.mint(slug)["token"]
            self.admin_of[slug] = server.make_admin(token, f"admin@{slug}.example")
            r = server.scim("POST", "/Groups", token, {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Eng"})
            assert r.status_code == 201, r.text
            # The host writes users of import-only tenants (switched after the SCIM seed).
            r = server.admin("PATCH", f"/tenants/{slug}", {"provisioningMode": "import-only"})
            assert r.status_code == 200, r.text
            self.ensure_oidc(slug)
            self.ensure_saml(slug)
            self.ensure_hook(slug)
        r = server.admin("POST", "/tenants/acme/setup-links", {"actingUser": self.admin_of["acme"]})
        assert r.status_code == 201, r.text
        self.tenant_admin = requests.Session()
        r = self.tenant_admin.post(server.url + "/console/api/setup",
                                   json={"token": r.json()["url"].split("#setup=", 1)[1]})
        assert r.status_code == 201 and r.json()["scope"] == "tenant", r.text
        self.tenant_admin.headers["X-CSRF-Token"] = r.json()["csrf"]
        self.operator_console = requests.Session()
        r = self.operator_console.post(server.url + "/console/api/session",
                                       json={"operatorKey": OPERATOR_KEY})
        assert r.status_code == 201, r.text
        self.operator_console.headers["X-CSRF-Token"] = r.json()["csrf"]

    # set-up through the operator key
    def ok(self, method, path, body=None):
        r = self.s.admin(method, path, body)
        assert r.status_code in (200, 201, 204), (method, path, r.text)
        return r.json() if r.content else None

    def ensure_oidc(self, slug):
        self.ok("PUT", f"/tenants/{slug}/sso/oidc", {
            "issuer": self.op.issuer, "clientId": "client", "clientSecret": "secret",
            "signInCompleteUrl": COMPLETE})

    def ensure_saml(self, slug):
        from saml_idp import SamlIdP
        if not hasattr(World, "idp"):
            World.idp = SamlIdP()
        self.ok("PUT", f"/tenants/{slug}/sso/saml", {
            "metadataXml": World.idp.metadata(), "signInCompleteUrl": COMPLETE})

    def ensure_hook(self, slug):
        hooks = self.ok("GET", f"/tenants/{slug}/webhooks")["webhooks"]
        if hooks:
            return hooks[0]["id"]
        return self.ok("POST", f"/tenants/{slug}/webhooks",
                       {"url": f"http://127.0.0.1:9/hook{next(self.n)}"})["id"]

    def new_user(self, slug):
        return self.ok("POST", f"/tenants/{slug}/users", {
            "schemas": [USER_URN], "userName": f"u{next(self.n)}@{slug}.example"})["id"]

    def new_token(self, slug):
        return self.ok("POST", f"/tenants/{slug}/tokens",
                       {"actingUser": self.admin_of[slug], "label": "t"})["id"]

    def group(self, slug):
        return self.ok("GET", f"/tenants/{slug}/groups")["Resources"][0]["id"]

    def call(self, caller, method, path, body):
        url = "/admin/v1" + path
        if caller == "operator key":
            return self.s.admin(method, path, body)
        sess = self.operator_console if caller == "operator console" else self.tenant_admin
        return sess.request(method, self.s.url + url, json=body, timeout=30)

    def snapshot(self, slug):
        """Everything the operator key reads about slug (and the tenant list)."""
        reads = ["/tenants", f"/tenants/{slug}", f"/tenants/{slug}/tokens",
                 f"/tenants/{slug}/role-map", f"/tenants/{slug}/users?count=1000",
                 f"/tenants/{slug}/groups", f"/tenants/{slug}/events?limit=1000",
                 f"/tenants/{slug}/requests", f"/tenants/{slug}/webhooks",
                 f"/tenants/{slug}/sso", f"/tenants/{slug}/sso/oidc",
                 f"/tenants/{slug}/sso/saml",
                 f"/tenants/{slug}/token-gate?actingUser={self.admin_of.get(slug, '')}"]
        out = {}
        for path in reads:
            r = self.s.admin("GET", path)
            out[path] = (r.status_code, r.text)
        hooks = self.s.admin("GET", f"/tenants/{slug}/webhooks")
        for hook in hooks.json()["webhooks"] if hooks.status_code == 200 else []:
            a = self.s.admin("GET", f"/tenants/{slug}/webhooks/{hook['id']}/attempts")
            out[hook["id"]] = (a.status_code, a.text)
        return out


def user_body(w, slug):
    return {"schemas": [USER_URN], "userName": f"n{next(w.n)}@{slug}.example"}


def patch_body():
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"title": "Lead"}}]}


def fresh_tenant(w):
    slug = f"tmp{next(w.n)}"
    w.ok("POST", "/tenants", {"slug": slug})
    return slug


# (method, route pattern) -> f(world, slug, caller) -> (path, body, allowed statuses). The
# statuses are those the body given earns from a caller the table allows (never 403).
T = "/admin/v1/tenants/{tenant}"
RECIPES = {
    ("GET", "/admin/v1/tenants"): lambda w, t, c: ("/tenants", None, {200}),
    ("POST", "/admin/v1/tenants"):
        lambda w, t, c: ("/tenants", {"slug": f"new{next(w.n)}"}, {201}),
    ("GET", T): lambda w, t, c: (f"/tenants/{t}", None, {200}),
    ("PATCH", T): lambda w, t, c: (f"/tenants/{t}", {"displayName": "Renamed"}, {200}),
    # The host deletes a throwaway tenant; a tenant admin is refused its own.
    ("DELETE", T): lambda w, t, c: (
        f"/tenants/{t if c == 'tenant admin console' else fresh_tenant(w)}", None, {204}),
    ("GET", T + "/tokens"): lambda w, t, c: (f"/tenants/{t}/tokens", None, {200}),
    ("POST", T + "/tokens"): lambda w, t, c: (
        f"/tenants/{t}/tokens", {"actingUser": w.admin_of[t], "label": "x"}, {201}),
    ("POST", T + "/tokens/{id}/revoke"):
        lambda w, t, c: (f"/tenants/{t}/tokens/{w.new_token(t)}/revoke", None, {200}),
    ("DELETE", T + "/tokens/{id}"):
        lambda w, t, c: (f"/tenants/{t}/tokens/{w.new_token(t)}", None, {200}),
    ("POST", T + "/tokens/{id}/rotate"): lambda w, t, c: (
        f"/tenants/{t}/tokens/{w.new_token(t)}/rotate",
        {"actingUser": w.admin_of[t], "overlapSeconds": 0}, {201}),
    ("GET", T + "/token-gate"): lambda w, t, c: (
        f"/tenants/{t}/token-gate?actingUser={w.admin_of[t]}", None, {200}),
    ("GET", T + "/role-map"): lambda w, t, c: (f"/tenants/{t}/role-map", None, {200}),
    ("PUT", T + "/role-map"): lambda w, t, c: (
        f"/tenants/{t}/role-map",
        {"rules": [{"group": "Nobody", "role": "developer", "priority": next(w.n) + 1}]}, {200}),
    ("GET", T + "/users"): lambda w, t, c: (f"/tenants/{t}/users", None, {200}),
    ("POST", T + "/users"): lambda w, t, c: (f"/tenants/{t}/users", user_body(w, t), {201}),
    ("GET", T + "/users/{id}"):
        lambda w, t, c: (f"/tenants/{t}/users/{w.admin_of[t]}", None, {200}),
    ("PUT", T + "/users/{id}"): lambda w, t, c: (
        f"/tenants/{t}/users/{w.new_user(t)}", user_body(w, t), {200}),
    ("PATCH", T + "/users/{id}"):
        lambda w, t, c: (f"/tenants/{t}/users/{w.new_user(t)}", patch_body(), {200}),
    ("DELETE", T + "/users/{id}"):
        lambda w, t, c: (f"/tenants/{t}/users/{w.new_user(t)}", None, {204}),
    ("POST", T + "/users/{id}/deactivate"):
        lambda w, t, c: (f"/tenants/{t}/users/{w.new_user(t)}/deactivate", None, {200}),
    ("POST", T + "/users/{id}/reactivate"):
        lambda w, t, c: (f"/tenants/{t}/users/{w.new_user(t)}/reactivate", None, {200}),
    ("GET", T + "/users/{id}/role"):
        lambda w, t, c: (f"/tenants/{t}/users/{w.admin_of[t]}/role", None, {200}),
    ("GET", T + "/webhooks"): lambda w, t, c: (f"/tenants/{t}/webhooks", None, {200}),
    ("POST", T + "/webhooks"): lambda w, t, c: (
        f"/tenants/{t}/webhooks", {"url": f"http://127.0.0.1:9/new{next(w.n)}"}, {201}),
    ("GET", T + "/webhooks/{id}"):
        lambda w, t, c: (f"/tenants/{t}/webhooks/{w.ensure_hook(t)}", None, {200}),
    ("PATCH", T + "/webhooks/{id}"): lambda w, t, c: (
        f"/tenants/{t}/webhooks/{w.ensure_hook(t)}", {"enabled": False}, {200}),
    ("DELETE", T + "/webhooks/{id}"):
        lambda w, t, c: (f"/tenants/{t}/webhooks/{w.ensure_hook(t)}", None, {204}),
    ("POST", T + "/webhooks/{id}/rotate-secret"): lambda w, t, c: (
        f"/tenants/{t}/webhooks/{w.ensure_hook(t)}/rotate-secret", None, {200}),
    ("GET", T + "/webhooks/{id}/attempts"):
        lambda w, t, c: (f"/tenants/{t}/webhooks/{w.ensure_hook(t)}/attempts", None, {200}),
    ("GET", T + "/events"): lambda w, t, c: (f"/tenants/{t}/events", None, {200}),
    ("GET", T + "/requests"): lambda w, t, c: (f"/tenants/{t}/requests", None, {200}),
    ("GET", T + "/groups"): lambda w, t, c: (f"/tenants/{t}/groups", None, {200}),
    ("GET", T + "/groups/{id}"):
        lambda w, t, c: (f"/tenants/{t}/groups/{w.group(t)}", None, {200}),
    ("POST", T + "/setup-links"): lambda w, t, c: (
        f"/tenants/{t}/setup-links", {"actingUser": w.admin_of[t]}, {201}),
    ("GET", T + "/sso"): lambda w, t, c: (f"/tenants/{t}/sso", None, {200}),
    ("GET", T + "/sso/oidc"):
        lambda w, t, c: (w.ensure_oidc(t), f"/tenants/{t}/sso/oidc", None, {200})[1:],
    # The SSO values a tenant admin owns; signInCompleteUrl left out (the host's field).
    ("PUT", T + "/sso/oidc"): lambda w, t, c: (
        f"/tenants/{t}/sso/oidc", {"issuer": w.op.issuer, "clientId": f"c{next(w.n)}"}, {200}),
    ("DELETE", T + "/sso/oidc"):
        lambda w, t, c: (w.ensure_oidc(t), f"/tenants/{t}/sso/oidc", None, {204})[1:],
    ("GET", T + "/sso/saml"):
        lambda w, t, c: (w.ensure_saml(t), f"/tenants/{t}/sso/saml", None, {200})[1:],
    ("PUT", T + "/sso/saml"): lambda w, t, c: (
        f"/tenants/{t}/sso/saml", {"metadataXml": World.idp.metadata(), "idpInitiated": True},
        {200}),
    ("DELETE", T + "/sso/saml"):
        lambda w, t, c: (w.ensure_saml(t), f"/tenants/{t}/sso/saml", None, {204})[1:],
    ("GET", "/admin/v1/roles"): lambda w, t, c: ("/roles", None, {200}),
    ("GET", "/admin/v1/openapi.json"): lambda w, t, c: ("/openapi.json", None, {200}),
    ("GET", T + "/users/{id}/sso-links"):
        lambda w, t, c: (f"/tenants/{t}/users/{w.admin_of[t]}/sso-links", None, {200}),
    ("DELETE", T + "/users/{id}/sso-links"):
        lambda w, t, c: (f"/tenants/{t}/users/{w.new_user(t)}/sso-links", None, {204}),
    # A code nobody issued: the host's call is heard (404), a tenant admin's refused.
    ("POST", "/admin/v1/sso/redeem"):
        lambda w, t, c: ("/sso/redeem", {"code": "never-issued-" + "x" * 30}, {404}),
}


@pytest.fixture
def world(server_factory, op):
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on",
                                   "--webhook-allow-http", "on", "--webhook-poll-ms", "60000"])
    return World(s, op)


def assert_refused(w, r, what):
    assert r.status_code == 403, (what, r.status_code, r.text)
    err = r.json()["error"]
    assert err["status"] == 403 and err["code"] == "FORBIDDEN", (what, r.text)
    return err["message"]


def test_every_route_each_way(world):
    w, routes, (doc, _) = world, route_table(), doc_table()
    missing = sorted(set(routes) - set(RECIPES))
    assert not missing, f"routes without a request in test_permissions.py: {missing}"
    for key in routes:
        method, pattern = key
        for caller in CALLERS:
            path, body, allowed = RECIPES[key](w, "acme", caller)
            what = (caller, method, path)
            if doc[key][caller] == "403":
                before = w.snapshot("acme")
                r = w.call(caller, method, path, body)
                assert HOST_MESSAGE in assert_refused(w, r, what), (what, r.text)
                assert w.snapshot("acme") == before, f"{what} was refused but changed state"
            else:
                r = w.call(caller, method, path, body)
                assert r.status_code in allowed, (what, r.status_code, r.text)


def test_a_tenant_admin_reaches_no_route_of_another_tenant(world):
    w = world
    for (method, pattern) in route_table():
        if "{tenant}" not in pattern:
            continue
        path, body, _ = RECIPES[(method, pattern)](w, "globex", "tenant admin console")
        before = w.snapshot("globex")
        r = w.call("tenant admin console", method, path, body)
        msg = assert_refused(w, r, (method, path))
        assert 'reaches tenant "acme" only' in msg or HOST_MESSAGE in msg, msg
        assert w.snapshot("globex") == before, f"{method} {path} changed globex"


# ---- signInCompleteUrl: the host's field in the tenant admin's connections ----

def saml_put(w, caller, **fields):
    return w.call(caller, "PUT", "/tenants/acme/sso/saml",
                  {"metadataXml": World.idp.metadata(), **fields})


def test_a_tenant_admin_cannot_change_sign_in_complete_url(world):
    w = world
    for value in (OTHER, None, COMPLETE + "?x=1"):
        before = w.snapshot("acme")
        r = saml_put(w, "tenant admin console", signInCompleteUrl=value, idpInitiated=True)
        msg = assert_refused(w, r, value)
        assert "signInCompleteUrl" in msg and HOST_MESSAGE in msg, msg
        assert w.snapshot("acme") == before
    # Omitted, or the stored value repeated: saved, and the host's page stays.
    r = saml_put(w, "tenant admin console", idpInitiated=True)
    assert r.status_code == 200 and r.json()["signInCompleteUrl"] == COMPLETE, r.text
    assert r.json()["idpInitiated"] is True
    r = saml_put(w, "tenant admin console", signInCompleteUrl=COMPLETE, idpInitiated=False)
    assert r.status_code == 200 and r.json()["idpInitiated"] is False, r.text
    r = w.call("tenant admin console", "PUT", "/tenants/acme/sso/oidc",
               {"issuer": w.op.issuer, "clientId": "c2", "signInCompleteUrl": OTHER})
    assert_refused(w, r, "oidc")
    assert w.s.admin("GET", "/tenants/acme/sso/oidc").json()["clientId"] == "client"
    # The host changes it, from its key or its console.
    for caller, url in (("operator key", OTHER), ("operator console", COMPLETE)):
        r = saml_put(w, caller, signInCompleteUrl=url)
        assert r.status_code == 200 and r.json()["signInCompleteUrl"] == url, r.text


def test_a_tenant_admin_cannot_change_the_oidc_redirect(world):
    """An OIDC connection's redirect is the host's (docs/api.md): "shared" names the one
    redirect URI the host registered and maps at its proxy."""
    w = world
    w.ensure_oidc("acme")
    body = {"issuer": w.op.issuer, "clientId": "client"}
    r = w.call("tenant admin console", "PUT", "/tenants/acme/sso/oidc",
               {**body, "redirect": "shared"})
    msg = assert_refused(w, r, "redirect")
    assert "redirect" in msg and HOST_MESSAGE in msg, msg
    # The stored value repeated (a connection saved before the field: "tenant"), or omitted.
    r = w.call("tenant admin console", "PUT", "/tenants/acme/sso/oidc",
               {**body, "redirect": "tenant"})
    assert r.status_code == 200 and r.json()["redirect"] == "tenant", r.text
    r = w.call("operator key", "PUT", "/tenants/acme/sso/oidc", {**body, "redirect": "shared"})
    assert r.status_code == 200 and r.json()["redirect"] == "shared", r.text
    r = w.call("tenant admin console", "PUT", "/tenants/acme/sso/oidc",
               {**body, "idpInitiated": True})
    assert r.status_code == 200 and r.json()["redirect"] == "shared", r.text


def test_without_a_server_page_a_connection_needs_its_own(world):
    w = world
    w.ok("DELETE", "/tenants/acme/sso/saml")
    r = saml_put(w, "tenant admin console")
    # The tenant admin cannot send the host's field: told whom to ask, not which field.
    assert r.status_code == 400 and "ask the application's operator" in r.text, r.text
    assert "signInCompleteUrl" not in r.text and "sso_complete_url" not in r.text
    assert w.s.admin("GET", "/tenants/acme/sso/saml").status_code == 404
    r = saml_put(w, "operator key")
    assert r.status_code == 400 and "signInCompleteUrl is required" in r.text, r.text
    r = saml_put(w, "operator key", signInCompleteUrl=None)
    assert r.status_code == 400 and "sso_complete_url" in r.text, r.text


def test_the_server_page_serves_connections_a_tenant_admin_saved(server_factory, op):
    from saml_idp import SamlIdP
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on",
                                   "--sso-complete-url", COMPLETE + "?from=server"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    admin = s.make_admin(token, "alice@example.test")
    link = s.admin("POST", "/tenants/acme/setup-links", {"actingUser": admin}).json()["url"]
    ta = requests.Session()
    r = ta.post(s.url + "/console/api/setup", json={"token": link.split("#setup=", 1)[1]})
    ta.headers["X-CSRF-Token"] = r.json()["csrf"]
    idp = SamlIdP()
    r = ta.put(s.url + "/admin/v1/tenants/acme/sso/saml",
               json={"metadataXml": idp.metadata(), "idpInitiated": True})
    assert r.status_code == 200 and r.json()["signInCompleteUrl"] is None, r.text
    # A sign-in is handed to the server's page, which the host redeems.
    acs, audience = f"{s.url}/sso/acme/saml/acs", f"{s.url}/sso/acme/saml/metadata"
    from saml_idp import encode
    r = s.request("POST", "/sso/acme/saml/acs",
                  data="SAMLResponse=" + urllib.parse.quote(encode(idp.response(acs, audience)),
                                                            safe=""),
                  headers={"Content-Type": "application/x-www-form-urlencoded"},
                  allow_redirects=False)
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(COMPLETE + "?from=server&code="), loc
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))["code"]
    red = s.admin("POST", "/sso/redeem", {"code": code})
    assert red.status_code == 200 and red.json()["userId"] == admin, red.text
    # Naming any other page is still the host's alone.
    r = ta.put(s.url + "/admin/v1/tenants/acme/sso/saml",
               json={"metadataXml": idp.metadata(), "signInCompleteUrl": OTHER})
    assert r.status_code == 403


def test_a_bad_sso_complete_url_stops_the_start(scimd_bin, tmp_path):
    p = subprocess.run([scimd_bin, "serve", "--port", "0", "--data-dir", str(tmp_path),
                        "--operator-key", OPERATOR_KEY, "--sso-complete-url",
                        "http://app.example.test/done"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "sso_complete_url must be an https URL" in p.stderr, p.stderr
