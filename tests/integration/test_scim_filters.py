"""Filtering (RFC 7644 §3.4.2.2) over HTTP: every filter compiles to SQL in the store, so
these tests pin the semantics of src/query/query.h as the database applies them."""
import time

import pytest

from conftest import (ENTERPRISE_URN, LIST_URN, SCIM, USER_URN, assert_scim_error, user_body)


@pytest.fixture
def people(server, tenant_token):
    """A small directory; returns {short name: id}."""
    specs = {
        "john": user_body("John.Smith@acme.example", externalId="EXT-John",
                          name={"givenName": "John", "familyName": "Smith"},
                          title="Engineer", active=True,
                          emails=[{"value": "john@acme.example", "type": "work",
                                   "primary": True},
                                  {"value": "jsmith@home.example", "type": "home"}],
                          **{ENTERPRISE_URN: {"department": "Sales",
                                              "employeeNumber": "1001"}}),
        "jane": user_body("jane@acme.example", externalId="ext-jane",
                          name={"givenName": "Jane", "familyName": "Doe"},
                          active=False,
                          emails=[{"value": "jane@other.example", "type": "work"}],
                          **{ENTERPRISE_URN: {"department": "Engineering"}}),
        "bob": user_body("bob@acme.example", externalId="ext-bob",
                         name={"givenName": "Bob", "familyName": "Jones"},
                         title="", active=True,
                         emails=[{"value": "bob@acme.example", "type": "home"}]),
    }
    ids = {}
    for key, body in specs.items():
        r = server.scim("POST", "/Users", tenant_token, body)
        assert r.status_code == 201, r.text
        ids[key] = r.json()["id"]
    return ids


def found(server, token, query):
    """Runs GET /Users<query> (query written as a raw string) and returns the set of ids."""
    r = server.scim("GET", "/Users" + query, token)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(SCIM)
    body = r.json()
    assert body["schemas"] == [LIST_URN]
    assert body["totalResults"] == len(body["Resources"]) == body["itemsPerPage"]
    return {u["id"] for u in body["Resources"]}


def ids_of(people, *names):
    return {people[n] for n in names}


# ---- Attribute operators ----

def test_filter_user_name_eq_value_is_case_insensitive(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=userName eq "john.smith@ACME.example"') == \
        ids_of(people, "john")


def test_filter_attribute_name_and_operator_are_case_insensitive(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=USERNAME EQ "jane@acme.example"') == \
        ids_of(people, "jane")


def test_filter_user_name_eq_absent_is_empty_list(server, tenant_token, people):
    # IDP-QUIRKS.md 2: Okta's existence check before create.
    r = server.scim("GET", '/Users?filter=userName eq "nobody@acme.example"&startIndex=1'
                           '&count=100', tenant_token)
    assert r.status_code == 200
    assert r.json() == {"schemas": [LIST_URN], "totalResults": 0, "startIndex": 1,
                        "itemsPerPage": 0, "Resources": []}


def test_filter_external_id_eq_is_case_sensitive(server, tenant_token, people):
    # externalId is caseExact (RFC 7643 §3.1).
    assert found(server, tenant_token, '?filter=externalId eq "EXT-John"') == \
        ids_of(people, "john")
    assert found(server, tenant_token, '?filter=externalId eq "ext-john"') == set()


def test_filter_id_eq(server, tenant_token, people):
    assert found(server, tenant_token, f'?filter=id eq "{people["bob"]}"') == \
        ids_of(people, "bob")


def test_filter_ne_includes_users_without_the_attribute(server, tenant_token, people):
    # "title ne Engineer": jane has no title, bob has "" — both are "not equal".
    assert found(server, tenant_token, '?filter=title ne "engineer"') == \
        ids_of(people, "jane", "bob")


def test_filter_name_given_name_sw(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=name.givenName sw "J"') == \
        ids_of(people, "john", "jane")


def test_filter_sw_is_case_insensitive_for_non_case_exact(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=name.givenName sw "jo"') == \
        ids_of(people, "john")


def test_filter_name_family_name_ew(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=name.familyName ew "ES"') == \
        ids_of(people, "bob")


def test_filter_user_name_co(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=userName co "smith"') == ids_of(people, "john")


def test_filter_title_pr_skips_absent_and_empty(server, tenant_token, people):
    assert found(server, tenant_token, "?filter=title pr") == ids_of(people, "john")


def test_filter_enterprise_pr(server, tenant_token, people):
    assert found(server, tenant_token, f"?filter={ENTERPRISE_URN}:department pr") == \
        ids_of(people, "john", "jane")


# ---- Multi-valued attributes and value paths ----

def test_filter_emails_value_eq_matches_any_element(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=emails.value eq "JSMITH@home.example"') == \
        ids_of(people, "john")


def test_filter_emails_without_sub_attribute_means_value(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=emails co "@acme.example"') == \
        ids_of(people, "john", "bob")


def test_filter_entra_emails_type_work_value_eq(server, tenant_token, people):
    # IDP-QUIRKS.md 17: the element must be both work and carry the value.
    assert found(server, tenant_token,
                 '?filter=emails[type eq "work"].value eq "john@acme.example"') == \
        ids_of(people, "john")
    assert found(server, tenant_token,
                 '?filter=emails[type eq "work"].value eq "jsmith@home.example"') == set()
    assert found(server, tenant_token,
                 '?filter=emails[type eq "work"].value eq "bob@acme.example"') == set()


def test_filter_value_path_with_and_inside_brackets(server, tenant_token, people):
    assert found(server, tenant_token,
                 '?filter=emails[type eq "work" and value co "@acme"]') == ids_of(people, "john")


def test_filter_value_path_requires_one_element_to_match_all(server, tenant_token, people):
    # john has a work email and an @home email, but not one element that is both.
    assert found(server, tenant_token,
                 '?filter=emails[type eq "work" and value co "@home"]') == set()


def test_filter_value_path_with_or_inside_brackets(server, tenant_token, people):
    assert found(server, tenant_token,
                 '?filter=emails[type eq "home" or value ew "other.example"]') == \
        ids_of(people, "john", "jane", "bob")


@pytest.mark.parametrize("query, who", [
    ('name[givenName eq "john"]', "john"),
    (f'{ENTERPRISE_URN}:manager[value eq "boss-1"]', "jane"),
])
def test_filter_value_path_on_single_valued_complex_attribute(server, tenant_token, people,
                                                               query, who):
    # RFC 7644 §3.4.2.2 valuePath = attrPath "[" valFilter "]"; query.h: "some element (or
    # the single value of a complex attribute) matches".
    r = server.scim("PATCH", f"/Users/{people['jane']}", tenant_token, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": ENTERPRISE_URN + ":manager",
                        "value": {"value": "boss-1"}}]})
    assert r.status_code == 200, r.text
    assert found(server, tenant_token, "?filter=" + query) == ids_of(people, who)


def test_filter_value_path_on_simple_attribute_is_400_invalid_filter(server, tenant_token,
                                                                   people):
    assert_scim_error(server.scim("GET", '/Users?filter=userName[value eq "x"]', tenant_token),
                      400, "invalidFilter")


def test_filter_ne_on_multi_valued_means_no_element_equal(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=emails.type ne "home"') == \
        ids_of(people, "jane")


# ---- Logical operators ----

def test_filter_not_active_eq_true(server, tenant_token, people):
    # RFC 7644 grammar: "not" "(" valFilter ")".
    assert found(server, tenant_token, "?filter=not (active eq true)") == ids_of(people, "jane")


def test_filter_not_over_absent_attribute_matches(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=not (title eq "Engineer")') == \
        ids_of(people, "jane", "bob")


def test_filter_long_runs_of_or_and_and_inside_the_limits_are_answered(server, tenant_token,
                                                                        people):
    # 128 comparisons are 255 nodes, inside the filter's limit of 256: SQLite's parser once
    # overflowed its stack from 83 on (a 500) when each pair was nested in parentheses.
    names = [f'userName eq "nobody{k}@acme.example"' for k in range(126)]
    q = "?filter=" + " or ".join(names + ['userName eq "bob@acme.example"',
                                          'externalId eq "EXT-John"'])
    assert found(server, tenant_token, q) == ids_of(people, "bob", "john")
    q = "?filter=" + " and ".join([f'userName ne "nobody{k}@acme.example"' for k in range(127)]
                                  + ['title eq "Engineer"'])
    assert found(server, tenant_token, q) == ids_of(people, "john")
    # Runs of each inside the other, with explicit parentheses: 64 × 3 - 1 = 191 nodes.
    q = "?filter=" + " or ".join([f'(userName eq "nobody{k}@acme.example" and active eq true)'
                                  for k in range(63)]
                                 + ['(userName eq "jane@acme.example" and active eq false)'])
    assert found(server, tenant_token, q) == ids_of(people, "jane")
    r = server.scim("POST", "/Users/.search", tenant_token,
                    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                     "filter": " or ".join(names + ['userName eq "jane@acme.example"'])})
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()["Resources"]] == [people["jane"]]


def test_filter_nested_to_the_depth_limit_is_answered_and_one_more_is_400(server, tenant_token,
                                                                           people):
    # Every filter the parser lets through is answered: nesting 16 deep (the limit) in each
    # shape that deepens the SQL most, then random mixes of them; 17 is 400 invalidFilter.
    # SQLite's parser overflowed its stack at 21 nested "not (…)" when the limit was 32.
    import random

    def nots(depth, inner):
        return "not (" * depth + inner + ")" * depth

    def alternating(depth, inner):
        for k in range(depth):
            inner = f'title eq "t{k}" {"or" if k % 2 else "and"} ({inner})'
        return inner

    leaf = 'emails[type eq "work" and (value co "@acme" or value pr)]'  # two levels itself
    for shape in (nots, alternating):
        r = server.scim("GET", "/Users?filter=" + shape(14, leaf), tenant_token)
        assert r.status_code == 200, (shape.__name__, r.text)
        assert_scim_error(server.scim("GET", "/Users?filter=" + shape(15, leaf), tenant_token),
                          400, "invalidFilter")
    rng = random.Random(7)
    for _ in range(30):
        text, depth = 'userName pr', 0
        while depth < 16:
            pick = rng.randrange(3)
            text = (f"not ({text})" if pick == 0 else
                    f'({text}) {rng.choice(["and", "or"])} {leaf}' if pick == 1 else
                    f'active eq true or ({text})')
            depth += 1
        r = server.scim("GET", "/Users?filter=" + text, tenant_token)
        assert r.status_code in (200, 400), r.text
        if r.status_code == 400:
            assert "deeper" in r.json()["detail"], r.text


def test_filter_and_binds_tighter_than_or(server, tenant_token, people):
    # a or (b and c): bob, plus john (active and Engineer).
    q = ('?filter=userName eq "bob@acme.example" or active eq true and title eq "Engineer"')
    assert found(server, tenant_token, q) == ids_of(people, "bob", "john")
    # (a and b) or c, written the other way round, is the same set.
    q = ('?filter=active eq true and title eq "Engineer" or userName eq "bob@acme.example"')
    assert found(server, tenant_token, q) == ids_of(people, "bob", "john")


def test_filter_parentheses_override_precedence(server, tenant_token, people):
    q = ('?filter=(userName eq "bob@acme.example" or active eq false) and '
         'name.familyName eq "Doe"')
    assert found(server, tenant_token, q) == ids_of(people, "jane")


def test_filter_and_of_two_eq(server, tenant_token, people):
    q = '?filter=userName eq "jane@acme.example" and externalId eq "ext-jane"'
    assert found(server, tenant_token, q) == ids_of(people, "jane")
    q = '?filter=userName eq "jane@acme.example" and externalId eq "ext-bob"'
    assert found(server, tenant_token, q) == set()


# ---- dateTime, booleans, extensions ----

def test_filter_meta_last_modified_gt_past_matches_all(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=meta.lastModified gt "2020-01-01T00:00:00Z"') == \
        ids_of(people, "john", "jane", "bob")


def test_filter_meta_last_modified_gt_future_matches_none(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=meta.lastModified gt "2999-01-01T00:00:00Z"') == \
        set()


def test_filter_meta_last_modified_separates_later_changes(server, tenant_token, people):
    time.sleep(0.05)
    marker = server.scim("GET", f"/Users/{people['bob']}", tenant_token).json()
    time.sleep(0.05)
    r = server.scim("PUT", f"/Users/{people['jane']}", tenant_token,
                    user_body("jane@acme.example", title="Changed"))
    assert r.status_code == 200, r.text
    since = r.json()["meta"]["lastModified"]
    assert since > marker["meta"]["lastModified"]
    assert found(server, tenant_token, f'?filter=meta.lastModified ge "{since}"') == \
        ids_of(people, "jane")


def test_filter_meta_created_lt(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=meta.created lt "2000-01-01T00:00:00Z"') == set()


def test_filter_meta_last_modified_with_non_date_is_400_invalid_filter(server, tenant_token,
                                                                      people):
    for attr in ("meta.lastModified", "meta.created"):
        err = assert_scim_error(server.scim("GET", f'/Users?filter={attr} gt "yesterday"',
                                            tenant_token), 400, "invalidFilter")
        assert err["detail"].endswith(f"expected for {attr}"), err


def test_filter_enterprise_urn_qualified_department_eq(server, tenant_token, people):
    assert found(server, tenant_token, f'?filter={ENTERPRISE_URN}:department eq "sales"') == \
        ids_of(people, "john")


def test_filter_enterprise_attribute_without_urn_resolves(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=department eq "Engineering"') == \
        ids_of(people, "jane")


def test_filter_core_urn_qualified_user_name(server, tenant_token, people):
    assert found(server, tenant_token,
                 f'?filter={USER_URN}:userName eq "bob@acme.example"') == ids_of(people, "bob")


def test_filter_active_eq_false_boolean(server, tenant_token, people):
    assert found(server, tenant_token, "?filter=active eq false") == ids_of(people, "jane")


def test_filter_active_eq_string_true_entra(server, tenant_token, people):
    # IDP-QUIRKS.md 12: booleans as strings, also inside filters.
    assert found(server, tenant_token, '?filter=active eq "True"') == ids_of(people, "john",
                                                                             "bob")
    assert found(server, tenant_token, '?filter=active eq "False"') == ids_of(people, "jane")


def test_filter_emails_primary_eq_string_true(server, tenant_token, people):
    assert found(server, tenant_token, '?filter=emails[primary eq "True"]') == \
        ids_of(people, "john")


def test_filter_number_literal_never_equals_a_boolean(server, tenant_token, people):
    assert found(server, tenant_token, "?filter=active eq 1") == set()


def test_filter_number_literal_does_not_order_a_string_attribute(server, tenant_token, people):
    assert found(server, tenant_token, "?filter=title gt 4") == set()


def test_filter_eq_null_means_absent(server, tenant_token, people):
    assert found(server, tenant_token, "?filter=title eq null") == ids_of(people, "jane", "bob")


# ---- Encoding in the query string ----

def test_filter_entra_double_encoded(server, tenant_token, people):
    # IDP-QUIRKS.md 17: filter=userName%2520eq%2520%2522...%2522 (encoded twice).
    r = server.request("GET", "/scim/v2/Users?filter=userName%2520eq%2520%2522bob%2540acme."
                              "example%2522", token=tenant_token)
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()["Resources"]] == [people["bob"]]


def test_filter_plus_as_space_in_query_string(server, tenant_token, people):
    r = server.request("GET", "/scim/v2/Users?filter=userName+eq+%22jane%40acme.example%22",
                       token=tenant_token)
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()["Resources"]] == [people["jane"]]


def test_filter_literal_plus_encoded_as_2b_is_kept(server, tenant_token):
    r = server.scim("POST", "/Users", tenant_token, user_body("a+tag@acme.example"))
    assert r.status_code == 201, r.text
    got = server.request("GET", "/scim/v2/Users?filter=userName%20eq%20%22a%2Btag%40acme."
                                "example%22", token=tenant_token)
    assert got.status_code == 200
    assert [u["id"] for u in got.json()["Resources"]] == [r.json()["id"]]


def test_filter_percent_encoded_once(server, tenant_token, people):
    r = server.request("GET", "/scim/v2/Users?filter=userName%20eq%20%22john.smith%40acme."
                              "example%22", token=tenant_token)
    assert r.status_code == 200
    assert [u["id"] for u in r.json()["Resources"]] == [people["john"]]


def test_filter_string_with_escaped_quote(server, tenant_token):
    r = server.scim("POST", "/Users", tenant_token, user_body("q@acme.example",
                                                             displayName='The "Q"'))
    assert r.status_code == 201
    assert found(server, tenant_token, '?filter=displayName eq "The \\"q\\""') == \
        {r.json()["id"]}


# ---- Errors (RFC 7644 §3.4.2.2: 400 invalidFilter) ----

def test_filter_unknown_attribute_is_400_invalid_filter_naming_it(server, tenant_token, people):
    body = assert_scim_error(server.scim("GET", '/Users?filter=shoeSize eq "42"', tenant_token),
                             400, "invalidFilter")
    assert "shoeSize" in body["detail"]


def test_filter_unknown_sub_attribute_is_400_invalid_filter(server, tenant_token, people):
    body = assert_scim_error(server.scim("GET", '/Users?filter=name.nick eq "x"', tenant_token),
                             400, "invalidFilter")
    assert "nick" in body["detail"]


def test_filter_unknown_schema_urn_is_400_invalid_filter(server, tenant_token, people):
    body = assert_scim_error(server.scim(
        "GET", '/Users?filter=urn:example:params:scim:schemas:nope:1.0:User:x eq "1"',
        tenant_token), 400, "invalidFilter")
    assert "urn:example" in body["detail"]


@pytest.mark.parametrize("bad", [
    'userName eq', 'userName equals "x"', 'userName eq "x" and', '(userName eq "x"',
    'userName eq "unterminated', 'not active eq true', 'emails[type eq "work"',
    'userName eq x'])
def test_filter_syntax_error_is_400_invalid_filter(server, tenant_token, bad):
    body = assert_scim_error(server.scim("GET", "/Users?filter=" + bad.replace(" ", "%20")
                                         .replace('"', "%22"), tenant_token),
                             400, "invalidFilter")
    assert "position" in body["detail"] or "expected" in body["detail"], body


def test_filter_error_detail_gives_the_position(server, tenant_token):
    body = assert_scim_error(server.scim("GET", '/Users?filter=userName xx "a"', tenant_token),
                             400, "invalidFilter")
    assert "position 10" in body["detail"]


def test_filter_too_long_is_rejected(server, tenant_token):
    q = " or ".join(f'userName eq "u{i}@acme.example"' for i in range(400))
    r = server.scim("POST", "/Users/.search", tenant_token, {"filter": q})
    assert_scim_error(r, 400, "invalidFilter")


def test_filter_empty_is_no_filter(server, tenant_token, people):
    assert found(server, tenant_token, "?filter=") == ids_of(people, "john", "jane", "bob")


def test_filter_with_paging_counts_only_matches(server, tenant_token, people):
    r = server.scim("GET", "/Users?filter=active eq true&count=1&startIndex=2", tenant_token)
    body = r.json()
    assert body["totalResults"] == 2 and body["itemsPerPage"] == 1 and body["startIndex"] == 2
    assert body["Resources"][0]["id"] in ids_of(people, "john", "bob")


def test_filter_with_sort_by_user_name(server, tenant_token, people):
    r = server.scim("GET", "/Users?filter=active eq true&sortBy=userName&sortOrder=descending",
                    tenant_token)
    assert [u["userName"] for u in r.json()["Resources"]] == [
        "John.Smith@acme.example", "bob@acme.example"]


def test_filter_sort_by_multi_valued_uses_primary_value(server, tenant_token, people):
    r = server.scim("GET", "/Users?sortBy=emails&filter=active eq true", tenant_token)
    # john's primary email john@acme.example sorts after bob@acme.example.
    assert [u["id"] for u in r.json()["Resources"]] == [people["bob"], people["john"]]


# ---- One user by userName, read with the token ----
# A lone `userName eq` on a first page is answered from the token's own statement
# (scim_list_user_name); `and userName pr` makes the same question go through the general
# listing. Both must answer alike, byte for byte of JSON, whatever the page parameters.

@pytest.fixture
def in_groups(server, tenant_token, people):
    """john in two groups (listed in id order), jane in none; another tenant has a john too."""
    for name in ("Ops", "Admins"):
        r = server.scim("POST", "/Groups", tenant_token,
                        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                         "displayName": name, "members": [{"value": people["john"]}]})
        assert r.status_code == 201, r.text
    server.make_tenant("other")
    other = server.mint("other")["token"]
    r = server.scim("POST", "/Users", other, user_body("John.Smith@acme.example"))
    assert r.status_code == 201, r.text
    return other


@pytest.mark.parametrize("name", ["John.Smith@acme.example", "JOHN.SMITH@ACME.EXAMPLE",
                                  "jane@acme.example", "nobody@acme.example", "John.Smith"])
@pytest.mark.parametrize("params", ["", "&attributes=userName", "&attributes=groups",
                                    "&excludedAttributes=groups,emails", "&count=1",
                                    "&startIndex=1", "&startIndex=0", "&count=0",
                                    "&startIndex=2", "&sortBy=userName", "&count=500"])
def test_user_name_eq_answers_as_the_general_listing(server, tenant_token, people, in_groups,
                                                     name, params):
    one = server.scim("GET", f'/Users?filter=userName eq "{name}"{params}', tenant_token)
    general = server.scim("GET", f'/Users?filter=userName eq "{name}" and userName pr{params}',
                          tenant_token)
    assert one.status_code == general.status_code == 200, (one.text, general.text)
    assert one.json() == general.json()
    if name.lower().startswith("john") and "@" in name and params in ("", "&attributes=groups"):
        assert [g["display"] for g in one.json()["Resources"][0]["groups"]] in \
            (["Ops", "Admins"], ["Admins", "Ops"])


def test_user_name_eq_finds_only_the_token_tenants_user(server, tenant_token, people, in_groups):
    mine = server.scim("GET", '/Users?filter=userName eq "john.smith@acme.example"', tenant_token)
    theirs = server.scim("GET", '/Users?filter=userName eq "john.smith@acme.example"', in_groups)
    assert [u["id"] for u in mine.json()["Resources"]] == [people["john"]]
    (other_john,) = theirs.json()["Resources"]
    assert other_john["id"] != people["john"] and "groups" not in other_john
    r = server.scim("GET", '/Users?filter=userName eq "jane@acme.example"', in_groups)
    assert r.json()["totalResults"] == 0 and r.json()["Resources"] == []


def test_user_name_eq_sees_a_rename_and_a_delete_at_once(server, tenant_token, people):
    r = server.scim("PATCH", f"/Users/{people['bob']}", tenant_token,
                    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "path": "userName",
                                     "value": "robert@acme.example"}]})
    assert r.status_code == 200, r.text
    q = '/Users?filter=userName eq "{}"'
    assert server.scim("GET", q.format("bob@acme.example"), tenant_token).json()[
        "totalResults"] == 0
    assert [u["id"] for u in server.scim("GET", q.format("Robert@acme.example"),
                                         tenant_token).json()["Resources"]] == [people["bob"]]
    assert server.scim("DELETE", f"/Users/{people['bob']}", tenant_token).status_code == 204
    assert server.scim("GET", q.format("robert@acme.example"), tenant_token).json()[
        "totalResults"] == 0
