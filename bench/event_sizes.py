"""Bytes per audit event on SQLite, by kind (docs/deploy.md "Event retention and database size").

usage: /usr/bin/python3 bench/event_sizes.py [USERS] [SCIMD]   (defaults: 2000, build/scimd)

Provisions USERS enterprise users over SCIM into a fresh database, changes each one's title,
adds each to a group, deletes half, and writes one sso.signin row per user as the SSO code
writes it (a real sign-in needs an identity provider). Then, per kind, deletes its rows and
VACUUMs: the bytes freed, per event, include the row and its index entries."""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

BIN = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "build/scimd")
D = tempfile.mkdtemp(prefix="scimd-event-sizes-")
KEY = "k" * 32
env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_")}
p = subprocess.Popen([BIN, "serve", "--port", "0", "--data-dir", D, "--operator-key", KEY,
                      "--access-log", "off"], stderr=subprocess.PIPE, text=True, env=env)
port = None
for line in p.stderr:
    m = re.search(r"listening on http://[^ ]+:(\d+)", line)
    if m:
        port = int(m.group(1)); break
threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
U = f"http://127.0.0.1:{port}"
A = {"Authorization": "Bearer " + KEY}
r = requests.post(U + "/admin/v1/tenants", json={"slug": "acme", "integrationEnabled": True}, headers=A)
assert r.status_code == 201, r.text
tok = json.loads(subprocess.run([BIN, "token", "mint", "acme", "--label", "okta", "--data-dir", D],
                                capture_output=True, text=True, env=env).stdout)["token"]
S = {"Authorization": "Bearer " + tok, "Content-Type": "application/scim+json"}
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ids = []
for i in range(N):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "userName": f"firstname.lastname{i}@acme-corporation.example",
            "externalId": str(uuid.uuid4()),
            "name": {"givenName": f"Firstname{i}", "familyName": f"Lastname{i}"},
            "displayName": f"Firstname{i} Lastname{i}",
            "emails": [{"value": f"firstname.lastname{i}@acme-corporation.example", "type": "work", "primary": True}],
            "title": "Senior Account Executive", "active": True,
            ENT: {"department": "Sales EMEA", "employeeNumber": str(100000 + i)}}
    r = requests.post(U + "/scim/v2/Users", json=body, headers=S)
    assert r.status_code == 201, r.text
    ids.append(r.json()["id"])
for i in ids:
    r = requests.patch(U + f"/scim/v2/Users/{i}", headers=S, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "Regional Sales Director"}]})
    assert r.status_code in (200, 204), r.text
groups = []
for g in range(10):
    r = requests.post(U + "/scim/v2/Groups", headers=S, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": f"Team {g}"})
    groups.append(r.json()["id"])
for n, i in enumerate(ids):
    r = requests.patch(U + f"/scim/v2/Groups/{groups[n % 10]}", headers=S, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": i}]}]})
    assert r.status_code in (200, 204), r.text
for i in ids[: N // 2]:
    r = requests.delete(U + f"/scim/v2/Users/{i}", headers=S)
    assert r.status_code == 204, r.text
p.terminate(); p.wait()
db = D + "/scimd.db"
con = sqlite3.connect(db)
tid = con.execute("SELECT id FROM tenants").fetchone()[0]
# sign-ins: the row an SSO sign-in writes (core/audit via sso/web.c), inserted as such
now = int(time.time() * 1000)
data = json.dumps({"protocol": "saml", "initiated": "sp", "result": "success", "reason": "ok"})
con.executemany("INSERT INTO events(tenant_id, created_ms, actor, kind, rtype, resource_id, data) VALUES(?,?,?,?,?,?,?)",
                [(tid, now, "sso:saml", "sso.signin", 1, ids[N // 2 + k % (N // 2)], data) for k in range(N)])
con.commit()
print("kind, events, average bytes of data:", con.execute(
    "SELECT kind, count(*), avg(length(data)) FROM events GROUP BY kind").fetchall())
con.execute("PRAGMA wal_checkpoint(TRUNCATE)"); con.execute("VACUUM"); con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
def size():
    return os.path.getsize(db)
for kind in [r[0] for r in con.execute("SELECT DISTINCT kind FROM events")]:
    n = con.execute("SELECT count(*) FROM events WHERE kind=?", (kind,)).fetchone()[0]
    if n < 50: continue
    before = size()
    con.execute("DELETE FROM events WHERE kind=?", (kind,)); con.commit(); con.execute("VACUUM"); con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"{kind:20s} n={n:6d} bytes/event={(before - size()) / n:7.0f}")
con.close()
shutil.rmtree(D)
