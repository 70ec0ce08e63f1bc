"""Item 8 of issue 15: the SQLite WAL stays bounded under a write load, and a start logs no
libmicrohttpd warning about its logger option."""
import os

import pytest

from conftest import user_body


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
