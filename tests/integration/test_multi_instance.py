"""Several scimd instances on one PostgreSQL database (issue 9): the database decides
uniqueness and guards every read-modify-write, so no instance can overwrite another's work,
and a lost database is reported (503, failing /healthz) and recovered from without a restart.
PostgreSQL only: SQLite is one process's database."""
import base64
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import ERROR_URN, PATCH_URN, SCIM, Scimd, assert_scim_error, user_body
from pgcluster import PgCluster
from test_webhooks import FAST, Receiver, add_hook

GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"


def start_instances(backend, server_factory, tmp_path, extra_args=()):
    """Three instances on one database, started at the same moment (their migrations race
    for the advisory lock), with tenant acme and its token."""
    if backend != "postgres":
        pytest.skip("several instances share one database only on PostgreSQL")
    shared = tmp_path / "shared"
    servers = [server_factory(extra_args=extra_args, data_dir=shared, start=False)
               for _ in range(3)]
    with ThreadPoolExecutor(3) as ex:
        list(ex.map(lambda s: s.start(), servers))
    servers[0].make_tenant("acme")
    token = servers[0].mint("acme")["token"]
    return servers, token


@pytest.fixture
def instances(backend, server_factory, tmp_path):
    return start_instances(backend, server_factory, tmp_path)


def race(calls):
    """Runs the callables at the same moment; returns their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as ex:
        return list(ex.map(run, calls))


def test_instances_starting_together_apply_each_migration_once(instances):
    servers, token = instances
    # All three serve the same data: a tenant made through one is seen by the others.
    for s in servers:
        assert s.scim("GET", "/Users", token).status_code == 200
        assert s.request("GET", "/healthz").status_code == 200


def test_racing_creates_of_one_user_name_give_one_201_and_the_rest_409(instances):
    servers, token = instances
    for n in range(5):
        # RFC 7643 §4.1.1: userName is unique and case-insensitive, across instances too.
        names = [f"race{n}@x.example", f"RACE{n}@x.example"] * 3
        calls = [lambda s=s, name=name: s.scim("POST", "/Users", token, user_body(name))
                 for s, name in zip(servers * 2, names)]
        replies = race(calls)
        codes = sorted(r.status_code for r in replies)
        assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in replies]
        for r in replies:
            if r.status_code == 409:
                assert_scim_error(r, 409, "uniqueness")
    listed = servers[1].scim("GET", "/Users", token, params={"count": 100}).json()
    assert listed["totalResults"] == 5


def test_concurrent_member_adds_from_every_instance_lose_no_member(instances):
    servers, token = instances
    users = [servers[0].scim("POST", "/Users", token, user_body(f"m{i}@x.example")).json()["id"]
             for i in range(18)]
    group = servers[0].scim("POST", "/Groups", token,
                            {"schemas": [GROUP_URN], "displayName": "racers"}).json()["id"]

    def add(s, uid):
        body = {"schemas": [PATCH_URN],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]}
        return s.scim("PATCH", f"/Groups/{group}", token, body)

    for start in range(0, len(users), 6):
        batch = users[start:start + 6]
        replies = race([lambda s=s, uid=uid: add(s, uid) for s, uid in zip(servers * 2, batch)])
        assert all(r.status_code in (200, 204) for r in replies), [r.text for r in replies]
    got = servers[2].scim("GET", f"/Groups/{group}", token).json()
    assert sorted(m["value"] for m in got["members"]) == sorted(users)


def test_concurrent_if_match_updates_let_exactly_one_win(instances):
    servers, token = instances
    uid = servers[0].scim("POST", "/Users", token, user_body("lu@x.example")).json()["id"]
    for n in range(4):
        etag = servers[0].scim("GET", f"/Users/{uid}", token).headers["ETag"]

        def put(s, title):
            return s.scim("PUT", f"/Users/{uid}", token, user_body("lu@x.example", title=title),
                          headers={"If-Match": etag})

        titles = [f"t{n}-{i}" for i in range(6)]
        replies = race([lambda s=s, t=t: put(s, t) for s, t in zip(servers * 2, titles)])
        codes = [r.status_code for r in replies]
        assert sorted(codes) == [200, 412, 412, 412, 412, 412], [r.text for r in replies]
        winner = titles[codes.index(200)]
        # RFC 7644 §3.14: the losers' versions were stale; the stored one is the winner's.
        assert servers[1].scim("GET", f"/Users/{uid}", token).json()["title"] == winner


def test_one_setup_link_used_on_every_instance_at_once_opens_one_session(instances):
    servers, token = instances
    admin = servers[0].make_admin(token)
    for n in range(3):
        r = servers[0].admin("POST", "/tenants/acme/setup-links", {"actingUser": admin})
        assert r.status_code == 201, r.text
        secret = r.json()["url"].split("#setup=", 1)[1]
        replies = race([lambda s=s: requests.post(s.url + "/console/api/setup",
                                                  json={"token": secret})
                        for s in servers * 2])
        codes = sorted(r.status_code for r in replies)
        # The link is used by one UPDATE … WHERE used_ms = 0: one session, across instances.
        assert codes == [201, 401, 401, 401, 401, 401], [r.text for r in replies]


def test_stopping_postgres_gives_503_and_scimd_recovers_without_restart(backend, scimd_bin,
                                                                       tmp_path):
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    cluster = PgCluster().init().start()
    servers = []
    try:
        dsn = cluster.create_db("outage")
        servers = [Scimd(scimd_bin, tmp_path / f"d{i}", dsn=dsn, cluster=cluster).start()
                   for i in range(2)]
        servers[0].make_tenant("acme")
        token = servers[0].mint("acme")["token"]
        stop = threading.Event()
        seen = {"ok": 0, "unavailable": 0, "other": []}

        def load(s, k):
            n = 0
            while not stop.is_set() and n < 2000:
                n += 1
                try:
                    r = s.scim("POST", "/Users", token, user_body(f"l{k}-{n}@x.example"))
                except requests.RequestException as e:
                    seen["other"].append(repr(e))
                    continue
                if r.status_code == 201:
                    seen["ok"] += 1
                elif r.status_code == 503:
                    seen["unavailable"] += 1
                else:
                    seen["other"].append(r.status_code)
                time.sleep(0.01)

        threads = [threading.Thread(target=load, args=(s, k)) for k, s in enumerate(servers)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        cluster.stop("fast")
        time.sleep(0.5)
        for s in servers:
            # A SCIM error (RFC 7644 §3.12) with 503, and a failing health check.
            body = assert_scim_error(s.scim("GET", "/Users", token), 503)
            assert body["schemas"] == [ERROR_URN]
            assert s.request("GET", "/healthz").status_code == 503
        cluster.start()
        deadline = time.time() + 15
        while time.time() < deadline:
            if all(s.request("GET", "/healthz").status_code == 200 for s in servers):
                break
            time.sleep(0.2)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(30)
        for s in servers:
            assert s.request("GET", "/healthz").status_code == 200
            r = s.scim("POST", "/Users", token, user_body(f"after-{s.port}@x.example"))
            assert r.status_code == 201, r.text
            assert r.headers["Content-Type"].startswith(SCIM)
            assert s.proc.poll() is None  # the same process, never restarted
        assert seen["ok"] > 0 and seen["unavailable"] > 0, seen
        assert seen["other"] == [], seen
    finally:
        for s in servers:
            s.stop()
        cluster.destroy()


def test_paging_across_instances_returns_every_user_once_in_order(instances):
    servers, token = instances
    made = [servers[i % 3].scim("POST", "/Users", token, user_body(f"p{i:03d}@x.example"))
            for i in range(120)]
    assert all(r.status_code == 201 for r in made)
    # A load balancer sends each page to another instance; the keyset position of the
    # previous page is shared through the database, and the answers are those of one instance.
    whole = servers[0].scim("GET", "/Users", token, params={"count": 500}).json()
    ids, start = [], 1
    for k in range(10):
        page = servers[k % 3].scim("GET", "/Users", token,
                                   params={"startIndex": start, "count": 25}).json()
        assert page["totalResults"] == 120 and page["startIndex"] == start
        ids += [u["id"] for u in page["Resources"]]
        start += len(page["Resources"])
        if start > 120:
            break
    assert ids == [u["id"] for u in whole["Resources"]]


def test_webhook_outbox_is_delivered_once_in_order_by_one_instance_at_a_time(
        backend, server_factory, tmp_path):
    servers, token = start_instances(backend, server_factory, tmp_path, FAST)
    receiver = Receiver()
    try:
        in_flight, most = [0], [0]
        handler = receiver.httpd.RequestHandlerClass
        plain_post = handler.do_POST

        def slow_post(self):
            # A slow endpoint widens the window in which a second instance could deliver.
            with receiver.lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
            time.sleep(0.02)
            try:
                plain_post(self)
            finally:
                with receiver.lock:
                    in_flight[0] -= 1

        handler.do_POST = slow_post
        add_hook(servers[0], receiver.url)
        calls = [lambda s=s, i=i: s.scim("POST", "/Users", token, user_body(f"w{i}@x.example"))
                 for i, s in enumerate(servers * 8)]
        for start in range(0, len(calls), 6):
            assert all(r.status_code == 201 for r in race(calls[start:start + 6]))
        assert receiver.wait_for(lambda: len(receiver.accepted_events()) >= 24, timeout=30)
        time.sleep(0.5)  # a duplicate would arrive now
        events = receiver.accepted_events()
        ids = [int(e["id"]) for e in events]
        # Every event once, in the order of the outbox, whichever instance wrote it; one
        # delivery to the endpoint at a time across all three instances.
        assert len(ids) == 24 and ids == sorted(set(ids)), ids
        assert most[0] == 1, most
    finally:
        receiver.close()


def pushed_seqs(fmt, raw):
    """The event seqs of one delivery: a scimd batch's event ids, or a SET's jti."""
    if fmt == "scimd":
        return [int(e["id"]) for e in json.loads(raw)["events"]]
    claims = json.loads(base64.urlsafe_b64decode(raw.split(".")[1] + "=="))
    return [int(claims["jti"].split("-")[1])]


@pytest.mark.parametrize("fmt", ["set", "scimd"])
def test_push_across_instances_delivers_each_event_once_in_order(fmt, backend, server_factory,
                                                                   tmp_path):
    """docs/webhooks.md: an endpoint is leased to one deliverer at a time, so order holds
    across instances. An instance that read an endpoint's row (its cursor) before another
    instance delivered from it must not deliver again from that old cursor once the lease is
    free, nor write that cursor back. A SET stream frees the lease after each SET; three
    endpoints, so an instance reads a row some time before it takes that endpoint's lease."""
    from test_scim_events import SetReceiver, add_set_hook
    every_200ms = ["--webhook-allow-http", "on", "--webhook-poll-ms", "200",
                   "--webhook-retry-ms", "50"]
    servers, token = start_instances(backend, server_factory, tmp_path, every_200ms)
    receiver = SetReceiver() if fmt == "set" else Receiver()
    plain_post = receiver.httpd.RequestHandlerClass.do_POST

    def slow_post(self):
        time.sleep(0.005)
        plain_post(self)

    receiver.httpd.RequestHandlerClass.do_POST = slow_post
    try:
        add = add_set_hook if fmt == "set" else add_hook
        hooks = [add(servers[0], receiver.url)["id"] for _ in range(3)]
        for i in range(150):  # trickled: deliveries run while events are still written
            r = servers[i % 3].scim("POST", "/Users", token, user_body(f"s{i}@x.example"))
            assert r.status_code == 201
            if i % 10 == 9:
                time.sleep(0.03)

        def pending():
            return [servers[1].admin("GET", f"/tenants/acme/webhooks/{h}").json()["pending"]
                    for h in hooks]
        assert receiver.wait_for(lambda: pending() == [0, 0, 0], timeout=90)
        time.sleep(0.5)  # a late duplicate would arrive now
        with receiver.lock:
            pushed = [(h["Scimd-Webhook-Id"], raw) for h, raw, st in receiver.received
                      if 200 <= st < 300]
        for h in hooks:
            seqs = [q for w, raw in pushed if w == h for q in pushed_seqs(fmt, raw)]
            again = [q for i, q in enumerate(seqs) if q in seqs[:i]]
            assert len(set(seqs)) == 150
            assert again == [], f"{len(again)} events delivered twice: {again[:10]}…"
            assert seqs == sorted(seqs)
            state = servers[2].admin("GET", f"/tenants/acme/webhooks/{h}").json()
            assert state["delivered"] == seqs[-1]
    finally:
        receiver.close()


def test_set_streams_across_instances_one_key_and_acks_from_anywhere(instances):
    """SCIM event SETs (docs/webhooks.md): the first key is created by whichever instance
    needs it first, racing the others, and every instance then signs with it; a poll stream's
    acknowledgements, out of order and sent to different instances at once, all count."""
    from test_scim_events import add_poll_stream, jwks_of, poll, verified
    servers, token = instances
    jwks = race([lambda s=s: s.request("GET", "/events/v1/jwks.json").json() for s in servers])
    assert len({json.dumps(j, sort_keys=True) for j in jwks}) == 1 and len(jwks[0]["keys"]) == 1
    stream = add_poll_stream(servers[0])
    for i in range(6):
        servers[i % 3].scim("POST", "/Users", token, user_body(f"m{i}@x.example"))
    sets = poll(servers[1], stream).json()["sets"]
    assert len(sets) == 6
    keyset = jwks_of(servers[2])
    kids = {verified(keyset, t)[1]["kid"] for t in sets.values()}
    assert kids == {jwks[0]["keys"][0]["kid"]}
    order = sorted(sets, key=lambda j: int(j.split("-")[1]))
    # Acks in three racing polls, each to its own instance, the lowest last in the list.
    parts = [order[4:], order[1:4], order[:1]]
    race([lambda s=s, p=p: poll(s, stream, {"ack": p, "maxEvents": 0}) for s, p in
          zip(servers, parts)])
    r = poll(servers[0], stream).json()
    assert r == {"sets": {}, "moreAvailable": False}
    state = servers[2].admin("GET", f"/tenants/acme/webhooks/{stream['id']}").json()
    assert state["pending"] == 0 and state["delivered"] == int(order[-1].split("-")[1])


def test_polls_through_two_instances_never_hand_out_an_acknowledged_set_again(instances):
    """RFC 8936 polls of one stream by four receivers at once, each poll to the other
    instance than its last, each acknowledging what it got before: an instance must poll from
    the cursor as it stands, not as it was before another instance moved it and forgot the
    acknowledgements below it."""
    from test_scim_events import add_poll_stream, drain_concurrently, polled, preack_every_third
    servers, token = instances
    stream = add_poll_stream(servers[0])
    acked, _ = preack_every_third(servers[0], stream, token, 120)
    again, failed = drain_concurrently(servers[:2], stream, 4, acked)
    assert failed == []
    assert sorted(set(again)) == [], f"{len(again)} acknowledged SETs given again"
    final, more = polled(servers[1], stream)
    assert final == {} and more is False


def test_reads_on_every_instance_see_a_write_on_another_at_once(instances):
    """Issue 18: a GET of a user is one statement with its token, never a cache, so a
    revoked token, a deleted user, a changed membership and another tenant's data are
    each seen at once by every other instance, by id and by filter."""
    servers, token = instances
    a, b, c = servers
    a.make_tenant("beta")
    beta = a.mint("beta")["token"]
    uid = a.scim("POST", "/Users", token, user_body("ann@acme.example")).json()["id"]
    gid = a.scim("POST", "/Groups", token, {"schemas": [GROUP_URN],
                                             "displayName": "Eng"}).json()["id"]
    by_name = "/Users?filter=" + requests.utils.quote('userName eq "ann@acme.example"')
    for s in servers:  # every instance has read the user (and its token) once
        r = s.scim("GET", f"/Users/{uid}", token)
        assert r.status_code == 200 and "groups" not in r.json()

    # A membership added on one instance is in the user's groups on the others at once,
    # and so is the group's new name; one removed is gone at once.
    patch = {"schemas": [PATCH_URN], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": uid}]}]}
    assert a.scim("PATCH", f"/Groups/{gid}", token, patch).status_code in (200, 204)
    assert [g["value"] for g in b.scim("GET", f"/Users/{uid}", token).json()["groups"]] == [gid]
    rename = {"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Engineering"}]}
    assert c.scim("PATCH", f"/Groups/{gid}", token, rename).status_code in (200, 204)
    assert b.scim("GET", f"/Users/{uid}", token).json()["groups"][0]["display"] == "Engineering"
    patch["Operations"][0] = {"op": "remove", "path": f'members[value eq "{uid}"]'}
    assert c.scim("PATCH", f"/Groups/{gid}", token, patch).status_code in (200, 204)
    assert "groups" not in a.scim("GET", f"/Users/{uid}", token).json()

    # Another tenant's token finds nothing of acme's, by id or by filter, on any instance.
    for s in servers:
        assert_scim_error(s.scim("GET", f"/Users/{uid}", beta), 404)
        assert s.scim("GET", by_name, beta).json()["totalResults"] == 0
        assert s.scim("GET", by_name, token).json()["totalResults"] == 1

    # Deleted on one instance: 404 by id and gone from the filter on the others at once.
    assert c.scim("DELETE", f"/Users/{uid}", token).status_code == 204
    for s in (a, b):
        assert_scim_error(s.scim("GET", f"/Users/{uid}", token), 404)
        assert s.scim("GET", by_name, token).json()["totalResults"] == 0

    # Revoked on one instance: refused on the others at once, by id and by filter.
    tid = a.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    assert a.admin("POST", f"/tenants/acme/tokens/{tid}/revoke").status_code == 200
    for s in (b, c):
        assert_scim_error(s.scim("GET", f"/Users/{uid}", token), 401)
        assert_scim_error(s.scim("GET", by_name, token), 401)
    assert b.scim("GET", by_name, beta).status_code == 200


def test_an_event_cursor_never_passes_an_event_still_being_written(server, backend, tenant_token):
    """PostgreSQL numbers an event when it is inserted and shows it when its transaction
    commits, so a later event can be visible first: a reader following the cursor (webhooks,
    the host's GET /events?after=) would pass the earlier one and never see it (CI saw a
    webhook lose one so). A transaction writing a tenant's events holds that tenant's event
    lock until it commits, and a cursor read waits for it. A psql session here is the slow
    writer: it inserts an event as scimd does (store/rows.h EVENT_BARRIER) and commits two
    seconds later, while scimd writes and commits the next event at once."""
    if backend != "postgres":
        pytest.skip("SQLite has one writer: its events commit in their order")
    t = tenant_token
    assert server.scim("POST", "/Users", t, user_body("first@acme.example")).status_code == 201
    evs = server.admin("GET", "/tenants/acme/events").json()["events"]
    last = max(int(e["id"]) for e in evs)
    psql_cmd = [os.path.join(server.cluster.bindir, "psql"), "-X", "-q", "-A", "-t", "-v",
                "ON_ERROR_STOP=1", "-d", server.dsn, "-c"]
    tid = subprocess.run(psql_cmd + ["SELECT id FROM tenants WHERE slug = 'acme'"],
                         capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    slow = ("BEGIN; INSERT INTO events(tenant_id, created_ms, actor, kind, rtype, resource_id,"
            f" data) SELECT {int(tid)}, 1, 'operator', 'user.updated', 1, 'slow', '{{}}' FROM"
            f" (SELECT pg_advisory_xact_lock_shared(1935896932, {int(tid)}) OFFSET 0) b;"
            " SELECT pg_sleep(2); COMMIT;")
    psql = subprocess.Popen(psql_cmd + [slow], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        time.sleep(0.5)  # the slow event has its number
        assert server.scim("POST", "/Users", t, user_body("next@acme.example")).status_code == 201
        r = server.admin("GET", f"/tenants/acme/events?after={last}")
        assert r.status_code == 200, r.text
        got = [(int(e["id"]), e["resourceId"]) for e in r.json()["events"]]
    finally:
        out, errs = psql.communicate(timeout=30)
    assert psql.returncode == 0, errs
    # Both events, the slow one first: nothing was passed while it was uncommitted.
    assert len(got) == 2 and got[0] == (last + 1, "slow") and got[1][0] > last + 1, got
