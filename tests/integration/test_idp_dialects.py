"""What Okta and Microsoft Entra ID really send (IDP-QUIRKS.md), request by request. scimd
normalises these shapes at the edge; each test is one documented quirk."""
import json
import uuid

from conftest import (ENTERPRISE_URN, LIST_URN, PATCH_URN, SCIM, USER_URN, assert_scim_error,
                      user_body)

TENANT_URN = "urn:scimd:params:scim:schemas:extension:tenant:2.0:User"


def create(server, token, user_name, **extra):
    r = server.scim("POST", "/Users", token, user_body(user_name, **extra))
    assert r.status_code == 201, r.text
    return r.json()


def get(server, token, uid):
    r = server.scim("GET", f"/Users/{uid}", token)
    assert r.status_code == 200, r.text
    return r.json()


def entra_patch(server, token, uid, *ops):
    """Entra's shape: capitalised op names, "Operations" as in the RFC."""
    return server.scim("PATCH", f"/Users/{uid}", token,
                       {"schemas": [PATCH_URN], "Operations": list(ops)})


# ======================= Okta =======================

def test_okta_existence_check_then_create_then_duplicate_is_409(server, tenant_token):
    # IDP-QUIRKS.md 2-3.
    q = '/Users?filter=userName eq "okta.user@acme.example"&startIndex=1&count=100'
    r = server.scim("GET", q, tenant_token)
    assert r.status_code == 200
    assert r.json()["totalResults"] == 0 and r.json()["Resources"] == []
    created = create(server, tenant_token, "okta.user@acme.example")
    listed = server.scim("GET", q, tenant_token).json()
    assert listed["totalResults"] == 1 and listed["Resources"][0]["id"] == created["id"]
    dup = server.scim("POST", "/Users", tenant_token, user_body("OKTA.USER@acme.example"))
    assert_scim_error(dup, 409, "uniqueness")


def test_okta_create_with_password_groups_locale_and_custom_extension(server, tenant_token):
    # IDP-QUIRKS.md 3: the body Okta sends; the answer is the full resource.
    body = {
        "schemas": [USER_URN, "urn:okta:acme_app:1.0:user:custom"],
        "userName": "alice@acme.example",
        "name": {"givenName": "Alice", "familyName": "Anders"},
        "emails": [{"primary": True, "value": "alice@acme.example", "type": "work"}],
        "displayName": "Alice Anders",
        "locale": "en-US",
        "externalId": "00u1abcd2EFGH3ijk4x7",
        "groups": [],
        "password": "t1meMa$heen",
        "active": True,
        "urn:okta:acme_app:1.0:user:custom": {"isAdmin": True},
    }
    r = server.scim("POST", "/Users", tenant_token, body)
    assert r.status_code == 201, r.text
    u = r.json()
    assert u["userName"] == "alice@acme.example" and u["locale"] == "en-US"
    assert u["externalId"] == "00u1abcd2EFGH3ijk4x7" and u["active"] is True
    assert u["emails"] == [{"value": "alice@acme.example", "type": "work", "primary": True}]
    assert u["schemas"] == [USER_URN]
    for absent in ["password", "groups", "urn:okta:acme_app:1.0:user:custom"]:
        assert absent not in u
    assert r.headers["Location"].endswith("/scim/v2/Users/" + u["id"])


def test_okta_get_then_put_back_the_whole_resource_is_accepted(server, tenant_token):
    # IDP-QUIRKS.md 5: Okta GETs, edits, and PUTs the document back with id/meta in it.
    u = create(server, tenant_token, "roundtrip@acme.example")
    u["title"] = "Director"
    u["name"]["givenName"] = "Rhonda"
    r = server.scim("PUT", f"/Users/{u['id']}", tenant_token, u)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["title"] == "Director" and v["name"]["givenName"] == "Rhonda"
    assert v["id"] == u["id"] and v["meta"]["version"] == 'W/"2"'
    assert v["meta"]["created"] == u["meta"]["created"]


def test_okta_put_with_id_of_another_user_in_body_changes_only_the_url_user(server,
                                                                           tenant_token):
    a = create(server, tenant_token, "a@acme.example")
    b = create(server, tenant_token, "b@acme.example")
    body = user_body("a@acme.example", title="mine", id=b["id"])
    r = server.scim("PUT", f"/Users/{a['id']}", tenant_token, body)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == a["id"] and r.json()["title"] == "mine"
    assert "title" not in get(server, tenant_token, b["id"])


def test_okta_deactivate_with_id_and_schemas_in_value(server, tenant_token):
    # IDP-QUIRKS.md 6: some Okta apps send the id alongside active.
    uid = create(server, tenant_token, "deact@acme.example")["id"]
    r = server.scim("PATCH", f"/Users/{uid}", tenant_token, {
        "schemas": [PATCH_URN],
        "Operations": [{"op": "replace", "value": {"id": uid, "active": False,
                                                   "schemas": [USER_URN]}}]})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert r.json()["schemas"] == [USER_URN]


def test_okta_password_change_by_pathless_replace(server, tenant_token):
    uid = create(server, tenant_token, "pw@acme.example")["id"]
    r = server.scim("PATCH", f"/Users/{uid}", tenant_token, {
        "schemas": [PATCH_URN],
        "Operations": [{"op": "replace", "value": {"password": "n3wPassw0rd!"}}]})
    assert r.status_code == 200, r.text
    assert "password" not in r.json() and "n3wPassw0rd" not in r.text
    assert r.json()["meta"]["version"] == 'W/"2"'


def test_okta_reactivation_after_remove_policy_creates_a_fresh_user(server):
    # IDP-QUIRKS.md 7: deactivate (removed), then Okta POSTs the same userName again.
    server.make_tenant("spark", deactivationPolicy="remove")
    token = server.mint("spark")["token"]
    old = create(server, token, "rehire@acme.example", externalId="00u-okta")
    r = server.scim("PATCH", f"/Users/{old['id']}", token, {
        "schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200, r.text
    q = '/Users?filter=userName eq "rehire@acme.example"'
    assert server.scim("GET", q, token).json()["totalResults"] == 0
    new = create(server, token, "rehire@acme.example", externalId="00u-okta")
    assert new["id"] != old["id"] and new["active"] is True
    assert new["meta"]["version"] == 'W/"1"'
    assert server.scim("GET", q, token).json()["totalResults"] == 1


def test_remove_policy_keeps_no_user_created_inactive(server):
    # A tenant that removes users on deactivation never holds an inactive one: a user pushed
    # already inactive (Entra scopes in disabled accounts) is answered in its final state and
    # not kept, so it cannot block the reactivation POST of its userName (IDP-QUIRKS.md 7).
    server.make_tenant("spark", deactivationPolicy="remove")
    token = server.mint("spark")["token"]
    r = server.scim("POST", "/Users", token, {
        "schemas": [USER_URN], "userName": "gone@acme.example", "active": False})
    assert r.status_code == 201, r.text
    assert r.json()["active"] is False
    assert server.scim("GET", f"/Users/{r.json()['id']}", token).status_code == 404
    q = '/Users?filter=userName eq "gone@acme.example"'
    assert server.scim("GET", q, token).json()["totalResults"] == 0
    assert server.admin("GET", "/tenants/spark/events?kind=user.").json()["events"] == []
    new = create(server, token, "gone@acme.example")
    assert new["active"] is True
    # Its userName is still checked: an inactive duplicate of an active user is 409.
    r = server.scim("POST", "/Users", token, {
        "schemas": [USER_URN], "userName": "GONE@acme.example", "active": False})
    assert r.status_code == 409 and r.json()["scimType"] == "uniqueness", r.text
    assert server.scim("GET", q, token).json()["Resources"][0]["id"] == new["id"]
    # Under "disable" an inactive user is kept, as Entra's soft delete expects.
    server.make_tenant("keep")
    keep = server.mint("keep")["token"]
    r = server.scim("POST", "/Users", keep, {
        "schemas": [USER_URN], "userName": "off@acme.example", "active": False})
    assert r.status_code == 201, r.text
    assert server.scim("GET", f"/Users/{r.json()['id']}", keep).json()["active"] is False


def test_okta_import_paging_with_filterless_walk_ends_cleanly(server, tenant_token):
    # IDP-QUIRKS.md 4: startIndex past the last user gives an empty, well-formed page.
    for i in range(3):
        create(server, tenant_token, f"imp{i}@acme.example")
    pages = [server.scim("GET", f"/Users?startIndex={s}&count=2", tenant_token).json()
             for s in (1, 3, 5)]
    assert [p["itemsPerPage"] for p in pages] == [2, 1, 0]
    assert all(p["totalResults"] == 3 for p in pages)
    assert pages[2]["Resources"] == []


# ======================= Microsoft Entra ID =======================

def test_entra_test_connection_random_user_filter_is_empty_200(server, tenant_token):
    # IDP-QUIRKS.md 19.
    r = server.scim("GET", f'/Users?filter=userName eq "{uuid.uuid4()}"', tenant_token)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(SCIM)
    assert r.json() == {"schemas": [LIST_URN], "totalResults": 0, "startIndex": 1,
                        "itemsPerPage": 0, "Resources": []}


def test_entra_external_id_existence_check(server, tenant_token):
    # IDP-QUIRKS.md 17: externalId eq is Entra's default matching attribute.
    u = create(server, tenant_token, "ext@acme.example",
               externalId="3b0f5a8e-1c5d-4c5b-9e3a-0d7f3e2c1a11")
    r = server.scim("GET", '/Users?filter=externalId eq "3b0f5a8e-1c5d-4c5b-9e3a-0d7f3e2c1a11"',
                    tenant_token)
    assert [x["id"] for x in r.json()["Resources"]] == [u["id"]]


def test_entra_post_with_string_booleans(server, tenant_token):
    # IDP-QUIRKS.md 12.
    body = user_body("strbool@acme.example", active="True",
                     emails=[{"value": "strbool@acme.example", "type": "work",
                              "primary": "true"}])
    r = server.scim("POST", "/Users", tenant_token, body)
    assert r.status_code == 201, r.text
    assert r.json()["active"] is True
    assert r.json()["emails"][0]["primary"] is True


def test_entra_post_with_flat_enterprise_urn_keys_and_manager_string(server, tenant_token):
    # IDP-QUIRKS.md 13, 16.
    boss = create(server, tenant_token, "boss@acme.example")["id"]
    body = user_body("emp@acme.example", **{
        "schemas": [USER_URN, ENTERPRISE_URN],
        ENTERPRISE_URN + ":employeeNumber": "0042",
        ENTERPRISE_URN + ":department": "Finance",
        ENTERPRISE_URN + ":manager": boss})
    r = server.scim("POST", "/Users", tenant_token, body)
    assert r.status_code == 201, r.text
    assert r.json()[ENTERPRISE_URN] == {"employeeNumber": "0042", "department": "Finance",
                                        "manager": {"value": boss}}


def test_entra_patch_capitalised_replace_add_remove(server, tenant_token):
    # IDP-QUIRKS.md 11.
    uid = create(server, tenant_token, "caps@acme.example", title="Old", nickName="Nick")["id"]
    r = entra_patch(server, tenant_token, uid,
                    {"op": "Replace", "path": "title", "value": "New"},
                    {"op": "Add", "path": "displayName", "value": "Caps Lock"},
                    {"op": "Remove", "path": "nickName"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["title"] == "New" and u["displayName"] == "Caps Lock" and "nickName" not in u


def test_entra_patch_active_string_false(server, tenant_token):
    # IDP-QUIRKS.md 12, 18: soft delete is Replace active "False".
    uid = create(server, tenant_token, "soft@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Replace", "path": "active",
                                                "value": "False"})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert get(server, tenant_token, uid)["active"] is False


def test_entra_soft_deleted_user_is_still_found_by_its_filters(server, tenant_token):
    # IDP-QUIRKS.md 18.
    uid = create(server, tenant_token, "soft2@acme.example", externalId="e-2")["id"]
    entra_patch(server, tenant_token, uid, {"op": "Replace", "path": "active", "value": "False"})
    for q in ['userName eq "soft2@acme.example"', 'externalId eq "e-2"',
              'emails[type eq "work"].value eq "soft2@acme.example"']:
        body = server.scim("GET", "/Users?filter=" + q, tenant_token).json()
        assert [u["id"] for u in body["Resources"]] == [uid], q
        assert body["Resources"][0]["active"] is False


def test_entra_patch_pathless_replace_with_string_boolean(server, tenant_token):
    uid = create(server, tenant_token, "soft3@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Replace", "value": {"active": "False"}})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False


def test_entra_patch_enterprise_urn_path_add(server, tenant_token):
    # IDP-QUIRKS.md 13: path is "urn:...:enterprise:2.0:User:department".
    uid = create(server, tenant_token, "dept@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Add",
                                                "path": ENTERPRISE_URN + ":department",
                                                "value": "Marketing"})
    assert r.status_code == 200, r.text
    assert r.json()[ENTERPRISE_URN] == {"department": "Marketing"}
    assert r.json()["schemas"] == [USER_URN, ENTERPRISE_URN]
    assert get(server, tenant_token, uid)[ENTERPRISE_URN] == {"department": "Marketing"}


def test_entra_patch_pathless_full_urn_key(server, tenant_token):
    # IDP-QUIRKS.md 13: path-less value with the full-URN key.
    uid = create(server, tenant_token, "dept2@acme.example",
                 **{ENTERPRISE_URN: {"department": "Old", "costCenter": "CC1"}})["id"]
    r = entra_patch(server, tenant_token, uid, {
        "op": "Replace", "value": {ENTERPRISE_URN + ":department": "New"}})
    assert r.status_code == 200, r.text
    assert r.json()[ENTERPRISE_URN] == {"costCenter": "CC1", "department": "New"}


def test_entra_patch_pathless_dotted_key(server, tenant_token):
    # IDP-QUIRKS.md 13: "name.givenName" as a key.
    uid = create(server, tenant_token, "dotted@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {
        "op": "Replace", "value": {"name.givenName": "Dotty", "name.familyName": "Keys"}})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == {"givenName": "Dotty", "familyName": "Keys"}


def test_entra_patch_pathless_filtered_key_applies_like_the_path(server, tenant_token):
    # Entra's path-less value may name one element with a value filter; it was skipped (200,
    # nothing changed). It means what the same "path" means: replace the work email's value
    # (creating it when absent, IDP-QUIRKS.md 15), leave the home one alone.
    uid = create(server, tenant_token, "fkey@acme.example", emails=[
        {"value": "old@acme.example", "type": "work", "primary": True},
        {"value": "me@home.example", "type": "home"}])["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Replace", "value": {
        'emails[type eq "work"].value': "new@acme.example", "name.familyName": "Filtered"}})
    assert r.status_code == 200, r.text
    emails = sorted(r.json()["emails"], key=lambda e: e["type"])
    assert emails == [{"value": "me@home.example", "type": "home"},
                      {"value": "new@acme.example", "type": "work", "primary": True}]
    assert r.json()["name"]["familyName"] == "Filtered"
    assert get(server, tenant_token, uid)["emails"] == r.json()["emails"]

    # The full-URN spelling of the same key, and an element that does not exist yet.
    r = entra_patch(server, tenant_token, uid, {"op": "Add", "value": {
        USER_URN + ':phoneNumbers[type eq "mobile"].value': "+1 555 0100"}})
    assert r.status_code == 200, r.text
    assert r.json()["phoneNumbers"] == [{"type": "mobile", "value": "+1 555 0100"}]


def test_entra_patch_pathless_filtered_key_errors_like_the_path(server, tenant_token):
    uid = create(server, tenant_token, "fkeybad@acme.example")["id"]
    before = get(server, tenant_token, uid)
    for key, scim_type in [('emails[type eq "work"', "invalidPath"),
                           ('nosuch[type eq "work"].value', "invalidPath"),
                           ('userName[value eq "x"]', "invalidPath"),
                           ('groups[value eq "x"].display', "mutability")]:
        r = entra_patch(server, tenant_token, uid, {"op": "Replace", "value": {key: "x"}})
        assert r.status_code == 400, (key, r.text)
        assert r.json()["scimType"] == scim_type, (key, r.text)
    assert get(server, tenant_token, uid)["meta"]["version"] == before["meta"]["version"]


def test_entra_patch_remove_enterprise_attribute_drops_empty_extension(server, tenant_token):
    uid = create(server, tenant_token, "rmext@acme.example",
                 **{ENTERPRISE_URN: {"department": "Gone"}})["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Remove",
                                                "path": ENTERPRISE_URN + ":department"})
    assert r.status_code == 200, r.text
    assert ENTERPRISE_URN not in r.json()
    assert r.json()["schemas"] == [USER_URN]


def test_entra_remove_of_the_last_listed_value_leaves_the_attribute_unassigned(server,
                                                                                tenant_token):
    """Entra removes a value by listing it; removing the last one left "emails": [] where a
    path filter's removal drops the attribute: one state (RFC 7643 §2.5), now one shape."""
    uid = create(server, tenant_token, "lastmail@acme.example",
                 roles=[{"value": "developer"}])["id"]
    email = get(server, tenant_token, uid)["emails"][0]["value"]
    r = entra_patch(server, tenant_token, uid,
                    {"op": "Remove", "path": "emails", "value": [{"value": email}]},
                    {"op": "Remove", "path": "roles", "value": [{"value": "developer"}]})
    assert r.status_code == 200, r.text
    for doc in (r.json(), get(server, tenant_token, uid)):
        assert "emails" not in doc and "roles" not in doc, doc


def test_entra_patch_work_email_value_add_when_absent_creates_it(server, tenant_token):
    # IDP-QUIRKS.md 15: no work email yet → the element is created with its type.
    uid = create(server, tenant_token, "home@acme.example",
                 emails=[{"value": "home@home.example", "type": "home"}])["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Add",
                                                "path": 'emails[type eq "work"].value',
                                                "value": "work@acme.example"})
    assert r.status_code == 200, r.text
    emails = r.json()["emails"]
    assert {"value": "home@home.example", "type": "home"} in emails
    assert {"type": "work", "value": "work@acme.example"} in emails
    assert len(emails) == 2


def test_entra_patch_work_email_value_replace_when_absent_creates_it(server, tenant_token):
    uid = create(server, tenant_token, "noemail@acme.example", emails=None)["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Replace",
                                                "path": 'emails[type eq "work"].value',
                                                "value": "w@acme.example"})
    assert r.status_code == 200, r.text
    assert r.json()["emails"] == [{"type": "work", "value": "w@acme.example"}]


def test_entra_patch_work_email_value_replace_updates_only_the_work_email(server,
                                                                         tenant_token):
    uid = create(server, tenant_token, "two@acme.example", emails=[
        {"value": "old@acme.example", "type": "work", "primary": True},
        {"value": "me@home.example", "type": "home"}])["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Replace",
                                                "path": 'emails[type eq "work"].value',
                                                "value": "new@acme.example"})
    assert r.status_code == 200, r.text
    assert r.json()["emails"] == [
        {"value": "new@acme.example", "type": "work", "primary": True},
        {"value": "me@home.example", "type": "home"}]


def test_entra_patch_created_work_email_is_found_by_entra_filter(server, tenant_token):
    uid = create(server, tenant_token, "found@acme.example", emails=None)["id"]
    entra_patch(server, tenant_token, uid, {"op": "Add", "path": 'emails[type eq "work"].value',
                                            "value": "Found.Me@acme.example"})
    body = server.scim("GET", '/Users?filter=emails[type eq "work"].value eq '
                              '"found.me@acme.example"', tenant_token).json()
    assert [u["id"] for u in body["Resources"]] == [uid]


def test_entra_patch_phone_mobile_value_add_when_absent(server, tenant_token):
    uid = create(server, tenant_token, "phone@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Add",
                                                "path": 'phoneNumbers[type eq "mobile"].value',
                                                "value": "+1 555 0101"})
    assert r.status_code == 200, r.text
    assert r.json()["phoneNumbers"] == [{"type": "mobile", "value": "+1 555 0101"}]


def test_entra_patch_roles_primary_string_true_creates_boolean_primary(server, tenant_token):
    # IDP-QUIRKS.md 12: roles[primary eq "True"] — the created element stores a boolean.
    uid = create(server, tenant_token, "roles@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Add",
                                                "path": 'roles[primary eq "True"].value',
                                                "value": "Developer"})
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == [{"primary": True, "value": "Developer"}]


def test_entra_patch_manager_as_bare_string(server, tenant_token):
    # IDP-QUIRKS.md 16.
    boss = create(server, tenant_token, "mgr@acme.example")["id"]
    uid = create(server, tenant_token, "report@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Add",
                                                "path": ENTERPRISE_URN + ":manager",
                                                "value": boss})
    assert r.status_code == 200, r.text
    assert r.json()[ENTERPRISE_URN] == {"manager": {"value": boss}}


def test_entra_patch_manager_change_drops_the_old_ref(server, tenant_token):
    uid = create(server, tenant_token, "rep2@acme.example", **{ENTERPRISE_URN: {
        "manager": {"value": "m-old", "$ref": "https://x.example/scim/v2/Users/m-old"}}})["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Replace",
                                                "path": ENTERPRISE_URN + ":manager",
                                                "value": "m-new"})
    assert r.status_code == 200, r.text
    assert r.json()[ENTERPRISE_URN]["manager"] == {"value": "m-new"}


def test_entra_patch_remove_manager(server, tenant_token):
    uid = create(server, tenant_token, "rep3@acme.example",
                 **{ENTERPRISE_URN: {"manager": "m-1", "department": "D"}})["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Remove",
                                                "path": ENTERPRISE_URN + ":manager"})
    assert r.status_code == 200, r.text
    assert r.json()[ENTERPRISE_URN] == {"department": "D"}


def test_entra_patch_tenant_role_by_urn_path_any_case(server, tenant_token):
    uid = create(server, tenant_token, "trole@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Add", "path": TENANT_URN + ":role",
                                                "value": "Templates"})
    assert r.status_code == 200, r.text
    assert r.json()[TENANT_URN] == {"role": "templates"}


def test_entra_patch_multiple_ops_in_one_request(server, tenant_token):
    # The shape of a real Entra update: several attributes, one request.
    uid = create(server, tenant_token, "multi@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid,
                    {"op": "Replace", "path": "displayName", "value": "Multi User"},
                    {"op": "Replace", "path": "name.familyName", "value": "User"},
                    {"op": "Add", "path": ENTERPRISE_URN + ":employeeNumber", "value": "77"},
                    {"op": "Replace", "path": "active", "value": "True"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["displayName"] == "Multi User" and u["name"]["familyName"] == "User"
    assert u[ENTERPRISE_URN] == {"employeeNumber": "77"} and u["active"] is True
    assert u["meta"]["version"] == 'W/"2"'  # one request, one version


def test_entra_patch_answers_200_with_scim_json_body(server, tenant_token):
    # IDP-QUIRKS.md 20.
    uid = create(server, tenant_token, "body@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "Replace", "path": "title", "value": "T"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(SCIM)
    assert r.json()["id"] == uid and r.json()["title"] == "T"


def test_onelogin_lowercase_keys_and_ops_are_accepted(server, tenant_token):
    # IDP-QUIRKS.md 22: lower-case op names; key names of the body match any case.
    uid = create(server, tenant_token, "onelogin@acme.example")["id"]
    r = server.scim("PATCH", f"/Users/{uid}", tenant_token, {
        "schemas": [PATCH_URN],
        "operations": [{"OP": "replace", "Path": "title", "Value": "Lower"}]})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Lower"


def test_entra_patch_uppercase_op_is_accepted(server, tenant_token):
    uid = create(server, tenant_token, "upper@acme.example")["id"]
    r = entra_patch(server, tenant_token, uid, {"op": "REPLACE", "path": "title",
                                                "value": "Shout"})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Shout"


def test_entra_lowercase_users_path_create_and_get(server, tenant_token):
    # IDP-QUIRKS.md 22: Microsoft's test collection uses /users.
    r = server.request("POST", "/scim/v2/users", token=tenant_token,
                       data=json.dumps(user_body("lower@acme.example")),
                       headers={"Content-Type": "application/scim+json"})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    g = server.request("GET", f"/scim/v2/users/{uid}", token=tenant_token)
    assert g.status_code == 200 and g.json()["userName"] == "lower@acme.example"
