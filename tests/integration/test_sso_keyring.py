"""Issue 17, key rotation: the sso keyring (sso_key as the key named "default", sso_keys_file
with NAME=64HEX lines, the last one sealing) and `scimd reseal` (docs/deploy.md "Key
rotation"). An OIDC connection and a webhook made under key A keep working while the ring
becomes [A, B], then [B] after a reseal; under [C] alone they are refused cleanly."""
import os
import re
import sqlite3

import pytest

from conftest import user_body
from test_sso_oidc import connection, handoff_code, login, redeem
from test_webhooks import FAST, Receiver, verify

KEY_A = "a1" * 32
KEY_B = "b2" * 32
KEY_C = "c3" * 32


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def keys_file(tmp_path, name, text, mode=0o600):
    p = tmp_path / name
    p.write_text(text)
    os.chmod(p, mode)
    return str(p)


def restart(server_factory, old, *key_args):
    """The same database under other keys."""
    if old.proc is not None:
        old.stop()
    return server_factory(extra_args=[*key_args, "--sso-test-http", "on", *FAST],
                          data_dir=old.data_dir)


def signs_in(s):
    code = handoff_code(login(s))["code"]
    r = redeem(s, code)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "alice@example.test"


def delivers_signed(s, receiver, hook, name):
    """One new event reaches the receiver, signed with the hook's secret."""
    token = s.mint("acme", label=name)["token"]
    before = len(receiver.received)
    r = s.scim("POST", "/Users", token, user_body(f"{name}@example.test"))
    assert r.status_code == 201, r.text
    assert receiver.wait_for(lambda: any(
        f"{name}@example.test".encode() in raw for _, raw, _ in receiver.received[before:]))
    for headers, raw, _ in receiver.received[before:]:
        assert verify(hook["secret"], headers, raw)


def stored(s):
    """The stored secrets: [OIDC client secret, webhook secret]."""
    sql = ("SELECT secret FROM sso_connections WHERE protocol='oidc' UNION ALL "
           "SELECT secret FROM webhooks")
    if s.dsn:
        name, _, query = s.dsn.rsplit("/", 1)[1].partition("?")
        schema = query.rsplit("%3D", 1)[1]
        out = s.cluster.psql(f'SET search_path TO "{schema}"; {sql}', db=name)
        return out.split()
    with sqlite3.connect(s.db) as db:
        rows = [r[0] for r in db.execute(sql)]
    db.close()
    return rows


def reseal(s, *key_args):
    return s.cli("reseal", *key_args, check=False)


@pytest.fixture
def made_under_a(server_factory, op, receiver):
    s = server_factory(extra_args=["--sso-key", KEY_A, "--sso-test-http", "on", *FAST])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    assert s.scim("POST", "/Users", token, user_body("alice@example.test")).status_code == 201
    r = s.admin("PUT", "/tenants/acme/sso/oidc", connection(op))
    assert r.status_code == 200, r.text
    r = s.admin("POST", "/tenants/acme/webhooks", {"url": receiver.url})
    assert r.status_code == 201, r.text
    hook = r.json()
    signs_in(s)
    delivers_signed(s, receiver, hook, "first")
    # sso_key alone writes what scimd wrote before keyrings: "v1."
    assert [v[:3] for v in stored(s)] == ["v1.", "v1."]
    return s, hook


def test_rotation_a_then_a_b_then_b(server_factory, made_under_a, receiver, tmp_path):
    s, hook = made_under_a
    ring_ab = ["--sso-key", KEY_A, "--sso-keys-file",
               keys_file(tmp_path, "ab", "# newest last\nb=" + KEY_B + "\n")]
    s = restart(server_factory, s, *ring_ab)
    assert "sso keyring: 2 keys, the newest, b, seals" in s.log
    signs_in(s)
    delivers_signed(s, receiver, hook, "second")

    # Re-sealed while the daemon runs; counted; a second run finds everything current.
    p = reseal(s, *ring_ab)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        're-sealing under sso key "b"',
        "sso connections: 1 re-sealed, 0 already current, 0 unreadable",
        "webhooks: 1 re-sealed, 0 sealed (were plain), 0 already current, 0 unreadable",
    ]
    after = stored(s)
    assert [v[:5] for v in after] == ["v2.b.", "v2.b."]
    p = reseal(s, *ring_ab)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[1:] == [
        "sso connections: 0 re-sealed, 1 already current, 0 unreadable",
        "webhooks: 0 re-sealed, 0 sealed (were plain), 1 already current, 0 unreadable",
    ]
    assert stored(s) == after
    signs_in(s)
    delivers_signed(s, receiver, hook, "third")

    # A is gone: B alone opens everything.
    ring_b = ["--sso-keys-file", keys_file(tmp_path, "b", "b=" + KEY_B + "\n")]
    s = restart(server_factory, s, *ring_b)
    signs_in(s)
    delivers_signed(s, receiver, hook, "fourth")

    # C alone opens nothing: reseal says which and leaves them; the daemon refuses them
    # with the reason, and keeps serving.
    ring_c = ["--sso-keys-file", keys_file(tmp_path, "c", "c=" + KEY_C + "\n")]
    s.stop()
    p = reseal(s, *ring_c)
    assert p.returncode == 1
    assert p.stdout.splitlines() == [
        're-sealing under sso key "c"',
        "sso connections: 0 re-sealed, 0 already current, 1 unreadable (tenants: acme)",
        "webhooks: 0 re-sealed, 0 sealed (were plain), 0 already current, 1 unreadable "
        f"(ids: {hook['id']})",
    ]
    assert "2 secrets no configured sso key opens were left as they are" in p.stderr
    assert stored(s) == after
    s = restart(server_factory, s, *ring_c)
    r = login(s)
    assert r.status_code == 502 and "Location" not in r.headers, r.text
    assert "Sign-in failed" in r.text
    assert receiver.wait_for(
        lambda: "result=error reason=client_secret_unavailable" in s.log), s.log[-2000:]
    assert re.search(r'level=error .*tenant acme: the OIDC client secret cannot be used: a secret '
                     r'is sealed with sso key "b", which is not configured',
                     s.log.replace('\\"', '"')), s.log[-2000:]
    token = s.mint("acme", label="fifth")["token"]
    assert s.scim("POST", "/Users", token, user_body("fifth@example.test")).status_code == 201

    def last_error():
        return s.admin("GET", f"/tenants/acme/webhooks/{hook['id']}").json().get("lastError")
    assert receiver.wait_for(lambda: last_error() is not None and "sso key" in last_error())
    assert 'sealed with sso key "b", which is not configured' in last_error()
    assert not any(b"fifth@example.test" in raw for _, raw, _ in receiver.received)
    assert s.request("GET", "/healthz").status_code == 200
    assert stored(s) == after


def test_reseal_seals_plain_webhook_secrets(server_factory, receiver):
    s = server_factory(extra_args=FAST)
    s.make_tenant("acme")
    r = s.admin("POST", "/tenants/acme/webhooks", {"url": receiver.url})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert stored(s) == [hook["secret"]]  # no key: stored as it is
    p = reseal(s, "--sso-key", KEY_A)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[1:] == [
        "sso connections: 0 re-sealed, 0 already current, 0 unreadable",
        "webhooks: 0 re-sealed, 1 sealed (were plain), 0 already current, 0 unreadable",
    ]
    assert stored(s)[0].startswith("v1.")
    s = restart(server_factory, s, "--sso-key", KEY_A)
    delivers_signed(s, receiver, hook, "sealed")


def test_reseal_without_a_key_is_refused(server):
    p = reseal(server)
    assert p.returncode == 2
    assert "reseal needs sso_key or sso_keys_file" in p.stderr


def test_keys_file_must_be_private(server_factory, tmp_path):
    path = keys_file(tmp_path, "open", "k=" + KEY_A + "\n", mode=0o640)
    s = server_factory(extra_args=["--sso-keys-file", path], start=False)
    with pytest.raises(RuntimeError):
        s.start(timeout=5)
    assert "may be read or written by group or others (mode 640)" in s.log
    assert "chmod 600" in s.log
    p = reseal(s, "--sso-keys-file", path)
    assert p.returncode == 2 and "chmod 600" in p.stderr
    for text, why in (("k " + KEY_A + "\n", "expected NAME=64HEX"),
                      ("k=" + KEY_A[:-1] + "\n", "64 hex digits"),
                      ("k=" + KEY_A + "\nk=" + KEY_B + "\n", "used twice"),
                      ("# nothing\n", "holds no key")):
        path = keys_file(tmp_path, "bad", text)
        p = reseal(s, "--sso-keys-file", path)
        assert p.returncode == 2 and why in p.stderr, p.stderr
        assert KEY_A not in p.stderr
