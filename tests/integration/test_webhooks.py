"""Webhooks (issue 5 item 4; docs/webhooks.md): every audit event, signed, delivered from the
durable outbox at least once and in order, with retries and backoff, surviving restarts.

The receiver is a small HTTP server on 127.0.0.1 that the test controls: it records what it
gets and answers with the status the test chooses."""
import hashlib
import hmac
import json
import time
from datetime import datetime

import pytest

from conftest import user_body
from hook_receiver import FAST, HookReceiver, hooked_server



class Receiver(HookReceiver):
    def __init__(self):
        super().__init__("/hook", 200)

    def accepted_events(self):
        """Events of the deliveries answered 2xx, in order."""
        with self.lock:
            return [e for h, raw, st in self.received if 200 <= st < 300
                    for e in json.loads(raw)["events"]]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooked(server_factory):
    return hooked_server(server_factory)


def add_hook(server, url, slug="acme"):
    r = server.admin("POST", f"/tenants/{slug}/webhooks", {"url": url})
    assert r.status_code == 201, r.text
    return r.json()


def verify(secret, headers, raw):
    sig = dict(p.split("=", 1) for p in headers["Scimd-Signature"].split(","))
    mac = hmac.new(secret.encode(), sig["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, sig["v1"]) and abs(time.time() - int(sig["t"])) < 300


def test_events_are_delivered_signed_and_in_order(hooked, receiver):
    server, token = hooked
    hook = add_hook(server, receiver.url)
    assert hook["secret"].startswith("whsec_")
    ids = [server.scim("POST", "/Users", token, user_body(f"u{i}@x.example")).json()["id"]
           for i in range(5)]
    assert receiver.wait_for(lambda: len(receiver.accepted_events()) == 5)
    events = receiver.accepted_events()
    assert [e["resourceId"] for e in events] == ids
    assert all(e["kind"] == "user.created" for e in events)
    assert [int(e["id"]) for e in events] == sorted(int(e["id"]) for e in events)
    for headers, raw, _ in receiver.received:
        assert headers["Content-Type"] == "application/json"
        assert headers["Scimd-Webhook-Id"] == hook["id"]
        assert verify(hook["secret"], headers, raw)
        assert not verify("whsec_wrong", headers, raw)
    # The receiver has the events before scimd records its answer: wait for the record.
    def state_now():
        return server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()
    assert receiver.wait_for(lambda: state_now()["pending"] == 0)
    state = state_now()
    assert state["pending"] == 0 and state["failures"] == 0 and state["lastStatus"] == 200
    assert "secret" not in state


def test_failed_deliveries_are_retried_with_backoff_and_recorded(hooked, receiver):
    server, token = hooked
    hook = add_hook(server, receiver.url)
    receiver.status = 503
    uid = server.scim("POST", "/Users", token, user_body("r@x.example")).json()["id"]

    def attempts():
        return server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}/attempts").json()[
            "attempts"]

    # The receiver sees a POST before scimd records its outcome: wait on scimd's record.
    assert receiver.wait_for(lambda: len(attempts()) >= 5, timeout=15)
    state = server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()
    assert state["failures"] >= 5 and state["pending"] == 1 and state["lastStatus"] == 503
    assert state["lastError"] == "HTTP 503" and state["nextAttempt"]
    assert attempts()[0]["status"] == 503
    # An operator sees it at warn, with the tenant and the URL's host, never its path.
    host = receiver.url.split("/")[2]
    warned = [l for l in server.log_lines if "level=warn" in l and f"webhook {hook['id']}" in l]
    assert warned and "of tenant acme to " + host in warned[0], server.log[-1500:]
    assert "/hook" not in warned[0]
    # Backoff: 50 ms, then 100, then 200, ... so the fourth gap is well above the first.
    times = [datetime.fromisoformat(a["time"].replace("Z", "+00:00")).timestamp()
             for a in reversed(attempts())]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[3] > 2 * gaps[0], gaps
    receiver.status = 200
    assert receiver.wait_for(lambda: len(receiver.accepted_events()) == 1, timeout=15)
    assert receiver.accepted_events()[0]["resourceId"] == uid
    # A dead endpoint never held up SCIM.
    assert server.scim("GET", f"/Users/{uid}", token).status_code == 200


def metric(server, name):
    """The value of an unlabelled series (or one with its labels in `name`) on /metrics."""
    for line in server.request("GET", "/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not on /metrics")


def test_metrics_show_the_backlog_failures_and_lag_until_delivered(hooked, receiver):
    server, token = hooked
    assert metric(server, "scimd_webhooks_enabled") == 0
    assert metric(server, "scimd_webhook_lag_seconds") == 0
    receiver.status = 503
    hook = add_hook(server, receiver.url)
    for i in range(3):
        assert server.scim("POST", "/Users", token, user_body(f"m{i}@x.example")).status_code == 201
    assert receiver.wait_for(lambda: metric(server, "scimd_webhooks_failing") == 1, timeout=15)
    assert metric(server, "scimd_webhooks_enabled") == 1
    assert metric(server, "scimd_webhook_backlog_max_events") == 3
    assert metric(server, "scimd_webhook_lag_seconds") > 0
    assert metric(server, 'scimd_webhook_deliveries_total{result="failed"}') >= 1
    delivered_before = metric(server, "scimd_webhook_events_delivered_total")
    receiver.status = 200
    assert receiver.wait_for(lambda: metric(server, "scimd_webhook_backlog_max_events") == 0,
                             timeout=15)
    assert metric(server, "scimd_webhooks_failing") == 0
    assert metric(server, "scimd_webhook_lag_seconds") == 0
    assert metric(server, 'scimd_webhook_deliveries_total{result="ok"}') >= 1
    assert metric(server, "scimd_webhook_events_delivered_total") == delivered_before + 3
    # A disabled webhook is nobody's backlog.
    assert server.admin("PATCH", f"/tenants/acme/webhooks/{hook['id']}",
                        {"enabled": False}).status_code == 200
    assert metric(server, "scimd_webhooks_enabled") == 0


def test_a_dead_endpoint_does_not_block_scim_requests(hooked):
    server, token = hooked
    add_hook(server, "http://127.0.0.1:9/unreachable")  # discard port: refused
    t = time.monotonic()
    for i in range(20):
        assert server.scim("POST", "/Users", token, user_body(f"d{i}@x.example")).status_code \
            == 201
    assert time.monotonic() - t < 10  # generous: only a hang would fail this


def test_no_event_is_lost_across_a_restart(server_factory, receiver, tmp_path):
    server = server_factory(extra_args=FAST, data_dir=tmp_path / "d")
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    add_hook(server, receiver.url)
    receiver.status = 500
    for i in range(3):
        server.scim("POST", "/Users", token, user_body(f"a{i}@x.example"))
    assert receiver.wait_for(lambda: len(receiver.received) >= 1)
    server.stop()
    receiver.status = 200
    server.start()
    for i in range(3, 5):
        server.scim("POST", "/Users", token, user_body(f"a{i}@x.example"))
    assert receiver.wait_for(lambda: len(receiver.accepted_events()) == 5, timeout=15)
    names = [e["data"]["after"]["userName"] for e in receiver.accepted_events()]
    assert names == [f"a{i}@x.example" for i in range(5)]


def test_webhook_management(hooked, receiver):
    server, token = hooked
    for bad, fragment in [("ftp://x.example", "https"), ("https://", "host"),
                          ("https://u:p@x.example/", "credentials"),
                          ("https://x.example/a b", "spaces")]:
        r = server.admin("POST", "/tenants/acme/webhooks", {"url": bad})
        assert r.status_code == 400 and fragment in r.json()["error"]["message"], bad
    assert server.admin("POST", "/tenants/acme/webhooks", {"url": 5}).status_code == 400
    hook = add_hook(server, receiver.url)
    listed = server.admin("GET", "/tenants/acme/webhooks").json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    # Disabled: events wait; enabled again: they go out.
    r = server.admin("PATCH", f"/tenants/acme/webhooks/{hook['id']}", {"enabled": False})
    assert r.json()["enabled"] is False
    server.scim("POST", "/Users", token, user_body("w@x.example"))
    time.sleep(0.3)
    assert receiver.received == []
    assert server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()["pending"] == 1
    rotated = server.admin("POST", f"/tenants/acme/webhooks/{hook['id']}/rotate-secret").json()
    assert rotated["secret"] != hook["secret"]
    server.admin("PATCH", f"/tenants/acme/webhooks/{hook['id']}", {"enabled": True})
    assert receiver.wait_for(lambda: len(receiver.accepted_events()) == 1)
    headers, raw, _ = receiver.received[0]
    assert verify(rotated["secret"], headers, raw) and not verify(hook["secret"], headers, raw)
    # GET, change, PATCH back (docs/api.md): the identity may be repeated as it is, the
    # delivery state is ignored, another id or creation time is refused.
    got = server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()
    r = server.admin("PATCH", f"/tenants/acme/webhooks/{hook['id']}",
                     {**got, "enabled": False, "delivered": 999, "failures": 7})
    assert r.status_code == 200 and r.json()["enabled"] is False, r.text
    assert r.json()["delivered"] == got["delivered"]
    for field, value in (("id", "x" * 36), ("created", "2001-01-01T00:00:00.000Z")):
        r = server.admin("PATCH", f"/tenants/acme/webhooks/{hook['id']}", {**got, field: value})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["message"].startswith(f'read-only field "{field}"')
    assert server.admin("POST", "/tenants/acme/webhooks",
                        {"url": receiver.url, "id": hook["id"]}).status_code == 400
    # Isolation and deletion.
    server.make_tenant("other")
    assert server.admin("GET", f"/tenants/other/webhooks/{hook['id']}").status_code == 404
    assert server.admin("DELETE", f"/tenants/other/webhooks/{hook['id']}").status_code == 404
    assert server.admin("DELETE", f"/tenants/acme/webhooks/{hook['id']}").status_code == 204
    assert server.admin("GET", "/tenants/acme/webhooks").json()["webhooks"] == []


def test_https_only_by_default(server, tenant_token):
    r = server.admin("POST", "/tenants/acme/webhooks", {"url": "http://127.0.0.1:1/x"})
    assert r.status_code == 400 and "https" in r.json()["error"]["message"]
    assert server.admin("POST", "/tenants/acme/webhooks",
                        {"url": "https://hooks.example/x"}).status_code == 201


def test_internal_addresses_are_refused_outside_test_mode(server_factory):
    """A tenant admin enters webhook URLs: scimd must not POST into its own network (SSRF).
    With https required and no test flag, a loopback endpoint is never connected to."""
    server = server_factory(extra_args=["--webhook-poll-ms", "20", "--webhook-retry-ms", "50"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    hook = server.admin("POST", "/tenants/acme/webhooks",
                        {"url": "https://127.0.0.1:9/hook"}).json()
    server.scim("POST", "/Users", token, user_body("s@x.example"))
    deadline = time.monotonic() + 10
    state = {}
    while time.monotonic() < deadline:
        state = server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()
        if state["failures"]:
            break
        time.sleep(0.02)
    assert "internal" in state["lastError"], state


def test_secrets_are_sealed_at_rest_when_a_key_is_configured(server_factory, receiver):
    """With sso_key set, a webhook's signing secret is stored sealed (AES-256-GCM), never as
    the text the API showed once; deliveries are still signed with that text."""
    key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
    server = server_factory(extra_args=FAST + ["--sso-key", key])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    hook = add_hook(server, receiver.url)
    rotated = server.admin("POST", f"/tenants/acme/webhooks/{hook['id']}/rotate-secret").json()
    server.scim("POST", "/Users", token, user_body("sealed@x.example"))
    assert receiver.wait_for(lambda: len(receiver.accepted_events()) == 1)
    headers, raw, _ = receiver.received[0]
    assert verify(rotated["secret"], headers, raw)
    dump = server.dump()
    assert rotated["secret"].encode() not in dump and hook["secret"].encode() not in dump
