"""Issue 17: CLI commands for users, webhooks and set-up links, through the same core calls
as the management API: what the CLI writes, the API reads (and the reverse), with audit
events by "cli", the tenant's deactivation policy and role rules applied alike."""
import json

import pytest

from conftest import OPERATOR_KEY


def out(p):
    return json.loads(p.stdout)


@pytest.fixture
def s(server_factory):
    srv = server_factory(extra_args=["--webhook-allow-http", "on"])
    srv.make_tenant("acme")
    return srv


def test_user_create_show_list_match_the_api(s):
    p = s.cli("user", "create", "acme", "ada@acme.example", "--given", "Ada", "--family",
              "Lovelace", "--email", "Ada@Acme.example", "--external-id", "e-1", "--role",
              "Developer")
    u = out(p)
    assert u["userName"] == "ada@acme.example" and u["active"] is True
    assert u["name"] == {"givenName": "Ada", "familyName": "Lovelace"}
    api = s.admin("GET", f"/tenants/acme/users/{u['id']}")
    assert api.status_code == 200
    a = api.json()
    for k in ("userName", "name", "emails", "externalId", "active"):
        assert a[k] == u[k], k
    assert a["meta"]["version"] == u["meta"]["version"]
    role = s.admin("GET", f"/tenants/acme/users/{u['id']}/role").json()
    assert role == {"role": "developer", "source": "direct", "direct": "developer"}
    # show by id, userName (any case) and email
    for ref in (u["id"], "ADA@acme.example", "ada@acme.example"):
        assert out(s.cli("user", "show", "acme", ref))["id"] == u["id"]
    s.admin("POST", "/tenants/acme/users", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob@acme.example"})
    lst = out(s.cli("user", "list", "acme"))
    assert lst["totalResults"] == 2
    assert sorted(x["userName"] for x in lst["users"]) == ["ada@acme.example", "bob@acme.example"]
    dev = out(s.cli("user", "list", "acme", "--role", "developer"))
    assert [x["id"] for x in dev["users"]] == [u["id"]]
    page = out(s.cli("user", "list", "acme", "--start", "2", "--count", "1"))
    assert page["totalResults"] == 2 and len(page["users"]) == 1
    events = s.admin("GET", f"/tenants/acme/events?resource={u['id']}").json()["events"]
    assert [e["actor"] for e in events if e["kind"] == "user.created"] == ["cli"]


def test_user_create_refusals_change_nothing(s):
    s.cli("user", "create", "acme", "ada@acme.example")
    p = s.cli("user", "create", "acme", "ADA@acme.example", check=False)
    assert p.returncode == 1 and "already in use" in p.stderr
    p = s.cli("user", "create", "acme", "x@acme.example", "--role", "king", check=False)
    assert p.returncode == 2 and "unknown role" in p.stderr
    p = s.cli("user", "show", "acme", "nobody@acme.example", check=False)
    assert p.returncode == 3
    p = s.cli("user", "create", "nope", "x@acme.example", check=False)
    assert p.returncode == 3
    assert out(s.cli("user", "list", "acme"))["totalResults"] == 1


def test_user_deactivate_follows_the_tenant_policy(s):
    uid = out(s.cli("user", "create", "acme", "ada@acme.example"))["id"]
    d = out(s.cli("user", "deactivate", "acme", "ada@acme.example"))
    assert d["active"] is False and d["meta"]["version"] == 'W/"2"'
    assert s.admin("GET", f"/tenants/acme/users/{uid}").json()["active"] is False
    r = out(s.cli("user", "reactivate", "acme", uid))
    assert r["active"] is True
    # A tenant that removes deactivated users: the same rule as a SCIM PATCH.
    r = s.admin("PATCH", "/tenants/acme", {"deactivationPolicy": "remove"})
    assert r.status_code == 200, r.text
    p = s.cli("user", "deactivate", "acme", uid)
    assert "was deleted" in p.stderr
    assert s.admin("GET", f"/tenants/acme/users/{uid}").status_code == 404


def test_user_role_shows_sets_and_clears(s):
    uid = out(s.cli("user", "create", "acme", "ada@acme.example"))["id"]
    assert out(s.cli("user", "role", "acme", uid)) == {
        "id": uid, "role": "reporting", "source": "default", "direct": None}
    u = out(s.cli("user", "role", "acme", uid, "ADMIN"))
    assert u["urn:scimd:params:scim:schemas:extension:tenant:2.0:User"] == {"role": "admin"}
    assert s.admin("GET", f"/tenants/acme/users/{uid}/role").json()["role"] == "admin"
    u = out(s.cli("user", "role", "acme", uid, "--clear"))
    assert "urn:scimd:params:scim:schemas:extension:tenant:2.0:User" not in u
    assert u["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert s.admin("GET", f"/tenants/acme/users/{uid}/role").json()["role"] == "reporting"
    before = s.admin("GET", f"/tenants/acme/users/{uid}").json()["meta"]["version"]
    p = s.cli("user", "role", "acme", uid, "boss", check=False)
    assert p.returncode == 2
    assert s.admin("GET", f"/tenants/acme/users/{uid}").json()["meta"]["version"] == before


HTTP = ("--webhook-allow-http", "on")  # the server's setting: the CLI applies the same rules


def test_webhook_create_list_delete(s):
    h = out(s.cli("webhook", "create", "acme", "http://127.0.0.1:9/hook", *HTTP))
    assert h["secret"].startswith("whsec_") and h["enabled"] is True
    api = s.admin("GET", "/tenants/acme/webhooks").json()["webhooks"]
    assert [w["id"] for w in api] == [h["id"]] and "secret" not in api[0]
    lst = out(s.cli("webhook", "list", "acme"))["webhooks"]
    assert [w["id"] for w in lst] == [h["id"]] and "secret" not in lst[0]
    d = out(s.cli("webhook", "create", "acme", "http://127.0.0.1:9/other", "--disabled", *HTTP))
    assert d["enabled"] is False
    p = s.cli("webhook", "create", "acme", "http://127.0.0.1:9/plain", check=False)
    assert p.returncode == 1 and "https://" in p.stderr  # without the setting: https only
    s.cli("webhook", "delete", "acme", h["id"])
    assert [w["id"] for w in s.admin("GET", "/tenants/acme/webhooks").json()["webhooks"]] == [
        d["id"]]
    assert s.cli("webhook", "delete", "acme", h["id"], check=False).returncode == 3


def test_setup_link_opens_the_console_once(s):
    s.cli("user", "create", "acme", "boss@acme.example", "--role", "admin")
    s.cli("user", "create", "acme", "dev@acme.example", "--role", "developer")
    link = out(s.cli("setup-link", "acme", "boss@acme.example", "--public-url",
                     "https://id.example.test/api/v1"))
    assert link["url"].startswith("https://id.example.test/api/v1/console/#setup=")
    token = link["url"].split("#setup=")[1]
    r = s.request("POST", "/console/api/setup", json_body={"token": token})
    assert r.status_code == 201, r.text
    assert r.json()["tenant"]["slug"] == "acme"
    assert s.request("POST", "/console/api/setup", json_body={"token": token}).status_code == 401
    p = s.cli("setup-link", "acme", "dev@acme.example", check=False)
    assert p.returncode == 1 and "admin" in p.stderr
