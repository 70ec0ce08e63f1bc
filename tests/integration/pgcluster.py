"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl from Debian's
/usr/lib/postgresql/*/bin in a temporary directory, a free loopback port and the unix socket
in that directory, removed at the end. No system service is used. PostgreSQL refuses to run
as root, so as root the server commands run as the unprivileged user "nobody"."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

USER = "scimd"


def pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    if not dirs:
        raise RuntimeError("PostgreSQL is not installed (bash tools/install-deps.sh)")
    return dirs[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """One cluster. dsn(name) is what scimd's --db takes."""

    def __init__(self, durable=False):
        self.bindir = pg_bindir()
        self.root = tempfile.mkdtemp(prefix="scimd-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.port = free_port()
        self.durable = durable
        self._as = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
            self._as = ["runuser", "-u", "nobody", "--"]
        os.chmod(self.root, 0o755)

    def _server_cmd(self, *args, check=True):
        return subprocess.run([*self._as, *args], capture_output=True, text=True, check=check,
                              timeout=120, cwd=self.root)

    def init(self):
        self._server_cmd(os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", USER,
                         "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync")
        return self

    def start(self, settings=()):
        """settings: extra "name=value" server settings (the benchmark's diagnostics)."""
        # Tests trade durability for speed; the benchmark keeps fsync and only relaxes
        # synchronous_commit, the equivalent of SQLite's synchronous=NORMAL.
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
                " -c max_connections=200 -c synchronous_commit=off")
        if not self.durable:
            opts += " -c fsync=off -c full_page_writes=off"
        opts += "".join(f" -c {kv}" for kv in settings)
        self._server_cmd(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.log,
                         "-o", opts, "-w", "-t", "60", "start")
        return self

    def stop(self, mode="fast"):
        self._server_cmd(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", mode,
                         "-w", "stop", check=False)

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql, db="postgres"):
        p = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-v",
                            "ON_ERROR_STOP=1", "-h", self.root, "-p", str(self.port), "-U", USER,
                            "-d", db, "-At", "-c", sql], capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"psql failed: {p.stderr}")
        return p.stdout

    def create_db(self, name):
        self.psql(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def drop_db(self, name):
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def dsn(self, name, schema=None):
        dsn = f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"
        # libpq decodes the URI: options=-c search_path=<schema> for every connection.
        return dsn + (f"?options=-csearch_path%3D{schema}" if schema else "")

    # A test's database is a fresh schema of one shared database: as isolated for scimd
    # (every name it uses resolves through search_path) and ~50x faster to make than a
    # CREATE DATABASE, which copies a template.
    SHARED_DB = "scimd_tests"

    def create_schema(self, schema):
        if not getattr(self, "_shared", False):
            self.create_db(self.SHARED_DB)
            self._shared = True
        self.psql(f'CREATE SCHEMA "{schema}"', db=self.SHARED_DB)
        return self.dsn(self.SHARED_DB, schema)

    def drop_schema(self, schema):
        self.psql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', db=self.SHARED_DB)

    def dump(self, dsn):
        """Everything the database of a dsn holds, as SQL text (bytes)."""
        name, _, query = dsn.rsplit("/", 1)[1].partition("?")
        schema = ["-n", query.rsplit("%3D", 1)[1]] if query else []
        return subprocess.run([os.path.join(self.bindir, "pg_dump"), "-h", self.root, "-p",
                               str(self.port), "-U", USER, *schema, name], capture_output=True,
                              check=True, timeout=120).stdout
