#!/usr/bin/env python3
"""A million users (issues 18 and 19): seeds one tenant through POST /Bulk (the real write
path: the same documents, counts and events as single POSTs) and measures, at each
checkpoint of the user count, in the same run and with the same build:
  - wrk GET /Users/{id} and the `userName eq` filter (-t2 -c64),
  - a full paged import with startIndex paging and with cursor paging (RFC 9865), every page
    timed (first, last, slowest, last/first),
  - scimd's peak RSS (VmHWM) and current RSS, the database and WAL file sizes.

usage: /usr/bin/python3 bench/million.py [--users 1000000] [--checkpoints 100000,1000000]
       [--scimd build-bench/scimd] [--seconds 5] [--threads N]
SQLite only (the data directory is a temporary one, removed at the end)."""
import argparse
import http.client
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402  (start, cli, wrk_one, cpu_seconds)

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def user(i):
    name = f"user{i:07d}@seed.example"
    return name, {"schemas": [USER], "userName": name, "externalId": f"ext-{i}",
                  "name": {"givenName": "Seed", "familyName": f"N{i}"},
                  "emails": [{"value": name, "type": "work", "primary": True}],
                  "active": True}


def seed_bulk(port, token, lo, hi, ids_file, clients=4, batch=1000):
    """Creates users lo..hi-1 in /Bulk requests of `batch`, `clients` at once; appends
    "id userName" lines to ids_file. Returns seconds."""
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"}
    starts = list(range(lo, hi, batch))
    lock, out, failed = threading.Lock(), [], []

    def work(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for s in starts[k::clients]:
            ops, names = [], []
            for i in range(s, min(s + batch, hi)):
                name, doc = user(i)
                names.append(name)
                ops.append({"method": "POST", "path": "/Users", "bulkId": str(i), "data": doc})
            c.request("POST", "/scim/v2/Bulk",
                      json.dumps({"schemas": [BULK], "Operations": ops}), h)
            r = c.getresponse()
            body = r.read()
            if r.status != 200:
                failed.append(f"{r.status} {body[:200]}")
                return
            res = json.loads(body)["Operations"]
            bad = [o for o in res if o.get("status") != "201"]
            if bad:
                failed.append(str(bad[:2]))
                return
            with lock:
                out.extend(f"{o['location'].rsplit('/', 1)[1]} {n}"
                           for o, n in zip(res, names))

    t = time.perf_counter()
    ts = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for x in ts:
        x.start()
    for x in ts:
        x.join()
    if failed:
        raise SystemExit(f"seeding failed: {failed[0]}")
    with open(ids_file, "a") as f:
        f.write("\n".join(out) + "\n")
    return time.perf_counter() - t


def paged_import(port, token, mode, page=100):
    """Every user, page by page over one keep-alive connection, as an identity provider's
    import does. Returns a dict of timings (ms)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = {"Authorization": "Bearer " + token}
    times, seen, start, cursor = [], 0, 1, ""
    t0 = time.perf_counter()
    for _ in range(10_000_000):
        if mode == "index":
            path = f"/scim/v2/Users?startIndex={start}&count={page}"
        else:
            path = f"/scim/v2/Users?cursor={urllib.parse.quote(cursor)}&count={page}"
        t = time.perf_counter()
        c.request("GET", path, headers=h)
        r = c.getresponse()
        body = json.loads(r.read())
        times.append(time.perf_counter() - t)
        if r.status != 200:
            raise SystemExit(f"import failed: {r.status} {body}")
        n = len(body.get("Resources", []))
        seen += n
        if mode == "index":
            if n == 0 or seen >= body["totalResults"]:
                break
            start += n
        else:
            cursor = body.get("nextCursor")
            if not cursor:
                break
    k = max(1, min(10, len(times) // 10))
    first, last = sum(times[:k]) / k, sum(times[-k:]) / k
    return {"users": seen, "pages": len(times), "seconds": time.perf_counter() - t0,
            "first_ms": 1e3 * first, "last_ms": 1e3 * last, "max_ms": 1e3 * max(times),
            "last_over_first": last / first}


def rss(pid):
    s = open(f"/proc/{pid}/status").read()
    get = lambda k: int(re.search(rf"^{k}:\s+(\d+) kB", s, re.M).group(1)) // 1024
    return get("VmRSS"), get("VmHWM")


def size_mb(path):
    return os.path.getsize(path) / 1e6 if os.path.exists(path) else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--checkpoints", default="100000,1000000")
    ap.add_argument("--scimd", default=str(HERE.parent / "build-bench" / "scimd"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    marks = sorted({int(x) for x in a.checkpoints.split(",") if int(x) <= a.users} | {a.users})
    tmp = tempfile.mkdtemp(prefix="scimd-million-")
    data, ids_file = os.path.join(tmp, "data"), os.path.join(tmp, "ids")
    env = dict(os.environ)
    if a.threads:
        env["SCIMD_THREADS"] = str(a.threads)
    try:
        bench.cli(a.scimd, data, "tenant", "create", "bench", "--integration", "on", env=env)
        token = bench.cli(a.scimd, data, "token", "mint", "bench", env=env)["token"]
        proc, port = bench.start(a.scimd, data, env=env)
        db = os.path.join(data, "scimd.db")
        print(f"### A million users: SQLite, commit {git_rev()}, {os.cpu_count()} cores, "
              f"wrk -t2 -c64 -d{a.seconds}s\n")
        print("| users | seed s (users/s) | GET req/s, p99 ms, CPU µs | filter req/s, p99 ms, "
              "CPU µs | index import s, first/last/max ms, last÷first | cursor import s, "
              "first/last/max ms, last÷first | RSS MB (peak) | db MB | WAL MB |")
        print("|---|---|---|---|---|---|---|---|---|")
        have = 0
        for mark in marks:
            secs = seed_bulk(port, token, have, mark, ids_file)
            seeded = mark - have
            have = mark
            row = [f"{mark:,}".replace(",", " "), f"{secs:.0f} ({seeded / secs:.0f})"]
            for sc in ("get", "filter"):
                c0 = bench.cpu_seconds([proc.pid])
                r = bench.wrk_one(port, token, ids_file, sc, a.seconds, 2, 64, "m-",
                                  ("x", "x"))
                cpu = 1e6 * (bench.cpu_seconds([proc.pid]) - c0) / max(1, r["requests"])
                row.append(f"{r['requests'] / r['seconds']:.0f}, {r['p99_ms']:.1f}, {cpu:.0f}")
            for mode in ("index", "cursor"):
                im = paged_import(port, token, mode)
                assert im["users"] == mark, im
                row.append(f"{im['seconds']:.1f}, {im['first_ms']:.2f}/{im['last_ms']:.2f}/"
                           f"{im['max_ms']:.1f}, {im['last_over_first']:.2f}")
            now, peak = rss(proc.pid)
            row += [f"{now} ({peak})", f"{size_mb(db):.0f}", f"{size_mb(db + '-wal'):.1f}"]
            print("| " + " | ".join(row) + " |", flush=True)
        proc.terminate()
        proc.wait(timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def git_rev():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=HERE).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
