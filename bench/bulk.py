#!/usr/bin/env python3
"""Creates N users through SCIM /Bulk in requests of B operations, beside the same N users
created through single POSTs, each on one keep-alive connection to one scimd (its own tenant
for each way, so neither sees the other's rows), and reports the wall time and the CPU time
scimd spent (user + system, from /proc) for each. Both ways run every user through the same
handler and one transaction per user: the difference is the HTTP round trips, the parsing of
one body instead of B, and the response (a BulkResponse carries no resource bodies).

usage: /usr/bin/python3 bench/bulk.py [--users N] [--batch B] [--scimd PATH]
                                      [--backend sqlite|postgres]
Nothing here asserts a number: figures are measured, not tested (bench/RESULTS.md)."""
import argparse
import http.client
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import cli, start  # noqa: E402
from pgcluster import PgCluster  # noqa: E402  (bench.py put tests/integration on the path)

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
BULK_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def user(prefix, i):
    name = f"{prefix}{i:07d}@bulk.example"
    return {"schemas": [USER_URN], "userName": name, "externalId": f"{prefix}-{i}",
            "name": {"givenName": "Bulk", "familyName": f"N{i}"},
            "emails": [{"value": name, "type": "work", "primary": True}], "active": True}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def singles(port, token, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"}
    for i in range(n):
        c.request("POST", "/scim/v2/Users", json.dumps(user("single", i)), h)
        r = c.getresponse()
        data = r.read()
        if r.status != 201:
            raise SystemExit(f"POST failed: {r.status} {data[:200]}")


def bulks(port, token, n, batch):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"}
    for k in range(0, n, batch):
        ops = [{"method": "POST", "path": "/Users", "bulkId": f"b{i}", "data": user("bulk", i)}
               for i in range(k, min(n, k + batch))]
        body = json.dumps({"schemas": [BULK_URN], "Operations": ops})
        c.request("POST", "/scim/v2/Bulk", body, h)
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit(f"Bulk failed: {r.status} {data[:200]}")
        bad = [o for o in json.loads(data)["Operations"] if o["status"] != "201"]
        if len(bad) or len(json.loads(data)["Operations"]) != len(ops):
            raise SystemExit(f"Bulk operations failed: {bad[:2]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--scimd", default=str(HERE.parent / "build" / "scimd"))
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    a = ap.parse_args()
    cluster, env, proc = None, None, None
    rows = []
    with tempfile.TemporaryDirectory() as data:
        try:
            if a.backend == "postgres":
                cluster = PgCluster(durable=True).init().start()
                env = dict(os.environ, SCIMD_DB=cluster.create_db("bench"))
            tokens = {}
            for slug in ("single", "bulk"):
                cli(a.scimd, data, "tenant", "create", slug, "--integration", "on", env=env)
                tokens[slug] = cli(a.scimd, data, "token", "mint", slug, env=env)["token"]
            proc, port = start(a.scimd, data, env)
            for way in ("single", "bulk"):
                cpu, t = cpu_seconds(proc.pid), time.perf_counter()
                if way == "single":
                    singles(port, tokens[way], a.users)
                else:
                    bulks(port, tokens[way], a.users, a.batch)
                rows.append((way, time.perf_counter() - t, cpu_seconds(proc.pid) - cpu))
        finally:
            if proc:
                proc.terminate()
                proc.wait(20)
            if cluster:
                cluster.destroy()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE).stdout.strip()
    print(f"\n### {a.backend}, {a.users} users, /Bulk requests of {a.batch}, "
          f"{os.cpu_count()} cores, commit {commit}\n")
    print("| way | requests | wall s | users/s | scimd CPU s | CPU µs per user |")
    print("|---|---|---|---|---|---|")
    for way, wall, cpu in rows:
        reqs = a.users if way == "single" else -(-a.users // a.batch)
        label = "single POST /Users" if way == "single" else f"POST /Bulk of {a.batch}"
        print(f"| {label} | {reqs} | {wall:.2f} | {a.users / wall:.0f} | {cpu:.2f} | "
              f"{cpu / a.users * 1e6:.0f} |")


if __name__ == "__main__":
    main()
