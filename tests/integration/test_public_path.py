"""A public URL with a path (issue 17; docs/deploy.md "A path in public_url"): the SparkPost
guide's base URLs are https://api.sparkpost.com/api/v1/users/scim/v2 and the like. scimd serves
SCIM, SSO, the console and the management API under the path as well as at the root, and every
URL it writes (locations, SSO values, the console's own links) carries the path, so a proxy
may forward the prefix or strip it."""
import re

import pytest

from conftest import OPERATOR_KEY, user_body

PREFIX = "/api/v1/users"


@pytest.fixture
def prefixed(server_factory):
    s = server_factory(start=False)
    s.start()  # learn the port, then restart with the public URL that names it
    port = s.port
    s.stop()
    s.extra_args = ["--port", str(port), "--public-url", f"http://127.0.0.1:{port}{PREFIX}"]
    s.start()
    s.make_tenant("acme")
    s.token = s.mint("acme")["token"]
    return s


def test_scim_under_the_path_and_at_the_root(prefixed):
    s = prefixed
    r = s.request("POST", PREFIX + "/scim/v2/Users", token=s.token,
                  json_body=user_body("ada@acme.example"))
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    assert r.headers["Location"] == f"http://127.0.0.1:{s.port}{PREFIX}/scim/v2/Users/{uid}"
    assert r.json()["meta"]["location"] == r.headers["Location"]
    for base in (PREFIX + "/scim/v2", "/scim/v2"):
        r = s.request("GET", f"{base}/Users/{uid}", token=s.token)
        assert r.status_code == 200 and r.json()["userName"] == "ada@acme.example", base
    # Only the whole prefix counts: a look-alike path is not stripped.
    assert s.request("GET", "/api/v1/usersX/scim/v2/Users", token=s.token).status_code == 404


def test_admin_sso_and_console_under_the_path(prefixed):
    s = prefixed
    r = s.request("GET", PREFIX + "/admin/v1/tenants/acme", token=OPERATOR_KEY)
    assert r.status_code == 200 and r.json()["slug"] == "acme"
    r = s.request("GET", PREFIX + "/sso/acme/saml/metadata")
    assert r.status_code == 200
    assert f'entityID="http://127.0.0.1:{s.port}{PREFIX}/sso/acme/saml/metadata"' in r.text
    assert f"{PREFIX}/sso/acme/saml/acs" in r.text
    page = s.request("GET", PREFIX + "/console/")
    assert page.status_code == 200
    # The page's own URLs carry the path, so a proxy that forwards only the path serves it.
    refs = [r for r in re.findall(r'(?:href|src|content)="(/[^"]*)"', page.text) if r != PREFIX]
    assert refs and all(ref.startswith(PREFIX + "/console/") for ref in refs), refs
    assert f'name="scimd-base" content="{PREFIX}"' in page.text
    for ref in refs:
        assert s.request("GET", ref).status_code == 200, ref


def test_without_a_path_nothing_changes(server):
    page = server.request("GET", "/console/")
    assert 'name="scimd-base" content=""' in page.text
    assert 'href="/console/assets/' in page.text
