"""Roles from group priority and the audit trail (issue 4; docs/roles.md, docs/api.md).

The effective role of a user is the role of their mapped group with the lowest priority
number, else the role set on the user, else "reporting"; it is recomputed in the transaction
of every change, and every change is an audit event."""
import pytest

from conftest import PATCH_URN, USER_URN, user_body

GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
TENANT_URN = "urn:scimd:params:scim:schemas:extension:tenant:2.0:User"


def new_user(server, token, name, **extra):
    r = server.scim("POST", "/Users", token, user_body(name, **extra))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def new_group(server, token, name, members=()):
    body = {"schemas": [GROUP_URN], "displayName": name,
            "members": [{"value": m} for m in members]}
    r = server.scim("POST", "/Groups", token, body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def patch(server, token, path, *ops):
    r = server.scim("PATCH", path, token, {"schemas": [PATCH_URN], "Operations": list(ops)})
    assert r.status_code in (200, 204), r.text
    return r


def role(server, uid, slug="acme"):
    r = server.admin("GET", f"/tenants/{slug}/users/{uid}/role")
    assert r.status_code == 200, r.text
    return r.json()


def set_map(server, rules, slug="acme"):
    r = server.admin("PUT", f"/tenants/{slug}/role-map", {"rules": rules})
    assert r.status_code == 200, r.text
    return r.json()["rules"]


def events(server, slug="acme", after=None, **params):
    q = {"after": after} if after is not None else {}
    q.update(params)
    r = server.admin("GET", f"/tenants/{slug}/events", params=q)
    assert r.status_code == 200, r.text
    return r.json()


SEED_MAP = [{"group": "Admin", "role": "admin", "priority": 1},
            {"group": "Developers", "role": "developer", "priority": 2},
            {"group": "Reporting", "role": "reporting", "priority": 3}]


# ---- roles ----

def test_user_without_role_is_reporting(server, tenant_token):
    uid = new_user(server, tenant_token, "plain@x.example")
    assert role(server, uid) == {"role": "reporting", "source": "default", "direct": None}


def test_direct_role_from_extension_and_from_core_roles(server, tenant_token):
    a = new_user(server, tenant_token, "a@x.example",
                 schemas=[USER_URN, TENANT_URN], **{TENANT_URN: {"role": "developer"}})
    assert role(server, a) == {"role": "developer", "source": "direct", "direct": "developer"}
    # Entra sends roles as a core multi-valued attribute with its own casing.
    b = new_user(server, tenant_token, "b@x.example",
                 roles=[{"value": "Observer"}, {"value": "Templates", "primary": True}])
    assert role(server, b)["role"] == "templates"
    c = new_user(server, tenant_token, "c@x.example", roles=[{"value": "Observer"}])
    assert role(server, c)["role"] == "reporting"


def test_seed_example_admin_priority_wins_and_moving_changes_role(server, tenant_token):
    set_map(server, SEED_MAP)
    u = new_user(server, tenant_token, "u@x.example")
    admin = new_group(server, tenant_token, "Admin", [u])
    reporting = new_group(server, tenant_token, "Reporting", [u])
    assert role(server, u) == {"role": "admin", "source": "group", "direct": None}
    # Okta moves the user from Admin to Developers.
    dev = new_group(server, tenant_token, "Developers")
    patch(server, tenant_token, f"/Groups/{admin}",
          {"op": "remove", "path": f'members[value eq "{u}"]'})
    assert role(server, u)["role"] == "reporting"
    patch(server, tenant_token, f"/Groups/{dev}",
          {"op": "add", "path": "members", "value": [{"value": u}]})
    assert role(server, u)["role"] == "developer"
    # Leaving every mapped group falls back to the default.
    for g in (dev, reporting):
        assert server.scim("DELETE", f"/Groups/{g}", tenant_token).status_code == 204
    assert role(server, u) == {"role": "reporting", "source": "default", "direct": None}


def test_mapped_group_wins_over_direct_role(server, tenant_token):
    """docs/roles.md: a mapped group decides; the direct role applies only outside them."""
    set_map(server, SEED_MAP)
    u = new_user(server, tenant_token, "d@x.example",
                 schemas=[USER_URN, TENANT_URN], **{TENANT_URN: {"role": "templates"}})
    assert role(server, u)["role"] == "templates"
    g = new_group(server, tenant_token, "Reporting", [u])
    assert role(server, u) == {"role": "reporting", "source": "group", "direct": "templates"}
    patch(server, tenant_token, f"/Groups/{g}", {"op": "replace", "path": "members", "value": []})
    assert role(server, u) == {"role": "templates", "source": "direct", "direct": "templates"}


def test_direct_role_change_by_patch_moves_role(server, tenant_token):
    u = new_user(server, tenant_token, "e@x.example")
    patch(server, tenant_token, f"/Users/{u}",
          {"op": "add", "path": f"{TENANT_URN}:role", "value": "admin"})
    assert role(server, u)["role"] == "admin"


def test_rename_and_map_changes_recompute_roles(server, tenant_token):
    u = new_user(server, tenant_token, "f@x.example")
    g = new_group(server, tenant_token, "Engineering", [u])
    assert role(server, u)["role"] == "reporting"
    set_map(server, [{"group": "engineering", "role": "developer", "priority": 5}])
    assert role(server, u)["role"] == "developer"  # group names match case-insensitively
    patch(server, tenant_token, f"/Groups/{g}",
          {"op": "replace", "path": "displayName", "value": "Eng (old)"})
    assert role(server, u)["role"] == "reporting"
    patch(server, tenant_token, f"/Groups/{g}",
          {"op": "replace", "path": "displayName", "value": "ENGINEERING"})
    assert role(server, u)["role"] == "developer"
    set_map(server, [])
    assert role(server, u)["role"] == "reporting"


def test_host_view_etag_follows_effective_role(server, tenant_token):
    """The host's view of a user shows effectiveRole and roleSource (docs/api.md), so a
    role-map edit that moves them gives the user a new version: a cached ETag must not
    validate (RFC 7232 If-None-Match). A user whose role does not move keeps its tag."""
    u = new_user(server, tenant_token, "etag@x.example")
    other = new_user(server, tenant_token, "calm@x.example")
    new_group(server, tenant_token, "Engineering", [u])

    def view(uid):
        r = server.admin("GET", f"/tenants/acme/users/{uid}")
        assert r.status_code == 200, r.text
        return r.headers["ETag"], r.json()[TENANT_URN]

    tag, ext = view(u)
    calm_tag, _ = view(other)
    assert ext["effectiveRole"] == "reporting" and ext["roleSource"] == "default"
    set_map(server, [{"group": "engineering", "role": "developer", "priority": 5}])
    new_tag, ext = view(u)
    assert ext["effectiveRole"] == "developer" and new_tag != tag
    r = server.admin("GET", f"/tenants/acme/users/{u}", headers={"If-None-Match": tag})
    assert r.status_code == 200, r.status_code
    assert view(other)[0] == calm_tag
    # The same role from another source moves the tag too: roleSource is shown.
    set_map(server, [{"group": "engineering", "role": "reporting", "priority": 5}])
    last_tag, ext = view(u)
    assert ext == {**ext, "effectiveRole": "reporting", "roleSource": "group"}
    assert last_tag != new_tag
    # A write of the user that moves its role answers the version it leaves (one bump).
    r = patch(server, tenant_token, f"/Users/{other}",
              {"op": "replace", "path": "roles", "value": [{"value": "developer"}]})
    assert r.headers["ETag"] == server.scim("GET", f"/Users/{other}", tenant_token).headers["ETag"]
    assert r.headers["ETag"] == view(other)[0]


def test_priority_order_not_list_order_decides(server, tenant_token):
    set_map(server, [{"group": "B", "role": "templates", "priority": 7},
                     {"group": "A", "role": "developer", "priority": 2}])
    u = new_user(server, tenant_token, "g@x.example")
    new_group(server, tenant_token, "B", [u])
    new_group(server, tenant_token, "A", [u])
    assert role(server, u)["role"] == "developer"
    assert [r["group"] for r in server.admin("GET", "/tenants/acme/role-map").json()["rules"]] \
        == ["A", "B"]


@pytest.mark.parametrize("rules, fragment", [
    ([{"group": "A", "role": "owner", "priority": 1}], "role must be"),
    ([{"group": "A", "role": "admin", "priority": 0}], "priority"),
    ([{"group": "A", "role": "admin", "priority": 1},
      {"group": "a", "role": "developer", "priority": 2}], "twice"),
    ([{"group": "A", "role": "admin", "priority": 1},
      {"group": "B", "role": "developer", "priority": 1}], "priority 1 twice"),
    ([{"group": "", "role": "admin", "priority": 1}], "group"),
    ([{"group": "A", "role": "admin", "priority": 1, "extra": 1}], "entry 1"),
    ({"group": "A"}, "array"),
    # The message names the member in words, never jansson's ("Expected integer, got real").
    ([{"group": "A", "role": "admin", "priority": 1.5}],
     'role map entry 1: "priority" must be an integer'),
    ([{"group": "A", "role": "admin", "priority": "1"}],
     'role map entry 1: "priority" must be an integer'),
    ([{"group": "A", "role": "admin", "priority": 1},
      {"group": "B", "role": "admin", "priority": 2, "extra": 1}],
     'role map entry 2: unknown field "extra"'),
    ([{"group": "A", "role": "admin"}], 'role map entry 1: "priority" is required'),
    ([{"role": "admin", "priority": 1}], 'role map entry 1: "group" is required'),
    ([{"group": 7, "role": "admin", "priority": 1}], 'role map entry 1: "group" must be a string'),
    ([{"group": "A", "role": None, "priority": 1}], 'role map entry 1: "role" must be a string'),
    (["A"], "role map entry 1 must be an object"),
])
def test_bad_role_map_is_400_and_changes_nothing(server, tenant_token, rules, fragment):
    set_map(server, SEED_MAP)
    r = server.admin("PUT", "/tenants/acme/role-map", {"rules": rules})
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]["message"]
    assert server.admin("GET", "/tenants/acme/role-map").json()["rules"] == SEED_MAP


def test_role_map_cli_set_remove_and_tenant_isolation(server, tenant_token):
    server.make_tenant("other")
    server.cli("tenant", "role-map", "acme", "set", "Admin", "admin", "1")
    out = server.cli("tenant", "role-map", "acme", "set", "Ops", "developer", "2").stdout
    assert '"Ops"' in out
    server.cli("tenant", "role-map", "acme", "remove", "admin")
    assert server.admin("GET", "/tenants/acme/role-map").json()["rules"] == \
        [{"group": "Ops", "role": "developer", "priority": 2}]
    assert server.admin("GET", "/tenants/other/role-map").json()["rules"] == []
    bad = server.cli("tenant", "role-map", "acme", "set", "X", "boss", "3", check=False)
    assert bad.returncode == 1 and "role must be" in bad.stderr


def test_unknown_user_role_is_404(server, tenant_token):
    r = server.admin("GET", "/tenants/acme/users/00000000-0000-0000-0000-000000000000/role")
    assert r.status_code == 404


# ---- audit events ----

def kinds(evs):
    return [e["kind"] for e in evs]


def after_the_mint(server):
    """The tenant's events after the token.created of the tenant_token fixture's mint."""
    evs = events(server)["events"]
    assert (evs[0]["kind"], evs[0]["actor"]) == ("token.created", "cli")
    return evs[1:]


def test_events_record_user_lifecycle_with_actor_and_changes(server, tenant_token):
    tok_id = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    u = new_user(server, tenant_token, "h@x.example", title="Engineer")
    patch(server, tenant_token, f"/Users/{u}", {"op": "replace", "path": "title", "value": "Lead"})
    patch(server, tenant_token, f"/Users/{u}", {"op": "replace", "value": {"active": False}})
    patch(server, tenant_token, f"/Users/{u}", {"op": "replace", "value": {"active": True}})
    assert server.scim("DELETE", f"/Users/{u}", tenant_token).status_code == 204
    evs = after_the_mint(server)
    assert kinds(evs) == ["user.created", "user.updated", "user.deactivated",
                          "user.reactivated", "user.deleted"]
    assert all(e["actor"] == f"token:{tok_id}" and e["resourceId"] == u and
               e["resourceType"] == "User" for e in evs)
    assert evs[0]["data"]["after"]["userName"] == "h@x.example"
    assert evs[1]["data"]["changes"] == {"title": {"before": "Engineer", "after": "Lead"}}
    assert evs[2]["data"]["changes"]["active"] == {"before": True, "after": False}
    assert evs[4]["data"]["before"]["title"] == "Lead"
    ids = [int(e["id"]) for e in evs]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_password_change_is_recorded_without_the_password(server, tenant_token):
    u = new_user(server, tenant_token, "p@x.example")
    patch(server, tenant_token, f"/Users/{u}",
          {"op": "replace", "path": "password", "value": "S3cret-pass-phrase!"})
    ev = events(server)["events"][-1]
    assert ev["kind"] == "user.updated"
    assert ev["data"]["changes"] == {"password": {"changed": True}}
    assert "S3cret" not in str(events(server))


def test_remove_policy_deactivation_is_a_delete_event(server):
    server.make_tenant("acme", deactivationPolicy="remove")
    token = server.mint("acme")["token"]
    u = new_user(server, token, "r@x.example")
    patch(server, token, f"/Users/{u}", {"op": "replace", "value": {"active": False}})
    ev = events(server)["events"][-1]
    assert ev["kind"] == "user.deleted" and ev["data"]["reason"] == "deactivated"
    assert ev["data"]["groups"] == [] and ev["data"]["groupCount"] == 0
    # A deleted user's event names the groups it left: they write no event of their own.
    u = new_user(server, token, "s@x.example")
    g = new_group(server, token, "Staff", [u])
    assert server.scim("DELETE", f"/Users/{u}", token).status_code == 204
    ev = events(server)["events"][-1]
    assert ev["kind"] == "user.deleted" and ev["data"]["groups"] == [g], ev
    assert ev["data"]["groupCount"] == 1


def test_events_for_groups_and_role_changes(server, tenant_token):
    set_map(server, SEED_MAP)
    set_map(server, SEED_MAP)  # the same map again: no change, no event (it wrote one)
    u = new_user(server, tenant_token, "i@x.example")
    g = new_group(server, tenant_token, "Admin", [u])
    patch(server, tenant_token, f"/Groups/{g}",
          {"op": "replace", "path": "displayName", "value": "Admins (old)"})
    assert server.scim("DELETE", f"/Groups/{g}", tenant_token).status_code == 204
    evs = after_the_mint(server)
    assert kinds(evs) == ["role_map.changed", "user.created", "user.role_changed",
                          "group.created", "user.role_changed", "group.updated",
                          "group.deleted"]
    assert evs[0]["actor"] == "operator"
    assert evs[2]["data"] == {"role": {"before": "reporting", "after": "admin"},
                              "source": "group"}
    assert evs[3]["data"]["members"] == {"added": [u], "addedCount": 1, "removed": [],
                                         "removedCount": 0}
    assert evs[4]["data"]["role"] == {"before": "admin", "after": "reporting"}
    assert evs[5]["data"]["changes"]["displayName"]["after"] == "Admins (old)"
    assert evs[6]["data"]["before"]["displayName"] == "Admins (old)"


def test_failed_write_leaves_no_event(server, tenant_token):
    new_user(server, tenant_token, "j@x.example")
    before = len(events(server)["events"])
    r = server.scim("POST", "/Users", tenant_token, user_body("J@x.example"))
    assert r.status_code == 409
    r = server.scim("POST", "/Groups", tenant_token,
                    {"schemas": [GROUP_URN], "displayName": "G",
                     "members": [{"value": "no-such-user"}]})
    assert r.status_code == 400
    assert len(events(server)["events"]) == before


def test_events_cursor_paging_and_isolation(server):
    # Users written by the host: no token, so the tenants' events are these users' alone.
    server.make_tenant("acme")
    server.make_tenant("other")
    for i in range(5):
        server.host_user("acme", f"k{i}@x.example")
    server.host_user("other", "z@x.example")
    page = events(server, limit=2)
    assert len(page["events"]) == 2
    seen = [e["id"] for e in page["events"]]
    for _ in range(10):
        page = events(server, after=page["next"], limit=2)
        if not page["events"]:
            break
        seen += [e["id"] for e in page["events"]]
    assert len(seen) == 5 and len(set(seen)) == 5
    assert page["next"] == seen[-1]  # nothing new: the cursor stays
    assert [e["data"]["after"]["userName"] for e in events(server, "other")["events"]] == \
        ["z@x.example"]
    assert server.admin("GET", "/tenants/acme/events", params={"limit": "0x"}).status_code == 400
    assert server.admin("GET", "/tenants/acme/events",
                        params={"limit": "100000"}).status_code == 400


def test_events_newest_first_say_0_when_the_page_reaches_the_oldest(server):
    """docs/api.md: with order=desc, next is the cursor for the next older page, "0" at the
    end: a page that holds the oldest event ends there, without an empty page to fetch."""
    server.make_tenant("acme")
    for i in range(3):
        server.host_user("acme", f"k{i}@x.example")
    every = [e["id"] for e in events(server)["events"]]
    assert len(every) == 3
    page = events(server, order="desc", limit=100)
    assert [e["id"] for e in page["events"]] == every[::-1] and page["next"] == "0"
    # Exactly the size of what is left: still the end.
    page = events(server, order="desc", limit=3)
    assert len(page["events"]) == 3 and page["next"] == "0"
    page = events(server, order="desc", limit=2)
    assert [e["id"] for e in page["events"]] == every[:0:-1] and page["next"] == every[1]
    page = events(server, order="desc", limit=2, before=page["next"])
    assert [e["id"] for e in page["events"]] == every[:1] and page["next"] == "0"
    page = events(server, order="desc", kind="user.created", limit=2, before=every[2])
    assert [e["id"] for e in page["events"]] == every[1::-1] and page["next"] == "0"
    # An empty page (limit=0) is not the end: its next names where it stands.
    page = events(server, order="desc", limit=0)
    assert page["events"] == [] and page["next"] != "0"
    page = events(server, order="desc", limit=1, before=page["next"])
    assert [e["id"] for e in page["events"]] == every[2:]
    page = events(server, order="desc", limit=0, before=every[1])
    assert page["events"] == [] and page["next"] == every[1]
    # Oldest first, next stays the last event read, even with nothing new: events may come.
    page = events(server, order="asc", limit=100)
    assert [e["id"] for e in page["events"]] == every and page["next"] == every[-1]
    page = events(server, order="asc", kind="user.", after=every[-1])
    assert page["events"] == [] and page["next"] == every[-1]


def test_audit_cli_prints_events_as_json_lines(server):
    server.make_tenant("acme")
    server.host_user("acme", "l@x.example")
    server.host_user("acme", "m@x.example")
    lines = server.cli("audit", "acme").stdout.strip().splitlines()
    assert len(lines) == 2 and '"user.created"' in lines[0]
    import json
    first = json.loads(lines[0])["id"]
    rest = server.cli("audit", "acme", "--after", first).stdout.strip().splitlines()
    assert len(rest) == 1 and "m@x.example" in rest[0]
    assert server.cli("audit", "nope", check=False).returncode == 3
