"""Event retention (issue 17; docs/configuration.md, event_retention_days): a background
pruner deletes audit events older than the retention, but never one a webhook of its tenant
has not delivered (enabled or not), and 0 keeps everything.

Events are aged with the test's SQL hook (Scimd.execute); the pruner runs every second
(event_prune_interval_s = 1), and the tests wait for passes counted in /metrics, never for a
time: a pass that finished after another one finished began after the aging."""
import re
import time

from test_webhooks import FAST, Receiver, add_hook

DAY_MS = 24 * 3600 * 1000
PRUNE = ["--event-retention-days", "30", "--event-prune-interval-s", "1"]


def metric(server, name):
    text = server.request("GET", "/metrics").text
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    assert m, (name, text[-800:])
    return int(m.group(1))


def wait_passes(server, n=2, timeout=30):
    """Returns once n passes have finished after this call began."""
    start = metric(server, "scimd_event_prune_passes_total")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(server, "scimd_event_prune_passes_total") >= start + n:
            return
        time.sleep(0.05)
    raise AssertionError("the pruner made no pass in time:\n" + server.log[-2000:])


def seqs(server, slug):
    r = server.admin("GET", f"/tenants/{slug}/events?limit=1000")
    assert r.status_code == 200, r.text
    return [int(e["id"]) for e in r.json()["events"]]


def age(server, seq_list, days):
    ids = ",".join(str(s) for s in seq_list)
    server.execute(f"UPDATE events SET created_ms = created_ms - {days * DAY_MS} "
                   f"WHERE seq IN ({ids})")


def users(server, slug, *names):
    for name in names:
        server.host_user(slug, f"{name}@{slug}.example")


def test_old_delivered_events_go_recent_ones_and_other_tenants_stay(server_factory):
    server = server_factory(extra_args=PRUNE)
    server.make_tenant("acme")
    server.make_tenant("beta")
    users(server, "acme", "a1", "a2", "a3")
    users(server, "beta", "b1", "b2")
    acme, beta = seqs(server, "acme"), seqs(server, "beta")
    assert len(acme) >= 3 and len(beta) >= 2
    pruned = metric(server, "scimd_events_pruned_total")
    # All but acme's newest are past 30 days; beta's are 29 days old.
    age(server, acme[:-1], 31)
    age(server, beta, 29)
    wait_passes(server)
    assert seqs(server, "acme") == acme[-1:]
    assert seqs(server, "beta") == beta
    assert metric(server, "scimd_events_pruned_total") == pruned + len(acme) - 1
    assert f"retention: pruned {len(acme) - 1} events older than 30 days" in server.log
    # Idempotent: another pass finds nothing more.
    wait_passes(server)
    assert seqs(server, "acme") == acme[-1:]
    assert metric(server, "scimd_events_pruned_total") == pruned + len(acme) - 1


def test_undelivered_events_stay_until_the_webhook_delivers_them(server_factory):
    receiver = Receiver()
    try:
        server = server_factory(extra_args=[*FAST, *PRUNE])
        server.make_tenant("acme")
        server.make_tenant("beta")
        before = seqs(server, "acme")  # from before the webhook: not its to deliver
        receiver.status = 503
        hook = add_hook(server, receiver.url)
        users(server, "acme", "u1", "u2")
        users(server, "beta", "b1")
        pending = [s for s in seqs(server, "acme") if s not in before]
        assert len(pending) >= 2
        assert receiver.wait_for(lambda: len(receiver.received) >= 1)
        age(server, before + pending + seqs(server, "beta"), 400)
        wait_passes(server)
        # The failing webhook holds its undelivered events; everything else old went,
        # in this tenant and in the other.
        assert seqs(server, "acme") == pending
        assert seqs(server, "beta") == []
        r = server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}")
        assert r.json()["pending"] == len(pending), r.text

        receiver.status = 200
        assert receiver.wait_for(lambda: [int(e["id"])
                                          for e in receiver.accepted_events()] == pending)
        wait_passes(server)
        assert seqs(server, "acme") == []
    finally:
        receiver.close()


def test_a_disabled_webhook_keeps_its_events_until_it_is_deleted(server_factory):
    server = server_factory(extra_args=[*FAST, *PRUNE])
    server.make_tenant("acme")
    before = seqs(server, "acme")
    hook = add_hook(server, "http://127.0.0.1:9/never")
    r = server.admin("PATCH", f"/tenants/acme/webhooks/{hook['id']}", {"enabled": False})
    assert r.status_code == 200, r.text
    users(server, "acme", "u1", "u2")
    held = [s for s in seqs(server, "acme") if s not in before]
    assert len(held) >= 2
    age(server, seqs(server, "acme"), 400)
    wait_passes(server)
    assert seqs(server, "acme") == held
    r = server.admin("DELETE", f"/tenants/acme/webhooks/{hook['id']}")
    assert r.status_code == 204, r.text
    wait_passes(server)
    assert seqs(server, "acme") == []


def test_zero_days_keeps_every_event(server_factory):
    server = server_factory(extra_args=["--event-retention-days", "0",
                                        "--event-prune-interval-s", "1"])
    server.make_tenant("acme")
    users(server, "acme", "u1", "u2")
    kept = seqs(server, "acme")
    age(server, kept, 36500)
    wait_passes(server)
    assert seqs(server, "acme") == kept
    assert metric(server, "scimd_events_pruned_total") == 0
    assert "event_retention_days is 0: audit events are kept forever" in server.log


def test_the_pass_interval_is_at_least_one_second(server_factory):
    server = server_factory(extra_args=["--event-prune-interval-s", "0"], start=False)
    try:
        server.start(timeout=5)
        started = True
    except RuntimeError as e:
        started = False
        assert "event_prune_interval_s" in str(e), str(e)
    assert not started
