"""Cursor paging, RFC 9865 (issue 19): cursor and count on GET and POST /.search for Users
and Groups, nextCursor on every page but the last, the RFC's errors, the pagination block of
/ServiceProviderConfig; cursors are stateless and signed, so they survive a restart and
work on any instance of one PostgreSQL database."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import LIST_URN, assert_scim_error, user_body
from test_multi_instance import start_instances

GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
SEARCH_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def make_users(server, token, names):
    """Creates the users, in order when there are few (tests then name the order)."""
    with ThreadPoolExecutor(4 if len(names) >= 100 else 1) as ex:
        made = list(ex.map(lambda n: server.scim("POST", "/Users", token, user_body(n)), names))
    assert all(r.status_code == 201 for r in made), [r.text for r in made if r.status_code != 201]
    return [r.json()["id"] for r in made]


def page(server, token, path="/Users", **params):
    r = server.scim("GET", path, token, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["schemas"] == [LIST_URN]
    # RFC 9865 §2: a cursor page has no startIndex.
    assert "startIndex" not in body, body.keys()
    assert body["itemsPerPage"] == len(body["Resources"])
    return body


def walk(server, token, path="/Users", limit=50, **params):
    """Every page of a cursor listing, from an empty cursor to the page without nextCursor."""
    pages, cursor = [], ""
    for _ in range(limit):
        body = page(server, token, path, cursor=cursor, **params)
        pages.append(body)
        if "nextCursor" not in body:
            return pages
        cursor = body["nextCursor"]
    raise AssertionError("the listing did not end")


def default_order(server, token, path="/Users", **params):
    r = server.scim("GET", path, token, params={"count": 1000, **params})
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["Resources"]]


@pytest.fixture
def acme(server, tenant_token):
    return server, tenant_token


def test_walk_250_users_by_cursor_sees_each_once_in_order(acme):
    server, token = acme
    ids = make_users(server, token, [f"w{i:03d}@x.example" for i in range(250)])
    pages = walk(server, token, count=100)
    assert [len(p["Resources"]) for p in pages] == [100, 100, 50]
    assert all(p["totalResults"] == 250 for p in pages)
    seen = [u["id"] for p in pages for u in p["Resources"]]
    assert seen == default_order(server, token)
    assert sorted(seen) == sorted(ids)
    # Cursors are URL-safe (RFC 9865 §2, Table 1: unreserved characters only).
    for p in pages[:-1]:
        assert set(p["nextCursor"]) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), p["nextCursor"]


def test_bare_cursor_parameter_asks_for_the_first_page(acme):
    server, token = acme
    make_users(server, token, ["a@x.example", "b@x.example", "c@x.example"])
    # The RFC's own example: `?cursor&count=10`, a parameter without a value.
    r = server.scim("GET", "/Users?cursor&count=2", token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [u["userName"] for u in body["Resources"]] == ["a@x.example", "b@x.example"]
    assert body["totalResults"] == 3 and "startIndex" not in body and body["nextCursor"]


def test_index_paging_stays_the_default_without_cursor(acme):
    server, token = acme
    make_users(server, token, ["a@x.example", "b@x.example", "c@x.example"])
    body = server.scim("GET", "/Users", token, params={"count": 2}).json()
    assert body["startIndex"] == 1 and body["totalResults"] == 3
    assert "nextCursor" not in body
    # Above the maximum, index paging still lowers the count (RFC 7644 §3.4.2.4).
    r = server.scim("GET", "/Users", token, params={"count": 5000})
    assert r.status_code == 200 and r.json()["itemsPerPage"] == 3


def test_filter_with_cursor_walks_only_the_matches(acme):
    server, token = acme
    make_users(server, token, [f"{p}{i}@x.example" for i in range(7) for p in ("a", "b")])
    pages = walk(server, token, filter='userName sw "a"', count=3)
    names = [u["userName"] for p in pages for u in p["Resources"]]
    assert names == [f"a{i}@x.example" for i in range(7)]
    assert [len(p["Resources"]) for p in pages] == [3, 3, 1]
    assert all(p["totalResults"] == 7 for p in pages)


def test_cursor_replayed_after_adds_and_deletes_neither_repeats_nor_skips(acme):
    server, token = acme
    ids = make_users(server, token, [f"r{i:02d}@x.example" for i in range(10)])
    order = default_order(server, token)
    first = page(server, token, cursor="", count=4)
    assert [u["id"] for u in first["Resources"]] == order[:4]
    cursor = first["nextCursor"]
    # A user of the first page and one of the next page go; a new user comes.
    for gone in (order[1], order[5]):
        assert server.scim("DELETE", f"/Users/{gone}", token).status_code == 204
    new = make_users(server, token, ["late@x.example"])[0]
    # The same cursor, twice: the next page starts after the last row served.
    for _ in range(2):
        second = page(server, token, cursor=cursor, count=4)
        assert [u["id"] for u in second["Resources"]] == [order[4]] + order[6:9]
        assert second["totalResults"] == 9  # 10, two gone, one new
    rest = walk_from(server, token, second["nextCursor"], count=4)
    assert [u["id"] for u in rest] == [order[9], new]
    assert len(ids) == 10


def walk_from(server, token, cursor, **params):
    rows = []
    for _ in range(20):
        body = page(server, token, cursor=cursor, **params)
        rows += body["Resources"]
        if "nextCursor" not in body:
            return rows
        cursor = body["nextCursor"]
    raise AssertionError("the listing did not end")


def test_groups_walk_by_cursor(acme):
    server, token = acme
    made = []
    for i in range(5):
        r = server.scim("POST", "/Groups", token,
                        {"schemas": [GROUP_URN], "displayName": f"team-{i}"})
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    pages = walk(server, token, "/Groups", count=2)
    assert [len(p["Resources"]) for p in pages] == [2, 2, 1]
    assert [g["id"] for p in pages for g in p["Resources"]] == made
    # A Users cursor does not continue a Groups listing.
    users_cursor = page(server, token, cursor="", count=1)
    make_users(server, token, ["u1@x.example", "u2@x.example"])
    users_cursor = page(server, token, cursor="", count=1)["nextCursor"]
    assert_scim_error(server.scim("GET", "/Groups", token,
                                  params={"cursor": users_cursor, "count": 1}),
                      400, "invalidCursor")


def test_search_with_cursor(acme):
    server, token = acme
    make_users(server, token, [f"s{i}@x.example" for i in range(5)])
    body = {"schemas": [SEARCH_URN], "filter": 'userName sw "s"', "cursor": "", "count": 2,
            "attributes": ["userName"]}
    names, cursor = [], None
    for _ in range(5):
        if cursor is not None:
            body["cursor"] = cursor
        r = server.scim("POST", "/Users/.search", token, body)
        assert r.status_code == 200, r.text
        got = r.json()
        assert "startIndex" not in got and got["totalResults"] == 5
        names += [u["userName"] for u in got["Resources"]]
        cursor = got.get("nextCursor")
        if cursor is None:
            break
    assert names == [f"s{i}@x.example" for i in range(5)]
    # A GET cursor continues the same listing by POST, and the other way round.
    first = page(server, token, cursor="", count=2, filter='userName sw "s"')
    body["cursor"] = first["nextCursor"]
    r = server.scim("POST", "/Users/.search", token, body)
    assert [u["userName"] for u in r.json()["Resources"]] == ["s2@x.example", "s3@x.example"]
    # A cursor that is not a string.
    body["cursor"] = 7
    assert_scim_error(server.scim("POST", "/Users/.search", token, body), 400, "invalidCursor")
    body["cursor"] = ""
    body["startIndex"] = 1
    assert_scim_error(server.scim("POST", "/Users/.search", token, body), 400, "invalidValue")


def test_tampered_cursor_is_invalid(acme):
    server, token = acme
    make_users(server, token, ["a@x.example", "b@x.example", "c@x.example"])
    cursor = page(server, token, cursor="", count=1)["nextCursor"]
    flipped = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    for bad in (flipped, cursor + "A", cursor[:-1], "x", "not a cursor", "%00", "A" * 5000):
        body = assert_scim_error(
            server.scim("GET", "/Users", token, params={"cursor": bad, "count": 1}),
            400, "invalidCursor")
        assert "Resources" not in body


def test_cursor_of_another_tenant_or_filter_is_invalid(server):
    server.make_tenant("acme")
    server.make_tenant("other")
    acme, other = server.mint("acme")["token"], server.mint("other")["token"]
    make_users(server, acme, ["a1@x.example", "a2@x.example", "a3@x.example"])
    make_users(server, other, ["o1@x.example", "o2@x.example", "o3@x.example"])
    cursor = page(server, acme, cursor="", count=1)["nextCursor"]
    # Never another tenant's rows: the cursor is refused before anything is read.
    body = assert_scim_error(server.scim("GET", "/Users", other,
                                         params={"cursor": cursor, "count": 1}),
                             400, "invalidCursor")
    assert "o2@x.example" not in str(body) and "a2@x.example" not in str(body)
    # The same tenant with another filter (RFC 9865 §2: every parameter but the cursor must
    # be the first page's).
    assert_scim_error(server.scim("GET", "/Users", acme, params={
        "cursor": cursor, "count": 1, "filter": 'userName sw "a"'}), 400, "invalidCursor")
    # It still works where it belongs.
    assert [u["userName"] for u in page(server, acme, cursor=cursor, count=1)["Resources"]] \
        == ["a2@x.example"]


def test_expired_cursor(server_factory):
    s = server_factory(extra_args=["--cursor-timeout", "1"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    make_users(s, token, ["a@x.example", "b@x.example"])
    cursor = page(s, token, cursor="", count=1)["nextCursor"]
    time.sleep(2.2)
    assert_scim_error(s.scim("GET", "/Users", token, params={"cursor": cursor, "count": 1}),
                      400, "expiredCursor")
    spc = s.scim("GET", "/ServiceProviderConfig", token).json()
    assert spc["pagination"]["cursorTimeout"] == 1


def test_count_zero_negative_above_max_and_changed(acme):
    server, token = acme
    make_users(server, token, ["a@x.example", "b@x.example", "c@x.example"])
    # RFC 9865 §2, Table 1: 0 returns only totalResults; a negative count is 0.
    for count in (0, -5):
        body = page(server, token, cursor="", count=count)
        assert body["totalResults"] == 3 and body["Resources"] == [] and "nextCursor" not in body
    # Table 3: above maxPageSize is invalidCount (index paging would lower it).
    assert_scim_error(server.scim("GET", "/Users", token, params={"cursor": "", "count": 1001}),
                      400, "invalidCount")
    # ... and so is a count other than the first page's.
    cursor = page(server, token, cursor="", count=1)["nextCursor"]
    assert_scim_error(server.scim("GET", "/Users", token, params={"cursor": cursor, "count": 2}),
                      400, "invalidCount")
    assert_scim_error(server.scim("GET", "/Users", token, params={"cursor": cursor}),
                      400, "invalidCount")


def test_cursor_with_start_index_or_sort_by_is_refused(acme):
    server, token = acme
    make_users(server, token, ["a@x.example", "b@x.example"])
    for extra in ({"startIndex": 1}, {"startIndex": 2}, {"sortBy": "userName"}):
        assert_scim_error(server.scim("GET", "/Users", token,
                                      params={"cursor": "", "count": 1, **extra}),
                          400, "invalidValue")


def test_spc_advertises_both_methods_index_by_default(acme):
    server, token = acme
    spc = server.scim("GET", "/ServiceProviderConfig", token).json()
    assert spc["pagination"] == {"cursor": True, "index": True,
                                 "defaultPaginationMethod": "index", "defaultPageSize": 100,
                                 "maxPageSize": 1000, "cursorTimeout": 3600}


def test_spc_page_sizes_follow_page_max(server_factory):
    s = server_factory(extra_args=["--page-max", "5"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    spc = s.scim("GET", "/ServiceProviderConfig", token).json()
    assert spc["pagination"]["defaultPageSize"] == 5 and spc["pagination"]["maxPageSize"] == 5
    make_users(s, token, [f"u{i}@x.example" for i in range(7)])
    # Without a count a cursor listing pages by defaultPageSize.
    pages = walk(s, token)
    assert [len(p["Resources"]) for p in pages] == [5, 2]


def test_cursor_survives_a_restart(acme):
    server, token = acme
    make_users(server, token, ["a@x.example", "b@x.example", "c@x.example"])
    cursor = page(server, token, cursor="", count=2)["nextCursor"]
    server.stop()
    server.start()
    body = page(server, token, cursor=cursor, count=2)
    assert [u["userName"] for u in body["Resources"]] == ["c@x.example"]


def test_cursor_from_one_instance_continues_on_another(backend, server_factory, tmp_path):
    servers, token = start_instances(backend, server_factory, tmp_path)
    make_users(servers[0], token, [f"m{i:02d}@x.example" for i in range(30)])
    order = default_order(servers[0], token)
    seen, cursor = [], ""
    for k in range(10):
        body = page(servers[k % 3], token, cursor=cursor, count=7)
        seen += [u["id"] for u in body["Resources"]]
        if "nextCursor" not in body:
            break
        cursor = body["nextCursor"]
    assert seen == order


def test_cursor_key_comes_from_sso_key_when_set(server_factory):
    key_a, key_b = "11" * 32, "22" * 32
    s = server_factory(extra_args=["--sso-key", key_a])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    make_users(s, token, ["a@x.example", "b@x.example"])
    cursor = page(s, token, cursor="", count=1)["nextCursor"]
    s.stop()
    s.extra_args = ["--sso-key", key_b]
    s.start()
    # Another sso_key, another cursor key: the old cursor is refused, not honoured.
    assert_scim_error(s.scim("GET", "/Users", token, params={"cursor": cursor, "count": 1}),
                      400, "invalidCursor")
    s.stop()
    s.extra_args = ["--sso-key", key_a]
    s.start()
    assert [u["userName"] for u in page(s, token, cursor=cursor, count=1)["Resources"]] \
        == ["b@x.example"]
