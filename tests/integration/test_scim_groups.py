"""/Groups (RFC 7643 §4.2, RFC 7644 §3.3-§3.6) with membership rows, driven over HTTP as Okta
and Entra drive it (IDP-QUIRKS.md 8, 9, 14, 17, 19, 20, 24)."""
from datetime import datetime

import pytest

from conftest import (LIST_URN, PATCH_URN, SCIM, assert_head_is_get, assert_scim_error,
                      user_body)

GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"


def new_user(server, token, name):
    r = server.scim("POST", "/Users", token, user_body(name))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def new_group(server, token, name, members=(), **extra):
    body = {"schemas": [GROUP_URN], "displayName": name, **extra}
    if members:
        body["members"] = [{"value": m} for m in members]
    r = server.scim("POST", "/Groups", token, body)
    assert r.status_code == 201, r.text
    return r.json()


def get_group(server, token, gid, **kw):
    r = server.scim("GET", f"/Groups/{gid}", token, **kw)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(SCIM)
    return r.json()


def member_ids(group):
    return sorted(m["value"] for m in group.get("members", []))


def patch(server, token, gid, *ops, headers=None):
    return server.scim("PATCH", f"/Groups/{gid}", token,
                       {"schemas": [PATCH_URN], "Operations": list(ops)}, headers=headers)


def test_groups_post_with_members_returns_201_and_renders_members(server, tenant_token):
    a = new_user(server, tenant_token, "a@x.example")
    g = new_group(server, tenant_token, "Admins", [a], externalId="okta-g1")
    assert g["schemas"] == [GROUP_URN]
    assert g["displayName"] == "Admins" and g["externalId"] == "okta-g1"
    assert g["meta"]["resourceType"] == "Group" and g["meta"]["version"] == 'W/"1"'
    assert g["meta"]["location"].endswith(f"/scim/v2/Groups/{g['id']}")
    [m] = g["members"]
    assert m["value"] == a and m["type"] == "User" and m["display"] == "a@x.example"
    assert m["$ref"].endswith(f"/scim/v2/Users/{a}")


def test_groups_okta_push_sequence(server, tenant_token):
    """IDP-QUIRKS.md 8: create with members, add, remove by filter, one mixed PATCH, delete."""
    a, b, c, d = (new_user(server, tenant_token, f"{n}@x.example") for n in "abcd")
    g = new_group(server, tenant_token, "Engineering", [a])
    gid = g["id"]
    r = patch(server, tenant_token, gid,
              {"op": "add", "path": "members", "value": [{"value": b}, {"value": c}]})
    assert r.status_code == 200, r.text
    assert member_ids(r.json()) == sorted([a, b, c])
    assert r.json()["meta"]["version"] == 'W/"2"'
    r = patch(server, tenant_token, gid,
              {"op": "remove", "path": f'members[value eq "{b}"]'})
    assert r.status_code == 200, r.text
    assert member_ids(r.json()) == sorted([a, c])
    r = patch(server, tenant_token, gid,
              {"op": "replace", "value": {"id": gid, "displayName": "Engineering-2"}},
              {"op": "remove", "path": f'members[value eq "{a}"]'},
              {"op": "add", "path": "members", "value": [{"value": d}]})
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "Engineering-2"
    assert member_ids(get_group(server, tenant_token, gid)) == sorted([c, d])
    r = patch(server, tenant_token, gid,
              {"op": "replace", "value": {"id": gid, "displayName": "Renamed"}})
    assert r.status_code == 200 and r.json()["displayName"] == "Renamed"
    assert member_ids(r.json()) == sorted([c, d])
    assert server.scim("DELETE", f"/Groups/{gid}", tenant_token).status_code == 204
    assert_scim_error(server.scim("GET", f"/Groups/{gid}", tenant_token), 404)


def test_groups_entra_remove_with_value_list_removes_only_those(server, tenant_token):
    """IDP-QUIRKS.md 14: "Remove" with path members and a value list is not "remove all"."""
    a, b, c = (new_user(server, tenant_token, f"{n}@x.example") for n in "abc")
    gid = new_group(server, tenant_token, "Sales", [a, b, c])["id"]
    r = patch(server, tenant_token, gid,
              {"op": "Remove", "path": "members", "value": [{"value": a}, {"value": c}]})
    assert r.status_code == 200, r.text
    assert member_ids(get_group(server, tenant_token, gid)) == [b]


def test_groups_entra_capitalised_add(server, tenant_token):
    a = new_user(server, tenant_token, "a@x.example")
    gid = new_group(server, tenant_token, "Support")["id"]
    r = patch(server, tenant_token, gid, {"op": "Add", "path": "members", "value": [{"value": a}]})
    assert r.status_code == 200, r.text
    assert member_ids(get_group(server, tenant_token, gid)) == [a]


def test_groups_okta_empty_push_replace_members_empties_the_group(server, tenant_token):
    a, b = (new_user(server, tenant_token, f"{n}@x.example") for n in "ab")
    gid = new_group(server, tenant_token, "Empty me", [a, b])["id"]
    r = patch(server, tenant_token, gid, {"op": "replace", "path": "members", "value": []})
    assert r.status_code == 200, r.text
    assert "members" not in get_group(server, tenant_token, gid)


def test_groups_okta_empty_push_path_less_members_empties_the_group(server, tenant_token):
    a = new_user(server, tenant_token, "a@x.example")
    gid = new_group(server, tenant_token, "Empty me too", [a])["id"]
    r = patch(server, tenant_token, gid, {"op": "replace", "value": {"members": []}})
    assert r.status_code == 200, r.text
    assert "members" not in get_group(server, tenant_token, gid)


def test_groups_unknown_member_id_is_400_and_nothing_changes(server, tenant_token):
    a = new_user(server, tenant_token, "a@x.example")
    g = new_group(server, tenant_token, "Ops", [a])
    r = patch(server, tenant_token, g["id"],
              {"op": "replace", "value": {"displayName": "Ops-2"}},
              {"op": "add", "path": "members", "value": [{"value": "no-such-user"}]})
    body = assert_scim_error(r, 400, "invalidValue")
    assert "no-such-user" in body["detail"]
    after = get_group(server, tenant_token, g["id"])
    assert after["displayName"] == "Ops" and member_ids(after) == [a]
    assert after["meta"]["version"] == g["meta"]["version"]
    r = server.scim("POST", "/Groups", tenant_token,
                    {"displayName": "Ghosts", "members": [{"value": "nobody"}]})
    assert_scim_error(r, 400, "invalidValue")
    r = server.scim("GET", '/Groups?filter=displayName eq "Ghosts"', tenant_token)
    assert r.json()["totalResults"] == 0


def test_groups_duplicate_display_name_is_409_uniqueness(server, tenant_token):
    new_group(server, tenant_token, "Admins")
    r = server.scim("POST", "/Groups", tenant_token, {"displayName": "ADMINS"})
    body = assert_scim_error(r, 409, "uniqueness")
    assert "displayName" in body["detail"]
    gid = new_group(server, tenant_token, "Other")["id"]
    r = patch(server, tenant_token, gid, {"op": "replace", "path": "displayName",
                                          "value": "admins"})
    assert_scim_error(r, 409, "uniqueness")


def test_groups_deleting_a_user_removes_it_from_groups(server, tenant_token):
    a, b = (new_user(server, tenant_token, f"{n}@x.example") for n in "ab")
    g = new_group(server, tenant_token, "Team", [a, b])
    assert server.scim("DELETE", f"/Users/{a}", tenant_token).status_code == 204
    after = get_group(server, tenant_token, g["id"])
    assert member_ids(after) == [b]
    assert after["meta"]["version"] != g["meta"]["version"]


def test_users_groups_attribute_is_derived_and_read_only(server, tenant_token):
    a = new_user(server, tenant_token, "a@x.example")
    g = new_group(server, tenant_token, "Admins", [a])
    r = server.scim("GET", f"/Users/{a}", tenant_token)
    [grp] = r.json()["groups"]
    assert grp["value"] == g["id"] and grp["display"] == "Admins" and grp["type"] == "direct"
    assert grp["$ref"].endswith(f"/scim/v2/Groups/{g['id']}")
    listed = server.scim("GET", '/Users?filter=userName eq "a@x.example"', tenant_token).json()
    assert listed["Resources"][0]["groups"] == [grp]
    # Input cannot set it (RFC 7643 §4.1.2 readOnly): a PUT naming other groups changes nothing.
    r = server.scim("PUT", f"/Users/{a}", tenant_token,
                    user_body("a@x.example", groups=[{"value": "elsewhere"}]))
    assert r.status_code == 200, r.text
    assert r.json()["groups"] == [grp]
    r = server.scim("GET", f"/Users/{a}?excludedAttributes=groups", tenant_token)
    assert "groups" not in r.json()
    b = new_user(server, tenant_token, "b@x.example")
    assert "groups" not in server.scim("GET", f"/Users/{b}", tenant_token).json()


def test_groups_excluded_attributes_members(server, tenant_token):
    a = new_user(server, tenant_token, "a@x.example")
    g = new_group(server, tenant_token, "Admins", [a])
    r = server.scim("GET", f"/Groups/{g['id']}?excludedAttributes=members", tenant_token)
    assert r.status_code == 200
    assert "members" not in r.json() and r.json()["displayName"] == "Admins"


def test_groups_entra_filter_display_name_with_excluded_members(server, tenant_token):
    """IDP-QUIRKS.md 17, 19: Entra's existence check for groups."""
    a = new_user(server, tenant_token, "a@x.example")
    g = new_group(server, tenant_token, "Finance", [a])
    new_group(server, tenant_token, "Legal")
    r = server.scim("GET", '/Groups?filter=displayName eq "Finance"&excludedAttributes=members',
                    tenant_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["schemas"] == [LIST_URN] and body["totalResults"] == 1
    assert body["Resources"][0]["id"] == g["id"] and "members" not in body["Resources"][0]
    r = server.scim("GET", '/Groups?filter=displayName eq "nope"&excludedAttributes=members',
                    tenant_token)
    assert r.json()["totalResults"] == 0 and r.json()["Resources"] == []


def test_groups_list_paging(server, tenant_token):
    ids = [new_group(server, tenant_token, f"g{i}")["id"] for i in range(5)]
    seen = []
    for start in (1, 3, 5):
        r = server.scim("GET", f"/Groups?startIndex={start}&count=2", tenant_token)
        body = r.json()
        assert body["totalResults"] == 5 and body["startIndex"] == start
        assert body["itemsPerPage"] == len(body["Resources"])
        seen += [g["id"] for g in body["Resources"]]
    assert seen == ids
    r = server.scim("POST", "/Groups/.search", tenant_token,
                    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                     "filter": 'displayName eq "g3"'})
    assert r.status_code == 200 and r.json()["Resources"][0]["id"] == ids[3]


def test_groups_etag_and_if_match(server, tenant_token):
    a = new_user(server, tenant_token, "a@x.example")
    g = new_group(server, tenant_token, "Versioned")
    r = server.scim("GET", f"/Groups/{g['id']}", tenant_token)
    assert r.headers["ETag"] == 'W/"1"'
    r = server.scim("GET", f"/Groups/{g['id']}", tenant_token, headers={"If-None-Match": 'W/"1"'})
    assert r.status_code == 304
    r = patch(server, tenant_token, g["id"],
              {"op": "add", "path": "members", "value": [{"value": a}]},
              headers={"If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"'
    r = patch(server, tenant_token, g["id"],
              {"op": "replace", "path": "displayName", "value": "x"},
              headers={"If-Match": 'W/"1"'})
    assert_scim_error(r, 412)
    r = server.scim("DELETE", f"/Groups/{g['id']}", tenant_token, headers={"If-Match": 'W/"1"'})
    assert_scim_error(r, 412)
    # A no-op PATCH keeps the version.
    r = patch(server, tenant_token, g["id"],
              {"op": "add", "path": "members", "value": [{"value": a}]})
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"'


def test_groups_get_if_match_stale_is_412_and_current_or_star_is_200(server, tenant_token):
    g = new_group(server, tenant_token, "Guarded")
    # RFC 9110 §13.1.1: a false If-Match means the method is not performed (412).
    r = server.scim("GET", f"/Groups/{g['id']}", tenant_token, headers={"If-Match": 'W/"2"'})
    assert 'W/"1"' in assert_scim_error(r, 412)["detail"]
    for tag in ('W/"1"', "*"):
        r = server.scim("GET", f"/Groups/{g['id']}", tenant_token, headers={"If-Match": tag})
        assert r.status_code == 200 and r.json()["id"] == g["id"], r.text


def test_groups_head_is_get_without_body(server, tenant_token):
    g = new_group(server, tenant_token, "Heads")
    headers, _ = assert_head_is_get(server, f"/scim/v2/Groups/{g['id']}", tenant_token)
    assert headers["etag"] == 'W/"1"'
    assert_head_is_get(server, "/scim/v2/Groups", tenant_token)


@pytest.mark.parametrize("tag", ["*", 'W/"1"'])
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_groups_write_if_none_match_current_is_412_and_changes_nothing(server, tenant_token,
                                                                        method, tag):
    g = new_group(server, tenant_token, "Kept")
    headers = {"If-None-Match": tag}
    if method == "PUT":
        r = server.scim("PUT", f"/Groups/{g['id']}", tenant_token,
                        {"schemas": [GROUP_URN], "displayName": "Changed"}, headers=headers)
    elif method == "PATCH":
        r = patch(server, tenant_token, g["id"],
                  {"op": "replace", "path": "displayName", "value": "Changed"}, headers=headers)
    else:
        r = server.scim("DELETE", f"/Groups/{g['id']}", tenant_token, headers=headers)
    # RFC 9110 §13.1.2: a matching If-None-Match on a write is 412, nothing performed.
    assert "If-None-Match" in assert_scim_error(r, 412)["detail"]
    after = get_group(server, tenant_token, g["id"])
    assert after["meta"]["version"] == 'W/"1"' and after["displayName"] == "Kept"


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_groups_write_if_none_match_other_version_is_performed(server, tenant_token, method):
    g = new_group(server, tenant_token, "Changing")
    headers = {"If-None-Match": 'W/"5"'}
    if method == "PATCH":
        r = patch(server, tenant_token, g["id"],
                  {"op": "replace", "path": "displayName", "value": "Changed"}, headers=headers)
        assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"', r.text
    else:
        r = server.scim("DELETE", f"/Groups/{g['id']}", tenant_token, headers=headers)
        assert r.status_code == 204, r.text
        assert_scim_error(server.scim("GET", f"/Groups/{g['id']}", tenant_token), 404)


def last_modified(resource):
    return datetime.fromisoformat(resource["meta"]["lastModified"].replace("Z", "+00:00"))


def current(server, token, path):
    """The resource at path, read with no validator."""
    r = server.scim("GET", path, token)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == r.json()["meta"]["version"]
    return r.json()


def changed(server, token, path, before):
    """RFC 7644 §3.14: the representation at path changed since `before` was read, so its old
    ETag no longer validates: If-None-Match with it is 200 with a new ETag, and lastModified has
    not gone back. Returns the new representation."""
    old = before["meta"]["version"]
    r = server.scim("GET", path, token, headers={"If-None-Match": old})
    assert r.status_code == 200, f"{path}: {old} still validates ({r.status_code})"
    after = r.json()
    assert r.headers["ETag"] == after["meta"]["version"] != old
    assert last_modified(after) >= last_modified(before)
    return after


def unchanged(server, token, path, before):
    """The old ETag still validates: If-None-Match with it is 304."""
    r = server.scim("GET", path, token, headers={"If-None-Match": before["meta"]["version"]})
    assert r.status_code == 304, f"{path}: the ETag moved ({r.status_code})"


def group_displays(user):
    return sorted((g["value"], g["display"]) for g in user.get("groups", []))


def test_groups_membership_changes_move_the_members_etag(server, tenant_token):
    """A user's groups is derived from the membership rows: each write that adds the user to a
    group or takes it out changes the user's ETag, one that changes nothing keeps it."""
    a, b = (new_user(server, tenant_token, f"{n}@x.example") for n in "ab")
    ua, ub = f"/Users/{a}", f"/Users/{b}"
    before = current(server, tenant_token, ua)
    g = new_group(server, tenant_token, "Moves", [a])  # POST with members
    gid = g["id"]
    user = changed(server, tenant_token, ua, before)
    assert group_displays(user) == [(gid, "Moves")]
    other = current(server, tenant_token, ub)
    # An add of a member already there changes no row: neither ETag moves.
    r = patch(server, tenant_token, gid, {"op": "add", "path": "members", "value": [{"value": a}]})
    assert r.status_code == 200 and r.headers["ETag"] == g["meta"]["version"]
    unchanged(server, tenant_token, ua, user)
    # PATCH remove: a moves, b (never a member) does not.
    r = patch(server, tenant_token, gid, {"op": "remove", "path": f'members[value eq "{a}"]'})
    assert r.status_code == 200, r.text
    user = changed(server, tenant_token, ua, user)
    assert "groups" not in user
    unchanged(server, tenant_token, ub, other)
    # PATCH add.
    r = patch(server, tenant_token, gid, {"op": "add", "path": "members", "value": [{"value": a}]})
    assert r.status_code == 200, r.text
    user = changed(server, tenant_token, ua, user)
    # PATCH replace of the whole list: a leaves, b joins.
    r = patch(server, tenant_token, gid,
              {"op": "replace", "path": "members", "value": [{"value": b}]})
    assert r.status_code == 200 and member_ids(r.json()) == [b]
    user = changed(server, tenant_token, ua, user)
    other = changed(server, tenant_token, ub, other)
    assert group_displays(other) == [(gid, "Moves")]
    # PUT with members: back to a.
    r = server.scim("PUT", f"/Groups/{gid}", tenant_token,
                    {"schemas": [GROUP_URN], "displayName": "Moves", "members": [{"value": a}]})
    assert r.status_code == 200 and member_ids(r.json()) == [a]
    user = changed(server, tenant_token, ua, user)
    other = changed(server, tenant_token, ub, other)
    # DELETE of the group: a loses it.
    assert server.scim("DELETE", f"/Groups/{gid}", tenant_token).status_code == 204
    user = changed(server, tenant_token, ua, user)
    assert "groups" not in user
    unchanged(server, tenant_token, ub, other)


def test_groups_rename_moves_every_members_etag(server, tenant_token):
    """groups[].display is the group's displayName: a rename changes each member."""
    a, b, c = (new_user(server, tenant_token, f"{n}@x.example") for n in "abc")
    gid = new_group(server, tenant_token, "Old name", [a, b])["id"]
    users = {u: current(server, tenant_token, f"/Users/{u}") for u in (a, b, c)}
    # A PATCH that leaves displayName alone touches no member.
    r = patch(server, tenant_token, gid, {"op": "replace", "path": "externalId", "value": "e1"})
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"'
    for u in (a, b, c):
        unchanged(server, tenant_token, f"/Users/{u}", users[u])
    r = patch(server, tenant_token, gid,
              {"op": "replace", "path": "displayName", "value": "New name"})
    assert r.status_code == 200, r.text
    for u in (a, b):
        after = changed(server, tenant_token, f"/Users/{u}", users[u])
        assert group_displays(after) == [(gid, "New name")]
    unchanged(server, tenant_token, f"/Users/{c}", users[c])
    # A rename by PUT that also adds a member: the new member moves once, like the others.
    users = {u: current(server, tenant_token, f"/Users/{u}") for u in (a, b, c)}
    r = server.scim("PUT", f"/Groups/{gid}", tenant_token,
                    {"schemas": [GROUP_URN], "displayName": "Third",
                     "members": [{"value": u} for u in (a, b, c)]})
    assert r.status_code == 200, r.text
    for u in (a, b, c):
        after = changed(server, tenant_token, f"/Users/{u}", users[u])
        assert after["meta"]["version"] == 'W/"%d"' % (
            int(users[u]["meta"]["version"][3:-1]) + 1)
        assert group_displays(after) == [(gid, "Third")]


def test_users_user_name_change_moves_their_groups_etag(server, tenant_token):
    """members[].display is the member's userName: a new userName changes each of its groups;
    another change of the user does not."""
    a, b = (new_user(server, tenant_token, f"{n}@x.example") for n in "ab")
    g1 = new_group(server, tenant_token, "One", [a, b])
    g2 = new_group(server, tenant_token, "Two", [a])
    g3 = new_group(server, tenant_token, "Three", [b])
    paths = {g["id"]: f"/Groups/{g['id']}" for g in (g1, g2, g3)}
    groups = {gid: current(server, tenant_token, p) for gid, p in paths.items()}
    r = server.scim("PATCH", f"/Users/{a}", tenant_token,
                    {"schemas": [PATCH_URN], "Operations": [
                        {"op": "replace", "path": "name.givenName", "value": "Other"}]})
    assert r.status_code == 200, r.text
    for gid, p in paths.items():
        unchanged(server, tenant_token, p, groups[gid])
    r = server.scim("PATCH", f"/Users/{a}", tenant_token,
                    {"schemas": [PATCH_URN], "Operations": [
                        {"op": "replace", "path": "userName", "value": "renamed@x.example"}]})
    assert r.status_code == 200, r.text
    for g in (g1, g2):
        after = changed(server, tenant_token, paths[g["id"]], groups[g["id"]])
        assert {m["value"]: m["display"] for m in after["members"]}[a] == "renamed@x.example"
    unchanged(server, tenant_token, paths[g3["id"]], groups[g3["id"]])
    # PUT, and a change of case only (the display is the userName as written).
    groups = {gid: current(server, tenant_token, p) for gid, p in paths.items()}
    r = server.scim("PUT", f"/Users/{a}", tenant_token, user_body("Renamed@x.example"))
    assert r.status_code == 200, r.text
    for g in (g1, g2):
        changed(server, tenant_token, paths[g["id"]], groups[g["id"]])
    unchanged(server, tenant_token, paths[g3["id"]], groups[g3["id"]])
    # Deleting the user changes each of its groups' members.
    groups = {gid: current(server, tenant_token, p) for gid, p in paths.items()}
    assert server.scim("DELETE", f"/Users/{a}", tenant_token).status_code == 204
    for g in (g1, g2):
        after = changed(server, tenant_token, paths[g["id"]], groups[g["id"]])
        assert a not in member_ids(after)
    unchanged(server, tenant_token, paths[g3["id"]], groups[g3["id"]])


def test_groups_put_replaces_members_and_keeps_them_when_omitted(server, tenant_token):
    """IDP-QUIRKS.md 9: some Okta set-ups send members inside PUT bodies."""
    a, b = (new_user(server, tenant_token, f"{n}@x.example") for n in "ab")
    gid = new_group(server, tenant_token, "Put", [a])["id"]
    r = server.scim("PUT", f"/Groups/{gid}", tenant_token,
                    {"schemas": [GROUP_URN], "displayName": "Put", "members": [{"value": b}]})
    assert r.status_code == 200, r.text
    assert member_ids(r.json()) == [b]
    r = server.scim("PUT", f"/Groups/{gid}", tenant_token,
                    {"schemas": [GROUP_URN], "displayName": "Put 2"})
    assert r.status_code == 200 and member_ids(r.json()) == [b]
    r = server.scim("PUT", f"/Groups/{gid}", tenant_token,
                    {"schemas": [GROUP_URN], "displayName": "Put 2", "members": []})
    assert r.status_code == 200 and "members" not in r.json()


def test_groups_tenant_isolation(server, tenant_token):
    server.make_tenant("beta")
    beta = server.mint("beta")["token"]
    a = new_user(server, tenant_token, "a@x.example")
    b_user = new_user(server, beta, "b@x.example")
    g_beta = new_group(server, beta, "Beta group", [b_user])
    assert_scim_error(server.scim("GET", f"/Groups/{g_beta['id']}", tenant_token), 404)
    r = server.scim("GET", '/Groups?filter=displayName eq "Beta group"', tenant_token)
    assert r.json()["totalResults"] == 0
    assert_scim_error(patch(server, tenant_token, g_beta["id"],
                            {"op": "add", "path": "members", "value": [{"value": a}]}), 404)
    g_acme = new_group(server, tenant_token, "Acme group")
    r = patch(server, tenant_token, g_acme["id"],
              {"op": "add", "path": "members", "value": [{"value": b_user}]})
    assert_scim_error(r, 400, "invalidValue")
    assert "members" not in get_group(server, tenant_token, g_acme["id"])
    # The same display name may exist in two tenants.
    new_group(server, tenant_token, "Beta group")


def test_groups_import_only_tenant_refuses_writes_with_403(server):
    server.make_tenant("imp", provisioningMode="import-only")
    token = server.mint("imp")["token"]
    r = server.scim("POST", "/Groups", token, {"displayName": "x"})
    assert_scim_error(r, 403)
    assert server.scim("GET", "/Groups", token).status_code == 200


def test_groups_filter_on_members_value_as_entra_checks_membership(server, tenant_token):
    """Entra asks whether a user is in a group with members eq / members[value eq]; members
    live in rows, so these filters are answered from the membership table."""
    a = new_user(server, tenant_token, "fa@x.example")
    b = new_user(server, tenant_token, "fb@x.example")
    g1 = new_group(server, tenant_token, "F1", [a])["id"]
    g2 = new_group(server, tenant_token, "F2", [a, b])["id"]
    new_group(server, tenant_token, "F3")

    def names(flt, path="/Groups"):
        r = server.scim("GET", path, tenant_token,
                        params={"filter": flt, "excludedAttributes": "members"})
        assert r.status_code == 200, r.text
        return sorted(x.get("displayName") or x.get("userName") for x in r.json()["Resources"])

    assert names(f'members eq "{a}"') == ["F1", "F2"]
    assert names(f'members.value eq "{b}"') == ["F2"]
    assert names(f'id eq "{g1}" and members[value eq "{b}"]') == []
    assert names(f'id eq "{g2}" and members[value eq "{b}"]') == ["F2"]
    assert names(f'members ne "{b}"') == ["F1", "F3"]
    assert names("members pr") == ["F1", "F2"]
    assert names("not (members pr)") == ["F3"]
    # A user's derived groups, the same rows seen from the other side.
    assert names(f'groups eq "{g2}"', "/Users") == ["fa@x.example", "fb@x.example"]
    assert names(f'groups[value eq "{g1}"]', "/Users") == ["fa@x.example"]
    # What the rows cannot answer is refused, not silently empty.
    for bad in ['members.display eq "x"', 'members co "a"', 'members[type eq "User"]']:
        r = server.scim("GET", "/Groups", tenant_token, params={"filter": bad})
        assert_scim_error(r, 400, "invalidFilter")


def test_users_list_pages_carry_each_users_groups(server, tenant_token):
    """A list page reads the groups of all its users at once; each user must still get
    exactly its own, with projection applied."""
    u = [new_user(server, tenant_token, f"lp{i}@x.example") for i in range(4)]
    g1 = new_group(server, tenant_token, "LP1", [u[0], u[2]])["id"]
    g2 = new_group(server, tenant_token, "LP2", [u[2], u[3]])["id"]
    r = server.scim("GET", "/Users", tenant_token, params={"count": 3})
    got = {x["userName"]: sorted(g["value"] for g in x.get("groups", []))
           for x in r.json()["Resources"]}
    r2 = server.scim("GET", "/Users", tenant_token, params={"startIndex": 4, "count": 3})
    got.update({x["userName"]: sorted(g["value"] for g in x.get("groups", []))
                for x in r2.json()["Resources"]})
    assert got == {"lp0@x.example": [g1], "lp1@x.example": [],
                   "lp2@x.example": sorted([g1, g2]), "lp3@x.example": [g2]}
    one = [x for x in r.json()["Resources"] if x["userName"] == "lp0@x.example"][0]
    assert one["groups"][0] == {"value": g1, "display": "LP1", "type": "direct",
                                "$ref": f"{server.url}/scim/v2/Groups/{g1}"}
    r = server.scim("GET", "/Users", tenant_token,
                    params={"attributes": "userName,groups", "filter": 'userName eq "lp2@x.example"'})
    assert set(r.json()["Resources"][0]) == {"schemas", "id", "userName", "groups"}
    r = server.scim("GET", "/Users", tenant_token, params={"excludedAttributes": "groups"})
    assert all("groups" not in x for x in r.json()["Resources"])
