"""The OpenAPI document of /admin/v1 (issue 13; docs/openapi.json, docs/api.md).

The served document is the repository's file, byte for byte, with an entity tag and no
credentials needed; and live answers of the API match the schemas the document gives for
their operation and status (checked by tests/openapi/answers.mjs with ajv, JSON Schema
2020-12). CTest openapi/routes checks the document against the route table."""
import hashlib
import json
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import OPERATOR_KEY, PATCH_URN, TENANT_URN, USER_URN, user_body

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "openapi.json"
CHECKER = ROOT / "tests" / "openapi"


def test_served_document_is_the_repository_file(server):
    raw = DOC.read_bytes()
    tag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    r = server.request("GET", "/admin/v1/openapi.json")  # no credentials
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == raw
    assert r.headers["ETag"] == tag
    assert r.headers["Cache-Control"] == "no-cache"
    assert json.loads(raw)["openapi"] == "3.1.0"
    # Credentials, right or wrong, change nothing: the route grants nothing.
    assert server.request("GET", "/admin/v1/openapi.json", token="wrong").content == raw
    assert server.request("GET", "/admin/v1/openapi.json", token=OPERATOR_KEY).content == raw
    for given in (tag, "W/" + tag, '"other", ' + tag, "*"):
        r = server.request("GET", "/admin/v1/openapi.json", headers={"If-None-Match": given})
        assert r.status_code == 304, given
        assert r.content == b"" and r.headers["ETag"] == tag
    r = server.request("GET", "/admin/v1/openapi.json", headers={"If-None-Match": '"other"'})
    assert r.status_code == 200 and r.content == raw
    r = server.request("POST", "/admin/v1/openapi.json", data="{}")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_routes_command_prints_the_route_table(scimd_bin):
    p = subprocess.run([scimd_bin, "routes"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == ""
    lines = p.stdout.splitlines()
    assert "GET /admin/v1/openapi.json none" in lines
    assert "POST /admin/v1/tenants host" in lines
    assert "GET /admin/v1/tenants/{tenant}/users tenant" in lines
    assert "GET /scim/v2/Users bearer" in lines
    assert all(re.fullmatch(r"[A-Z]+ /\S* (none|bearer|host|tenant|session)", x) for x in lines)


class Answers:
    """Records (operation, status, body) of live answers for answers.mjs."""

    def __init__(self, server):
        self.server = server
        self.items = []

    def call(self, method, template, path, body=None, expect=None, **kw):
        r = self.server.admin(method, path, body, **kw)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        self.items.append({"method": method, "path": template, "status": r.status_code,
                           "body": r.json() if r.content else None})
        return r


@pytest.mark.skipif(not (CHECKER / "node_modules" / "ajv").is_dir() or not shutil.which("node"),
                    reason="run 'npm ci' in tests/openapi (tools/test does)")
def test_live_answers_match_the_document(server, tmp_path):
    a = Answers(server)
    T = "/tenants/{tenant}"
    a.call("POST", "/tenants", "/tenants", {"slug": "hr", "displayName": "HR",
                                            "provisioningMode": "import-only",
                                            "integrationEnabled": True}, 201)
    a.call("POST", "/tenants", "/tenants", {"slug": "hr"}, 409)
    a.call("POST", "/tenants", "/tenants", {"slug": "x", "colour": "red"}, 400)
    a.call("GET", "/tenants", "/tenants", expect=200)
    a.call("GET", T, "/tenants/hr", expect=200)
    a.call("GET", T, "/tenants/nope", expect=404)
    a.call("PATCH", T, "/tenants/hr", {"displayName": "Human Resources"}, 200)
    # Users, as the host application of an import-only tenant.
    u = a.call("POST", T + "/users", "/tenants/hr/users", user_body("ada@hr.example"), 201)
    uid, tag = u.json()["id"], u.headers["ETag"]
    a.call("POST", T + "/users", "/tenants/hr/users", user_body("ada@hr.example"), 409)
    a.call("GET", T + "/users", "/tenants/hr/users?filter=userName eq \"ada@hr.example\"",
           expect=200)
    a.call("GET", T + "/users/{id}", f"/tenants/hr/users/{uid}", expect=200)
    a.call("GET", T + "/users/{id}", f"/tenants/hr/users/{uid}", expect=304,
           headers={"If-None-Match": tag})
    a.call("PATCH", T + "/users/{id}", f"/tenants/hr/users/{uid}",
           {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title",
                                                    "value": "Lead"}]}, 200)
    a.call("PUT", T + "/users/{id}", f"/tenants/hr/users/{uid}", user_body("ada@hr.example"),
           412, headers={"If-Match": tag})
    a.call("POST", T + "/users/{id}/deactivate", f"/tenants/hr/users/{uid}/deactivate",
           expect=200)
    a.call("POST", T + "/users/{id}/reactivate", f"/tenants/hr/users/{uid}/reactivate",
           expect=200)
    a.call("GET", T + "/users/{id}/role", f"/tenants/hr/users/{uid}/role", expect=200)
    a.call("GET", T + "/groups", "/tenants/hr/groups", expect=200)
    a.call("GET", T + "/groups/{id}", "/tenants/hr/groups/nope", expect=404)
    # Roles, tokens and their gate, requests, events.
    a.call("PUT", T + "/role-map", "/tenants/hr/role-map",
           {"rules": [{"group": "Admins", "role": "admin", "priority": 1}]}, 200)
    a.call("PUT", T + "/role-map", "/tenants/hr/role-map", {"rules": "no"}, 400)
    a.call("GET", T + "/role-map", "/tenants/hr/role-map", expect=200)
    a.call("GET", T + "/token-gate", f"/tenants/hr/token-gate?actingUser={uid}", expect=200)
    a.call("POST", T + "/tokens", "/tenants/hr/tokens", {"actingUser": uid}, 403)
    server.admin("POST", "/tenants/hr/users", {
        "schemas": [USER_URN, TENANT_URN], "userName": "boss@hr.example",
        TENANT_URN: {"role": "admin"}})
    boss = server.admin("GET", '/tenants/hr/users?filter=userName eq "boss@hr.example"')
    boss = boss.json()["Resources"][0]["id"]
    tok = a.call("POST", T + "/tokens", "/tenants/hr/tokens",
                 {"actingUser": boss, "label": "okta"}, 201).json()
    server.scim("GET", "/Users", tok["token"])
    a.call("GET", T + "/tokens", "/tenants/hr/tokens", expect=200)
    a.call("POST", T + "/tokens/{id}/rotate", f"/tenants/hr/tokens/{tok['id']}/rotate",
           {"actingUser": boss, "overlapSeconds": 0}, 201)
    a.call("POST", T + "/tokens/{id}/revoke", f"/tenants/hr/tokens/{tok['id']}/revoke",
           expect=200)
    a.call("DELETE", T + "/tokens/{id}", "/tenants/hr/tokens/nope", expect=404)
    a.call("GET", T + "/requests", "/tenants/hr/requests?limit=5", expect=200)
    a.call("GET", T + "/requests", "/tenants/hr/requests?limit=0", expect=400)
    a.call("GET", T + "/events", "/tenants/hr/events?limit=3", expect=200)
    a.call("GET", T + "/events", "/tenants/hr/events?order=desc&kind=user.", expect=200)
    # Webhooks (the URL is never reached: port 9 on loopback refuses).
    w = a.call("POST", T + "/webhooks", "/tenants/hr/webhooks",
               {"url": "https://127.0.0.1:9/hook", "enabled": False}, 201)
    wid = w.json()["id"]
    assert w.headers["Location"].endswith(f"/admin/v1/tenants/hr/webhooks/{wid}")
    a.call("POST", T + "/webhooks", "/tenants/hr/webhooks", {"url": "http://x"}, 400)
    a.call("GET", T + "/webhooks", "/tenants/hr/webhooks", expect=200)
    a.call("GET", T + "/webhooks/{id}", f"/tenants/hr/webhooks/{wid}", expect=200)
    a.call("PATCH", T + "/webhooks/{id}", f"/tenants/hr/webhooks/{wid}", {"enabled": False},
           200)
    a.call("POST", T + "/webhooks/{id}/rotate-secret", f"/tenants/hr/webhooks/{wid}/rotate-secret",
           expect=200)
    a.call("GET", T + "/webhooks/{id}/attempts", f"/tenants/hr/webhooks/{wid}/attempts",
           expect=200)
    a.call("DELETE", T + "/webhooks/{id}", f"/tenants/hr/webhooks/{wid}", expect=204)
    # SSO, redemption, setup links: the answers this test can reach without a provider.
    a.call("GET", T + "/sso/oidc", "/tenants/hr/sso/oidc", expect=404)
    a.call("PUT", T + "/sso/saml", "/tenants/hr/sso/saml", {"enabled": "yes"}, 400)
    a.call("POST", "/sso/redeem", "/sso/redeem", {"code": "nope"}, 404)
    a.call("POST", T + "/setup-links", "/tenants/hr/setup-links", {"actingUser": boss}, 201)
    a.call("POST", T + "/setup-links", "/tenants/hr/setup-links", {"actingUser": uid}, 403)
    r = server.request("GET", "/admin/v1/tenants")  # no key
    a.items.append({"method": "GET", "path": "/tenants", "status": r.status_code,
                    "body": r.json()})
    assert r.status_code == 401
    a.call("DELETE", T + "/users/{id}", f"/tenants/hr/users/{uid}", expect=204)
    a.call("DELETE", T, "/tenants/hr", expect=204)

    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(a.items))
    p = subprocess.run(["node", str(CHECKER / "answers.mjs"), str(DOC), str(answers)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{len(a.items)} checked, 0 mismatch" in p.stdout
