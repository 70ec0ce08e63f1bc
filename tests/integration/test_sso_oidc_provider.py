"""Issue 7: OpenID Connect against a real provider, panva's oidc-provider 9.13.3 (npm, pinned
in tests/idp/oidc/package-lock.json; `npm ci` there first), on 127.0.0.1 (shared/SSO.md (e)).
The test follows redirects itself: a cookie jar for the provider's leg only, scimd's
transaction cookie read from Set-Cookie and sent explicitly."""
import pathlib
import re
import shutil
import subprocess
import time
import urllib.parse

import pytest
import requests

from conftest import user_body

IDP_DIR = pathlib.Path(__file__).resolve().parent.parent / "idp" / "oidc"
SSO_KEY = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
COMPLETE = "https://app.example.test/sso/done"
CLIENT_ID, CLIENT_SECRET = "scimd-rp", "a-long-client-secret-for-the-test-op-0123456789"
TX = "__Host-scimd_tx"


def ensure_node_modules():
    if (IDP_DIR / "node_modules" / "oidc-provider").exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the oidc-provider tests (tools/install-deps.sh)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=IDP_DIR, check=True,
                   capture_output=True, timeout=300)


@pytest.fixture
def rp(server_factory):
    ensure_node_modules()
    s = server_factory(extra_args=["--sso-key", SSO_KEY, "--sso-test-http", "on"])
    s.make_tenant("acme")
    token = s.mint("acme")["token"]
    for name, active in (("alice@example.test", True), ("carol@example.test", True),
                         ("mallory@example.test", False)):
        assert s.scim("POST", "/Users", token, user_body(name, active=active)).status_code == 201
    node = subprocess.Popen(["node", str(IDP_DIR / "idp.mjs"), f"{s.url}/sso/acme/oidc/callback",
                             CLIENT_ID, CLIENT_SECRET], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = node.stdout.readline()
        m = re.match(r"issuer (\S+)", line)
        assert m, line
        issuer = m.group(1)
        r = s.admin("PUT", "/tenants/acme/sso/oidc",
                    {"issuer": issuer, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                     "signInCompleteUrl": COMPLETE, "idpInitiated": True})
        assert r.status_code == 200, r.text
        s.issuer = issuer
        yield s
    finally:
        node.terminate()
        node.wait(10)


def flow(s, path):
    r = s.request("GET", path, allow_redirects=False)
    assert r.status_code == 302, r.text
    cookie = re.search(TX + r"=([A-Za-z0-9_-]+);", r.headers["Set-Cookie"]).group(1)
    url, jar = r.headers["Location"], requests.Session()
    for _ in range(10):
        if url.startswith(s.url):
            break
        resp = jar.get(url, allow_redirects=False, timeout=10)
        assert resp.status_code in (302, 303), (resp.status_code, resp.text[:500])
        url = urllib.parse.urljoin(url, resp.headers["Location"])
    assert url.startswith(f"{s.url}/sso/acme/oidc/callback"), url
    return s.request("GET", url[len(s.url):], headers={"Cookie": f"{TX}={cookie}"},
                     allow_redirects=False)


def test_oidc_provider_sp_initiated_sign_in(rp):
    r = flow(rp, "/sso/acme/oidc/login?login_hint=alice&return_to=/home")
    assert r.status_code == 302 and r.headers["Location"].startswith(COMPLETE), rp.log[-1500:]
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    who = rp.admin("POST", "/sso/redeem", {"code": q["code"]}).json()
    assert who["email"] == "alice@example.test" and who["protocol"] == "oidc"
    assert q["return_to"] == "/home"


def test_oidc_provider_third_party_initiated_sign_in(rp):
    path = "/sso/acme/oidc/initiate?" + urllib.parse.urlencode(
        {"iss": rp.issuer, "login_hint": "alice"})
    r = flow(rp, path)
    assert r.status_code == 302 and r.headers["Location"].startswith(COMPLETE), rp.log[-1500:]


@pytest.mark.parametrize("hint,reason", [
    ("carol", "email_not_verified"),
    ("mallory", "inactive_user"),
    ("nobody", "idp_error"),
])
def test_oidc_provider_refusals(rp, hint, reason):
    r = flow(rp, f"/sso/acme/oidc/login?login_hint={hint}")
    assert r.status_code in (400, 401, 403), r.text
    for _ in range(40):  # the log is read by another thread
        if f"reason={reason}" in rp.log:
            break
        time.sleep(0.05)
    assert f"reason={reason}" in rp.log, rp.log[-1500:]
