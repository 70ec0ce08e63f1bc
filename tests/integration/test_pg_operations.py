"""PostgreSQL operations (issue 20): totals stay exact while several connections of several
instances create and delete at once (each connection counts in its own shard of
resource_counts), and the store refreshes the planner's statistics of resources itself as a
tenant grows, on its own connection, without a request waiting for it. PostgreSQL only."""
import threading
import time

import pytest
import requests

from conftest import SCIM, user_body

BASE = "/scim/v2"
from test_multi_instance import start_instances


def sql(server, text):
    """Rows of a query on the instance's schema, as lists of strings."""
    name, _, query = server.dsn.rsplit("/", 1)[1].partition("?")
    schema = query.rsplit("%3D", 1)[1]
    out = server.cluster.psql(f'SET search_path TO "{schema}"; {text}', db=name)
    return [line.split("|") for line in out.split("\n") if line]


def total(server, token, kind="Users"):
    r = server.scim("GET", f"/{kind}?count=0", token)
    assert r.status_code == 200
    return r.json()["totalResults"]


def test_totals_exact_with_writers_on_every_connection(backend, server_factory, tmp_path):
    servers, token = start_instances(backend, server_factory, tmp_path, ["--threads", "4"])
    auth = {"Authorization": "Bearer " + token, "Content-Type": SCIM}
    created, errors, lock = [], [], threading.Lock()

    def writer(k):
        s = requests.Session()
        base = servers[k % len(servers)].url + BASE
        for i in range(25):
            r = s.post(base + "/Users", json=user_body(f"w{k}-{i}@example.com"), headers=auth)
            if r.status_code != 201:
                errors.append((r.status_code, r.text))
                continue
            with lock:
                created.append(r.json()["id"])
        # A refused create (the userName taken) counts nothing.
        r = s.post(base + "/Users", json=user_body(f"w{k}-0@example.com"), headers=auth)
        if r.status_code != 409:
            errors.append((r.status_code, r.text))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(created) == 200
    # Deletes from every instance, some of them twice (the second is 404 and counts nothing).
    s = requests.Session()
    for i, uid in enumerate(created[:40]):
        base = servers[i % len(servers)].url + BASE
        assert s.delete(f"{base}/Users/{uid}", headers=auth).status_code == 204
        if i % 10 == 0:
            assert s.delete(f"{base}/Users/{uid}", headers=auth).status_code == 404
    for server in servers:
        assert total(server, token) == 160
    r = servers[0].scim("GET", "/Users?startIndex=1&count=200", token)
    assert len(r.json()["Resources"]) == 160
    # The writes were spread over several shards, and their sum is the total.
    rows = sql(servers[0], "SELECT shard, n FROM resource_counts WHERE type = 1")
    assert len(rows) > 1
    assert sum(int(n) for _, n in rows) == 160


def test_statistics_refreshed_without_a_request_waiting(backend, server_factory):
    if backend != "postgres":
        pytest.skip("the store analyses PostgreSQL tables only")
    server = server_factory()
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    assert sql(server, "SELECT coalesce(last_analyze::text, 'never') FROM pg_stat_user_tables"
                       " WHERE relname = 'resources' AND schemaname = current_schema()") == [["never"]]
    # The 1000th user of a tenant asks for fresh statistics (1000 × 2^k).
    s = requests.Session()
    auth = {"Authorization": "Bearer " + token, "Content-Type": SCIM}
    for i in range(1000):
        r = s.post(server.url + BASE + "/Users", json=user_body(f"u{i}@example.com"),
                   headers=auth)
        assert r.status_code == 201
    analysed = ""
    for _ in range(100):
        analysed = sql(server, "SELECT coalesce(last_analyze::text, 'never') FROM pg_stat_user_tables"
                               " WHERE relname = 'resources' AND schemaname = current_schema()")
        if analysed != [["never"]]:
            break
        time.sleep(0.1)
    assert analysed != [["never"]]
    assert total(server, token) == 1000
    # The statistics know the table's size; the documents are not sampled.
    assert sql(server, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'resources'"
                       " AND relnamespace = current_schema()::regnamespace") == [["1000"]]
    assert sql(server, "SELECT attname FROM pg_stats WHERE tablename = 'resources'"
                       " AND schemaname = current_schema() AND attname LIKE 'doc%'") == []
