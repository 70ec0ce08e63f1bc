"""Issue 17: `scimd backup FILE` copies the SQLite database while the daemon writes (SQLite's
online backup), and the restore of docs/deploy.md "Backups" gives back what the API had
acknowledged. On PostgreSQL the command refuses and points to pg_dump."""
import os
import re
import shutil
import sqlite3
import stat
import threading
import time

import pytest

from conftest import user_body

PAD = "p" * 3000  # about one 4 KiB page per user: the copy takes several backup steps


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("scimd backup copies SQLite databases; PostgreSQL uses pg_dump")


def all_users(server, token):
    """Every user of the tenant, as the API lists them: {id: document}."""
    users, start = {}, 1
    for _ in range(100):
        r = server.scim("GET", f"/Users?startIndex={start}&count=1000", token)
        assert r.status_code == 200, r.text
        page = r.json()
        for u in page["Resources"]:
            users[u["id"]] = u
        start += len(page["Resources"])
        if not page["Resources"] or start > page["totalResults"]:
            assert len(users) == page["totalResults"]
            return users
    raise AssertionError("more pages than expected")


def portless(doc):
    """A document without the instance's own address (meta.location names its port)."""
    doc["meta"]["location"] = doc["meta"]["location"].split("/scim/v2/", 1)[1]
    return doc


def integrity(path):
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()


class Writer(threading.Thread):
    """Creates users over SCIM until stopped; acked holds (time acknowledged, id)."""

    def __init__(self, server, token):
        super().__init__(daemon=True)
        self.server, self.token = server, token
        self.acked, self.errors = [], []
        self.stop_at = threading.Event()

    def run(self):
        for i in range(100000):
            if self.stop_at.is_set():
                return
            r = self.server.scim("POST", "/Users", self.token,
                                 user_body(f"live{i}@example.com", displayName=PAD))
            if r.status_code != 201:
                self.errors.append(r.text)
                return
            self.acked.append((time.monotonic(), r.json()["id"]))


def test_backup_under_write_load_restores_into_a_new_instance(sqlite_only, server_factory,
                                                               tmp_path):
    src = server_factory()
    src.make_tenant("acme")
    token = src.mint("acme")["token"]
    for i in range(300):
        r = src.scim("POST", "/Users", token, user_body(f"pre{i}@example.com", displayName=PAD))
        assert r.status_code == 201, r.text
    writer = Writer(src, token)
    writer.start()
    for _ in range(200):  # the writer is under way before the backup begins
        if len(writer.acked) >= 20:
            break
        time.sleep(0.01)
    backup = tmp_path / "scimd-backup.db"
    began = time.monotonic()
    p = src.cli("backup", str(backup))
    ended = time.monotonic()
    time.sleep(0.2)  # writes after the backup: they must not matter
    writer.stop_at.set()
    writer.join(30)
    assert not writer.errors, writer.errors
    before = {i for t, i in writer.acked if t < began}
    by_end = [i for t, i in writer.acked if t <= ended]
    assert len(before) >= 20 and len(writer.acked) > len(by_end)

    m = re.fullmatch(r"(.+): (\d+) pages, (\d+) bytes in (\d+\.\d{3}) s; integrity_check ok; "
                     r"restarted (\d+) times by writes( \(then copied the rest in one pass\))?\n",
                     p.stdout)
    assert m, p.stdout
    assert m.group(1) == str(backup)
    assert int(m.group(2)) > 256  # more than one step
    assert int(m.group(3)) == os.path.getsize(backup)
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    assert not os.path.exists(str(backup) + ".tmp")
    assert integrity(backup) == [("ok",)]

    # Restore (docs/deploy.md "Backups"): a new instance on a copy of the file.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    shutil.copyfile(backup, restored_dir / "scimd.db")
    dst = server_factory(data_dir=restored_dir)
    got = all_users(dst, token)  # the token still authenticates
    # Every user acknowledged before the backup began is there; nothing acknowledged after
    # the backup ended is (at most the one request in flight at its end).
    assert {f"pre{i}@example.com" for i in range(300)} <= {u["userName"] for u in got.values()}
    assert before <= set(got)
    assert len(got) <= 300 + len(by_end) + 1
    one = writer.acked[0][1]
    assert portless(got[one]) == portless(src.scim("GET", f"/Users/{one}", token).json())
    # The restored database takes writes.
    r = dst.scim("POST", "/Users", token, user_body("after@example.com"))
    assert r.status_code == 201, r.text
    assert dst.admin("GET", "/tenants/acme").status_code == 200  # the operator key, too


def test_restore_in_place_gives_back_the_backup(sqlite_only, server, tenant_token, tmp_path):
    kept = server.scim("POST", "/Users", tenant_token, user_body("kept@example.com")).json()
    backup = tmp_path / "b.db"
    server.cli("backup", str(backup))
    lost = server.scim("POST", "/Users", tenant_token, user_body("lost@example.com")).json()
    # Stop, put the copy in place as scimd.db with no -wal or -shm beside it, start.
    assert server.stop() == 0
    for suffix in ("-wal", "-shm"):
        if os.path.exists(server.db + suffix):
            os.remove(server.db + suffix)
    shutil.copyfile(backup, server.db)
    server.start()
    got = server.scim("GET", f"/Users/{kept['id']}", tenant_token).json()
    assert portless(got) == portless(kept)
    assert server.scim("GET", f"/Users/{lost['id']}", tenant_token).status_code == 404
    assert set(all_users(server, tenant_token)) == {kept["id"]}


def test_backup_refuses_an_existing_file_without_force(sqlite_only, server, tenant_token,
                                                       tmp_path):
    backup = tmp_path / "b.db"
    backup.write_bytes(b"precious")
    p = server.cli("backup", str(backup), check=False)
    assert p.returncode == 1, p.stderr
    assert p.stderr == f"scimd: {backup} exists; --force replaces it\n"
    assert p.stdout == ""
    assert backup.read_bytes() == b"precious"
    assert not os.path.exists(str(backup) + ".tmp")

    # The database itself is never a target, even with --force.
    p = server.cli("backup", server.db, "--force", check=False)
    assert p.returncode == 1 and "is the database itself" in p.stderr, p.stderr
    assert server.scim("GET", "/Users", tenant_token).status_code == 200

    # An interrupted backup's FILE.tmp is not taken over without --force.
    tmp = tmp_path / "c.db.tmp"
    tmp.write_bytes(b"half")
    p = server.cli("backup", str(tmp_path / "c.db"), check=False)
    assert p.returncode == 1 and "c.db.tmp exists" in p.stderr, p.stderr
    assert tmp.read_bytes() == b"half" and not (tmp_path / "c.db").exists()

    server.scim("POST", "/Users", tenant_token, user_body("ada@example.com"))
    p = server.cli("backup", "--force", str(backup))
    assert p.stdout.startswith(f"{backup}: "), p.stdout
    assert integrity(backup) == [("ok",)]
    db = sqlite3.connect(backup)
    assert db.execute("SELECT user_name FROM resources WHERE type=1").fetchall() == [
        ("ada@example.com",)]
    db.close()
    p = server.cli("backup", "--force", str(tmp_path / "c.db"))
    assert not tmp.exists() and integrity(tmp_path / "c.db") == [("ok",)]


def test_backup_of_a_missing_database_creates_nothing(sqlite_only, server_factory, tmp_path):
    s = server_factory(start=False)
    p = s.cli("backup", str(tmp_path / "b.db"), check=False)
    assert p.returncode == 3, p.stderr
    assert p.stderr == f"scimd: no SQLite database at {s.db}\n"
    assert not os.path.exists(s.db) and not (tmp_path / "b.db").exists()
    # Nor the data directory (a mistyped --data-dir left an empty one behind).
    assert not os.path.exists(os.path.dirname(s.db)), os.listdir(os.path.dirname(s.db))
    p = s.cli("backup", check=False)
    assert p.returncode == 2 and "backup needs the FILE" in p.stderr


def test_backup_on_postgres_points_to_pg_dump(backend, server, tmp_path):
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    target = tmp_path / "b.db"
    p = server.cli("backup", str(target), check=False)
    assert p.returncode == 2, p.stderr
    # (the lines before it, if any, are PostgreSQL's notices from opening the store)
    assert p.stderr.endswith("\n") and p.stderr.splitlines()[-1] == (
        "scimd: scimd backup copies SQLite databases only; back up PostgreSQL with pg_dump "
        "(docs/deploy.md, \"Backups\")")
    assert p.stdout == ""
    assert not target.exists() and not os.path.exists(str(target) + ".tmp")
