#!/usr/bin/python3
"""Runs the store conformance suite (test_conformance.c) against PostgreSQL: starts a
throwaway cluster with tests/integration/pgcluster.py (initdb + pg_ctl, as "nobody" when run
as root), creates one database for the run and hands it to the test binary in
SCIMD_TEST_PG_DSN; each test makes its own schema in it. The cluster is removed at the end.

    /usr/bin/python3 tests/unit/store/run_pg.py build/tests/test_store_conformance
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "integration"))
from pgcluster import PgCluster  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: run_pg.py TEST_BINARY")
    cluster = PgCluster().init().start()
    try:
        env = dict(os.environ, SCIMD_TEST_PG_DSN=cluster.create_db("scimd_conformance"))
        return subprocess.run([sys.argv[1]], env=env, timeout=600).returncode
    except subprocess.TimeoutExpired:
        print("run_pg.py: the test binary timed out", file=sys.stderr)
        return 1
    finally:
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main())
