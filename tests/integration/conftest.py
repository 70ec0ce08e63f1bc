"""Fixtures that start the real scimd binary on a free loopback port with a fresh database.

Every test gets its own daemon and data directory (start-up takes a few milliseconds), so
tests never share state. Only 127.0.0.1 is ever contacted.

The backend is SQLite unless `--backend postgres` (or SCIMD_TEST_BACKEND=postgres) is given:
then one throwaway PostgreSQL cluster serves the session (pgcluster.py) and each data
directory a test uses gets a fresh schema in it (its own tables, as a database would), dropped
when the test ends."""
import json
import os
import pathlib
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest
import requests

from pgcluster import PgCluster

OPERATOR_KEY = "test-operator-key-0123456789abcdef"
SCIM = "application/scim+json"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
TENANT_URN = "urn:scimd:params:scim:schemas:extension:tenant:2.0:User"


def pytest_addoption(parser):
    parser.addoption("--scimd", default=os.environ.get("SCIMD_BIN", "build/scimd"),
                     help="path to the scimd binary under test")
    parser.addoption("--backend", default=os.environ.get("SCIMD_TEST_BACKEND", "sqlite"),
                     choices=["sqlite", "postgres"], help="database backend under test")


@pytest.fixture(scope="session")
def backend(request):
    return request.config.getoption("--backend")


@pytest.fixture(scope="session")
def pg_cluster(backend):
    """The session's PostgreSQL cluster, or None on SQLite."""
    if backend != "postgres":
        yield None
        return
    cluster = PgCluster().init().start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def scimd_bin(request):
    path = pathlib.Path(request.config.getoption("--scimd")).resolve()
    if not path.exists():
        pytest.exit(f"scimd binary not found at {path}; build first", returncode=2)
    return str(path)


class Scimd:
    """One scimd process. Its stderr (log) is collected in self.log_lines."""

    def __init__(self, binary, data_dir, extra_args=(), env=None, dsn=None, cluster=None):
        self.binary = binary
        self.data_dir = pathlib.Path(data_dir)
        self.extra_args = list(extra_args)
        self.dsn = dsn
        self.cluster = cluster
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("SCIMD_"):
                del self.env[k]
        if dsn:
            self.env["SCIMD_DB"] = dsn
        self.env.update(env or {})
        self.proc = None
        self.port = None
        self.log_lines = []
        self._reader = None

    @property
    def db(self):
        return str(self.data_dir / "scimd.db")

    def dump(self):
        """Every byte the database holds (the SQLite file and its WAL, or a pg_dump)."""
        if self.dsn:
            return self.cluster.dump(self.dsn)
        return open(self.db, "rb").read() + b"".join(
            open(p, "rb").read() for p in [self.db + "-wal"] if os.path.exists(p))

    def execute(self, sql):
        """Runs SQL text on the instance's database (the SQLite file, or its PostgreSQL
        schema), for tests that age or tamper with rows."""
        if self.dsn:
            name, _, query = self.dsn.rsplit("/", 1)[1].partition("?")
            schema = query.rsplit("%3D", 1)[1]
            self.cluster.psql(f'SET search_path TO "{schema}"; {sql}', db=name)
            return
        with sqlite3.connect(self.db) as db:
            db.execute(sql)
        db.close()

    def scalar(self, sql):
        """The first column of the first row of a query on the instance's database, as text."""
        if self.dsn:
            name, _, query = self.dsn.rsplit("/", 1)[1].partition("?")
            schema = query.rsplit("%3D", 1)[1]
            out = self.cluster.psql(f'SET search_path TO "{schema}"; {sql}', db=name)
            return out.strip().splitlines()[-1] if out.strip() else None
        with sqlite3.connect(self.db) as db:
            row = db.execute(sql).fetchone()
        db.close()
        return None if row is None else str(row[0])

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=10):
        args = [self.binary, "serve", "--listen", "127.0.0.1", "--port", "0",
                "--data-dir", str(self.data_dir), "--operator-key", OPERATOR_KEY,
                *self.extra_args]
        self.log_lines = []
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.log_lines.append(line.rstrip("\n"))
                m = re.search(r"listening on https?://[^ ]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        if not ready.wait(timeout) or self.port is None:
            self.stop()
            raise RuntimeError("scimd did not start:\n" + "\n".join(self.log_lines))
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(5)
        self._reader.join(5)
        self.proc.stdout.close()
        self.proc = None
        return rc

    @property
    def log(self):
        return "\n".join(self.log_lines)

    # --- HTTP helpers ---
    def request(self, method, path, token=None, json_body=None, data=None, headers=None,
                **kw):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            data = json.dumps(json_body)
            h.setdefault("Content-Type", SCIM if path.startswith("/scim/") else
                         "application/json")
        return requests.request(method, self.url + path, data=data, headers=h, timeout=30,
                                **kw)

    def admin(self, method, path, json_body=None, **kw):
        return self.request(method, "/admin/v1" + path, token=OPERATOR_KEY,
                            json_body=json_body, **kw)

    def scim(self, method, path, token, json_body=None, **kw):
        return self.request(method, "/scim/v2" + path, token=token, json_body=json_body, **kw)

    def cli(self, *args, check=True):
        p = subprocess.run([self.binary, *args, "--data-dir", str(self.data_dir)],
                           capture_output=True, text=True, env=self.env, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"scimd {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    # --- set-up helpers ---
    def make_tenant(self, slug="acme", **fields):
        body = {"slug": slug, "integrationEnabled": True, **fields}
        r = self.admin("POST", "/tenants", body)
        assert r.status_code == 201, r.text
        return r.json()

    def mint(self, slug="acme", label="okta"):
        """Mints through the CLI, which acts as the operator (no acting admin needed)."""
        return json.loads(self.cli("token", "mint", slug, "--label", label).stdout)

    def host_user(self, slug, user_name, role=None, **extra):
        """A user written by the host application (management API), with a direct role."""
        body = user_body(user_name, **extra)
        if role:
            body["schemas"] = [USER_URN, TENANT_URN]
            body[TENANT_URN] = {"role": role}
        r = self.admin("POST", f"/tenants/{slug}/users", body)
        assert r.status_code == 201, r.text
        return r.json()

    def make_admin(self, token, user_name="admin@acme.example"):
        """A user with the admin role, created over SCIM; returns its id."""
        r = self.scim("POST", "/Users", token, {
            "schemas": [USER_URN, TENANT_URN], "userName": user_name,
            TENANT_URN: {"role": "admin"}})
        assert r.status_code == 201, r.text
        return r.json()["id"]


@pytest.fixture
def server_factory(scimd_bin, tmp_path, pg_cluster):
    """make() starts a scimd; servers given the same data_dir share one database."""
    servers = []
    schemas = {}

    def make(extra_args=(), env=None, data_dir=None, start=True):
        data_dir = data_dir or tmp_path / f"data{len(servers)}"
        dsn = None
        if pg_cluster:
            if str(data_dir) not in schemas:
                schemas[str(data_dir)] = "t" + uuid.uuid4().hex[:16]
                pg_cluster.create_schema(schemas[str(data_dir)])
            dsn = pg_cluster.dsn(pg_cluster.SHARED_DB, schemas[str(data_dir)])
        s = Scimd(scimd_bin, data_dir, extra_args, env, dsn=dsn, cluster=pg_cluster)
        servers.append(s)
        return s.start() if start else s

    yield make
    for s in servers:
        s.stop()
    for name in schemas.values():
        pg_cluster.drop_schema(name)


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def tenant_token(server):
    """A push tenant "acme" with the integration enabled and one token."""
    server.make_tenant("acme")
    return server.mint("acme")["token"]


def assert_scim_error(r, status, scim_type=None):
    """A SCIM error (RFC 7644 §3.12): status string in the body, scimType when expected."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    assert r.headers["Content-Type"].startswith(SCIM), r.headers["Content-Type"]
    body = r.json()
    assert body["schemas"] == [ERROR_URN], body
    assert body["status"] == str(status), body
    assert body.get("detail"), body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


@pytest.fixture
def op():
    """The local OpenID provider of the SSO tests (sso_op.py) on 127.0.0.1."""
    from sso_op import LocalOP  # jwcrypto: only the SSO tests need it
    p = LocalOP()
    yield p
    p.stop()


def user_body(user_name, **extra):
    body = {"schemas": [USER_URN], "userName": user_name,
            "name": {"givenName": "Given", "familyName": "Family"},
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "active": True}
    body.update(extra)
    return body


def exchange(server, method, path, token=None, headers=None):
    """One request on its own connection (Connection: close) and every byte of the answer
    until the server closes: (status, headers with lower-case names, the bytes after the
    header block). requests and http.client trust a HEAD answer to have no body and would not
    read one that is there; this reads the socket itself."""
    h = {"Host": f"127.0.0.1:{server.port}", "Connection": "close", **(headers or {})}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall((head + "\r\n").encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    top, _, body = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        fields[k.strip().lower()] = v.strip()
    return int(lines[0].split(" ")[1]), fields, body


def assert_head_is_get(server, path, token=None, status=200):
    """RFC 9110 §9.3.2: HEAD answers as GET does (status and header fields, Content-Length
    and ETag included) with no body at all. Returns the GET's (headers, body)."""
    gs, gh, gbody = exchange(server, "GET", path, token)
    hs, hh, hbody = exchange(server, "HEAD", path, token)
    assert gs == hs == status, (gs, hs, gbody)
    assert hbody == b"", hbody
    assert int(gh["content-length"]) == len(gbody) > 0
    gh.pop("date", None)
    hh.pop("date", None)
    assert hh == gh
    return gh, gbody
