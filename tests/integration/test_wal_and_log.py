"""Item 8 of issue 15: the SQLite WAL stays bounded under a write load, and a start logs no
libmicrohttpd warning about its logger option. Issue 18: no prepared statement is compiled
again at its executions."""
import os
import re

import pytest

from conftest import PATCH_URN, user_body


def test_start_logs_no_libmicrohttpd_warning(server):
    assert server.request("GET", "/healthz").status_code == 200
    assert "EXTERNAL_LOGGER" not in server.log
    assert not [l for l in server.log_lines if "level=warn" in l and "http:" in l], server.log


def test_wal_is_checkpointed_and_bounded(server, tenant_token, backend):
    if backend != "sqlite":
        pytest.skip("SQLite WAL")
    # ~3 000 pages of writes: more than three automatic checkpoints' worth.
    pad = "x" * 3000
    for i in range(1500):
        r = server.scim("POST", "/Users", tenant_token,
                        user_body(f"w{i}@example.com", displayName=pad))
        assert r.status_code == 201, r.text
    wal = server.db + "-wal"
    size = os.path.getsize(wal) if os.path.exists(wal) else 0
    # wal_autocheckpoint=1000 pages of 4 KiB: the WAL is reused from its start after each
    # checkpoint instead of growing with the data (it would be > 12 MB here otherwise).
    assert size <= 8 * 1024 * 1024, size


def test_start_warns_when_secrets_would_be_stored_unsealed(server_factory):
    bare = server_factory()
    assert any("level=warn" in l and "sso_key is not set" in l for l in bare.log_lines), bare.log
    keyed = server_factory(extra_args=["--sso-key", "11" * 32])
    assert not any("sso_key is not set" in l for l in keyed.log_lines), keyed.log


def test_no_statement_is_compiled_again_at_its_executions(server, tenant_token, backend):
    """SQLite compiles a prepared statement again at every execution when a bound value
    decides its plan (`type = ?` beside the partial index on `type = 1`): the first version
    of the one-statement GET of issue 18 did, and cost nine times a GET. A journey through
    the hot and the common paths keeps /metrics' count of it at zero."""
    if backend != "sqlite":
        pytest.skip("a SQLite planner trait (PostgreSQL reports none)")
    t = tenant_token
    ids = [server.scim("POST", "/Users", t, user_body(f"r{i}@example.com")).json()["id"]
           for i in range(3)]
    gid = server.scim("POST", "/Groups", t, {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng",
        "members": [{"value": ids[0]}]}).json()["id"]
    for _ in range(3):  # every statement runs more than once, with other values
        for uid in ids:
            assert server.scim("GET", f"/Users/{uid}", t).status_code == 200
            assert server.scim("GET", f"/Users?filter=id%20eq%20%22{uid}%22", t).status_code == 200
        for i in range(3):
            q = f"/Users?filter=userName%20eq%20%22r{i}@example.com%22"
            assert server.scim("GET", q, t).json()["totalResults"] == 1
        assert server.scim("GET", "/Users?startIndex=2&count=1", t).status_code == 200
        assert server.scim("GET", "/Users?count=2&cursor=", t).status_code == 200
        assert server.scim("GET", f"/Groups/{gid}", t).status_code == 200
        assert server.scim("GET", "/Groups?filter=displayName%20eq%20%22Eng%22", t).status_code == 200
        patch = {"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "path": "displayName", "value": f"R {ids[1]}"}]}
        assert server.scim("PATCH", f"/Users/{ids[1]}", t, patch).status_code == 200
        assert server.scim("PUT", f"/Users/{ids[2]}", t,
                           user_body("r2@example.com", displayName=ids[0])).status_code == 200
    assert server.scim("DELETE", f"/Users/{ids[2]}", t).status_code == 204
    assert server.scim("GET", f"/Users/{ids[2]}", t).status_code == 404
    text = server.request("GET", "/metrics").text
    m = re.search(r"^scimd_store_statement_reprepares_total (\d+)$", text, re.M)
    assert m and int(m.group(1)) == 0, m and m.group(0)
