"""Issue 2: start-up, health, metrics, tenants, tokens, 401s, isolation, limits, shutdown,
restart, configuration precedence."""
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import (OPERATOR_KEY, SCIM, assert_head_is_get, assert_scim_error, exchange,
                      user_body)


def test_healthz_answers_ok(server):
    r = server.request("GET", "/healthz")
    assert r.status_code == 200
    assert r.text == "ok\n"


def test_unknown_path_is_404_and_wrong_method_is_405_with_allow(server):
    assert server.request("GET", "/nope").status_code == 404
    r = server.request("DELETE", "/healthz")
    assert r.status_code == 405
    assert "GET" in r.json()["error"]["message"] if r.headers["Content-Type"].startswith(
        "application/json") else "GET" in r.text


def test_head_is_get_without_body_on_healthz_and_the_management_api(server):
    # RFC 9110 §9.3.2: HEAD is GET without the body, on every route that has GET.
    _, body = assert_head_is_get(server, "/healthz")
    assert body == b"ok\n"
    server.make_tenant("acme")
    _, body = assert_head_is_get(server, "/admin/v1/tenants/acme", OPERATOR_KEY)
    assert json.loads(body)["slug"] == "acme"
    assert_head_is_get(server, "/admin/v1/tenants/nope", OPERATOR_KEY, status=404)


def test_head_needs_what_get_needs(server):
    status, _, body = exchange(server, "HEAD", "/admin/v1/tenants", "wrong-key")
    assert (status, body) == (401, b"")


def test_405_allow_header_lists_head_beside_get(server):
    r = server.request("DELETE", "/healthz")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    r = server.request("PUT", "/console/api/session")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD, POST, DELETE"
    # HEAD is not offered where there is no GET.
    r = server.request("HEAD", "/admin/v1/sso/redeem", token=OPERATOR_KEY)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_head_requests_are_logged_and_counted_as_head(server):
    exchange(server, "HEAD", "/healthz")
    exchange(server, "GET", "/healthz")
    text = server.request("GET", "/metrics").text
    assert 'scimd_http_requests_total{method="HEAD",route="/healthz",status="200"} 1' in text
    assert 'scimd_http_requests_total{method="GET",route="/healthz",status="200"} 1' in text
    deadline = time.monotonic() + 5
    while 'method=HEAD route="/healthz" status=200' not in server.log:
        assert time.monotonic() < deadline, server.log
        time.sleep(0.05)


def test_metrics_say_the_build_and_why_authentications_fail(server, tenant_token):
    server.request("GET", "/scim/v2/Users")  # no token
    server.request("GET", "/scim/v2/Users", token="scimd_" + "x" * 43)  # unknown token
    server.request("GET", "/scim/v2/Users", token="scimd_" + "y" * 43)
    server.request("GET", "/admin/v1/tenants", token="not-the-operator-key")
    server.admin("PATCH", "/tenants/acme", {"integrationEnabled": False})
    server.request("GET", "/scim/v2/Users", token=tenant_token)  # the integration is off
    text = server.request("GET", "/metrics").text
    m = re.search(r'^scimd_build_info\{version="([^"]+)",commit="([^"]+)"\} 1$', text, re.M)
    assert m and m.group(1) and m.group(2), text[:500]
    for scheme, reason, n in (("scim", "missing", 1), ("scim", "invalid_token", 2),
                              ("scim", "gate", 1), ("admin", "wrong_key", 1),
                              ("admin", "csrf", 0)):
        line = f'scimd_auth_failures_total{{scheme="{scheme}",reason="{reason}"}} {n}'
        assert re.search("^" + re.escape(line) + "$", text, re.M), (line, text)
    assert 'scimd_store_errors_total{code="unavailable"} 0' in text


def test_metrics_count_requests_by_route_and_status(server):
    for _ in range(3):
        server.request("GET", "/healthz")
    server.request("GET", "/scim/v2/Users")  # 401
    # The metrics of a request are recorded when it completes: ask twice.
    server.request("GET", "/metrics")
    text = server.request("GET", "/metrics").text
    assert 'scimd_http_requests_total{method="GET",route="/healthz",status="200"} 3' in text
    assert re.search(
        r'scimd_http_requests_total\{method="GET",route="/scim/v2/Users",status="401"\} 1', text)
    assert 'scimd_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 3' in text
    assert re.search(r"^scimd_http_open_connections \d+$", text, re.M)
    assert "# TYPE scimd_http_request_duration_seconds histogram" in text


def test_admin_requires_the_operator_key(server):
    r = server.request("GET", "/admin/v1/tenants")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = server.request("GET", "/admin/v1/tenants", token="wrong-key-wrong-key-wrong")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "UNAUTHORIZED"


def test_admin_disabled_without_an_operator_key(server_factory, tmp_path):
    s = server_factory(start=False)
    s.extra_args = ["--operator-key", ""]
    s.start()
    r = s.request("GET", "/admin/v1/tenants", token=OPERATOR_KEY)
    assert r.status_code == 403


def test_tenant_lifecycle_through_the_management_api(server):
    r = server.admin("POST", "/tenants", {"slug": "acme", "displayName": "Acme Inc.",
                                          "plan": "premier", "provisioningMode": "import-only",
                                          "deactivationPolicy": "disable"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["slug"] == "acme" and t["displayName"] == "Acme Inc." and t["plan"] == "premier"
    assert t["provisioningMode"] == "import-only" and t["deactivationPolicy"] == "disable"
    assert t["integrationEnabled"] is False  # the operator turns it on explicitly
    assert r.headers["Location"].endswith("/admin/v1/tenants/acme")

    assert server.admin("POST", "/tenants", {"slug": "acme"}).status_code == 409
    r = server.admin("PATCH", "/tenants/acme", {"integrationEnabled": True,
                                                "provisioningMode": "push"})
    assert r.status_code == 200
    assert r.json()["integrationEnabled"] is True and r.json()["provisioningMode"] == "push"
    assert server.admin("GET", "/tenants/acme").json()["provisioningMode"] == "push"
    assert [t["slug"] for t in server.admin("GET", "/tenants").json()["tenants"]] == ["acme"]
    assert server.admin("DELETE", "/tenants/acme").status_code == 204
    assert server.admin("GET", "/tenants/acme").status_code == 404
    assert server.admin("DELETE", "/tenants/acme").status_code == 404


def test_tenant_fields_are_validated(server):
    for body, word in [({"slug": "Bad Slug"}, "slug"), ({"slug": "ok", "provisioningMode": "x"},
                                                        "provisioningMode"),
                       ({"slug": "ok", "deactivationPolicy": "x"}, "deactivationPolicy"),
                       ({"slug": "ok", "integrationEnabled": "yes"}, "integrationEnabled"),
                       ({"slug": "ok", "colour": "red"}, "colour")]:
        r = server.admin("POST", "/tenants", body)
        assert r.status_code == 400, body
        assert word in r.json()["error"]["message"]
    r = server.request("POST", "/admin/v1/tenants", token=OPERATOR_KEY, data="{not json",
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert server.admin("GET", "/tenants").json()["tenants"] == []


def test_tenant_read_only_fields_may_be_repeated_but_not_changed(server):
    """docs/api.md: slug, created and lastModified are read-only. A GET, change, PATCH round
    trip repeats them and passes; another value is a 400 saying so, not an ignored "rename"."""
    t = server.make_tenant("acme")
    r = server.admin("PATCH", "/tenants/acme", {**t, "displayName": "Acme Inc."})
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "Acme Inc." and r.json()["slug"] == "acme"
    t = r.json()
    for field, value in (("slug", "globex"), ("created", "2020-01-01T00:00:00.000Z"),
                         ("lastModified", "2020-01-01T00:00:00.000Z"), ("created", None)):
        r = server.admin("PATCH", "/tenants/acme", {field: value, "displayName": "Other"})
        assert r.status_code == 400, (field, r.text)
        err = r.json()["error"]
        assert err["code"] == "INVALID_VALUE"
        assert err["message"].startswith(f'read-only field "{field}"'), err
    assert server.admin("GET", "/tenants/acme").json() == t
    assert server.admin("GET", "/tenants/globex").status_code == 404
    # A new tenant names its slug; its timestamps are still the server's.
    r = server.admin("POST", "/tenants", {"slug": "globex", "created": t["created"]})
    assert r.status_code == 400 and 'read-only field "created"' in r.json()["error"]["message"]
    r = server.admin("PATCH", "/tenants/acme", {"colour": "red"})
    assert r.status_code == 400 and r.json()["error"]["message"] == 'unknown field "colour"'


def test_cli_and_api_share_the_same_tenants(server):
    out = server.cli("tenant", "create", "globex", "--name", "Globex", "--mode", "import-only",
                     "--integration", "on")
    assert json.loads(out.stdout)["provisioningMode"] == "import-only"
    assert server.admin("GET", "/tenants/globex").json()["displayName"] == "Globex"
    server.admin("PATCH", "/tenants/globex", {"plan": "test"})
    assert json.loads(server.cli("tenant", "show", "globex").stdout)["plan"] == "test"
    server.cli("tenant", "update", "globex", "--mode", "push", "--deactivation", "remove")
    assert server.admin("GET", "/tenants/globex").json()["deactivationPolicy"] == "remove"
    assert [t["slug"] for t in json.loads(server.cli("tenant", "list").stdout)] == ["globex"]
    bad = server.cli("tenant", "create", "x", "--mode", "pull", check=False)
    assert bad.returncode != 0 and "provisioningMode" in bad.stderr
    server.cli("tenant", "delete", "globex")
    assert server.admin("GET", "/tenants/globex").status_code == 404


def test_token_is_shown_once_and_stored_only_as_hash(server):
    server.make_tenant("acme")
    minted = server.mint("acme")
    token = minted["token"]
    assert re.fullmatch(r"scimd_[A-Za-z0-9_-]{43}", token)
    assert minted["prefix"] == token[:14]
    listed = server.admin("GET", "/tenants/acme/tokens").json()["tokens"]
    assert len(listed) == 1 and "token" not in listed[0]
    assert listed[0]["prefix"] == token[:14] and listed[0]["active"] is True
    # Only the hash is in the database, never the token itself.
    assert token.encode() not in server.dump()
    assert token not in server.log


def test_token_authenticates_scim_and_revocation_stops_it(server, tenant_token):
    r = server.scim("GET", "/ServiceProviderConfig", tenant_token)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(SCIM)
    tid = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    r = server.admin("POST", f"/tenants/acme/tokens/{tid}/revoke")
    assert r.status_code == 200 and r.json()["revoked"] is not None
    assert_scim_error(server.scim("GET", "/ServiceProviderConfig", tenant_token), 401)


def test_last_used_is_recorded(server, tenant_token):
    assert server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["lastUsed"] is None
    server.scim("GET", "/Users", tenant_token)
    assert server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["lastUsed"]


def test_rotation_keeps_the_old_token_for_the_overlap(server, tenant_token):
    admin = server.make_admin(tenant_token)
    tid = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    r = server.admin("POST", f"/tenants/acme/tokens/{tid}/rotate",
                     {"overlapSeconds": 600, "actingUser": admin})
    assert r.status_code == 201
    new = r.json()["token"]
    assert new != tenant_token
    assert server.scim("GET", "/Users", new).status_code == 200
    assert server.scim("GET", "/Users", tenant_token).status_code == 200  # in the overlap
    old = [t for t in server.admin("GET", "/tenants/acme/tokens").json()["tokens"]
           if t["id"] == tid][0]
    assert old["expires"] is not None

    r = server.admin("POST", f"/tenants/acme/tokens/{r.json()['id']}/rotate",
                     {"overlapSeconds": 0, "actingUser": admin})
    newest = r.json()["token"]
    assert_scim_error(server.scim("GET", "/Users", new), 401)
    assert server.scim("GET", "/Users", newest).status_code == 200


def test_rotation_replaces_one_token_by_one(server, tenant_token):
    admin = server.make_admin(tenant_token)
    tid = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]

    def rotate(token_id, overlap):
        return server.admin("POST", f"/tenants/acme/tokens/{token_id}/rotate",
                            {"overlapSeconds": overlap, "actingUser": admin})

    first = rotate(tid, 600)
    assert first.status_code == 201
    # The replaced token, in its overlap, is not rotated again (with or without an overlap):
    # that would give it a second live successor.
    for overlap in (600, 0):
        r = rotate(tid, overlap)
        assert r.status_code == 409 and "rotated already" in r.json()["error"]["message"], r.text
    assert server.cli("token", "rotate", "acme", tid, "--overlap", "0",
                      check=False).returncode != 0
    live = [t for t in server.admin("GET", "/tenants/acme/tokens").json()["tokens"]
            if t["active"]]
    assert len(live) == 2
    # Revoking it ends the overlap; its successor still works and rotates.
    assert server.admin("POST", f"/tenants/acme/tokens/{tid}/revoke").status_code == 200
    assert_scim_error(server.scim("GET", "/Users", tenant_token), 401)
    assert server.scim("GET", "/Users", first.json()["token"]).status_code == 200
    assert rotate(first.json()["id"], 0).status_code == 201


@pytest.mark.parametrize("extra, field", [
    ({"expires": "2026-12-06T00:00:00Z"}, "expires"),
    ({"expiresIn": 60}, "expiresIn"),
    ({"scope": "read"}, "scope"),
    ({"overlapSeconds": 60}, "overlapSeconds"),  # a rotate's, not a mint's
])
def test_token_mint_refuses_unknown_fields(server, tenant_token, extra, field):
    """A host asking for an expiry or a scope this API does not give is told so (400), instead
    of getting a full-access token that never expires."""
    admin = server.make_admin(tenant_token)
    before = server.admin("GET", "/tenants/acme/tokens").json()["tokens"]
    r = server.admin("POST", "/tenants/acme/tokens", {"actingUser": admin, "label": "x", **extra})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert (err["code"], err["message"]) == ("INVALID_VALUE", f'unknown field "{field}"')
    assert server.admin("GET", "/tenants/acme/tokens").json()["tokens"] == before
    r = server.admin("POST", "/tenants/acme/tokens", {"actingUser": admin, "label": "x"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("extra, field", [({"bogus": True}, "bogus"), ({"label": "y"}, "label"),
                                          ({"expiresIn": 60}, "expiresIn")])
def test_token_rotate_refuses_unknown_fields(server, tenant_token, extra, field):
    admin = server.make_admin(tenant_token)
    tid = server.admin("GET", "/tenants/acme/tokens").json()["tokens"][0]["id"]
    r = server.admin("POST", f"/tenants/acme/tokens/{tid}/rotate", extra)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert (err["code"], err["message"]) == ("INVALID_VALUE", f'unknown field "{field}"')
    tokens = server.admin("GET", "/tenants/acme/tokens").json()["tokens"]
    assert len(tokens) == 1 and tokens[0]["active"] and tokens[0]["expires"] is None
    r = server.admin("POST", f"/tenants/acme/tokens/{tid}/rotate",
                     {"actingUser": admin, "overlapSeconds": 0})
    assert r.status_code == 201, r.text


def test_rotation_with_an_overlap_counts_against_the_token_limit(server, tenant_token):
    admin = server.make_admin(tenant_token)
    for k in range(49):
        server.mint("acme", label=f"t{k}")
    tokens = server.admin("GET", "/tenants/acme/tokens").json()["tokens"]
    assert sum(t["active"] for t in tokens) == 50
    tid = tokens[0]["id"]
    r = server.admin("POST", f"/tenants/acme/tokens/{tid}/rotate",
                     {"overlapSeconds": 600, "actingUser": admin})
    assert r.status_code == 409 and "50 active tokens" in r.json()["error"]["message"], r.text
    # Without an overlap one token replaces another: the count stays 50.
    r = server.admin("POST", f"/tenants/acme/tokens/{tid}/rotate",
                     {"overlapSeconds": 0, "actingUser": admin})
    assert r.status_code == 201, r.text
    tokens = server.admin("GET", "/tenants/acme/tokens").json()["tokens"]
    assert sum(t["active"] for t in tokens) == 50


def test_cli_token_commands(server):
    server.make_tenant("acme")
    out = json.loads(server.cli("token", "mint", "acme", "--label", "entra").stdout)
    assert out["label"] == "entra" and out["token"].startswith("scimd_")
    assert server.scim("GET", "/Users", out["token"]).status_code == 200
    rotated = json.loads(server.cli("token", "rotate", "acme", out["id"], "--overlap", "0").stdout)
    assert server.scim("GET", "/Users", out["token"]).status_code == 401
    assert server.scim("GET", "/Users", rotated["token"]).status_code == 200
    server.cli("token", "revoke", "acme", rotated["id"])
    assert server.scim("GET", "/Users", rotated["token"]).status_code == 401
    listed = json.loads(server.cli("token", "list", "acme").stdout)
    assert len(listed) == 2 and all(not t["active"] for t in listed)
    assert server.cli("token", "list", "nosuch", check=False).returncode == 3


def test_scim_requests_without_a_valid_token_get_401(server, tenant_token):
    cases = [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer scimd_short",
             "Bearer scimd_" + "A" * 43, "Bearer " + tenant_token[:-1] + "!",
             "Token " + tenant_token]
    for auth in cases:
        headers = {} if auth is None else {"Authorization": auth}
        r = requests.get(server.url + "/scim/v2/Users", headers=headers, timeout=10)
        body = assert_scim_error(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), auth
        assert tenant_token not in json.dumps(body)
    # The scheme name is case-insensitive (RFC 6750 §2.1 / RFC 7235).
    r = requests.get(server.url + "/scim/v2/Users",
                     headers={"Authorization": "bearer " + tenant_token}, timeout=10)
    assert r.status_code == 200


def test_tenant_isolation(server):
    server.make_tenant("a")
    server.make_tenant("b")
    ta, tb = server.mint("a")["token"], server.mint("b")["token"]
    r = server.scim("POST", "/Users", tb, user_body("bob@b.example"))
    assert r.status_code == 201, r.text
    bob = r.json()["id"]
    assert server.scim("GET", f"/Users/{bob}", ta).status_code == 404
    assert server.scim("GET", "/Users", ta).json()["totalResults"] == 0
    assert server.scim("GET", '/Users?filter=userName eq "bob@b.example"', ta).json()[
        "totalResults"] == 0
    assert server.scim("DELETE", f"/Users/{bob}", ta).status_code == 404
    assert server.scim("PATCH", f"/Users/{bob}", ta, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}]}).status_code == 404
    # The same userName may exist in both tenants.
    assert server.scim("POST", "/Users", ta, user_body("bob@b.example")).status_code == 201
    assert server.scim("GET", f"/Users/{bob}", tb).json()["active"] is True
    # One tenant's token never reaches another tenant's management data either.
    tid_b = server.admin("GET", "/tenants/b/tokens").json()["tokens"][0]["id"]
    assert server.admin("POST", f"/tenants/a/tokens/{tid_b}/revoke").status_code == 404
    assert server.scim("GET", "/Users", tb).status_code == 200


def test_body_limit_gives_413_and_the_server_keeps_serving(server_factory):
    s = server_factory(extra_args=["--body-limit", "4096"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    big = user_body("big@x.example", displayName="x" * 5000)
    r = s.scim("POST", "/Users", token, big)
    assert r.status_code == 413
    assert s.scim("GET", "/Users", token).json()["totalResults"] == 0
    # Chunked upload without Content-Length is capped the same way.
    def chunks():
        for _ in range(10):
            yield b"x" * 1024
    r = requests.post(s.url + "/scim/v2/Users", data=chunks(), timeout=10,
                      headers={"Authorization": "Bearer " + token, "Content-Type": SCIM})
    assert r.status_code == 413
    assert s.request("GET", "/healthz").status_code == 200


def test_graceful_shutdown_finishes_a_request_in_flight(server, tenant_token):
    body = json.dumps(user_body("inflight@x.example")).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    head = (f"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {tenant_token}\r\nContent-Type: {SCIM}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    sock.sendall(head + body[:10])
    time.sleep(0.3)  # the request is now in flight: headers read, body pending
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # New connections are refused while the one in flight is still served.
    try:
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        refused = False
    except OSError:
        refused = True
    sock.sendall(body[10:])
    reply = b""
    while b"\r\n\r\n" not in reply or len(reply) < 200:
        chunk = sock.recv(65536)
        if not chunk:
            break
        reply += chunk
    sock.close()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
    assert refused
    assert server.proc.wait(15) == 0
    server._reader.join(5)  # the log's last lines are read after the process exits
    assert "stopped cleanly" in server.log


def test_shutdown_answers_every_request_it_handled(server_factory):
    """SIGTERM under steady writes on keep-alive connections: every user the instance
    created got its 201 to the client (the daemon was stopped under requests it had handled,
    so their answers were lost and an identity provider's retry met 409 for a user it never
    saw created), and answers after the signal say Connection: close."""
    import http.client
    import threading
    server = server_factory(extra_args=["--threads", "8"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    created, closing, errors = [], [], []
    started = threading.Barrier(9)

    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
        started.wait()
        for i in range(5000):  # bounded; the shutdown ends it long before
            body = json.dumps(user_body(f"c{k}-{i}@x.example"))
            try:
                conn.request("POST", "/scim/v2/Users", body, {
                    "Authorization": "Bearer " + token, "Content-Type": SCIM})
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException) as e:
                errors.append(type(e).__name__)
                return
            if r.status == 201:
                created.append(f"c{k}-{i}@x.example")
            if (r.getheader("Connection") or "").lower() == "close":
                closing.append(r.status)
                return

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(1.0)
    server.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(timeout=30)
    assert server.proc.wait(15) == 0
    server._reader.join(5)
    assert "stopped cleanly" in server.log
    server.start()
    total = server.scim("GET", "/Users?count=0", token).json()["totalResults"]
    assert total == len(created), (total, len(created), errors)
    assert closing, "no answer after the signal said Connection: close"


def test_restart_keeps_all_data(server_factory, tmp_path):
    s = server_factory(data_dir=tmp_path / "keep")
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    uid = s.scim("POST", "/Users", token, user_body("kept@x.example")).json()["id"]
    assert s.stop() == 0
    s2 = server_factory(data_dir=tmp_path / "keep")
    assert s2.scim("GET", f"/Users/{uid}", token).json()["userName"] == "kept@x.example"
    assert s2.admin("GET", "/tenants/acme").status_code == 200


def test_access_log_has_one_line_per_request_without_secrets(server, tenant_token):
    server.scim("GET", "/Users?filter=userName%20eq%20%22secret-filter%40x%22", tenant_token)
    server.request("GET", "/healthz")
    server.admin("GET", "/tenants/acme/tokens")
    time.sleep(0.2)
    lines = [l for l in server.log_lines if "route=" in l]
    assert any('route="/scim/v2/Users" status=200' in l and "tenant=acme" in l for l in lines)
    assert any('route="/healthz" status=200' in l and "tenant=-" in l for l in lines)
    # Management routes log the tenant of their path too.
    assert any('route="/admin/v1/tenants/{tenant}/tokens" status=200' in l and "tenant=acme" in l
               for l in lines), lines
    assert tenant_token not in server.log
    assert "secret-filter" not in server.log
    assert OPERATOR_KEY not in server.log


def test_help_lists_every_setting(scimd_bin):
    out = subprocess.run([scimd_bin, "serve", "--help"], capture_output=True, text=True).stdout
    for flag in ["--listen", "--port", "--data-dir", "--db", "--public-url", "--operator-key",
                 "--operator-key-file", "--tls-cert", "--tls-key", "--threads",
                 "--max-connections", "--connection-timeout", "--body-limit", "--page-max",
                 "--token-overlap", "--log-level", "--access-log", "--config-file"]:
        assert flag in out, flag
    assert "SCIMD_PORT" in out
    top = subprocess.run([scimd_bin, "--help"], capture_output=True, text=True).stdout
    assert "--port" in top and "serve" in top


def test_configuration_precedence_flag_over_env_over_file(server_factory, tmp_path):
    conf = tmp_path / "scimd.conf"
    conf.write_text("# test\npage_max = 5\npublic_url = https://file.example\n")

    def max_results(extra, env):
        s = server_factory(extra_args=["--config-file", str(conf), *extra], env=env,
                           data_dir=tmp_path / f"d{len(extra)}{len(env)}")
        s.make_tenant("acme")
        tok = s.mint("acme")["token"]
        spc = s.scim("GET", "/ServiceProviderConfig", tok).json()
        s.stop()
        return spc["filter"]["maxResults"], spc["meta"]["location"]

    assert max_results([], {}) == (5, "https://file.example/scim/v2/ServiceProviderConfig")
    assert max_results([], {"SCIMD_PAGE_MAX": "7"})[0] == 7
    assert max_results(["--page-max", "9"], {"SCIMD_PAGE_MAX": "7"})[0] == 9


def test_bad_configuration_is_refused_with_a_message(scimd_bin, tmp_path):
    for args, word in [(["--port", "99999"], "port"), (["--page-max", "x"], "page_max"),
                       (["--public-url", "ftp://x"], "public_url"),
                       (["--operator-key", "short"], "operator_key"),
                       (["--log-level", "loud"], "log_level")]:
        p = subprocess.run([scimd_bin, "serve", "--data-dir", str(tmp_path), *args],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, args
        assert word in p.stderr, (args, p.stderr)


def test_config_file_mistakes_are_refused_and_quotes_are_not_part_of_a_value(
        scimd_bin, server_factory, tmp_path):
    """A directory as the config file (scimd started on its defaults without a word), a key
    set twice (the last one won silently) are refused; one pair of quotes around a value is
    dropped, as by the systemd EnvironmentFile beside the file (it was part of the value: an
    operator key moved between the two files stopped matching)."""
    twice = tmp_path / "twice.conf"
    twice.write_text("page_max = 5\n# merged\npage_max = 6\n")
    for conf, word in [(tmp_path, "not a regular file"),
                       (twice, f"{twice}:3: \"page_max\" is already set on line 1")]:
        p = subprocess.run([scimd_bin, "serve", "--port", "0", "--data-dir",
                            str(tmp_path / "d"), "--config-file", str(conf)],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, (conf, p.stderr)
        assert word in p.stderr, p.stderr
    quoted = tmp_path / "quoted.conf"
    quoted.write_text('page_max = "5"\npublic_url = \'https://quoted.example\'\n')
    s = server_factory(extra_args=["--config-file", str(quoted)], data_dir=tmp_path / "q")
    s.make_tenant("acme")
    spc = s.scim("GET", "/ServiceProviderConfig", s.mint("acme")["token"]).json()
    assert spc["filter"]["maxResults"] == 5
    assert spc["meta"]["location"] == "https://quoted.example/scim/v2/ServiceProviderConfig"


def test_libpq_keyword_string_is_refused_not_opened_as_a_file(scimd_bin, tmp_path):
    """`db` is a SQLite path or a postgres:// URI. A libpq "key=value" string used to open a
    SQLite file named after it (password included) in the working directory, and the start-up
    line logged it."""
    dsn = "host=127.0.0.1 port=5 user=scimd password=SuPeRsEcReT dbname=nosuch"
    p = subprocess.run([scimd_bin, "serve", "--port", "0", "--data-dir", str(tmp_path / "d"),
                        "--db", dsn], capture_output=True, text=True, timeout=10, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert "postgresql://" in p.stderr and "SuPeRsEcReT" not in p.stderr + p.stdout
    assert sorted(x.name for x in tmp_path.iterdir()) == []


def test_data_dir_that_cannot_be_made_says_why(scimd_bin, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    p = subprocess.run([scimd_bin, "serve", "--port", "0", "--data-dir", str(blocker / "d")],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "Not a directory" in p.stderr, p.stderr


def test_new_database_is_readable_by_its_owner_only(server_factory, backend):
    """A new SQLite database, and the WAL beside it, are 0600 whatever the umask (022 here):
    they hold every identity and token hash (docs/deploy.md)."""
    if backend != "sqlite":
        pytest.skip("SQLite files")
    old = os.umask(0o022)
    try:
        server = server_factory()
    finally:
        os.umask(old)
    server.make_tenant("acme")
    for name in ("scimd.db", "scimd.db-wal"):
        mode = (server.data_dir / name).stat().st_mode & 0o777
        assert mode == 0o600, (name, oct(mode))


def test_tls_serves_https(server_factory, tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    s = server_factory(extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    r = requests.get(f"https://127.0.0.1:{s.port}/healthz", verify=str(cert), timeout=10)
    assert r.status_code == 200


def test_a_client_that_stalls_in_its_headers_is_disconnected(server_factory):
    s = server_factory(extra_args=["--connection-timeout", "1"])
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes
    t = time.monotonic()
    data = sock.recv(1024)  # returns b"" when the server closes the connection
    waited = time.monotonic() - t
    sock.close()
    assert data == b""
    assert waited < 8
    assert s.request("GET", "/healthz").status_code == 200


def test_connections_beyond_the_cap_wait_until_a_slot_frees(server_factory):
    s = server_factory(extra_args=["--max-connections", "2", "--threads", "1"])
    held = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(2)]
    time.sleep(0.2)
    extra = socket.create_connection(("127.0.0.1", s.port), timeout=1)
    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        early = extra.recv(1024)
    except socket.timeout:
        early = None
    assert early is None  # not served while the cap is reached (the kernel holds it)
    for h in held:
        h.close()
    extra.settimeout(10)
    assert extra.recv(1024).startswith(b"HTTP/1.1 200")
    extra.close()
