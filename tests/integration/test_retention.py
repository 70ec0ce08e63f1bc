"""Issue 17: audit events are kept event_retention_days and pruned in the background, in small
batches, on every instance; an event a webhook of its tenant has not delivered stays until it
is delivered, whatever its age."""
import time

import pytest

from conftest import user_body

DAY_MS = 86400 * 1000


def events(server, slug):
    r = server.admin("GET", f"/tenants/{slug}/events?limit=100")
    assert r.status_code == 200, r.text
    return r.json()["events"]


def wait_for(pred, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def pruned_total(server):
    for line in server.request("GET", "/metrics").text.splitlines():
        if line.startswith("scimd_events_pruned_total "):
            return float(line.split()[1])
    raise AssertionError("scimd_events_pruned_total not on /metrics")


def setup_tenants(server):
    server.make_tenant("acme")
    server.make_tenant("beta")
    acme, beta = server.mint("acme")["token"], server.mint("beta")["token"]
    # beta's webhook never answers: its events stay undelivered.
    r = server.admin("POST", "/tenants/beta/webhooks", {"url": "http://127.0.0.1:9/dead"})
    assert r.status_code == 201, r.text
    for i in range(3):
        assert server.scim("POST", "/Users", acme, user_body(f"old{i}@acme.example")).status_code == 201
    assert server.scim("POST", "/Users", beta, user_body("old@beta.example")).status_code == 201
    return acme, beta


def test_old_delivered_events_go_recent_and_undelivered_stay(server_factory):
    server = server_factory(extra_args=["--event-retention-days", "1", "--event-prune-interval",
                                        "1", "--webhook-allow-http", "on"])
    acme, beta = setup_tenants(server)
    before_acme, before_beta = len(events(server, "acme")), len(events(server, "beta"))
    assert before_acme >= 3 and before_beta >= 1
    server.execute(f"UPDATE events SET created_ms = created_ms - {3 * DAY_MS}")
    assert server.scim("POST", "/Users", acme, user_body("new@acme.example")).status_code == 201
    assert wait_for(lambda: len(events(server, "acme")) == 1), events(server, "acme")
    kept = events(server, "acme")
    assert kept[0]["kind"] == "user.created" and "new@acme.example" in str(kept[0]["data"])
    # beta's are as old, but its webhook has not delivered them.
    assert len(events(server, "beta")) == before_beta
    assert pruned_total(server) == before_acme
    assert any("retention: pruned" in l for l in server.log_lines)


def test_zero_keeps_everything(server_factory):
    server = server_factory(extra_args=["--event-retention-days", "0", "--event-prune-interval",
                                        "1", "--webhook-allow-http", "on"])
    setup_tenants(server)
    n = len(events(server, "acme"))
    server.execute(f"UPDATE events SET created_ms = created_ms - {400 * DAY_MS}")
    time.sleep(2.5)  # more than two prune intervals: a pass would have run
    assert len(events(server, "acme")) == n
    assert pruned_total(server) == 0
