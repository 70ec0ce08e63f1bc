"""The host application's role vocabulary from configuration (issue 13 item 7; docs/roles.md,
docs/configuration.md).

A host configures its role catalogue (roles, default_role, admin_role) and the schema URN of
the User extension that carries a role (role_schema), or no roles at all. An inconsistent
configuration is refused at start with one message and exit status 2."""
import subprocess

import pytest

from conftest import (ENTERPRISE_URN, OPERATOR_KEY, PATCH_URN, TENANT_URN, USER_URN,
                      user_body)
from test_console import redeem as console_redeem, setup_link, tenant_with_admin
from test_console_sso import console_login as console_sign_in
from test_sso_oidc import SSO_KEY, connection, handoff_code, login, redeem

HR_URN = "urn:ietf:params:scim:schemas:extension:sparkhr:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
HR_ENV = {"SCIMD_ROLES": "owner, manager,employee", "SCIMD_DEFAULT_ROLE": "employee",
          "SCIMD_ADMIN_ROLE": "owner", "SCIMD_ROLE_SCHEMA": HR_URN}
NO_ROLES_ENV = {"SCIMD_ROLES": ""}


@pytest.fixture
def hr(server_factory):
    """A Spark HR-style daemon: owner, manager, employee; default employee; admin owner."""
    s = server_factory(env=HR_ENV)
    s.make_tenant("acme")
    s.token = s.mint("acme")["token"]
    return s


@pytest.fixture
def bare(server_factory):
    """A daemon with no roles at all."""
    s = server_factory(env=NO_ROLES_ENV)
    s.make_tenant("acme")
    s.token = s.mint("acme")["token"]
    return s


def new_user(s, name, **extra):
    r = s.scim("POST", "/Users", s.token, user_body(name, **extra))
    assert r.status_code == 201, r.text
    return r.json()


def role(s, uid):
    r = s.admin("GET", f"/tenants/acme/users/{uid}/role")
    assert r.status_code == 200, r.text
    return r.json()


def users(s):
    r = s.scim("GET", "/Users", s.token)
    assert r.status_code == 200, r.text
    return r.json()["Resources"]


def mint_as(s, actor):
    return s.admin("POST", "/tenants/acme/tokens", {"label": "okta", "actingUser": actor})


# ---- the default catalogue is today's ----

def test_default_catalogue_is_sparkposts(server):
    r = server.admin("GET", "/roles")
    assert r.status_code == 200, r.text
    assert r.json() == {"roles": ["admin", "developer", "templates", "reporting"],
                        "default": "reporting", "adminRole": "admin", "schema": TENANT_URN}


def test_roles_route_needs_the_operator_key_or_a_console_session(server):
    assert server.request("GET", "/admin/v1/roles").status_code == 401
    assert server.request("GET", "/admin/v1/roles", token="wrong" * 8).status_code == 401
    # A tenant admin's console session reads it (the role-map editor's choices).
    _, admin = tenant_with_admin(server, "acme")
    session, r = console_redeem(server, setup_link(server, "acme", admin)["url"])
    assert r.status_code == 201, r.text
    r = session.get(server.url + "/admin/v1/roles")
    assert r.status_code == 200, r.text
    assert r.json()["adminRole"] == "admin"
    assert session.get(server.url + "/admin/v1/tenants").status_code == 403


# ---- a custom catalogue ----

def test_custom_catalogue_is_listed_in_display_order(hr):
    assert hr.admin("GET", "/roles").json() == {
        "roles": ["owner", "manager", "employee"], "default": "employee",
        "adminRole": "owner", "schema": HR_URN}


def test_role_in_the_custom_extension_is_stored_canonically(hr):
    u = new_user(hr, "ann@hr.example", schemas=[USER_URN, HR_URN], **{HR_URN: {"role": "MANAGER"}})
    assert u[HR_URN] == {"role": "manager"}
    assert role(hr, u["id"]) == {"role": "manager", "source": "direct", "direct": "manager"}
    got = hr.scim("GET", f"/Users/{u['id']}", hr.token).json()
    assert got[HR_URN] == {"role": "manager"}
    # A user without a role gets the configured default.
    v = new_user(hr, "bob@hr.example")
    assert role(hr, v["id"]) == {"role": "employee", "source": "default", "direct": None}


def test_core_roles_value_names_a_custom_role_in_any_case(hr):
    u = new_user(hr, "cy@hr.example", roles=[{"value": "Boss"}, {"value": "OWNER"}])
    assert role(hr, u["id"]) == {"role": "owner", "source": "direct", "direct": "owner"}


def test_role_outside_the_catalogue_is_refused_naming_the_roles(hr):
    r = hr.scim("POST", "/Users", hr.token,
                user_body("dee@hr.example", schemas=[USER_URN, HR_URN], **{HR_URN: {"role": "admin"}}))
    assert r.status_code == 400, r.text
    assert r.json()["scimType"] == "invalidValue"
    assert "owner, manager, employee" in r.json()["detail"]
    assert users(hr) == []


def test_old_scimd_extension_is_an_unknown_schema_and_ignored(hr):
    u = new_user(hr, "eve@hr.example", **{TENANT_URN: {"role": "owner"}})
    assert TENANT_URN not in u
    assert role(hr, u["id"]) == {"role": "employee", "source": "default", "direct": None}
    assert hr.scim("GET", f"/Schemas/{TENANT_URN}", hr.token).status_code == 404
    # PATCH of an attribute under the old URN does not name a known attribute.
    r = hr.scim("PATCH", f"/Users/{u['id']}", hr.token,
                {"schemas": [PATCH_URN],
                 "Operations": [{"op": "replace", "path": TENANT_URN + ":role", "value": "owner"}]})
    assert r.status_code == 400, r.text
    assert role(hr, u["id"])["role"] == "employee"


def test_patch_and_filter_use_the_custom_urn(hr):
    u = new_user(hr, "fay@hr.example")
    r = hr.scim("PATCH", f"/Users/{u['id']}", hr.token,
                {"schemas": [PATCH_URN],
                 "Operations": [{"op": "replace", "path": HR_URN + ":role", "value": "Owner"}]})
    assert r.status_code == 200, r.text
    assert r.json()[HR_URN] == {"role": "owner"}
    assert role(hr, u["id"]) == {"role": "owner", "source": "direct", "direct": "owner"}
    r = hr.scim("GET", "/Users", hr.token, params={"filter": f'{HR_URN}:role eq "owner"'})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["Resources"]] == [u["id"]]


def test_schemas_and_resource_types_show_the_custom_urn(hr):
    r = hr.scim("GET", f"/Schemas/{HR_URN}", hr.token)
    assert r.status_code == 200, r.text
    attrs = {a["name"]: a for a in r.json()["attributes"]}
    assert list(attrs) == ["role"]
    assert attrs["role"]["canonicalValues"] == ["owner", "manager", "employee"]
    ids = [s["id"] for s in hr.scim("GET", "/Schemas", hr.token).json()["Resources"]]
    assert ids == [USER_URN, ENTERPRISE_URN, HR_URN, GROUP_URN]
    rt = hr.scim("GET", "/ResourceTypes/User", hr.token).json()
    assert rt["schemaExtensions"] == [{"schema": ENTERPRISE_URN, "required": False},
                                      {"schema": HR_URN, "required": False}]


def test_role_map_takes_the_custom_roles(hr):
    u = new_user(hr, "gus@hr.example")
    r = hr.admin("PUT", "/tenants/acme/role-map",
                 {"rules": [{"group": "Founders", "role": "Owner", "priority": 1},
                            {"group": "Leads", "role": "manager", "priority": 2}]})
    assert r.status_code == 200, r.text
    assert r.json()["rules"][0] == {"group": "Founders", "role": "owner", "priority": 1}
    g = hr.scim("POST", "/Groups", hr.token,
                {"schemas": [GROUP_URN], "displayName": "Leads", "members": [{"value": u["id"]}]})
    assert g.status_code == 201, g.text
    assert role(hr, u["id"]) == {"role": "manager", "source": "group", "direct": None}
    # A role the catalogue lacks is refused, naming the catalogue; the map is unchanged.
    r = hr.admin("PUT", "/tenants/acme/role-map",
                 {"rules": [{"group": "Founders", "role": "admin", "priority": 1}]})
    assert r.status_code == 400, r.text
    assert "role must be owner, manager or employee" in r.json()["error"]["message"]
    assert [x["role"] for x in hr.admin("GET", "/tenants/acme/role-map").json()["rules"]] == \
        ["owner", "manager"]


def test_token_gate_wants_the_configured_admin_role(hr):
    owner = new_user(hr, "olga@hr.example", **{"schemas": [USER_URN, HR_URN], HR_URN: {"role": "owner"}})
    worker = new_user(hr, "walt@hr.example")
    r = mint_as(hr, owner["id"])
    assert r.status_code == 201, r.text
    assert hr.scim("GET", "/Users", r.json()["token"]).status_code == 200
    r = mint_as(hr, worker["id"])
    assert r.status_code == 403, r.text
    assert "has the role \"employee\", not the admin role \"owner\"" in r.json()["error"]["message"]
    gate = hr.admin("GET", "/tenants/acme/token-gate", params={"actingUser": owner["id"]}).json()
    assert gate == {"allowed": True, "missing": [], "detail": ""}


def test_refusals_name_the_configured_admin_role_and_echo_the_acting_user(hr):
    """With --admin-role owner no refusal speaks of an "admin" role the deployment lacks, and
    each echoes the acting user as the host named it, keeping the three reasons apart."""
    ed = new_user(hr, "ed@hr.example", externalId="emp-7",
                  **{"schemas": [USER_URN, HR_URN], HR_URN: {"role": "manager"}})
    gone = new_user(hr, "old@hr.example", active=False,
                    **{"schemas": [USER_URN, HR_URN], HR_URN: {"role": "owner"}})
    for ref in ("ed@hr.example", "emp-7"):
        msg = mint_as(hr, ref).json()["error"]["message"]
        assert f'the acting user {ref} has the role "manager", not the admin role "owner"' in msg
        assert ed["id"] not in msg
    msg = mint_as(hr, "old@hr.example").json()["error"]["message"]
    assert "the acting user old@hr.example is deactivated" in msg and gone["id"] not in msg
    msg = mint_as(hr, "nobody@hr.example").json()["error"]["message"]
    assert "the acting user nobody@hr.example is not a user of this tenant" in msg
    msg = hr.admin("POST", "/tenants/acme/tokens", {"label": "x"}).json()["error"]["message"]
    assert 'name an active user of the tenant with the admin role "owner"' in msg
    gate = hr.admin("GET", "/tenants/acme/token-gate", params={"actingUser": "emp-7"}).json()
    assert gate["missing"] == [{"condition": "actingAdmin", "message":
                                'the acting user must be an active user of the tenant with the '
                                'admin role "owner"'}]
    assert "the acting user emp-7 has the role" in gate["detail"]
    # Set-up links: the same three reasons, the user as named.
    for ref, why in (("nobody@hr.example", "is not a user of this tenant"),
                     ("old@hr.example", "is deactivated"),
                     ("emp-7", 'has the role "manager", not the admin role "owner"')):
        r = hr.admin("POST", "/tenants/acme/setup-links", {"actingUser": ref})
        assert r.status_code == 403, r.text
        assert f"user {ref} {why}" in r.json()["error"]["message"]
    p = hr.cli("setup-link", "acme", "ed@hr.example", check=False)
    assert p.returncode != 0 and 'user ed@hr.example has the role "manager"' in p.stderr


def hr_with_oidc(server_factory, op, user_name):
    """A server with Spark HR's roles, tenant acme with one user and an OIDC connection."""
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"], env=HR_ENV)
    s.make_tenant("acme")
    s.token = s.mint("acme")["token"]
    new_user(s, user_name)
    assert s.admin("PUT", "/tenants/acme/sso/oidc", connection(op)).status_code == 200
    return s


def test_console_sign_in_refusal_names_the_configured_admin_role(server_factory, op):
    s = hr_with_oidc(server_factory, op, "bob@example.test")
    r = console_sign_in(s, hint="bob")
    assert r.status_code == 403, r.text
    assert "with the &quot;owner&quot; role" in r.text or 'with the "owner" role' in r.text
    assert "admin role" not in r.text


# ---- no roles at all ----

def test_no_roles_catalogue_is_empty(bare):
    assert bare.admin("GET", "/roles").json() == {
        "roles": [], "default": None, "adminRole": None, "schema": TENANT_URN}


def test_no_roles_users_have_a_null_role(bare):
    u = new_user(bare, "ann@bare.example", roles=[{"value": "admin", "primary": True}])
    assert role(bare, u["id"]) == {"role": None, "source": "default", "direct": None}
    # The core "roles" attribute is the identity provider's own, kept as sent.
    assert u["roles"] == [{"value": "admin", "primary": True}]


def test_no_roles_extension_is_not_served(bare):
    ids = [s["id"] for s in bare.scim("GET", "/Schemas", bare.token).json()["Resources"]]
    assert ids == [USER_URN, ENTERPRISE_URN, GROUP_URN]
    assert bare.scim("GET", f"/Schemas/{TENANT_URN}", bare.token).status_code == 404
    rt = bare.scim("GET", "/ResourceTypes/User", bare.token).json()
    assert rt["schemaExtensions"] == [{"schema": ENTERPRISE_URN, "required": False}]
    u = new_user(bare, "bo@bare.example", **{TENANT_URN: {"role": "admin"}})
    assert TENANT_URN not in u
    assert role(bare, u["id"])["role"] is None


def test_no_roles_role_map_is_refused(bare):
    r = bare.admin("PUT", "/tenants/acme/role-map",
                   {"rules": [{"group": "Admins", "role": "admin", "priority": 1}]})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"] == \
        "this server has no roles configured, so there is no role map"
    assert bare.admin("GET", "/tenants/acme/role-map").json() == {"rules": []}


def test_no_roles_any_active_user_passes_the_acting_admin_gate(bare):
    u = new_user(bare, "cat@bare.example")
    r = mint_as(bare, u["id"])
    assert r.status_code == 201, r.text
    r = bare.scim("PATCH", f"/Users/{u['id']}", bare.token,
                  {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200, r.text
    r = mint_as(bare, u["id"])
    assert r.status_code == 403, r.text
    assert "is deactivated" in r.json()["error"]["message"]
    assert "is not a user of this tenant" in mint_as(bare, "0000-nope").json()["error"]["message"]


def test_no_roles_sso_redeem_answers_a_null_role(server_factory, op):
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"],
                       env=NO_ROLES_ENV)
    s.make_tenant("acme")
    s.token = s.mint("acme")["token"]
    new_user(s, "alice@example.test")
    assert s.admin("PUT", "/tenants/acme/sso/oidc", connection(op)).status_code == 200
    body = redeem(s, handoff_code(login(s, "alice"))["code"]).json()
    assert body["userName"] == "alice@example.test"
    assert "role" in body and body["role"] is None


def test_custom_roles_sso_redeem_answers_the_default(server_factory, op):
    s = hr_with_oidc(server_factory, op, "alice@example.test")
    assert redeem(s, handoff_code(login(s, "alice"))["code"]).json()["role"] == "employee"


# ---- refusals at start ----

LONG = "a" * 16
MANY = ",".join(f"r{i}" for i in range(33))

REFUSED = [
    (["--roles", "admin,,reporting"], "roles: role 2 is empty"),
    (["--roles", "admin,reporting,"], "roles: role 3 is empty"),
    (["--roles", "admin,reporting,Admin"], 'roles: "Admin" is named twice'),
    (["--roles", f"admin,reporting,{LONG}"], "is longer than 15 bytes"),
    (["--roles", "admin,reporting,dev ops"], "may hold only letters, digits, '_', '.' and '-'"),
    (["--roles", "admin,reporting,dev/ops"], "may hold only letters, digits, '_', '.' and '-'"),
    (["--roles", MANY, "--default-role", "r0", "--admin-role", "r0"], "roles: more than 32 roles"),
    (["--roles", "owner,employee"], 'default_role "reporting" is not one of the roles'),
    (["--roles", "owner,employee", "--default-role", "employee"],
     'admin_role "admin" is not one of the roles'),
    (["--default-role", ""], "default_role must name one of the roles"),
    (["--roles", "", "--default-role", "reporting"],
     'default_role is "reporting" but roles is empty'),
    (["--roles", "", "--admin-role", "owner"], 'admin_role is "owner" but roles is empty'),
    (["--role-schema", "acme-role"], "role_schema must be a URN"),
    (["--role-schema", "urn:acme"], "role_schema must have the shape of a SCIM schema URN"),
    (["--role-schema", "urn:acme::User"], "must be non-empty"),
    (["--role-schema", "urn:ietf:params:scim:schemas:extension:a b:2.0:User"],
     "role_schema may hold only"),
    (["--role-schema", USER_URN], "must not be a SCIM core, message or enterprise schema URN"),
    (["--role-schema", ENTERPRISE_URN.upper()],
     "must not be a SCIM core, message or enterprise schema URN"),
    (["--role-schema", "urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "must not be a SCIM core, message or enterprise schema URN"),
]


@pytest.mark.parametrize("args,message", REFUSED, ids=[m for _, m in REFUSED])
def test_inconsistent_configuration_is_refused_at_start(scimd_bin, tmp_path, args, message):
    p = subprocess.run([scimd_bin, "serve", "--listen", "127.0.0.1", "--port", "0",
                        "--data-dir", str(tmp_path / "data"), "--operator-key", OPERATOR_KEY,
                        *args], capture_output=True, text=True, timeout=20,
                       env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 2, p.stderr
    assert message in p.stderr, p.stderr
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("scimd: "), p.stderr
    assert "listening" not in p.stderr
    assert not (tmp_path / "data" / "scimd.db").exists()


def test_refusal_from_the_config_file_too(scimd_bin, tmp_path):
    conf = tmp_path / "scimd.conf"
    conf.write_text("roles = owner,employee\ndefault_role = employee\nadmin_role = boss\n")
    p = subprocess.run([scimd_bin, "serve", "--port", "0", "--data-dir", str(tmp_path / "d"),
                        "--config-file", str(conf)], capture_output=True, text=True, timeout=20,
                       env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 2, p.stderr
    assert 'admin_role "boss" is not one of the roles' in p.stderr


def test_example_config_file_starts(server_factory):
    """docs/examples/scimd.conf shows all four role settings and is a valid configuration."""
    import pathlib
    example = pathlib.Path(__file__).resolve().parents[2] / "docs/examples/scimd.conf"
    s = server_factory(extra_args=["--config-file", str(example)])
    body = s.admin("GET", "/roles").json()
    assert body["schema"] == "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
    assert body["roles"] and body["default"] in body["roles"] and body["adminRole"] in body["roles"]
