"""/Users (RFC 7644 §3.3-§3.6, §3.4.2 listing, §3.14 versions) driven over HTTP."""
import calendar
import json
import time

import pytest
import requests

from conftest import (ENTERPRISE_URN, LIST_URN, PATCH_URN, SCIM, USER_URN,
                      assert_head_is_get, assert_scim_error, exchange, user_body)

TENANT_URN = "urn:scimd:params:scim:schemas:extension:tenant:2.0:User"
PUBLIC = "https://scim.example.com"


def strict_json(r):
    """The body, refusing duplicate keys (json.loads would silently keep the last one)."""
    def pairs(items):
        keys = [k for k, _ in items]
        assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
        return dict(items)
    return json.loads(r.text, object_pairs_hook=pairs)


def create(server, token, user_name, **extra):
    r = server.scim("POST", "/Users", token, user_body(user_name, **extra))
    assert r.status_code == 201, r.text
    return strict_json(r)


def get(server, token, uid, **kw):
    r = server.scim("GET", f"/Users/{uid}", token, **kw)
    assert r.status_code == 200, r.text
    return strict_json(r)


def patch(server, token, uid, *ops, headers=None):
    return server.scim("PATCH", f"/Users/{uid}", token,
                       {"schemas": [PATCH_URN], "Operations": list(ops)}, headers=headers)


def listing(server, token, query):
    r = server.scim("GET", "/Users" + query, token)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(SCIM)
    body = r.json()
    assert body["schemas"] == [LIST_URN]
    return body


# ---- POST (RFC 7644 §3.3) ----

def test_users_post_returns_201_with_the_full_resource(server, tenant_token):
    r = server.scim("POST", "/Users", tenant_token, user_body(
        "ada@x.example", displayName="Ada Lovelace", title="Countess", externalId="okta-00u1",
        phoneNumbers=[{"value": "+1 555 0100", "type": "work"}], locale="en-GB"))
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith(SCIM)
    u = r.json()
    assert u["schemas"] == [USER_URN]
    assert u["id"] and u["id"] != "ada@x.example"
    assert u["userName"] == "ada@x.example"
    assert u["externalId"] == "okta-00u1"
    assert u["name"] == {"givenName": "Given", "familyName": "Family"}
    assert u["displayName"] == "Ada Lovelace" and u["title"] == "Countess"
    assert u["emails"] == [{"value": "ada@x.example", "type": "work", "primary": True}]
    assert u["phoneNumbers"] == [{"value": "+1 555 0100", "type": "work"}]
    assert u["locale"] == "en-GB"
    assert u["active"] is True


def test_users_post_location_is_absolute_public_url_and_equals_meta_location(server_factory):
    s = server_factory(extra_args=["--public-url", PUBLIC])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    r = s.scim("POST", "/Users", token, user_body("loc@x.example"))
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    assert r.headers["Location"] == f"{PUBLIC}/scim/v2/Users/{uid}"
    assert r.json()["meta"]["location"] == r.headers["Location"]


def test_users_post_location_uses_the_bound_port_when_no_public_url(server, tenant_token):
    r = server.scim("POST", "/Users", tenant_token, user_body("port@x.example"))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{server.url}/scim/v2/Users/{r.json()['id']}"


def test_users_post_etag_is_w1_and_equals_meta_version(server, tenant_token):
    r = server.scim("POST", "/Users", tenant_token, user_body("etag@x.example"))
    assert r.status_code == 201
    assert r.headers["ETag"] == 'W/"1"'
    assert r.json()["meta"]["version"] == 'W/"1"'


def test_users_post_meta_has_resource_type_and_equal_timestamps(server, tenant_token):
    before = time.time()
    meta = create(server, tenant_token, "meta@x.example")["meta"]
    assert meta["resourceType"] == "User"
    assert meta["created"] == meta["lastModified"]
    assert meta["created"].endswith("Z")
    parsed = calendar.timegm(time.strptime(meta["created"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert abs(parsed - before) < 60


def test_users_post_active_defaults_to_true(server, tenant_token):
    body = user_body("noactive@x.example")
    del body["active"]
    r = server.scim("POST", "/Users", tenant_token, body)
    assert r.status_code == 201, r.text
    assert r.json()["active"] is True
    assert get(server, tenant_token, r.json()["id"])["active"] is True


def test_users_post_active_false_is_kept(server, tenant_token):
    u = create(server, tenant_token, "inactive@x.example", active=False)
    assert u["active"] is False
    assert get(server, tenant_token, u["id"])["active"] is False


def test_users_post_duplicate_username_case_insensitive_is_409_uniqueness(server, tenant_token):
    create(server, tenant_token, "Dup@X.example")
    r = server.scim("POST", "/Users", tenant_token, user_body("dup@x.EXAMPLE"))
    body = assert_scim_error(r, 409, "uniqueness")
    assert "dup@x.EXAMPLE" in body["detail"]
    assert listing(server, tenant_token, "")["totalResults"] == 1


def test_users_post_missing_username_is_400_invalid_value(server, tenant_token):
    body = user_body("x@x.example")
    del body["userName"]
    err = assert_scim_error(server.scim("POST", "/Users", tenant_token, body), 400,
                            "invalidValue")
    assert "userName" in err["detail"]


def test_users_post_empty_username_is_400_invalid_value(server, tenant_token):
    err = assert_scim_error(server.scim("POST", "/Users", tenant_token, user_body("")), 400,
                            "invalidValue")
    assert "userName" in err["detail"]


@pytest.mark.parametrize("bad", [" ", "\t \n", "x" * 1025, "é" * 513])
def test_users_blank_or_overlong_username_is_400_invalid_value(server, tenant_token, bad):
    # RFC 7643 §4.1.1: userName is non-empty; white space alone names nobody, and no IdP sends
    # one of more than 1024 bytes (every listing would carry it). By POST, PUT and PATCH.
    err = assert_scim_error(server.scim("POST", "/Users", tenant_token, user_body(bad)), 400,
                            "invalidValue")
    assert "userName" in err["detail"]
    assert listing(server, tenant_token, "")["totalResults"] == 0
    u = server.scim("POST", "/Users", tenant_token, user_body("ok@x.example")).json()
    assert_scim_error(server.scim("PUT", f"/Users/{u['id']}", tenant_token, user_body(bad)),
                      400, "invalidValue")
    assert_scim_error(server.scim("PATCH", f"/Users/{u['id']}", tenant_token, {
        "schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "userName",
                                                "value": bad}]}), 400, "invalidValue")
    assert server.scim("GET", f"/Users/{u['id']}", tenant_token).json()["meta"]["version"] == \
        u["meta"]["version"]


def test_users_longest_username_and_spaces_inside_are_fine(server, tenant_token):
    for name in ("x" * 1024, "é" * 512, "Ada Lovelace", " padded@x.example "):
        r = server.scim("POST", "/Users", tenant_token, user_body(name))
        assert r.status_code == 201, (name[:20], r.text)
        assert r.json()["userName"] == name


def test_groups_blank_display_name_is_400_invalid_value(server, tenant_token):
    r = server.scim("POST", "/Groups", tenant_token, {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "  "})
    assert "displayName" in assert_scim_error(r, 400, "invalidValue")["detail"]


@pytest.mark.parametrize("bad", ["maybe", 3, [True], {"value": True}])
def test_users_post_active_of_wrong_type_is_400_invalid_value(server, tenant_token, bad):
    err = assert_scim_error(server.scim("POST", "/Users", tenant_token,
                                        user_body("t@x.example", active=bad)), 400,
                            "invalidValue")
    assert "active" in err["detail"]
    assert listing(server, tenant_token, "")["totalResults"] == 0


def test_users_post_username_of_wrong_type_is_400_invalid_value(server, tenant_token):
    body = user_body("x@x.example")
    body["userName"] = 42
    assert_scim_error(server.scim("POST", "/Users", tenant_token, body), 400, "invalidValue")


def test_users_post_malformed_json_is_400_invalid_syntax(server, tenant_token):
    r = server.request("POST", "/scim/v2/Users", token=tenant_token,
                       data='{"userName": "x@x.example",', headers={"Content-Type": SCIM})
    assert_scim_error(r, 400, "invalidSyntax")


def test_users_post_json_array_body_is_400_invalid_syntax(server, tenant_token):
    r = server.request("POST", "/scim/v2/Users", token=tenant_token,
                       data=json.dumps([user_body("x@x.example")]),
                       headers={"Content-Type": SCIM})
    assert_scim_error(r, 400, "invalidSyntax")


def test_users_post_empty_body_is_400_invalid_syntax(server, tenant_token):
    r = server.request("POST", "/scim/v2/Users", token=tenant_token, data="",
                       headers={"Content-Type": SCIM})
    assert_scim_error(r, 400, "invalidSyntax")


def test_users_post_schemas_without_core_urn_is_400_invalid_syntax(server, tenant_token):
    body = user_body("x@x.example", schemas=[ENTERPRISE_URN])
    assert_scim_error(server.scim("POST", "/Users", tenant_token, body), 400, "invalidSyntax")


def test_users_post_two_primary_emails_is_400_invalid_value(server, tenant_token):
    body = user_body("x@x.example", emails=[{"value": "a@x.example", "primary": True},
                                            {"value": "b@x.example", "primary": True}])
    assert_scim_error(server.scim("POST", "/Users", tenant_token, body), 400, "invalidValue")


def test_users_post_read_only_id_meta_and_groups_are_ignored(server, tenant_token):
    body = user_body("ro@x.example", id="client-chosen-id",
                     meta={"resourceType": "Group", "version": 'W/"99"',
                           "created": "2001-01-01T00:00:00Z"},
                     groups=[{"value": "g1", "display": "Admins"}])
    r = server.scim("POST", "/Users", tenant_token, body)
    assert r.status_code == 201, r.text
    u = r.json()
    assert u["id"] != "client-chosen-id"
    assert u["meta"]["resourceType"] == "User" and u["meta"]["version"] == 'W/"1"'
    assert not u["meta"]["created"].startswith("2001")
    assert "groups" not in u
    assert server.scim("GET", "/Users/client-chosen-id", tenant_token).status_code == 404


def test_users_post_unknown_attributes_and_extensions_are_ignored(server, tenant_token):
    body = user_body("okta@x.example", favouriteColour="green",
                     schemas=[USER_URN, "urn:okta:custom:1.0:User"])
    body["urn:okta:custom:1.0:User"] = {"costCentre": "42"}
    r = server.scim("POST", "/Users", tenant_token, body)
    assert r.status_code == 201, r.text
    u = r.json()
    assert "favouriteColour" not in u
    assert "urn:okta:custom:1.0:User" not in u
    assert u["schemas"] == [USER_URN]


def test_users_post_password_is_never_returned(server, tenant_token):
    r = server.scim("POST", "/Users", tenant_token,
                    user_body("pw@x.example", password="S3cret-Passw0rd!"))
    assert r.status_code == 201, r.text
    assert "password" not in r.json()
    assert "S3cret-Passw0rd!" not in r.text
    g = server.scim("GET", f"/Users/{r.json()['id']}", tenant_token)
    assert "password" not in g.json() and "S3cret" not in g.text


def test_users_get_attributes_password_does_not_return_it(server, tenant_token):
    uid = server.scim("POST", "/Users", tenant_token,
                      user_body("pw2@x.example", password="S3cret-Passw0rd!")).json()["id"]
    r = server.scim("GET", f"/Users/{uid}?attributes=password,userName", tenant_token)
    assert r.status_code == 200
    assert r.json() == {"schemas": [USER_URN], "id": uid, "userName": "pw2@x.example"}
    listed = listing(server, tenant_token, "?attributes=password")["Resources"]
    assert listed == [{"schemas": [USER_URN], "id": uid}]


def test_users_post_accepts_application_json_content_type(server, tenant_token):
    r = server.request("POST", "/scim/v2/Users", token=tenant_token,
                       data=json.dumps(user_body("plainjson@x.example")),
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith(SCIM)
    assert r.json()["userName"] == "plainjson@x.example"


def test_users_post_accepts_application_scim_json_with_charset(server, tenant_token):
    r = server.request("POST", "/scim/v2/Users", token=tenant_token,
                       data=json.dumps(user_body("charset@x.example")),
                       headers={"Content-Type": "application/scim+json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_users_responses_are_application_scim_json(server, tenant_token):
    uid = create(server, tenant_token, "ct@x.example")["id"]
    for method, path in [("GET", f"/Users/{uid}"), ("GET", "/Users"),
                         ("GET", "/Users/does-not-exist")]:
        r = server.scim(method, path, tenant_token)
        assert r.headers["Content-Type"] == SCIM, (path, r.headers["Content-Type"])


# ---- Extensions ----

def test_users_enterprise_extension_nested_round_trip(server, tenant_token):
    ent = {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal",
           "division": "Theme Park", "department": "Tour Operations",
           "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
    u = create(server, tenant_token, "ent@x.example", schemas=[USER_URN, ENTERPRISE_URN],
               **{ENTERPRISE_URN: ent})
    assert u["schemas"] == [USER_URN, ENTERPRISE_URN]
    assert u[ENTERPRISE_URN] == ent
    assert get(server, tenant_token, u["id"])[ENTERPRISE_URN] == ent


def test_users_enterprise_extension_schemas_entry_added_even_if_client_omits_it(server,
                                                                               tenant_token):
    u = create(server, tenant_token, "ent2@x.example", **{ENTERPRISE_URN: {"department": "X"}})
    assert u["schemas"] == [USER_URN, ENTERPRISE_URN]


def test_users_enterprise_extension_entra_flat_urn_keys(server, tenant_token):
    # IDP-QUIRKS.md 13: "urn:...:enterprise:2.0:User:department" as a top-level key.
    u = create(server, tenant_token, "flat@x.example", **{
        ENTERPRISE_URN + ":department": "Sales", ENTERPRISE_URN + ":employeeNumber": "42"})
    assert u[ENTERPRISE_URN] == {"employeeNumber": "42", "department": "Sales"}
    assert u["schemas"] == [USER_URN, ENTERPRISE_URN]


def test_users_enterprise_same_attribute_nested_and_flat_is_400_invalid_syntax(server,
                                                                              tenant_token):
    body = user_body("twice@x.example", **{ENTERPRISE_URN: {"department": "A"},
                                            ENTERPRISE_URN + ":department": "B"})
    assert_scim_error(server.scim("POST", "/Users", tenant_token, body), 400, "invalidSyntax")


def test_users_manager_as_bare_string_becomes_value(server, tenant_token):
    boss = create(server, tenant_token, "boss@x.example")["id"]
    u = create(server, tenant_token, "worker@x.example", **{ENTERPRISE_URN: {"manager": boss}})
    assert u[ENTERPRISE_URN]["manager"] == {"value": boss}


def test_users_manager_display_name_is_read_only_and_dropped(server, tenant_token):
    u = create(server, tenant_token, "w2@x.example", **{ENTERPRISE_URN: {
        "manager": {"value": "m-1", "displayName": "Boss"}}})
    assert u[ENTERPRISE_URN]["manager"] == {"value": "m-1"}


def test_users_tenant_extension_role_round_trip_stored_lower_case(server, tenant_token):
    u = create(server, tenant_token, "role@x.example", **{TENANT_URN: {"role": "Developer"}})
    assert u[TENANT_URN] == {"role": "developer"}
    assert u["schemas"] == [USER_URN, TENANT_URN]
    assert get(server, tenant_token, u["id"])[TENANT_URN] == {"role": "developer"}


def test_users_tenant_extension_invalid_role_is_400_invalid_value(server, tenant_token):
    body = user_body("badrole@x.example", **{TENANT_URN: {"role": "superuser"}})
    err = assert_scim_error(server.scim("POST", "/Users", tenant_token, body), 400,
                            "invalidValue")
    assert "role" in err["detail"] and "admin" in err["detail"]


# ---- GET (RFC 7644 §3.4.1) ----

def test_users_get_by_id_returns_the_created_resource(server, tenant_token):
    created = create(server, tenant_token, "get@x.example")
    r = server.scim("GET", f"/Users/{created['id']}", tenant_token)
    assert r.status_code == 200
    assert r.json() == created
    assert r.headers["ETag"] == 'W/"1"'


def test_users_get_unknown_id_is_404_scim_error(server, tenant_token):
    body = assert_scim_error(server.scim("GET", "/Users/0190a0b0-0000-7000-8000-000000000000",
                                         tenant_token), 404)
    assert "scimType" not in body


def test_users_get_if_none_match_current_is_304_without_body(server, tenant_token):
    uid = create(server, tenant_token, "inm@x.example")["id"]
    r = server.scim("GET", f"/Users/{uid}", tenant_token, headers={"If-None-Match": 'W/"1"'})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["ETag"] == 'W/"1"'


def test_users_get_if_none_match_stale_is_200(server, tenant_token):
    uid = create(server, tenant_token, "inm2@x.example")["id"]
    r = server.scim("GET", f"/Users/{uid}", tenant_token, headers={"If-None-Match": 'W/"7"'})
    assert r.status_code == 200
    assert r.json()["id"] == uid


def test_users_get_if_match_stale_is_412_scim_error(server, tenant_token):
    uid = create(server, tenant_token, "gim@x.example")["id"]
    r = server.scim("GET", f"/Users/{uid}", tenant_token, headers={"If-Match": 'W/"7"'})
    # RFC 9110 §13.1.1: a false If-Match means the method is not performed (412).
    body = assert_scim_error(r, 412)
    assert 'W/"1"' in body["detail"]


@pytest.mark.parametrize("tag", ['W/"1"', '"1"', "*", 'W/"7", W/"1"'])
def test_users_get_if_match_current_or_star_is_200(server, tenant_token, tag):
    uid = create(server, tenant_token, f"gim{len(tag)}@x.example")["id"]
    r = server.scim("GET", f"/Users/{uid}", tenant_token, headers={"If-Match": tag})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == uid and r.headers["ETag"] == 'W/"1"'


def test_users_head_is_get_without_body(server, tenant_token):
    uid = create(server, tenant_token, "head@x.example")["id"]
    headers, body = assert_head_is_get(server, f"/scim/v2/Users/{uid}", tenant_token)
    assert headers["etag"] == 'W/"1"' and json.loads(body)["id"] == uid


def test_users_head_of_the_list_is_get_without_body(server, tenant_token):
    create(server, tenant_token, "headlist@x.example")
    _, body = assert_head_is_get(server, "/scim/v2/Users?filter=userName%20pr", tenant_token)
    assert json.loads(body)["totalResults"] == 1


def test_users_head_of_a_missing_user_is_404_without_body(server, tenant_token):
    assert_head_is_get(server, "/scim/v2/Users/0190a0b0-0000-7000-8000-000000000000",
                       tenant_token, status=404)


def test_users_head_if_none_match_current_is_304(server, tenant_token):
    uid = create(server, tenant_token, "head304@x.example")["id"]
    status, headers, body = exchange(server, "HEAD", f"/scim/v2/Users/{uid}", tenant_token,
                                     {"If-None-Match": 'W/"1"'})
    assert (status, headers["etag"], body) == (304, 'W/"1"', b"")


def test_users_get_attributes_user_name_returns_only_always_and_named(server, tenant_token):
    uid = create(server, tenant_token, "proj@x.example")["id"]
    r = server.scim("GET", f"/Users/{uid}?attributes=userName", tenant_token)
    assert r.status_code == 200
    assert r.json() == {"schemas": [USER_URN], "id": uid, "userName": "proj@x.example"}


def test_users_get_excluded_attributes_emails(server, tenant_token):
    uid = create(server, tenant_token, "excl@x.example")["id"]
    u = server.scim("GET", f"/Users/{uid}?excludedAttributes=emails,name.familyName",
                    tenant_token).json()
    assert "emails" not in u
    assert u["name"] == {"givenName": "Given"}
    assert u["userName"] == "excl@x.example" and u["meta"]["resourceType"] == "User"


# ---- PUT (RFC 7644 §3.5.1) ----

def test_users_put_replaces_and_bumps_version(server, tenant_token):
    u = create(server, tenant_token, "put@x.example", title="Engineer", nickName="Putty")
    time.sleep(0.01)
    body = user_body("put@x.example", title="Manager")
    r = server.scim("PUT", f"/Users/{u['id']}", tenant_token, body)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["title"] == "Manager"
    assert "nickName" not in v  # PUT replaces: omitted attributes are cleared
    assert r.headers["ETag"] == 'W/"2"' == v["meta"]["version"]
    assert v["meta"]["created"] == u["meta"]["created"]
    assert v["meta"]["lastModified"] > u["meta"]["lastModified"]
    assert get(server, tenant_token, u["id"]) == v


def test_users_put_without_changes_keeps_the_version(server, tenant_token):
    u = create(server, tenant_token, "same@x.example")
    r = server.scim("PUT", f"/Users/{u['id']}", tenant_token, user_body("same@x.example"))
    assert r.status_code == 200
    assert r.json()["meta"]["version"] == 'W/"1"'
    assert r.json()["meta"]["lastModified"] == u["meta"]["lastModified"]


def test_users_put_omitting_active_keeps_inactive_user_inactive(server, tenant_token):
    # IDP-QUIRKS.md 5: Okta's profile PUT does not carry "active".
    uid = create(server, tenant_token, "keep@x.example", active=False)["id"]
    body = user_body("keep@x.example", title="New title")
    del body["active"]
    r = server.scim("PUT", f"/Users/{uid}", tenant_token, body)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["title"] == "New title"


def test_users_put_omitting_active_keeps_active_user_active(server, tenant_token):
    uid = create(server, tenant_token, "keep2@x.example")["id"]
    body = user_body("keep2@x.example", title="x")
    del body["active"]
    assert server.scim("PUT", f"/Users/{uid}", tenant_token, body).json()["active"] is True


def test_users_put_can_rename_the_user(server, tenant_token):
    uid = create(server, tenant_token, "old@x.example")["id"]
    r = server.scim("PUT", f"/Users/{uid}", tenant_token, user_body("new@x.example"))
    assert r.status_code == 200 and r.json()["userName"] == "new@x.example"
    # The old name is free again, the new one taken.
    create(server, tenant_token, "old@x.example")
    assert_scim_error(server.scim("POST", "/Users", tenant_token, user_body("NEW@x.example")),
                      409, "uniqueness")


def test_users_put_to_another_users_name_is_409_uniqueness(server, tenant_token):
    create(server, tenant_token, "taken@x.example")
    uid = create(server, tenant_token, "mine@x.example")["id"]
    r = server.scim("PUT", f"/Users/{uid}", tenant_token, user_body("Taken@x.example"))
    assert_scim_error(r, 409, "uniqueness")
    assert get(server, tenant_token, uid)["userName"] == "mine@x.example"


def test_users_put_missing_username_is_400_invalid_value(server, tenant_token):
    uid = create(server, tenant_token, "pu@x.example")["id"]
    body = user_body("pu@x.example")
    del body["userName"]
    assert_scim_error(server.scim("PUT", f"/Users/{uid}", tenant_token, body), 400,
                      "invalidValue")


def test_users_put_unknown_id_is_404(server, tenant_token):
    assert_scim_error(server.scim("PUT", "/Users/nope", tenant_token,
                                  user_body("n@x.example")), 404)


def test_users_put_if_match_stale_is_412(server, tenant_token):
    uid = create(server, tenant_token, "im@x.example")["id"]
    server.scim("PUT", f"/Users/{uid}", tenant_token, user_body("im@x.example", title="v2"))
    r = server.scim("PUT", f"/Users/{uid}", tenant_token,
                    user_body("im@x.example", title="stale"), headers={"If-Match": 'W/"1"'})
    body = assert_scim_error(r, 412)
    assert 'W/"2"' in body["detail"]
    assert get(server, tenant_token, uid)["title"] == "v2"


def test_users_put_if_match_current_is_200(server, tenant_token):
    uid = create(server, tenant_token, "im2@x.example")["id"]
    r = server.scim("PUT", f"/Users/{uid}", tenant_token,
                    user_body("im2@x.example", title="ok"), headers={"If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == 'W/"2"' and r.json()["title"] == "ok"


def test_users_put_if_match_star_is_200(server, tenant_token):
    uid = create(server, tenant_token, "im3@x.example")["id"]
    r = server.scim("PUT", f"/Users/{uid}", tenant_token,
                    user_body("im3@x.example", title="ok"), headers={"If-Match": "*"})
    assert r.status_code == 200, r.text


# RFC 9110 §13.1.2: an If-None-Match that matches ("*" for any existing resource, or the
# current version) means a write is not performed and the answer is 412 (304 is for GET).
def write(server, token, method, uid, user_name, headers):
    if method == "PUT":
        return server.scim("PUT", f"/Users/{uid}", token, user_body(user_name, title="new"),
                           headers=headers)
    if method == "PATCH":
        return patch(server, token, uid, {"op": "replace", "path": "title", "value": "new"},
                     headers=headers)
    return server.scim("DELETE", f"/Users/{uid}", token, headers=headers)


@pytest.mark.parametrize("tag", ["*", 'W/"1"', '"1"', 'W/"7", W/"1"'])
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_users_write_if_none_match_current_is_412_and_changes_nothing(server, tenant_token,
                                                                       method, tag):
    uid = create(server, tenant_token, "inmw@x.example", title="old")["id"]
    r = write(server, tenant_token, method, uid, "inmw@x.example", {"If-None-Match": tag})
    body = assert_scim_error(r, 412)
    assert "If-None-Match" in body["detail"]
    after = get(server, tenant_token, uid)
    assert after["meta"]["version"] == 'W/"1"' and after["title"] == "old"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_users_write_if_none_match_other_version_is_performed(server, tenant_token, method):
    uid = create(server, tenant_token, "inmo@x.example", title="old")["id"]
    r = write(server, tenant_token, method, uid, "inmo@x.example", {"If-None-Match": 'W/"7"'})
    if method == "DELETE":
        assert r.status_code == 204, r.text
        assert_scim_error(server.scim("GET", f"/Users/{uid}", tenant_token), 404)
    else:
        assert r.status_code == 200, r.text
        assert r.headers["ETag"] == 'W/"2"' and r.json()["title"] == "new"


def test_users_write_if_match_current_and_if_none_match_other_is_performed(server, tenant_token):
    uid = create(server, tenant_token, "both@x.example")["id"]
    r = server.scim("DELETE", f"/Users/{uid}", tenant_token,
                    headers={"If-Match": 'W/"1"', "If-None-Match": 'W/"2"'})
    assert r.status_code == 204, r.text


def test_users_delete_if_none_match_of_a_missing_user_is_404(server, tenant_token):
    assert_scim_error(server.scim("DELETE", "/Users/0190a0b0-0000-7000-8000-000000000000",
                                  tenant_token, headers={"If-None-Match": 'W/"1"'}), 404)


# ---- DELETE (RFC 7644 §3.6) ----

def test_users_delete_is_204_then_get_is_404(server, tenant_token):
    uid = create(server, tenant_token, "del@x.example")["id"]
    r = server.scim("DELETE", f"/Users/{uid}", tenant_token)
    assert r.status_code == 204
    assert r.content == b""
    assert_scim_error(server.scim("GET", f"/Users/{uid}", tenant_token), 404)
    assert listing(server, tenant_token, "")["totalResults"] == 0


def test_users_delete_frees_the_user_name(server, tenant_token):
    uid = create(server, tenant_token, "again@x.example")["id"]
    server.scim("DELETE", f"/Users/{uid}", tenant_token)
    assert create(server, tenant_token, "again@x.example")["id"] != uid


def test_users_delete_unknown_is_404(server, tenant_token):
    assert_scim_error(server.scim("DELETE", "/Users/nope", tenant_token), 404)


def test_users_delete_if_match_stale_is_412_and_keeps_user(server, tenant_token):
    uid = create(server, tenant_token, "dim@x.example")["id"]
    r = server.scim("DELETE", f"/Users/{uid}", tenant_token, headers={"If-Match": 'W/"5"'})
    assert_scim_error(r, 412)
    assert get(server, tenant_token, uid)["id"] == uid


# ---- Import-only tenants (DESIGN.md flow 2) ----

def test_users_import_only_tenant_refuses_post_with_403(server):
    server.make_tenant("ro", provisioningMode="import-only")
    token = server.mint("ro")["token"]
    body = assert_scim_error(server.scim("POST", "/Users", token, user_body("x@x.example")),
                             403)
    assert "import-only" in body["detail"]
    assert listing(server, token, "")["totalResults"] == 0


def test_users_import_only_tenant_refuses_patch_put_delete_with_403(server):
    server.make_tenant("ro", provisioningMode="import-only")
    token = server.mint("ro")["token"]
    # Whether or not the user exists, a write is refused before anything else.
    assert_scim_error(server.scim("PUT", "/Users/abc", token, user_body("x@x.example")), 403)
    assert_scim_error(server.scim("DELETE", "/Users/abc", token), 403)
    assert_scim_error(patch(server, token, "abc", {"op": "replace", "value": {"active": False}}),
                      403)


# ---- PATCH (RFC 7644 §3.5.2) ----

def test_users_patch_okta_deactivate_returns_200_with_active_false(server, tenant_token):
    uid = create(server, tenant_token, "deact@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "value": {"active": False}})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(SCIM)
    assert r.json()["active"] is False
    assert r.json()["meta"]["version"] == 'W/"2"' == r.headers["ETag"]


def test_users_patch_deactivated_user_is_still_returned_by_get_and_filter(server, tenant_token):
    uid = create(server, tenant_token, "soft@x.example")["id"]
    create(server, tenant_token, "other@x.example")
    patch(server, tenant_token, uid, {"op": "replace", "value": {"active": False}})
    assert get(server, tenant_token, uid)["active"] is False
    body = listing(server, tenant_token, "?filter=active eq false")
    assert body["totalResults"] == 1 and body["Resources"][0]["id"] == uid


def test_users_patch_reactivate(server, tenant_token):
    uid = create(server, tenant_token, "react@x.example", active=False)["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "value": {"active": True}})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    assert get(server, tenant_token, uid)["active"] is True


def test_users_patch_replace_by_path(server, tenant_token):
    uid = create(server, tenant_token, "path@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "path": "name.givenName",
                                          "value": "Grace"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == {"givenName": "Grace", "familyName": "Family"}


def test_users_patch_add_appends_to_multi_valued(server, tenant_token):
    uid = create(server, tenant_token, "add@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "add", "path": "emails",
                                          "value": [{"value": "home@x.example",
                                                     "type": "home"}]})
    assert r.status_code == 200, r.text
    assert [e["value"] for e in r.json()["emails"]] == ["add@x.example", "home@x.example"]


def test_users_patch_remove_path(server, tenant_token):
    uid = create(server, tenant_token, "rm@x.example", title="Boss")["id"]
    r = patch(server, tenant_token, uid, {"op": "remove", "path": "title"})
    assert r.status_code == 200, r.text
    assert "title" not in r.json()
    assert "title" not in get(server, tenant_token, uid)


def test_users_patch_remove_filtered_element(server, tenant_token):
    uid = create(server, tenant_token, "rmf@x.example", emails=[
        {"value": "w@x.example", "type": "work"}, {"value": "h@x.example", "type": "home"}])["id"]
    r = patch(server, tenant_token, uid, {"op": "remove", "path": 'emails[type eq "home"]'})
    assert r.status_code == 200, r.text
    assert r.json()["emails"] == [{"value": "w@x.example", "type": "work"}]


def test_users_patch_remove_without_path_is_400_no_target(server, tenant_token):
    uid = create(server, tenant_token, "rmn@x.example")["id"]
    assert_scim_error(patch(server, tenant_token, uid, {"op": "remove"}), 400, "noTarget")


def test_users_patch_is_atomic_when_a_later_operation_fails(server, tenant_token):
    u = create(server, tenant_token, "atomic@x.example", title="Before")
    r = patch(server, tenant_token, u["id"],
              {"op": "replace", "path": "title", "value": "After"},
              {"op": "replace", "path": "active", "value": "maybe"})
    body = assert_scim_error(r, 400, "invalidValue")
    assert "operation 2" in body["detail"]
    after = get(server, tenant_token, u["id"])
    assert after["title"] == "Before"
    assert after["meta"]["version"] == 'W/"1"'
    assert after == u


def test_users_patch_replace_id_is_400_mutability(server, tenant_token):
    uid = create(server, tenant_token, "mut@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "path": "id", "value": "other"})
    assert_scim_error(r, 400, "mutability")
    assert get(server, tenant_token, uid)["id"] == uid


def test_users_patch_remove_user_name_is_400_mutability(server, tenant_token):
    # userName is required: removing it is not allowed (RFC 7644 §3.5.2.2).
    uid = create(server, tenant_token, "req@x.example")["id"]
    assert_scim_error(patch(server, tenant_token, uid, {"op": "remove", "path": "userName"}),
                      400, "mutability")


def test_users_patch_unknown_path_is_400_invalid_path(server, tenant_token):
    uid = create(server, tenant_token, "ip@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "path": "favouriteColour",
                                          "value": "green"})
    body = assert_scim_error(r, 400, "invalidPath")
    assert "favouriteColour" in body["detail"]


def test_users_patch_malformed_path_is_400_invalid_path(server, tenant_token):
    uid = create(server, tenant_token, "mp@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "path": 'emails[type eq "work"',
                                          "value": "x"})
    assert_scim_error(r, 400, "invalidPath")


def test_users_patch_missing_schemas_is_400_invalid_syntax(server, tenant_token):
    uid = create(server, tenant_token, "ms@x.example")["id"]
    r = server.scim("PATCH", f"/Users/{uid}", tenant_token,
                    {"Operations": [{"op": "replace", "value": {"active": False}}]})
    assert_scim_error(r, 400, "invalidSyntax")
    assert get(server, tenant_token, uid)["active"] is True


def test_users_patch_wrong_schemas_is_400_invalid_syntax(server, tenant_token):
    uid = create(server, tenant_token, "ws@x.example")["id"]
    r = server.scim("PATCH", f"/Users/{uid}", tenant_token,
                    {"schemas": [USER_URN],
                     "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert_scim_error(r, 400, "invalidSyntax")


def test_users_patch_empty_operations_is_400_invalid_syntax(server, tenant_token):
    uid = create(server, tenant_token, "eo@x.example")["id"]
    assert_scim_error(patch(server, tenant_token, uid), 400, "invalidSyntax")


def test_users_patch_unknown_op_is_400_invalid_syntax(server, tenant_token):
    uid = create(server, tenant_token, "uo@x.example")["id"]
    assert_scim_error(patch(server, tenant_token, uid, {"op": "move", "path": "title",
                                                         "value": "x"}), 400, "invalidSyntax")


def test_users_patch_unknown_id_is_404(server, tenant_token):
    r = patch(server, tenant_token, "nope", {"op": "replace", "value": {"active": False}})
    assert_scim_error(r, 404)


def test_users_patch_if_match_stale_is_412(server, tenant_token):
    uid = create(server, tenant_token, "pim@x.example")["id"]
    patch(server, tenant_token, uid, {"op": "replace", "path": "title", "value": "v2"})
    r = patch(server, tenant_token, uid, {"op": "replace", "path": "title", "value": "v3"},
              headers={"If-Match": 'W/"1"'})
    assert_scim_error(r, 412)
    assert get(server, tenant_token, uid)["title"] == "v2"


def test_users_patch_noop_keeps_the_version(server, tenant_token):
    uid = create(server, tenant_token, "noop@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "value": {"active": True}})
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["version"] == 'W/"1"'


def test_users_patch_password_is_accepted_and_never_returned(server, tenant_token):
    uid = create(server, tenant_token, "ppw@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "path": "password",
                                          "value": "N3w-Passw0rd!"})
    assert r.status_code == 200, r.text
    assert "password" not in r.json() and "N3w-Passw0rd" not in r.text
    assert r.json()["meta"]["version"] == 'W/"2"'


def test_users_patch_readonly_groups_path_is_400_mutability(server, tenant_token):
    uid = create(server, tenant_token, "grp@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "add", "path": "groups",
                                          "value": [{"value": "g1"}]})
    assert_scim_error(r, 400, "mutability")


def test_users_patch_pathless_value_ignores_read_only_id(server, tenant_token):
    # Okta sends "id" inside path-less values; RFC 7644 §3.3 lets it be ignored.
    uid = create(server, tenant_token, "okid@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace",
                                          "value": {"id": uid, "active": False}})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == uid and r.json()["active"] is False


def test_users_patch_tenant_role_invalid_is_400_invalid_value(server, tenant_token):
    uid = create(server, tenant_token, "prole@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "path": TENANT_URN + ":role",
                                          "value": "root"})
    assert_scim_error(r, 400, "invalidValue")


def test_users_patch_tenant_role_valid_is_stored_lower_case(server, tenant_token):
    uid = create(server, tenant_token, "prole2@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "path": TENANT_URN + ":role",
                                          "value": "ADMIN"})
    assert r.status_code == 200, r.text
    assert r.json()[TENANT_URN] == {"role": "admin"}
    assert TENANT_URN in r.json()["schemas"]


def test_users_patch_rename_to_taken_user_name_is_409_uniqueness(server, tenant_token):
    create(server, tenant_token, "first@x.example")
    uid = create(server, tenant_token, "second@x.example")["id"]
    r = patch(server, tenant_token, uid, {"op": "replace", "path": "userName",
                                          "value": "FIRST@x.example"})
    assert_scim_error(r, 409, "uniqueness")


# ---- Deactivation policy "remove" (IDP-QUIRKS.md 7) ----

@pytest.fixture
def remove_token(server):
    server.make_tenant("spark", deactivationPolicy="remove")
    return server.mint("spark")["token"]


def test_users_deactivation_policy_remove_deletes_the_user(server, remove_token):
    uid = create(server, remove_token, "gone@x.example")["id"]
    r = patch(server, remove_token, uid, {"op": "replace", "value": {"active": False}})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert_scim_error(server.scim("GET", f"/Users/{uid}", remove_token), 404)
    assert listing(server, remove_token, "")["totalResults"] == 0


def test_users_deactivation_policy_remove_allows_a_new_post_of_the_same_name(server,
                                                                             remove_token):
    uid = create(server, remove_token, "back@x.example")["id"]
    patch(server, remove_token, uid, {"op": "replace", "value": {"active": False}})
    r = server.scim("POST", "/Users", remove_token, user_body("back@x.example"))
    assert r.status_code == 201, r.text
    assert r.json()["id"] != uid and r.json()["active"] is True


def test_users_deactivation_policy_remove_applies_to_put_active_false(server, remove_token):
    uid = create(server, remove_token, "putgone@x.example")["id"]
    r = server.scim("PUT", f"/Users/{uid}", remove_token,
                    user_body("putgone@x.example", active=False))
    assert r.status_code == 200, r.text
    assert_scim_error(server.scim("GET", f"/Users/{uid}", remove_token), 404)


# ---- Listing (RFC 7644 §3.4.2) ----

def test_users_list_empty_is_200_with_zero_total_and_empty_resources(server, tenant_token):
    body = listing(server, tenant_token, "")
    assert body == {"schemas": [LIST_URN], "totalResults": 0, "startIndex": 1,
                    "itemsPerPage": 0, "Resources": []}


def test_users_list_okta_test_credentials_shape(server, tenant_token):
    # IDP-QUIRKS.md 1 and 4: integers, itemsPerPage == len(Resources).
    for i in range(3):
        create(server, tenant_token, f"tc{i}@x.example")
    start = time.monotonic()
    body = listing(server, tenant_token, "?startIndex=1&count=2")
    assert time.monotonic() - start < 0.6
    for key in ["totalResults", "startIndex", "itemsPerPage"]:
        assert type(body[key]) is int, key
    assert body["totalResults"] == 3 and body["startIndex"] == 1
    assert body["itemsPerPage"] == len(body["Resources"]) == 2
    assert all(u["meta"]["resourceType"] == "User" for u in body["Resources"])


def test_users_list_last_partial_page(server, tenant_token):
    for i in range(3):
        create(server, tenant_token, f"lp{i}@x.example")
    body = listing(server, tenant_token, "?startIndex=3&count=2")
    assert body["totalResults"] == 3 and body["startIndex"] == 3
    assert body["itemsPerPage"] == 1 and len(body["Resources"]) == 1


def test_users_list_start_index_past_the_end_is_empty_page(server, tenant_token):
    create(server, tenant_token, "pe@x.example")
    body = listing(server, tenant_token, "?startIndex=5&count=2")
    assert body["totalResults"] == 1 and body["itemsPerPage"] == 0 and body["Resources"] == []


def test_users_list_paging_250_users_returns_each_once_in_stable_order(server, tenant_token):
    session = requests.Session()
    hdr = {"Authorization": f"Bearer {tenant_token}", "Content-Type": SCIM}
    for i in range(250):
        r = session.post(server.url + "/scim/v2/Users", headers=hdr, timeout=10,
                         data=json.dumps(user_body(f"page{i:03d}@x.example")))
        assert r.status_code == 201, r.text
    seen = []
    for start in (1, 101, 201):
        body = listing(server, tenant_token, f"?startIndex={start}&count=100")
        assert body["totalResults"] == 250 and body["startIndex"] == start
        assert body["itemsPerPage"] == len(body["Resources"]) == (100 if start < 201 else 50)
        seen += [u["id"] for u in body["Resources"]]
    assert len(seen) == 250 and len(set(seen)) == 250
    # A second walk yields the same order.
    again = []
    for start in (1, 101, 201):
        again += [u["id"] for u in listing(server, tenant_token,
                                           f"?startIndex={start}&count=100")["Resources"]]
    assert again == seen
    # A page fetched out of sequence agrees with the walk.
    middle = listing(server, tenant_token, "?startIndex=151&count=10")["Resources"]
    assert [u["id"] for u in middle] == seen[150:160]


def test_users_list_paging_skips_nothing_when_a_user_is_deleted_between_pages(server,
                                                                             tenant_token):
    ids = [create(server, tenant_token, f"dp{i}@x.example")["id"] for i in range(6)]
    first = [u["id"] for u in listing(server, tenant_token, "?startIndex=1&count=3")["Resources"]]
    assert first == ids[:3]
    server.scim("DELETE", f"/Users/{ids[0]}", tenant_token)
    second = listing(server, tenant_token, "?startIndex=4&count=3")
    # Whatever the strategy, every remaining user not yet seen must be on a later page.
    assert second["totalResults"] == 5
    rest = [u["id"] for u in second["Resources"]]
    rest += [u["id"] for u in listing(server, tenant_token,
                                      "?startIndex=6&count=3")["Resources"]]
    assert set(ids[3:]) <= set(rest)


def test_another_readers_listing_between_pages_does_not_move_the_next_page(server,
                                                                           tenant_token):
    """The remembered position of a page's end is each reader's own: the host (or a second
    token) listing page 1 again after a delete remembered a later end for startIndex=4, and
    the identity provider's next page then skipped a user."""
    ids = [create(server, tenant_token, f"rd{i}@x.example")["id"] for i in range(8)]
    first = [u["id"] for u in listing(server, tenant_token, "?startIndex=1&count=3")["Resources"]]
    assert first == ids[:3]
    server.scim("DELETE", f"/Users/{ids[1]}", tenant_token)
    other = server.mint("acme")["token"]
    for read in (lambda: server.admin("GET", "/tenants/acme/users?startIndex=1&count=3"),
                 lambda: server.scim("GET", "/Users?startIndex=1&count=3", other)):
        r = read()
        assert r.status_code == 200, r.text
        assert [u["id"] for u in r.json()["Resources"]] == [ids[0], ids[2], ids[3]]
    second = listing(server, tenant_token, "?startIndex=4&count=3")
    assert [u["id"] for u in second["Resources"]] == ids[3:6]


def test_users_list_count_zero_returns_total_only(server, tenant_token):
    for i in range(2):
        create(server, tenant_token, f"cz{i}@x.example")
    body = listing(server, tenant_token, "?count=0")
    assert body["totalResults"] == 2
    assert body["itemsPerPage"] == 0 and body["Resources"] == []


def test_users_list_negative_count_is_read_as_zero(server, tenant_token):
    create(server, tenant_token, "neg@x.example")
    body = listing(server, tenant_token, "?count=-5")
    assert body["totalResults"] == 1 and body["Resources"] == []


def test_users_list_count_above_max_is_clamped(server_factory):
    s = server_factory(extra_args=["--page-max", "5"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    for i in range(7):
        create(s, token, f"cl{i}@x.example")
    body = listing(s, token, "?count=100")
    assert body["totalResults"] == 7
    assert body["itemsPerPage"] == len(body["Resources"]) == 5


def test_users_list_default_count_is_clamped_to_page_max(server_factory):
    s = server_factory(extra_args=["--page-max", "5"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    for i in range(6):
        create(s, token, f"dc{i}@x.example")
    body = listing(s, token, "")
    assert body["totalResults"] == 6 and body["itemsPerPage"] == 5


def test_users_list_start_index_zero_is_treated_as_one(server, tenant_token):
    ids = [create(server, tenant_token, f"z{i}@x.example")["id"] for i in range(2)]
    body = listing(server, tenant_token, "?startIndex=0&count=1")
    assert body["startIndex"] == 1
    assert [u["id"] for u in body["Resources"]] == ids[:1]


@pytest.mark.parametrize("query", ["?count=ten", "?startIndex=one", "?count=1.5"])
def test_users_list_non_numeric_paging_is_400_invalid_value(server, tenant_token, query):
    body = assert_scim_error(server.scim("GET", "/Users" + query, tenant_token), 400,
                             "invalidValue")
    assert ("count" if "count" in query else "startIndex") in body["detail"]


def test_users_list_sort_by_user_name_ascending(server, tenant_token):
    for n in ["carol", "Alice", "bob"]:
        create(server, tenant_token, f"{n}@x.example")
    body = listing(server, tenant_token, "?sortBy=userName&sortOrder=ascending")
    assert [u["userName"] for u in body["Resources"]] == [
        "Alice@x.example", "bob@x.example", "carol@x.example"]


def test_users_list_sort_by_user_name_descending(server, tenant_token):
    for n in ["carol", "Alice", "bob"]:
        create(server, tenant_token, f"{n}@x.example")
    body = listing(server, tenant_token, "?sortBy=userName&sortOrder=descending")
    assert [u["userName"] for u in body["Resources"]] == [
        "carol@x.example", "bob@x.example", "Alice@x.example"]


def test_users_list_sort_by_defaults_to_ascending(server, tenant_token):
    for n in ["b", "a"]:
        create(server, tenant_token, f"{n}@x.example")
    body = listing(server, tenant_token, "?sortBy=userName")
    assert [u["userName"] for u in body["Resources"]] == ["a@x.example", "b@x.example"]


def test_users_list_sort_ascending_puts_users_without_the_value_last(server, tenant_token):
    # RFC 7644 §3.4.2.3: no data for sortBy → last if ascending.
    ids = {n: create(server, tenant_token, f"{n}@x.example", **t)["id"]
           for n, t in [("none1", {}), ("zed", {"title": "Zed"}), ("none2", {}),
                        ("amy", {"title": "amy"})]}
    body = listing(server, tenant_token, "?sortBy=title&sortOrder=ascending")
    assert [u["id"] for u in body["Resources"]] == [ids["amy"], ids["zed"], ids["none1"],
                                                    ids["none2"]]


def test_users_list_sort_descending_puts_users_without_the_value_first(server, tenant_token):
    # RFC 7644 §3.4.2.3: "ordered last if ascending and first if descending".
    ids = {n: create(server, tenant_token, f"{n}@x.example", **t)["id"]
           for n, t in [("none1", {}), ("zed", {"title": "Zed"}), ("none2", {}),
                        ("amy", {"title": "amy"})]}
    body = listing(server, tenant_token, "?sortBy=title&sortOrder=descending")
    assert [u["id"] for u in body["Resources"]] == [ids["none1"], ids["none2"], ids["zed"],
                                                    ids["amy"]]


def test_users_list_sort_by_unknown_attribute_is_400_invalid_value(server, tenant_token):
    assert_scim_error(server.scim("GET", "/Users?sortBy=shoeSize", tenant_token), 400,
                      "invalidValue")


def test_users_list_bad_sort_order_is_400_invalid_value(server, tenant_token):
    assert_scim_error(server.scim("GET", "/Users?sortBy=userName&sortOrder=sideways",
                                  tenant_token), 400, "invalidValue")


def test_users_list_attributes_user_name_returns_only_id_schemas_user_name(server,
                                                                          tenant_token):
    uid = create(server, tenant_token, "la@x.example")["id"]
    body = listing(server, tenant_token, "?attributes=userName")
    assert body["Resources"] == [{"schemas": [USER_URN], "id": uid, "userName": "la@x.example"}]


def test_users_list_excluded_attributes_emails(server, tenant_token):
    create(server, tenant_token, "le@x.example")
    u = listing(server, tenant_token, "?excludedAttributes=emails")["Resources"][0]
    assert "emails" not in u
    assert u["userName"] == "le@x.example" and u["name"] and u["meta"]


def test_users_list_attributes_with_invalid_characters_is_400_invalid_value(server,
                                                                            tenant_token):
    assert_scim_error(server.scim("GET", "/Users?attributes=user%3BName", tenant_token), 400,
                      "invalidValue")


def test_users_search_post_with_filter_and_attributes_list(server, tenant_token):
    # RFC 7644 §3.4.3
    uid = create(server, tenant_token, "find@x.example", title="Pilot")["id"]
    create(server, tenant_token, "other@x.example", title="Pilot")
    r = server.scim("POST", "/Users/.search", tenant_token, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName eq "FIND@x.example"', "attributes": ["userName", "title"],
        "startIndex": 1, "count": 10})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(SCIM)
    body = r.json()
    assert body["schemas"] == [LIST_URN] and body["totalResults"] == 1
    assert body["Resources"] == [{"schemas": [USER_URN], "id": uid,
                                  "userName": "find@x.example", "title": "Pilot"}]


def test_users_search_post_with_sort_and_paging(server, tenant_token):
    for n in ["c", "a", "b"]:
        create(server, tenant_token, f"{n}@s.example")
    r = server.scim("POST", "/Users/.search", tenant_token, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "sortBy": "userName", "sortOrder": "descending", "startIndex": 2, "count": 1,
        "excludedAttributes": ["emails"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totalResults"] == 3 and body["startIndex"] == 2 and body["itemsPerPage"] == 1
    assert body["Resources"][0]["userName"] == "b@s.example"
    assert "emails" not in body["Resources"][0]


def test_users_search_post_count_of_wrong_type_is_400_invalid_value(server, tenant_token):
    r = server.scim("POST", "/Users/.search", tenant_token, {"count": "10"})
    assert_scim_error(r, 400, "invalidValue")


def test_users_search_post_invalid_filter_is_400_invalid_filter(server, tenant_token):
    r = server.scim("POST", "/Users/.search", tenant_token, {"filter": "userName eq"})
    assert_scim_error(r, 400, "invalidFilter")


def test_users_delete_if_match_current_version_deletes(server, tenant_token):
    uid = create(server, tenant_token, "delcur@x.example")["id"]
    # RFC 7232 §3.1: a list of entity tags matches when any of them does.
    r = server.scim("DELETE", f"/Users/{uid}", tenant_token,
                    headers={"If-Match": 'W/"7", W/"1"'})
    assert r.status_code == 204
    assert server.scim("GET", f"/Users/{uid}", tenant_token).status_code == 404


def test_users_delete_if_match_unknown_user_is_404(server, tenant_token):
    r = server.scim("DELETE", "/Users/no-such-id", tenant_token, headers={"If-Match": 'W/"1"'})
    assert_scim_error(r, 404)


def test_users_list_filter_and_sort_with_a_full_first_page_counts_all_matches(server,
                                                                              tenant_token):
    # The page binds the filter's and the sort's values; the count binds only the filter's.
    for i, title in enumerate(["c", "a", "b"]):
        create(server, tenant_token, f"fs{i}@x.example", title=title)
    create(server, tenant_token, "other@x.example")
    r = server.scim("GET", '/Users?filter=title pr and userName sw "fs"&sortBy=title'
                    "&count=2", tenant_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totalResults"] == 3
    assert [u["title"] for u in body["Resources"]] == ["a", "b"]
