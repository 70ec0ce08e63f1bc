#!/usr/bin/env python3
"""Benchmarks scimd on this machine: seeds N users, then measures with wrk (keep-alive, on
127.0.0.1) /healthz and the SCIM scenarios, nginx serving the same bytes from memory and
libmicrohttpd alone (bench/mhd_floor.c, next to --scimd) in the same rounds, plus the wall time
of a full paged import (startIndex steps of 100 on one connection, as Okta does). The group
scenarios PATCH one member out of and back into a group of 10 and a group holding every seeded
user (group_big: 100 000 members with --users 100000), to show that a membership change costs
the same whatever the group's size. Beside throughput it reports the CPU time scimd spent per
request (user + system, from /proc): wrk shares the machine, so throughput moves with whatever
else runs, while CPU per request barely does.

usage: /usr/bin/python3 bench/bench.py [--users N] [--seconds S] [--rounds R] [--scimd PATH]
                                       [--backend sqlite|postgres] [--instances N]
With --backend postgres a throwaway PostgreSQL cluster (tests/integration/pgcluster.py, fsync on,
synchronous_commit off like SQLite's synchronous=NORMAL) holds the data; --instances N starts N
scimd on it and drives each with its own wrk (64/N connections), summing the throughput.
Results are printed as a Markdown table; copy them to bench/RESULTS.md with the machine and
commit. Nothing here asserts a number: figures are measured, not tested."""
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

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
from pgcluster import PgCluster  # noqa: E402

SCENARIOS = ["healthz", "get", "filter", "list", "post", "patch"]
# Measured against nginx too, which serves for the same URLs the bytes scimd answered (one
# user's document, one filter's ListResponse, "ok") from memory: the machine's ceiling for
# an HTTP server answering that much, beside which every scimd figure is read.
NGINX_SCENARIOS = ["healthz", "get", "filter"]
NGINX = "/usr/sbin/nginx"
# Beside nginx's GET, in the same rounds, the floor under scimd's GET: libmicrohttpd alone with
# scimd's daemon flags and thread count answering the same bytes from memory (bench/mhd_floor.c,
# built next to scimd). The gap between it and nginx is the HTTP library's; between it and
# scimd's GET, scimd's own work (the token, the read, the rendering).
# After the groups exist (every seeded user is in the big one): a GET then also reads and
# renders the user's groups, and membership PATCHes of a small and a huge group.
GROUP_SCENARIOS = ["get_in_group", "group_small", "group_big"]
SMALL_GROUP = 10  # members of the small group; the big group holds every seeded user


def start(scimd, data, env=None, threads=0, answer_cache_mb=None):
    extra = [] if answer_cache_mb is None else ["--answer-cache-mb", str(answer_cache_mb)]
    p = subprocess.Popen([scimd, "serve", "--port", "0", "--data-dir", data, "--access-log",
                          "off", "--operator-key", "bench-operator-key-0123456789",
                          "--threads", str(threads), *extra],
                         stderr=subprocess.PIPE, text=True, env=env)
    for line in p.stderr:
        m = re.search(r"listening on http://[^ ]+:(\d+)", line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, int(m.group(1))
    raise SystemExit("scimd did not start")


def cli(scimd, data, *args, env=None):
    return json.loads(subprocess.run([scimd, *args, "--data-dir", data], check=True,
                                     capture_output=True, text=True, env=env).stdout)


def seed(port, token, n, threads=4):
    """Creates n users over keep-alive connections; returns [(id, userName)]."""
    out, lock = [], threading.Lock()

    def work(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for i in range(k, n, threads):
            name = f"user{i:07d}@seed.example"
            body = json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                               "userName": name, "externalId": f"ext-{i}",
                               "name": {"givenName": "Seed", "familyName": f"N{i}"},
                               "emails": [{"value": name, "type": "work", "primary": True}],
                               "active": True})
            c.request("POST", "/scim/v2/Users", body, {"Authorization": "Bearer " + token,
                                                       "Content-Type": "application/scim+json"})
            r = c.getresponse()
            data = r.read()
            if r.status != 201:
                raise SystemExit(f"seed failed: {r.status} {data[:200]}")
            mine.append((json.loads(data)["id"], name))
        with lock:
            out.extend(mine)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def make_group(port, token, name, ids, chunk=1000):
    """Creates a group and adds ids in PATCHes of `chunk` members (as Okta pushes a large
    group). Returns (group id, seconds)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"}
    t = time.perf_counter()
    c.request("POST", "/scim/v2/Groups", json.dumps(
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name}), h)
    gid = json.loads(c.getresponse().read())["id"]
    for k in range(0, len(ids), chunk):
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members",
                                "value": [{"value": i} for i in ids[k:k + chunk]]}]}
        c.request("PATCH", f"/scim/v2/Groups/{gid}?excludedAttributes=members",
                  json.dumps(body), h)
        r = c.getresponse()
        data = r.read()
        if r.status not in (200, 204):
            raise SystemExit(f"group push failed: {r.status} {data[:200]}")
    return gid, time.perf_counter() - t


def fetch(port, token, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"GET {path}: {r.status}")
    return body.decode()


def nginx_quote(text):
    """text as an nginx string literal; `$` would start a variable, so it is ${dollar}."""
    text = text.replace("\\", "\\\\").replace("'", "\\'").replace("$", "${dollar}")
    return "'" + text + "'"


def nginx_start(tmp, bodies):
    """nginx (Debian's, one worker per core, keep-alive without limit, no log) answering
    /healthz, /scim/v2/Users/{any} and /scim/v2/Users?… with scimd's own bodies."""
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; worker_processes auto; pid {tmp}/nginx.pid;
error_log stderr error;
events {{ worker_connections 4096; }}
http {{
  access_log off; keepalive_requests 100000000; keepalive_timeout 60s;
  geo $dollar {{ default "$"; }}
  client_body_temp_path {tmp}/b; proxy_temp_path {tmp}/p; fastcgi_temp_path {tmp}/f;
  uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;
  server {{
    listen 127.0.0.1:{port};
    default_type application/scim+json;
    location = /healthz {{ default_type text/plain; return 200 {nginx_quote(bodies["healthz"])}; }}
    location = /scim/v2/Users {{ return 200 {nginx_quote(bodies["filter"])}; }}
    location /scim/v2/Users/ {{ return 200 {nginx_quote(bodies["get"])}; }}
  }}
}}
""")
    p = subprocess.Popen([NGINX, "-p", tmp, "-c", conf], stderr=subprocess.PIPE, text=True)
    return answering(p, port, "nginx")


def free_port():
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def answering(p, port, name):
    """(p, port) once the server p started answers HTTP on port (5 s at most)."""
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return p, port
        except OSError:
            if p.poll() is not None:
                raise SystemExit(f"{name} did not start"
                                 + (": " + p.stderr.read() if p.stderr else ""))
            time.sleep(0.05)
    raise SystemExit(f"{name} did not answer")


def mhd_floor_start(binary, tmp, body, threads):
    """bench/mhd_floor.c on a free port with `threads` workers, answering `body`; None when it
    was not built (bench/run builds it)."""
    if not os.path.exists(binary):
        return None
    port = free_port()
    body_file = os.path.join(tmp, "floor-body")
    with open(body_file, "w") as f:
        f.write(body)
    return answering(subprocess.Popen([binary, str(port), str(threads), body_file]), port,
                     "mhd-floor")


def cpu_seconds(pids):
    """User + system CPU time of the processes so far."""
    total = 0
    for pid in pids:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(f[11]) + int(f[12])
    return total / os.sysconf("SC_CLK_TCK")


def pg_cpu_seconds(cluster):
    """CPU time of the PostgreSQL cluster so far: the postmaster, its live children (backends,
    walwriter, checkpointer, autovacuum) and the children it has reaped. 0 without one."""
    if cluster is None:
        return 0.0
    master = int(open(os.path.join(cluster.data, "postmaster.pid")).readline())
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d) == master:
            total += sum(int(x) for x in f[11:15])  # its own and its reaped children's
        elif int(f[1]) == master:
            total += int(f[11]) + int(f[12])
    return total / os.sysconf("SC_CLK_TCK")


def full_import(ports, token, pids=(), cluster=None, page=100):
    """Okta's import: startIndex=1,101,… on one connection, or with several instances one
    connection each, pages alternating between them as a round-robin load balancer sends
    them. Returns (seconds, users seen, last pages over first pages latency, slowest page
    seconds, scimd CPU seconds, PostgreSQL CPU seconds)."""
    conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=600) for p in ports]
    start, seen, times = 1, 0, []
    cpu0, pg0 = cpu_seconds(pids), pg_cpu_seconds(cluster)
    t0 = time.perf_counter()
    for k in range(10_000_000):
        c = conns[k % len(conns)]
        t = time.perf_counter()
        c.request("GET", f"/scim/v2/Users?startIndex={start}&count={page}",
                  headers={"Authorization": "Bearer " + token})
        body = json.loads(c.getresponse().read())
        times.append(time.perf_counter() - t)
        n = len(body["Resources"])
        seen += n
        if n == 0 or seen >= body["totalResults"]:
            break
        start += n
    total = time.perf_counter() - t0
    first = sum(times[:3]) / min(3, len(times))
    last = sum(times[-3:]) / min(3, len(times))
    return (total, seen, last / first, max(times), cpu_seconds(pids) - cpu0,
            pg_cpu_seconds(cluster) - pg0)


# --diagnose: what PostgreSQL spends a scenario's time on. The cluster preloads
# pg_stat_statements (statements by total time) and auto_explain (the plan of every statement
# slower than DIAG_SLOW_MS, with row counts and buffers, in the server log), logs checkpoints and
# autovacuum runs, and a sampler in the "postgres" database records every 10 ms what each
# backend of the bench database is doing: on CPU (active, no wait event), waiting (lock, I/O,
# WAL…), or idle in a transaction (waiting for scimd's next statement).
DIAG_SLOW_MS = 20
DIAG_SETTINGS = ("shared_preload_libraries=pg_stat_statements,auto_explain",
                 f"auto_explain.log_min_duration={DIAG_SLOW_MS}", "auto_explain.log_analyze=on",
                 "auto_explain.log_buffers=on", "auto_explain.log_timing=off",
                 "log_checkpoints=on", "log_autovacuum_min_duration=0",
                 "pg_stat_statements.track=all", "track_io_timing=on")


class PgDiag:
    def __init__(self, cluster, out_dir):
        self.cluster, self.out = cluster, pathlib.Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        cluster.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
                     " CREATE UNLOGGED TABLE IF NOT EXISTS waits(tick int, backend text,"
                     " state text, wtype text, wevent text, query text)")
        self.thread = None

    def begin(self, seconds):
        """Resets the statement statistics and samples activity for `seconds` (in the
        background: call end() after the scenario)."""
        self.cluster.psql("SELECT pg_stat_statements_reset(); TRUNCATE waits")
        ticks = int(seconds * 100)
        sql = ("DO $$ BEGIN FOR i IN 1.." + str(ticks) + " LOOP"
               " INSERT INTO waits SELECT i, backend_type, state, wait_event_type, wait_event,"
               " left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity"
               " WHERE datname = 'bench';"
               " PERFORM pg_stat_clear_snapshot(); PERFORM pg_sleep(0.01); END LOOP; END $$")
        self.thread = threading.Thread(target=self.cluster.psql, args=(sql,))
        self.thread.start()

    def end(self, name):
        self.thread.join()
        waits = self.cluster.psql(
            "SELECT backend, coalesce(state, '-'), coalesce(wtype, 'CPU'),"
            " coalesce(wevent, '-'), count(*),"
            " round(100.0 * count(*) / sum(count(*)) OVER (), 1) FROM waits"
            " GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC LIMIT 15")
        stmts = self.cluster.psql(
            "SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3),"
            " round(max_exec_time::numeric, 1), left(regexp_replace(query, '\\s+', ' ', 'g'), 90)"
            " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
            " WHERE datname = 'bench') ORDER BY total_exec_time DESC LIMIT 15")
        text = (f"## {name}: backends of the bench database, sampled every 10 ms\n"
                "backend|state|wait type|wait event|samples|%\n" + waits +
                f"\n## {name}: statements by total execution time\n"
                "calls|total ms|mean ms|max ms|query\n" + stmts)
        (self.out / f"{name}.txt").write_text(text)
        print(text)

    def finish(self):
        """Keeps the server log: auto_explain's plans, checkpoints, autovacuum runs."""
        shutil.copy(self.cluster.log, self.out / "server.log")


def stats_state(cluster):
    """What the planner knows of resources and members as an import starts: rows changed since
    the tables' last ANALYZE, and how long ago that was (never: -1)."""
    if cluster is None:
        return ""
    out = cluster.psql(
        "SELECT relname, n_live_tup, n_mod_since_analyze, coalesce(extract(epoch FROM now() -"
        " greatest(last_analyze, last_autoanalyze))::int, -1) FROM pg_stat_user_tables"
        " WHERE relname IN ('resources', 'members') ORDER BY relname", db="bench")
    size = cluster.psql("SELECT pg_size_pretty(pg_database_size('bench'))").strip()
    parts = [f"database {size}"]
    for line in out.split():
        name, live, mod, ago = line.split("|")
        parts.append(f"{name}: {mod} of {live} rows changed since the last ANALYZE"
                     + (f" ({ago} s ago)" if int(ago) >= 0 else " (never analysed)"))
    return "; ".join(parts)


def wrk_one(port, token, ids_file, scenario, seconds, threads, conns, tag, groups):
    env = dict(os.environ, SCENARIO=scenario, TOKEN=token, IDS_FILE=ids_file, WRK_TAG=tag,
               GROUP_SMALL=groups[0], GROUP_BIG=groups[1], SMALL_GROUP=str(SMALL_GROUP))
    p = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "-s",
                        str(HERE / "scenario.lua"), f"http://127.0.0.1:{port}"],
                       env=env, capture_output=True, text=True, check=True)
    m = re.search(r"^RESULT (.*)$", p.stdout, re.M)
    return json.loads(m.group(1))


def wrk(ports, pids, token, ids_file, scenario, seconds, groups, conns=64, cluster=None):
    """One wrk per instance at once (-t2 -c64 in all); throughput summed, p99 the worst,
    scimd's (and PostgreSQL's) CPU per request over all instances."""
    results = [None] * len(ports)
    cpu0, pg0 = cpu_seconds(pids), pg_cpu_seconds(cluster)
    threads = max(1, 2 // len(ports))

    def run(i):
        results[i] = wrk_one(ports[i], token, ids_file, scenario, seconds, threads,
                             conns // len(ports), f"i{i}-", groups)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(ports))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    r = {"requests": sum(x["requests"] for x in results),
         "non2xx": sum(x["non2xx"] for x in results),
         "p99_ms": max(x["p99_ms"] for x in results),
         "p50_ms": max(x["p50_ms"] for x in results),
         "p90_ms": max(x["p90_ms"] for x in results),
         "max_ms": max(x["max_ms"] for x in results)}
    r["rps"] = sum(x["requests"] / x["seconds"] for x in results)
    r["cpu_us"] = 1e6 * (cpu_seconds(pids) - cpu0) / max(1, r["requests"])
    r["pg_cpu_us"] = 1e6 * (pg_cpu_seconds(cluster) - pg0) / max(1, r["requests"])
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scimd", default=str(HERE.parent / "build-bench" / "scimd"))
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--instances", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0,
                    help="scimd's --threads (0: its default); on PostgreSQL also its connections")
    ap.add_argument("--answer-cache-mb", type=int, default=None,
                    help="scimd's --answer-cache-mb (MiB of kept SCIM answers; 0: none; "
                         "default: scimd's own)")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS + GROUP_SCENARIOS),
                    help="comma-separated wrk scenarios to run, or 'none' for the imports only "
                         "(seed, import, push every user into one group, import at once and "
                         "--settle seconds later)")
    ap.add_argument("--settle", type=int, default=None,
                    help="seconds to wait before importing once more after the group push, so "
                         "autovacuum may analyse (default: 60 on PostgreSQL, 0 on SQLite)")
    ap.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                    help="a PostgreSQL server setting for the bench cluster (repeatable), e.g. "
                         "synchronous_commit=on")
    ap.add_argument("--diagnose", metavar="DIR",
                    help="PostgreSQL: sample wait events and statement times during each wrk "
                         "scenario's first round, log slow plans (auto_explain) and checkpoints; "
                         "the reports and the server log go to DIR")
    a = ap.parse_args()
    if a.settle is None:
        a.settle = 60 if a.backend == "postgres" else 0
    chosen = [] if a.scenarios == "none" else a.scenarios.split(",")
    unknown = set(chosen) - set(SCENARIOS + GROUP_SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if a.diagnose and a.backend != "postgres":
        raise SystemExit("--diagnose is for --backend postgres")
    scenarios = [s for s in SCENARIOS if s in chosen]
    group_scenarios = [s for s in GROUP_SCENARIOS if s in chosen]
    cluster, env, procs, nginx, diag = None, None, [], None, None
    with tempfile.TemporaryDirectory() as data:
        try:
            if a.backend == "postgres":
                settings = list(a.pg_setting) + (list(DIAG_SETTINGS) if a.diagnose else [])
                cluster = PgCluster(durable=True).init().start(settings)
                env = dict(os.environ, SCIMD_DB=cluster.create_db("bench"))
                if a.diagnose:
                    diag = PgDiag(cluster, a.diagnose)
            cli(a.scimd, data, "tenant", "create", "bench", "--integration", "on", env=env)
            token = cli(a.scimd, data, "token", "mint", "bench", env=env)["token"]
            procs = [start(a.scimd, data, env, a.threads, a.answer_cache_mb)
                     for _ in range(a.instances)]
            ports = [port for _, port in procs]
            pids = [proc.pid for proc, _ in procs]
            t = time.perf_counter()
            users = seed(ports[0], token, a.users)
            seed_s = time.perf_counter() - t
            ids_file = os.path.join(data, "ids.txt")
            with open(ids_file, "w") as f:
                f.writelines(f"{i} {n}\n" for i, n in users)
            imports = [full_import(ports, token, pids, cluster) for _ in range(a.rounds)]
            rows = {s: [] for s in SCENARIOS + GROUP_SCENARIOS}
            nginx_rows = {s: [] for s in NGINX_SCENARIOS}
            bodies = {"healthz": "ok\n", "get": fetch(ports[0], token, f"/scim/v2/Users/{users[0][0]}"),
                      "filter": fetch(ports[0], token, "/scim/v2/Users?filter=userName%20eq%20%22"
                                      + users[0][1] + "%22&startIndex=1&count=100")}
            use_nginx = os.path.exists(NGINX) and any(s in NGINX_SCENARIOS for s in scenarios)
            nginx = nginx_start(data, bodies) if use_nginx else None
            # scimd's own default (src/main.c worker_threads): 4 per core on SQLite, 1 on PostgreSQL.
            scimd_threads = a.threads or min(64, os.cpu_count() * (4 if a.backend == "sqlite" else 1))
            floor = (mhd_floor_start(str(pathlib.Path(a.scimd).parent / "mhd-floor"), data,
                                     bodies["get"], scimd_threads)
                     if nginx and "get" in scenarios else None)
            floor_rows = {"mhd": []}

            def measure(s, k, groups):
                if diag and k == 0:
                    diag.begin(a.seconds)
                rows[s].append(wrk(ports, pids, token, ids_file, s, a.seconds, groups,
                                   cluster=cluster))
                if diag and k == 0:
                    diag.end(s)

            for k in range(a.rounds):
                for s in scenarios:
                    measure(s, k, ("", ""))
                    if nginx and s in NGINX_SCENARIOS:
                        nginx_rows[s].append(wrk([nginx[1]], [nginx[0].pid], token, ids_file, s,
                                                 a.seconds, ("", "")))
                    if floor and s == "get":
                        floor_rows["mhd"].append(wrk([floor[1]], [floor[0].pid], token, ids_file,
                                                     "get", a.seconds, ("", "")))
            small, _ = make_group(ports[0], token, "small", [i for i, _ in users[:SMALL_GROUP]])
            big, big_s = make_group(ports[0], token, "big", [i for i, _ in users])
            stats_pushed = stats_state(cluster)
            grouped_imports = [full_import(ports, token, pids, cluster) for _ in range(a.rounds)]
            settled, stats_settled = [], ""
            if a.settle:
                time.sleep(a.settle)
                stats_settled = stats_state(cluster)
                settled = [full_import(ports, token, pids, cluster)]
            for k in range(a.rounds):
                for s in group_scenarios:
                    measure(s, k, (small, big))
            if diag:
                diag.finish()
        finally:
            for proc, _ in procs + ([nginx] if nginx else []) + ([floor] if floor else []):
                proc.terminate()
                proc.wait(20)
            if cluster:
                cluster.destroy()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=HERE).stdout.strip()
    print(f"\n### {a.backend}, {a.instances} instance(s), {a.users} users, {os.cpu_count()} "
          f"cores, commit {commit}, wrk -t2 -c64 -d{a.seconds}s x {a.rounds} rounds"
          + (f", scimd --threads {a.threads}" if a.threads else "")
          + (f", --answer-cache-mb {a.answer_cache_mb}" if a.answer_cache_mb is not None else "")
          + "".join(f", {kv}" for kv in a.pg_setting) + "\n")
    print(f"Seeding {a.users} users with POST (4 connections): {seed_s:.1f} s "
          f"({a.users / seed_s:.0f} creates/s)\n")
    print(f"Pushing a group of {a.users} members in PATCHes of 1000: {big_s:.1f} s\n")
    if any(nginx_rows.values()):
        print("nginx serving the same bytes from memory for the same URLs, in the same run:\n")
        print("| scenario | nginx req/s (rounds) | scimd req/s (rounds) | scimd share of nginx |")
        print("|---|---|---|---|")
        for s in NGINX_SCENARIOS:
            if not nginx_rows[s]:
                continue
            n_best = max(r["rps"] for r in nginx_rows[s])
            s_best = max(r["rps"] for r in rows[s])
            print(f"| {s} ({len(bodies[s])} bytes) | "
                  + " / ".join(f"{r['rps']:.0f}" for r in nginx_rows[s]) + " | "
                  + " / ".join(f"{r['rps']:.0f}" for r in rows[s])
                  + f" | {100 * s_best / n_best:.0f} % |")
        print()
    elif any(s in NGINX_SCENARIOS for s in scenarios):
        print(f"(no nginx at {NGINX}: bash tools/install-deps.sh test installs it)\n")
    if floor_rows["mhd"]:
        n_best = max(r["rps"] for r in nginx_rows["get"])
        print(f"The floor under a GET by id ({len(bodies['get'])} bytes), in the same rounds:\n")
        print("| server | req/s (rounds) | share of nginx | CPU µs/request |")
        print("|---|---|---|---|")
        for name, got in (("nginx", nginx_rows["get"]),
                          (f"libmicrohttpd alone, {scimd_threads} threads (bench/mhd_floor.c)",
                           floor_rows["mhd"]),
                          ("scimd, the GET", rows["get"])):
            best = max(r["rps"] for r in got)
            print(f"| {name} | " + " / ".join(f"{r['rps']:.0f}" for r in got)
                  + f" | {100 * best / n_best:.0f} % | "
                  + (f"{got[-1]['cpu_us']:.1f} |" if got is not nginx_rows["get"] else "– |"))
        print()
    if scenarios or group_scenarios:
        ceiling = max((r["rps"] for r in rows["healthz"]), default=0)
        floor = min((r["cpu_us"] for r in rows["healthz"]), default=0)
        print("| scenario | req/s (rounds) | p50 ms | p90 ms | p99 ms (rounds) | max ms"
              " | share of /healthz"
              " | scimd CPU µs/request | PostgreSQL CPU µs/request | CPU share of /healthz"
              " | non-2xx |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for s in scenarios + group_scenarios:
            rps = " / ".join(f"{r['rps']:.0f}" for r in rows[s])
            p50 = " / ".join(f"{r['p50_ms']:.2f}" for r in rows[s])
            p90 = " / ".join(f"{r['p90_ms']:.1f}" for r in rows[s])
            p99 = " / ".join(f"{r['p99_ms']:.2f}" for r in rows[s])
            top = " / ".join(f"{r['max_ms']:.0f}" for r in rows[s])
            best = max(r["rps"] for r in rows[s])
            cpu = min(r["cpu_us"] for r in rows[s])
            pg = min(r["pg_cpu_us"] for r in rows[s])
            errs = sum(r["non2xx"] for r in rows[s])
            share = f"{100 * best / ceiling:.0f} %" if ceiling else "–"
            cpu_share = f"{100 * floor / cpu:.0f} %" if floor else "–"
            pg_col = f"{pg:.1f}" if cluster else "–"
            print(f"| {s} | {rps} | {p50} | {p90} | {p99} | {top} | {share} | {cpu:.1f} | {pg_col} | {cpu_share}"
                  f" | {errs} |")
        print()
    if stats_pushed:
        print(f"Statistics right after the push: {stats_pushed}")
    if stats_settled:
        print(f"Statistics {a.settle} s later: {stats_settled}")
    for label, runs in (("", imports), (" (seeded users in a group, right after the push)",
                                         grouped_imports),
                        (f" (the same, {a.settle} s later)", settled)):
        for total, seen, ratio, slowest, cpu, pg in runs:
            print(f"Full paged import{label} (count=100, pages over {a.instances} instance(s)):"
                  f" {seen} users in {total:.2f} s; last pages / first pages latency = "
                  f"{ratio:.2f}; slowest page {1000 * slowest:.1f} ms; CPU s scimd {cpu:.2f}"
                  + (f", PostgreSQL {pg:.2f}" if cluster else ""))


if __name__ == "__main__":
    sys.exit(main())
