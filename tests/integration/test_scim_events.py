"""SCIM events as Security Event Tokens (issue 19; docs/webhooks.md "SCIM events (SETs)"):
RFC 8417 SETs carrying RFC 9967 SCIM event URIs, signed ES256, pushed one per POST as
RFC 8935 says, beside the existing webhook format.

The receiver here does what a real one must: it fetches the JWKS, verifies every SET's
signature against it and checks every claim (iss, aud, iat, jti unique, txn, sub_id, events)
against the change made through SCIM."""
import json
import threading
import time

import pytest
from jwcrypto import jwk, jws

from conftest import user_body
from hook_receiver import FAST, HookReceiver, hooked_server

EV = "urn:ietf:params:scim:event:"
ROLE = "urn:x-scimd:event:role:change"
AUD = "https://receiver.example.test/scim-events"


class SetReceiver(HookReceiver):
    """An RFC 8935 receiver: records (headers, SET text, status answered) of each POST and
    answers with the status the test chooses (202: accepted)."""

    def __init__(self):
        super().__init__("/events", 202)

    def decode(self, raw):
        return raw.decode()

    def reply(self, status):
        if status == 400:  # RFC 8935 §2.3: the error, as JSON
            return json.dumps({"err": "invalid_request",
                               "description": "refused by the test"}).encode(), \
                "application/json"
        return b"", "application/json"

    def sets(self, status=None):
        with self.lock:
            return [raw for h, raw, st in self.received if status is None or st == status]


@pytest.fixture
def receiver():
    r = SetReceiver()
    yield r
    r.close()


@pytest.fixture
def hooked(server_factory):
    return hooked_server(server_factory)


def add_set_hook(server, url, slug="acme", **fields):
    body = {"url": url, "format": "set", "delivery": "push", "audience": AUD, **fields}
    r = server.admin("POST", f"/tenants/{slug}/webhooks", body)
    assert r.status_code == 201, r.text
    return r.json()


def jwks_of(server):
    r = server.request("GET", "/events/v1/jwks.json")
    assert r.status_code == 200, r.text
    keys = r.json()["keys"]
    assert keys and all("d" not in k for k in keys), "the JWKS must hold public keys only"
    assert all(k["kty"] == "EC" and k["crv"] == "P-256" and k["alg"] == "ES256" for k in keys)
    return jwk.JWKSet.from_json(json.dumps({"keys": keys}))


def verified(keyset, token):
    """The claims of a SET whose ES256 signature a key of the JWKS verifies, and its header."""
    obj = jws.JWS()
    obj.deserialize(token)
    header = obj.jose_header
    assert header["alg"] == "ES256" and header["typ"] == "secevent+jwt"
    key = keyset.get_key(header["kid"])
    assert key is not None, "the SET's kid is not in the JWKS"
    obj.verify(key, alg="ES256")
    return json.loads(obj.payload), header


def scim_events(claims_list):
    """(event URI, sub_id uri) of each SET, role changes left out."""
    return [(uri, c["sub_id"]["uri"]) for c in claims_list for uri in c["events"]
            if uri != ROLE]


def test_sets_are_signed_and_carry_every_claim(hooked, receiver):
    server, token = hooked
    hook = add_set_hook(server, receiver.url)
    assert (hook["format"], hook["delivery"], hook["audience"]) == ("set", "push", AUD)
    before = int(time.time()) - 1
    u = server.scim("POST", "/Users", token, user_body("ann@x.example", externalId="ext-ann"))
    assert u.status_code == 201, u.text
    uid = u.json()["id"]
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "replace", "path": "displayName", "value": "Ann"}]}
    assert server.scim("PATCH", f"/Users/{uid}", token, patch).status_code == 200
    deactivate = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                  "Operations": [{"op": "replace", "value": {"active": False}}]}
    assert server.scim("PATCH", f"/Users/{uid}", token, deactivate).status_code == 200
    assert server.scim("DELETE", f"/Users/{uid}", token).status_code == 204
    g = server.scim("POST", "/Groups", token, {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"})
    assert g.status_code == 201, g.text
    gid = g.json()["id"]

    def got():
        return [c for c, _ in (verified(jwks_of(server), t) for t in receiver.sets())]
    assert receiver.wait_for(lambda: len(scim_events(got())) == 5)
    keyset = jwks_of(server)
    claims = []
    for headers, raw, _ in receiver.received:
        assert headers["Content-Type"] == "application/secevent+jwt"
        assert headers["Scimd-Webhook-Id"] == hook["id"]
        c, _ = verified(keyset, raw)
        claims.append(c)
    assert scim_events(claims) == [
        (EV + "prov:create:full", f"/Users/{uid}"),
        (EV + "prov:patch:notice", f"/Users/{uid}"),
        (EV + "prov:deactivate", f"/Users/{uid}"),
        (EV + "prov:delete", f"/Users/{uid}"),
        (EV + "prov:create:full", f"/Groups/{gid}"),
    ]
    now = int(time.time()) + 1
    jtis = [c["jti"] for c in claims]
    assert len(set(jtis)) == len(jtis), "jti must be unique"
    for c in claims:
        assert c["iss"] == server.url + "/scim/v2"
        assert c["aud"] == AUD
        assert before <= c["iat"] <= now
        assert c["sub_id"]["format"] == "scim"
        assert len(c["events"]) == 1
        # jti: "<tenant>-<event seq>"; txn: the event's seq (one event per change).
        assert c["jti"].split("-")[1] == c["txn"] and c["txn"].isdigit()
    by_uri = {list(c["events"])[0]: c for c in claims}
    created = by_uri[EV + "prov:create:full"]
    assert claims[0]["sub_id"]["externalId"] == "ext-ann"
    user_created = claims[[i for i, c in enumerate(claims)
                           if EV + "prov:create:full" in c["events"]][0]]
    assert user_created["events"][EV + "prov:create:full"]["data"]["userName"] == "ann@x.example"
    assert "password" not in json.dumps(created)
    notice = by_uri[EV + "prov:patch:notice"]
    assert notice["events"][EV + "prov:patch:notice"] == {"attributes": ["displayName"]}
    assert by_uri[EV + "prov:delete"]["events"][EV + "prov:delete"] == {}
    # The events arrive in order: txn (the event seq) increases.
    assert [int(c["txn"]) for c in claims] == sorted(int(c["txn"]) for c in claims)


def test_a_set_answered_500_is_retried_with_the_same_jti(hooked, receiver):
    server, token = hooked
    hook = add_set_hook(server, receiver.url)
    receiver.status = 500
    server.scim("POST", "/Users", token, user_body("bob@x.example"))
    assert receiver.wait_for(lambda: len(receiver.sets(500)) >= 2)
    receiver.status = 202
    assert receiver.wait_for(lambda: len(receiver.sets(202)) >= 1)
    keyset = jwks_of(server)
    failed = [verified(keyset, t)[0]["jti"] for t in receiver.sets(500)]
    accepted = [verified(keyset, t)[0]["jti"] for t in receiver.sets(202)]
    assert set(failed) == {accepted[0]}, "a retry carries the same jti"
    state = server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()
    assert state["failures"] == 0 or receiver.wait_for(
        lambda: server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()["failures"] == 0)


def test_a_set_refused_with_400_is_recorded_and_not_retried(hooked, receiver):
    server, token = hooked
    hook = add_set_hook(server, receiver.url)
    receiver.status = 400
    server.scim("POST", "/Users", token, user_body("cy@x.example"))
    assert receiver.wait_for(lambda: len(receiver.sets()) >= 1)
    refused = receiver.sets()[0]

    def attempts():
        return server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}/attempts").json()[
            "attempts"]
    assert receiver.wait_for(lambda: len(attempts()) >= 1)
    a = attempts()[0]
    assert a["status"] == 400 and "refused by the receiver" in a["error"]
    receiver.status = 202
    server.scim("POST", "/Users", token, user_body("dee@x.example"))
    assert receiver.wait_for(lambda: len(receiver.sets(202)) >= 1)
    time.sleep(0.3)  # several poll periods: a retry of the refused SET would show now
    assert receiver.sets().count(refused) == 1
    keyset = jwks_of(server)
    jtis = [verified(keyset, t)[0]["jti"] for t in receiver.sets()]
    assert len(jtis) == len(set(jtis)), "the refused SET was sent again"
    state = server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()
    assert state["pending"] == 0


def test_nothing_acknowledged_is_pushed_again_and_nothing_lost_after_a_restart(
        server_factory, receiver, tmp_path):
    server = server_factory(extra_args=FAST, data_dir=tmp_path / "d")
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    add_set_hook(server, receiver.url)
    for i in range(2):
        server.scim("POST", "/Users", token, user_body(f"a{i}@x.example"))
    assert receiver.wait_for(lambda: len(scim_events(
        [verified(jwks_of(server), t)[0] for t in receiver.sets(202)])) == 2)
    receiver.status = 500
    server.scim("POST", "/Users", token, user_body("a2@x.example"))
    assert receiver.wait_for(lambda: len(receiver.sets(500)) >= 1)
    kid_before = {k["kid"] for k in server.request("GET", "/events/v1/jwks.json").json()["keys"]}
    server.stop()
    receiver.status = 202
    server.start()
    server.scim("POST", "/Users", token, user_body("a3@x.example"))
    def accepted():
        return [verified(jwks_of(server), t)[0] for t in receiver.sets(202)]
    assert receiver.wait_for(lambda: len(scim_events(accepted())) == 4, timeout=15)
    time.sleep(0.3)
    keyset = jwks_of(server)
    claims = [verified(keyset, t)[0] for t in receiver.sets(202)]
    jtis = [c["jti"] for c in claims]
    assert len(jtis) == len(set(jtis)), "an acknowledged SET was pushed again"
    names = [c["events"][EV + "prov:create:full"]["data"]["userName"] for c in claims
             if EV + "prov:create:full" in c["events"]]
    assert names == [f"a{i}@x.example" for i in range(4)]
    # Every instance signs with the database's key: the same one after the restart.
    assert {k["kid"] for k in server.request("GET", "/events/v1/jwks.json").json()["keys"]} \
        == kid_before


def test_the_jwks_is_public_and_the_same_key_signs_until_rotated(server):
    a = server.request("GET", "/events/v1/jwks.json")
    b = server.request("GET", "/events/v1/jwks.json")
    assert a.status_code == 200 and a.json() == b.json()
    assert len(a.json()["keys"]) == 1


def test_format_options_are_checked(hooked, receiver):
    server, _ = hooked
    hooks = lambda: server.admin("GET", "/tenants/acme/webhooks").json()  # noqa: E731
    before = hooks()
    for body, words in [
            ({"url": receiver.url, "format": "xml"}, "format"),
            ({"url": receiver.url, "format": "set", "delivery": "carrier-pigeon"}, "delivery"),
            ({"url": receiver.url, "format": "set", "audience": "a\nb"}, "audience"),
            ({"url": receiver.url, "format": "set", "audience": "x" * 1025}, "audience"),
            ({"url": receiver.url, "format": 1}, "format")]:
        r = server.admin("POST", "/tenants/acme/webhooks", body)
        assert r.status_code == 400, (body, r.text)
        assert words in r.json()["error"]["message"]
    assert hooks() == before
    plain = server.admin("POST", "/tenants/acme/webhooks", {"url": receiver.url}).json()
    assert plain["format"] == "scimd" and "delivery" not in plain and "audience" not in plain
    r = server.admin("PATCH", f"/tenants/acme/webhooks/{plain['id']}", {"format": "set"})
    assert r.status_code == 200, r.text
    # No audience given: the url is the audience.
    assert (r.json()["format"], r.json()["audience"]) == ("set", receiver.url)


# ---- Poll delivery (RFC 8936) ----

def add_poll_stream(server, slug="acme", **fields):
    body = {"format": "set", "delivery": "poll", "audience": AUD, **fields}
    r = server.admin("POST", f"/tenants/{slug}/webhooks", body)
    assert r.status_code == 201, r.text
    return r.json()


def poll(server, stream, body=None, secret=None, slug="acme"):
    headers = {"Authorization": "Bearer " + (secret or stream["secret"])}
    return server.request("POST", f"/events/v1/{slug}/poll/{stream['id']}",
                          json_body=body if body is not None else {"returnImmediately": True},
                          headers=headers)


def polled(server, stream, body=None, **kw):
    r = poll(server, stream, body, **kw)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) == {"sets", "moreAvailable"}
    keyset = jwks_of(server)
    claims = {}
    for jti, token in answer["sets"].items():
        c, _ = verified(keyset, token)
        assert c["jti"] == jti and c["aud"] == AUD and c["iss"] == server.url + "/scim/v2"
        claims[jti] = c
    return claims, answer["moreAvailable"]


def created_names(claims):
    return sorted(c["events"][EV + "prov:create:full"]["data"]["userName"]
                  for c in claims.values() if EV + "prov:create:full" in c["events"])


def test_a_poll_stream_needs_an_audience_and_no_url(hooked, receiver):
    server, _ = hooked
    before = server.admin("GET", "/tenants/acme/webhooks").json()
    for body, words in [
            ({"format": "set", "delivery": "poll"}, "audience"),
            ({"format": "set", "delivery": "poll", "audience": AUD, "url": receiver.url}, "url"),
            ({"format": "scimd", "delivery": "poll", "audience": AUD}, "set"),
            ({"format": "set", "delivery": "push"}, "url")]:
        r = server.admin("POST", "/tenants/acme/webhooks", body)
        assert r.status_code == 400, (body, r.text)
        assert words in r.json()["error"]["message"], (body, r.text)
    assert server.admin("GET", "/tenants/acme/webhooks").json() == before


def test_poll_acknowledged_sets_are_never_given_again_unacknowledged_ones_are(hooked):
    server, token = hooked
    stream = add_poll_stream(server)
    assert (stream["format"], stream["delivery"], stream["audience"]) == ("set", "poll", AUD)
    for i in range(3):
        server.scim("POST", "/Users", token, user_body(f"p{i}@x.example"))
    first, more = polled(server, stream)
    assert created_names(first) == ["p0@x.example", "p1@x.example", "p2@x.example"]
    assert more is False
    # Not acknowledged: given again, the same jtis.
    again, _ = polled(server, stream)
    assert set(again) == set(first)
    # Out of order: the 2nd and 3rd acknowledged, the 1st not.
    order = sorted(first, key=lambda j: int(first[j]["txn"]))
    rest, _ = polled(server, stream, {"ack": order[1:], "returnImmediately": True})
    assert set(rest) == {order[0]}
    state = server.admin("GET", f"/tenants/acme/webhooks/{stream['id']}").json()
    assert state["pending"] == 3, "the cursor waits for the 1st"
    done, more = polled(server, stream, {"ack": [order[0]]})
    assert done == {} and more is False
    state = server.admin("GET", f"/tenants/acme/webhooks/{stream['id']}").json()
    assert state["pending"] == 0 and state["delivered"] == int(order[-1].split("-")[1])
    # maxEvents bounds the answer; moreAvailable says there is more.
    for i in range(3, 6):
        server.scim("POST", "/Users", token, user_body(f"p{i}@x.example"))
    two, more = polled(server, stream, {"maxEvents": 2})
    assert len(two) == 2 and more is True
    none, more = polled(server, stream, {"maxEvents": 0, "ack": list(two)})
    assert none == {} and more is True
    last, more = polled(server, stream, {"setErrs": {}})
    assert created_names(last) == ["p5@x.example"] and more is False
    # An error report counts as an acknowledgement (RFC 8936 §2.4.4).
    jti = list(last)[0]
    gone, _ = polled(server, stream, {"setErrs": {jti: {"err": "jwtAud",
                                                        "description": "not ours"}}})
    assert gone == {}


def seq_of(jti):
    return int(jti.split("-")[1])


def preack_every_third(server, stream, token, n):
    """n users created, then every third of their SETs acknowledged (a gap above the cursor
    after each); returns (jtis acknowledged, jtis left)."""
    for i in range(n):
        assert server.scim("POST", "/Users", token, user_body(f"c{i}@x.example")).status_code == 201
    seen, acked, ack = set(), set(), []
    for _ in range(20):
        sets = polled(server, stream, {"ack": ack, "maxEvents": 100})[0]
        acked.update(ack)
        new = set(sets) - seen
        if not new and not ack:
            break
        seen |= new
        ack = sorted(j for j in new if seq_of(j) % 3 == 0)
    assert len(seen) == n and not seen & acked - seen
    return acked, seen - acked


def drain_concurrently(servers, stream, pollers, acked):
    """`pollers` threads drain the stream together, each acknowledging in its next poll what
    it got in its last one, each poll to the next of `servers` in turn, until a poll answers
    nothing. `acked`: the jtis acknowledged before. Returns the jtis that a poll handed out after a poll acknowledging them had been
    answered (RFC 8936 §2.4.2: none may be), and the polls that failed."""
    lock = threading.Lock()
    answered, again, failed = set(acked), [], []
    start = threading.Barrier(pollers)

    def run(k):
        got = []
        start.wait()
        for n in range(200):
            with lock:
                known = set(answered)
            r = poll(servers[(k + n) % len(servers)], stream,
                     {"ack": got, "maxEvents": 10, "returnImmediately": True})
            if r.status_code != 200:
                failed.append(r.text)
                return
            sets = list(r.json()["sets"])
            with lock:
                answered.update(got)
                again.extend(j for j in sets if j in known)
            if not sets:
                return
            got = sets
        failed.append("not drained within 200 polls")

    threads = [threading.Thread(target=run, args=(k,)) for k in range(pollers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a poller hangs"
    return again, failed


def test_concurrent_polls_never_hand_out_an_acknowledged_set_again(hooked):
    """Polls of one stream at once, each acknowledging what it got before: a poll must work
    from the cursor and acknowledgements as they stand when it runs, never from a cursor read
    before another poll moved it (and forgot the acknowledgements it passed)."""
    server, token = hooked
    stream = add_poll_stream(server)
    acked, left = preack_every_third(server, stream, token, 120)
    again, failed = drain_concurrently([server], stream, 4, acked)
    assert failed == []
    assert sorted(set(again)) == [], f"{len(again)} acknowledged SETs given again"
    final, more = polled(server, stream)
    assert final == {} and more is False
    state = server.admin("GET", f"/tenants/acme/webhooks/{stream['id']}").json()
    assert state["pending"] == 0


def test_poll_needs_the_streams_own_secret(hooked):
    server, token = hooked
    a = add_poll_stream(server)
    b = add_poll_stream(server)
    server.make_tenant("globex")
    c = add_poll_stream(server, slug="globex")
    server.scim("POST", "/Users", token, user_body("q@x.example"))
    for secret in ["whsec_wrong", b["secret"], c["secret"], a["secret"] + "x"]:
        r = poll(server, a, secret=secret)
        assert r.status_code == 401, r.text
    r = server.request("POST", f"/events/v1/acme/poll/{a['id']}", json_body={})
    assert r.status_code == 401
    # Another tenant's path to the same stream id: refused alike.
    r = poll(server, a, slug="globex")
    assert r.status_code == 401
    r = poll(server, a, slug="nosuch")
    assert r.status_code == 401
    # A push webhook's secret does not open a poll: it is not a poll stream.
    state = server.admin("GET", f"/tenants/acme/webhooks/{a['id']}").json()
    assert state["pending"] >= 1, "nothing was acknowledged by the refused polls"
    claims, _ = polled(server, a)
    assert created_names(claims) == ["q@x.example"]


def test_another_tenants_events_never_appear(hooked):
    server, token = hooked
    server.make_tenant("globex")
    gtoken = server.mint("globex")["token"]
    a = add_poll_stream(server)
    g = add_poll_stream(server, slug="globex")
    gid = server.scim("POST", "/Users", gtoken, user_body("g@x.example")).json()["id"]
    aid = server.scim("POST", "/Users", token, user_body("a@x.example")).json()["id"]
    ac, _ = polled(server, a)
    gc, _ = polled(server, g, slug="globex")
    assert {c["sub_id"]["uri"] for c in ac.values()} == {f"/Users/{aid}"}
    assert {c["sub_id"]["uri"] for c in gc.values()} == {f"/Users/{gid}"}
    # Acknowledging another tenant's jti is refused, and changes nothing.
    r = poll(server, a, {"ack": list(gc)})
    assert r.status_code == 400, r.text
    again, _ = polled(server, g, slug="globex")
    assert set(again) == set(gc)


def test_hostile_poll_requests_are_refused_and_change_nothing(hooked):
    server, token = hooked
    s = add_poll_stream(server)
    server.scim("POST", "/Users", token, user_body("h@x.example"))
    first, _ = polled(server, s)
    jti = list(first)[0]
    bad = [
        "not json", "[]", '{"ack": "x"}', '{"ack": [1]}', '{"ack": ["1-"]}',
        '{"ack": ["' + jti + 'x"]}', '{"ack": ["' + jti.split("-")[0] + '-99999999999999999999"]}',
        '{"maxEvents": 101}', '{"maxEvents": -1}', '{"maxEvents": 1.5}',
        '{"returnImmediately": "yes"}', '{"setErrs": []}', '{"setErrs": {"' + jti + '": 1}}',
        '{"ack": [], "ack": ["' + jti + '"]}', '{"other": 1}',
        '{"ack": [' + ",".join(['"' + jti + '"'] * 1001) + ']}',
    ]
    for text in bad:
        r = server.request("POST", f"/events/v1/acme/poll/{s['id']}", data=text,
                           headers={"Authorization": "Bearer " + s["secret"],
                                    "Content-Type": "application/json"})
        assert r.status_code == 400, (text, r.text)
    again, _ = polled(server, s)
    assert set(again) == set(first), "a refused poll acknowledged something"


def test_poll_acknowledgements_survive_a_restart(server_factory, tmp_path):
    server = server_factory(extra_args=FAST, data_dir=tmp_path / "d")
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    s = add_poll_stream(server)
    for i in range(4):
        server.scim("POST", "/Users", token, user_body(f"r{i}@x.example"))
    first, _ = polled(server, s)
    order = sorted(first, key=lambda j: int(first[j]["txn"]))
    polled(server, s, {"ack": [order[0], order[2]]})
    server.stop()
    server.start()
    after, _ = polled(server, s)
    assert set(after) == {order[1], order[3]}
    server.scim("POST", "/Users", token, user_body("r4@x.example"))
    final, _ = polled(server, s, {"ack": [order[1], order[3]]})
    assert created_names(final) == ["r4@x.example"]


def test_set_key_rotate_signs_with_the_new_key_and_keeps_the_old_one_listed(hooked):
    server, token = hooked
    s = add_poll_stream(server)
    server.scim("POST", "/Users", token, user_body("k0@x.example"))
    before, _ = polled(server, s)
    old_kid = {verified(jwks_of(server), t)[1]["kid"]
               for t in poll(server, s).json()["sets"].values()}
    assert len(old_kid) == 1
    new_kid = server.cli("set-key", "rotate").stdout.strip()
    assert new_kid.startswith("set-") and new_kid not in old_kid
    keys = server.request("GET", "/events/v1/jwks.json").json()["keys"]
    assert [k["kid"] for k in keys] == [new_kid, *old_kid]
    # Given again after the rotation: the same jti, now signed with the new key.
    r = poll(server, s).json()["sets"]
    assert set(r) == set(before)
    assert {verified(jwks_of(server), t)[1]["kid"] for t in r.values()} == {new_kid}
    # A third generation: the first drops out of the JWKS.
    third = server.cli("set-key", "rotate").stdout.strip()
    keys = server.request("GET", "/events/v1/jwks.json").json()["keys"]
    assert [k["kid"] for k in keys] == [third, new_kid]
    assert server.cli("set-key", "spin", check=False).returncode == 2


def test_the_signing_key_is_sealed_at_rest_when_an_sso_key_is_set(server_factory):
    key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
    server = server_factory(extra_args=[*FAST, "--sso-key", key])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    s = add_poll_stream(server)
    server.scim("POST", "/Users", token, user_body("s@x.example"))
    claims, _ = polled(server, s)
    assert created_names(claims) == ["s@x.example"]
    # The private part ("d") of the P-256 key never reaches the database in the clear.
    dump = server.dump()
    assert b'"kty":"EC"' not in dump and b'"crv":"P-256"' not in dump
    assert b"set_keys" in dump


def test_reseal_seals_a_plain_signing_key_and_sets_still_verify(server_factory, tmp_path):
    key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
    server = server_factory(extra_args=FAST, data_dir=tmp_path / "d")
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    s = add_poll_stream(server)
    server.scim("POST", "/Users", token, user_body("z@x.example"))
    before, _ = polled(server, s)
    kids = [k["kid"] for k in server.request("GET", "/events/v1/jwks.json").json()["keys"]]
    assert b'"crv":"P-256"' in server.dump()  # no sso key: stored as it is
    server.stop()
    p = server.cli("reseal", "--sso-key", key)
    assert p.stdout.splitlines()[-1] == (
        "SET signing keys: 0 re-sealed, 1 sealed (were plain), 0 already current, 0 unreadable")
    assert b'"crv":"P-256"' not in server.dump()
    server.extra_args = [*FAST, "--sso-key", key]
    server.start()
    assert [k["kid"] for k in server.request("GET", "/events/v1/jwks.json").json()["keys"]] \
        == kids
    again, _ = polled(server, s)
    assert set(again) == set(before)


def test_the_cli_creates_set_streams(server):
    server.make_tenant("acme")
    p = server.cli("webhook", "create", "acme", "-", "--set", "poll", "--audience", AUD)
    stream = json.loads(p.stdout)
    assert (stream["format"], stream["delivery"], stream["audience"], stream["url"]) == (
        "set", "poll", AUD, "")
    assert stream["secret"].startswith("whsec_")
    p = server.cli("webhook", "create", "acme", "-", "--set", "poll", check=False)
    assert p.returncode != 0 and "audience" in p.stderr
    p = server.cli("webhook", "create", "acme", "-", "--bogus", check=False)
    assert p.returncode == 2
    hooks = server.admin("GET", "/tenants/acme/webhooks").json()["webhooks"]
    assert [h["id"] for h in hooks] == [stream["id"]]


def test_an_unreadable_signing_key_fails_pushes_visibly_and_loses_nothing(
        server_factory, receiver, tmp_path):
    key_a = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
    key_b = "1f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f1"
    server = server_factory(extra_args=[*FAST, "--sso-key", key_a], data_dir=tmp_path / "d")
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    hook = add_set_hook(server, receiver.url)
    server.scim("POST", "/Users", token, user_body("before@x.example"))
    assert receiver.wait_for(lambda: len(receiver.sets(202)) == 1)
    server.stop()
    server.extra_args = [*FAST, "--sso-key", key_b]
    server.start()
    server.scim("POST", "/Users", token, user_body("during@x.example"))

    def state():
        return server.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json()
    assert receiver.wait_for(lambda: state()["failures"] >= 1)
    assert "sso key" in state()["lastError"] and state()["pending"] >= 1
    assert len(receiver.sets()) == 1
    assert server.request("GET", "/healthz").status_code == 200
    server.stop()
    server.extra_args = [*FAST, "--sso-key", key_a]
    server.start()
    assert receiver.wait_for(lambda: len(receiver.sets(202)) == 2, timeout=15)


def test_retention_keeps_what_a_poll_stream_has_not_acknowledged(server_factory):
    from test_retention import PRUNE, age, seqs, wait_passes
    server = server_factory(extra_args=[*FAST, *PRUNE])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    before = seqs(server, "acme")
    s = add_poll_stream(server)
    for i in range(3):
        server.scim("POST", "/Users", token, user_body(f"t{i}@x.example"))
    held = [q for q in seqs(server, "acme") if q not in before]
    got, _ = polled(server, s)
    order = sorted(got, key=lambda j: int(got[j]["txn"]))
    # The 2nd and 3rd acknowledged, not the 1st: the cursor waits, so all stay.
    polled(server, s, {"ack": order[1:]})
    age(server, seqs(server, "acme"), 400)
    wait_passes(server)
    assert seqs(server, "acme") == held
    polled(server, s, {"ack": order[:1]})
    wait_passes(server)
    assert seqs(server, "acme") == []


def test_token_events_are_passed_over_by_a_set_stream(hooked):
    """token.created, token.rotated and token.revoked are about no SCIM resource: a SET stream
    passes over them (docs/webhooks.md), and the next SCIM change still arrives."""
    server, token = hooked
    stream = add_poll_stream(server)
    minted = server.mint("acme", label="second")
    server.cli("token", "rotate", "acme", minted["id"], "--overlap", "0")
    server.cli("token", "revoke", "acme", minted["id"])
    kinds = [e["kind"] for e in server.admin("GET", "/tenants/acme/events",
                                             params={"kind": "token."}).json()["events"]]
    assert kinds[-2:] == ["token.created", "token.rotated"], kinds
    server.scim("POST", "/Users", token, user_body("after@x.example"))
    claims, more = polled(server, stream)
    assert created_names(claims) == ["after@x.example"] and more is False
    assert all(uri.startswith(EV) or uri == ROLE for c in claims.values() for uri in c["events"])
