"""The filter property test (tests/unit/scim/test_filter_agreement.c: for generated users and
1500 generated filters, the SQL the store compiles selects exactly the users query_eval
accepts) run against PostgreSQL, so the PostgreSQL dialect cannot drift from the evaluator
either. PostgreSQL only: under SQLite CTest runs it as unit/scim/filter_agreement."""
import os
import pathlib
import subprocess
import uuid

import pytest


def test_postgres_filter_sql_selects_what_query_eval_accepts(backend, pg_cluster, scimd_bin):
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    binary = pathlib.Path(scimd_bin).parent / "tests" / "test_scim_filter_agreement"
    if not binary.exists():
        pytest.skip(f"{binary} not built")
    schema = "t" + uuid.uuid4().hex[:16]
    pg_cluster.create_schema(schema)
    try:
        env = dict(os.environ, SCIMD_TEST_DSN=pg_cluster.dsn(pg_cluster.SHARED_DB, schema))
        p = subprocess.run([str(binary)], capture_output=True, text=True, env=env, timeout=600)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "checked" in p.stdout + p.stderr
    finally:
        pg_cluster.drop_schema(schema)
