"""scimd migrate (issue 9 item 5; docs/deploy.md): a SQLite database copied into an empty
PostgreSQL one, everything durable kept as it was (ids, versions and ETags, listing order,
password and token hashes, memberships, roles, events with their seq, webhooks with their
cursors and attempts), all in one transaction with the counts checked, and a target that
holds anything refused. PostgreSQL only: the target needs the session's cluster."""
import json
import sqlite3
import subprocess
import time

import pytest

from conftest import PATCH_URN, Scimd, user_body
from test_webhooks import FAST, add_hook, receiver  # noqa: F401 (fixture)

GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def pg_only(backend):
    if backend != "postgres":
        pytest.skip("migrate copies into PostgreSQL: needs --backend postgres")


@pytest.fixture
def sqlite_server(pg_only, scimd_bin, tmp_path):
    """A scimd on SQLite whatever the session's backend (no dsn: DATA_DIR/scimd.db)."""
    s = Scimd(scimd_bin, tmp_path / "sqlite", FAST)
    yield s
    s.stop()


def migrate(scimd_bin, *args):
    return subprocess.run([scimd_bin, "migrate", *args], capture_output=True, text=True,
                          timeout=120)


def schema_of(dsn):
    return dsn.rsplit("%3D", 1)[1]


def all_events(server, slug):
    out, after = [], 0
    while True:
        r = server.admin("GET", f"/tenants/{slug}/events", params={"after": after,
                                                                    "limit": 1000})
        assert r.status_code == 200, r.text
        page = r.json()
        if not page["events"]:
            return out
        out += page["events"]
        after = page["next"]


def listing(server, token, path):
    """Every resource of a type, page by page in the default (seq) order."""
    out, start = [], 1
    while True:
        r = server.scim("GET", path, token, params={"startIndex": start, "count": 3})
        assert r.status_code == 200, r.text
        page = r.json()
        out += page.get("Resources", [])
        start += 3
        if start > page["totalResults"]:
            return out, page["totalResults"]


def snapshot(server, token, slug, hook_id):
    """What the APIs show of one tenant: compared before and after the copy."""
    users, n_users = listing(server, token, "/Users")
    groups, n_groups = listing(server, token, "/Groups")
    etags = {u["id"]: server.scim("GET", f"/Users/{u['id']}", token).headers["ETag"]
             for u in users}
    roles = {u["id"]: server.admin("GET", f"/tenants/{slug}/users/{u['id']}/role").json()
             for u in users}
    hook = server.admin("GET", f"/tenants/{slug}/webhooks/{hook_id}").json() if hook_id else None
    attempts = server.admin("GET", f"/tenants/{slug}/webhooks/{hook_id}/attempts").json() \
        if hook_id else None
    snap = {
        "tenant": server.admin("GET", f"/tenants/{slug}").json(),
        "users": users, "totals": (n_users, n_groups), "groups": groups, "etags": etags,
        "roles": roles, "role_map": server.admin("GET", f"/tenants/{slug}/role-map").json(),
        "events": all_events(server, slug), "hook": hook, "attempts": attempts,
        # lastUsed moves with use (at most once a minute), on either side.
        "tokens": [{k: v for k, v in t.items() if k != "lastUsed"}
                   for t in server.admin("GET", f"/tenants/{slug}/tokens").json()["tokens"]],
    }
    # $ref and meta.location name the server's own address, the one thing that differs.
    return json.loads(json.dumps(snap).replace(server.url, "http://scimd"))


def fill(server, receiver):
    """Two tenants through the APIs: users (one with a password), groups with members, a role
    map, a direct role, a deleted user, events, and a webhook with delivered and pending
    events and failed attempts."""
    server.make_tenant("acme")
    server.make_tenant("beta")
    token = server.mint("acme")["token"]
    beta = server.mint("beta")["token"]
    hook = add_hook(server, receiver.url)
    ids = []
    for i in range(7):
        extra = {"password": "S3cret-pass-phrase!"} if i == 0 else {}
        r = server.scim("POST", "/Users", token, user_body(f"user{i}@acme.example", **extra))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    assert server.scim("POST", "/Users", beta, user_body("b@beta.example")).status_code == 201
    # Delivered so far; then the receiver fails and events pile up behind the cursor.
    assert receiver.wait_for(lambda: server.admin(
        "GET", f"/tenants/acme/webhooks/{hook['id']}").json()["pending"] == 0)
    receiver.status = 503
    r = server.admin("PUT", "/tenants/acme/role-map", {"rules": [
        {"group": "Admins", "role": "admin", "priority": 1},
        {"group": "Devs", "role": "developer", "priority": 2}]})
    assert r.status_code == 200, r.text
    for name, members in (("Admins", ids[:2]), ("Devs", ids[1:5]), ("Empty", [])):
        r = server.scim("POST", "/Groups", token, {
            "schemas": [GROUP_URN], "displayName": name,
            "members": [{"value": m} for m in members]})
        assert r.status_code == 201, r.text
    # Versions above 1, and an order that is not creation order by name.
    r = server.scim("PATCH", f"/Users/{ids[3]}", token, {"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Changed Twice"}]})
    assert r.status_code == 200, r.text
    r = server.scim("PATCH", f"/Users/{ids[3]}", token, {"schemas": [PATCH_URN], "Operations": [
        {"op": "replace", "path": "active", "value": False}]})
    assert r.status_code == 200, r.text
    assert server.scim("DELETE", f"/Users/{ids[6]}", token).status_code == 204
    assert receiver.wait_for(lambda: len(server.admin(
        "GET", f"/tenants/acme/webhooks/{hook['id']}/attempts").json()["attempts"]) >= 2)
    # Disabled: no more attempts, so its state holds still for the comparison.
    r = server.admin("PATCH", f"/tenants/acme/webhooks/{hook['id']}", {"enabled": False})
    assert r.status_code == 200, r.text
    return token, beta, hook["id"], ids


def password_hashes_sqlite(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id, password_hash FROM resources"
                          " WHERE password_hash IS NOT NULL ORDER BY id").fetchall()


def password_hashes_pg(cluster, dsn):
    out = cluster.psql(f'SELECT id, password_hash FROM "{schema_of(dsn)}".resources'
                       " WHERE password_hash IS NOT NULL ORDER BY id", db=cluster.SHARED_DB)
    return [tuple(line.split("|", 1)) for line in out.splitlines()]


def test_migrate_copies_everything_and_the_apis_show_the_same(
        sqlite_server, server_factory, pg_cluster, scimd_bin, receiver):
    src = sqlite_server.start()
    token, beta, hook_id, ids = fill(src, receiver)
    before = snapshot(src, token, "acme", hook_id)
    before_beta = snapshot(src, beta, "beta", None)
    assert before["hook"]["pending"] > 0 and before["attempts"]["attempts"]
    assert src.stop() == 0

    target = server_factory(data_dir=sqlite_server.data_dir.parent / "pg", start=False)
    p = migrate(scimd_bin, "--from", src.db, "--to", target.dsn)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert "tenants 2 = 2" in lines
    assert "tokens 2 = 2" in lines
    assert "resources 10 = 10" in lines, lines  # 6 + 1 users, 3 groups
    assert "members 6 = 6" in lines
    assert "role_map 2 = 2" in lines
    assert f"webhook backlog {before['hook']['pending']} = {before['hook']['pending']}" in lines
    n_events = len(before["events"]) + len(before_beta["events"])
    assert f"events {n_events} = {n_events}" in lines

    dst = target.start()
    after = snapshot(dst, token, "acme", hook_id)
    for key in before:
        assert after[key] == before[key], key
    assert snapshot(dst, beta, "beta", None) == before_beta
    # Password hashes as stored, byte for byte.
    hashes = password_hashes_sqlite(src.db)
    assert len(hashes) == 1 and hashes == password_hashes_pg(pg_cluster, target.dsn)

    # New rows continue after the copied keys: a new user lists last, its events come after.
    last_seq = int(before["events"][-1]["id"])
    r = dst.scim("POST", "/Users", token, user_body("new@acme.example"))
    assert r.status_code == 201, r.text
    users, _ = listing(dst, token, "/Users")
    assert users[-1]["id"] == r.json()["id"]
    new_events = all_events(dst, "acme")[len(before["events"]):]
    assert new_events and all(int(e["id"]) > last_seq for e in new_events)
    # The webhook's cursor still points at the same event: enabled again on the target, it
    # delivers exactly the backlog and the new events, in order.
    receiver.status = 200
    delivered_before = len(receiver.accepted_events())
    dst.stop()
    dst = Scimd(scimd_bin, target.data_dir, FAST, dsn=target.dsn, cluster=pg_cluster).start()
    try:
        r = dst.admin("PATCH", f"/tenants/acme/webhooks/{hook_id}", {"enabled": True})
        assert r.status_code == 200, r.text
        want = before["hook"]["pending"] + len(new_events)
        assert receiver.wait_for(lambda: len(receiver.accepted_events()) ==
                                 delivered_before + want)
        got = [e["id"] for e in receiver.accepted_events()[delivered_before:]]
        backlog = [e["id"] for e in before["events"]][-before["hook"]["pending"]:]
        assert got == backlog + [e["id"] for e in new_events]
    finally:
        dst.stop()


def test_migrate_refuses_a_target_that_holds_data(
        sqlite_server, server_factory, pg_cluster, scimd_bin):
    src = sqlite_server.start()
    src.make_tenant("acme")
    src.stop()
    target = server_factory(data_dir=sqlite_server.data_dir.parent / "pg")
    target.make_tenant("already-here")
    target.stop()

    p = migrate(scimd_bin, "--from", src.db, "--to", target.dsn)
    assert p.returncode != 0
    assert "not empty" in p.stderr and "tenants" in p.stderr, p.stderr
    target.start()
    slugs = [t["slug"] for t in target.admin("GET", "/tenants").json()["tenants"]]
    assert slugs == ["already-here"]


def test_migrate_usage_errors(pg_only, scimd_bin, tmp_path, pg_cluster):
    p = migrate(scimd_bin, "--from", str(tmp_path / "missing.db"), "--to",
                pg_cluster.dsn("postgres"))
    assert p.returncode != 0 and "no SQLite database" in p.stderr
    assert not (tmp_path / "missing.db").exists()
    p = migrate(scimd_bin, "--from", str(tmp_path / "x.db"), "--to", str(tmp_path / "y.db"))
    assert p.returncode != 0 and "PostgreSQL URI" in p.stderr
    p = migrate(scimd_bin, "--to", pg_cluster.dsn("postgres"))
    assert p.returncode == 2 and "--from" in p.stderr


def test_migrate_keeps_sso_state_and_leaves_what_is_short_lived(
        sqlite_server, server_factory, pg_cluster, scimd_bin):
    src = sqlite_server.start()
    src.make_tenant("acme")
    token = src.mint("acme")["token"]
    uid = src.scim("POST", "/Users", token, user_body("u@acme.example")).json()["id"]
    src.stop()
    # SSO and console rows as sign-ins leave them, written straight into the file.
    now = int(time.time() * 1000)
    with sqlite3.connect(src.db) as db:
        (tid,) = db.execute("SELECT id FROM tenants WHERE slug = 'acme'").fetchone()
        db.execute("INSERT INTO sso_connections VALUES(?, 'oidc', '{\"issuer\":\"x\"}',"
                   " 'sealed-secret', 1, ?, ?, ?)", (tid, now - 5, now - 9, now - 7))
        db.execute("INSERT INTO sso_links VALUES(?, 'https://idp', 'sub-1', ?, ?)",
                   (tid, uid, now))
        db.executemany("INSERT INTO sso_replay VALUES('https://idp', ?, ?, ?)",
                       [("live", tid, now + 3600_000), ("expired", tid, now - 1)])
        db.execute("INSERT INTO sso_transactions VALUES('h', ?, 'oidc', 'b', '{}', ?)",
                   (tid, now + 600_000))
        db.execute("INSERT INTO sso_codes VALUES('c', ?, ?, 'oidc', 'sp', ?)",
                   (tid, uid, now + 60_000))
        db.execute("INSERT INTO console_sessions VALUES('s', NULL, '', ?, ?, 60000, ?)",
                   (now, now, now + 3600_000))
        db.execute("INSERT INTO setup_links VALUES('l', ?, ?, ?, ?, 0)",
                   (tid, uid, now, now + 600_000))

    # Started once: the target has its tables (and still no rows).
    target = server_factory(data_dir=sqlite_server.data_dir.parent / "pg")
    target.stop()
    schema = schema_of(target.dsn)

    def rows(sql):
        return pg_cluster.psql(sql.replace("S.", f'"{schema}".'),
                               db=pg_cluster.SHARED_DB).splitlines()

    p = migrate(scimd_bin, "--from", src.db, "--to", target.dsn)
    if rows(f"SELECT to_regclass('\"{schema}\".sso_connections') IS NULL") == ["t"]:
        # A PostgreSQL schema without the SSO tables: refused rather than dropped.
        assert p.returncode != 0 and "does not have" in p.stderr, p.stderr
        assert rows("SELECT count(*) FROM S.tenants") == ["0"]
        return
    assert p.returncode == 0, p.stdout + p.stderr
    assert "sso_connections 1 = 1" in p.stdout.splitlines()
    assert "sso_replay 1 = 1" in p.stdout.splitlines()
    assert rows("SELECT tenant_id, protocol, config, secret, enabled, verified_ms, created_ms,"
                " updated_ms FROM S.sso_connections") == \
        [f'{tid}|oidc|{{"issuer":"x"}}|sealed-secret|1|{now - 5}|{now - 9}|{now - 7}']
    assert rows("SELECT tenant_id, issuer, subject, user_id FROM S.sso_links") == \
        [f"{tid}|https://idp|sub-1|{uid}"]
    assert rows("SELECT assertion_id FROM S.sso_replay") == ["live"]
    for table in ("sso_transactions", "sso_codes", "console_sessions", "setup_links"):
        assert rows(f"SELECT count(*) FROM S.{table}") == ["0"], table


def test_a_row_the_target_refuses_stops_the_copy_and_leaves_nothing(
        sqlite_server, server_factory, pg_cluster, scimd_bin):
    src = sqlite_server.start()
    src.make_tenant("acme")
    token = src.mint("acme")["token"]
    ids = [src.scim("POST", "/Users", token, user_body(f"u{i}@acme.example")).json()["id"]
           for i in range(3)]
    src.stop()
    # SQLite keeps any text; jsonb refuses a NUL character (\u0000).
    with sqlite3.connect(src.db) as db:
        db.execute("UPDATE resources SET doc = json_set(doc, '$.nickName', char(0))"
                   " WHERE id = ?", (ids[1],))
    target = server_factory(data_dir=sqlite_server.data_dir.parent / "pg", start=False)
    p = migrate(scimd_bin, "--from", src.db, "--to", target.dsn)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "copying resources, row 2: a value cannot be stored or compared (unsupported Unicode" \
        " escape sequence)" in p.stderr, p.stderr
    assert "=" not in p.stdout  # no counts: the copy did not get that far
    out = pg_cluster.psql(f'SELECT count(*) FROM "{schema_of(target.dsn)}".tenants',
                          db=pg_cluster.SHARED_DB)
    assert out.split() == ["0"]


# Left behind on purpose (docs/deploy.md "What is not copied"), besides SQLite's own tables.
SHORT_LIVED = {"sso_transactions", "sso_codes", "console_sessions", "setup_links",
               "server_keys"}


def test_every_sqlite_table_is_copied_or_known_to_be_short_lived(
        sqlite_server, server_factory, scimd_bin):
    """A migration that adds a table must add it to the copy (store/copy.c,
    sqlite/export.c, postgres/import.c) or to the short-lived list and the docs."""
    src = sqlite_server.start()
    src.stop()
    with sqlite3.connect(src.db) as db:
        tables = {name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    target = server_factory(data_dir=sqlite_server.data_dir.parent / "pg", start=False)
    p = migrate(scimd_bin, "--from", src.db, "--to", target.dsn)
    assert p.returncode == 0, p.stdout + p.stderr
    copied = {line.split(" ", 1)[0] for line in p.stdout.splitlines()}
    own = {"schema_migrations", "sqlite_sequence"}
    assert tables - own - SHORT_LIVED == copied - {"webhook"}, p.stdout
