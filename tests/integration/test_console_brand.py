"""Branding from the configuration (issue 16): the product name, logo and accent colour reach
the console (/console/api/brand, /console/brand.css, the CSP's img-src) and the styled sign-in
error pages, which also offer a way back; bad values stop the server at start."""
import re
import subprocess

import pytest

LOGO = "https://cdn.example.test/brand/logo.svg"


def test_defaults_are_scimd_and_its_blue(server):
    r = server.request("GET", "/console/api/brand")
    assert r.status_code == 200
    assert r.json() == {"name": "scimd", "logoUrl": None}
    css = server.request("GET", "/console/brand.css")
    assert css.status_code == 200
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert css.headers["Cache-Control"] == "no-cache"
    assert css.text == ":root { --accent: #0b5cad; }\n"
    page = server.request("GET", "/console/")
    assert '<link rel="stylesheet" href="/console/brand.css">' in page.text
    assert "img-src 'self' data:;" in page.headers["Content-Security-Policy"]


def test_configured_brand_reaches_console_and_csp(server_factory):
    s = server_factory(extra_args=["--brand-name", "Acme <ID>", "--brand-logo-url", LOGO,
                                   "--brand-color", "#AA3300"])
    assert s.request("GET", "/console/api/brand").json() == {"name": "Acme <ID>", "logoUrl": LOGO}
    assert s.request("GET", "/console/brand.css").text == ":root { --accent: #AA3300; }\n"
    csp = s.request("GET", "/console/").headers["Content-Security-Policy"]
    # The logo's origin only, not its path, joins img-src; nothing else loosens.
    assert "img-src 'self' data: https://cdn.example.test;" in csp
    assert "script-src 'self';" in csp and "default-src 'none'" in csp


def test_sso_error_page_is_styled_branded_and_leads_back(server_factory):
    s = server_factory(extra_args=["--brand-name", "Acme <ID>", "--brand-logo-url", LOGO])
    r = s.request("GET", "/console/sso/nobody")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    css = re.search(r'<link rel="stylesheet" href="(/console/assets/app\.[0-9a-f]{16}\.css)">', r.text)
    assert css, r.text
    assert s.request("GET", css.group(1)).status_code == 200
    assert '<link rel="stylesheet" href="/console/brand.css">' in r.text
    # The name is escaped; the logo shown; the way back is the console's sign-in.
    assert "Acme &lt;ID&gt;" in r.text and "Acme <ID>" not in r.text
    assert f'<img class="logo" alt="" src="{LOGO}">' in r.text
    assert '<a class="button" href="/console/">Back to the console sign-in</a>' in r.text
    assert "Single sign-on is not set up for this tenant yet." in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "style-src 'self'" in csp and "https://cdn.example.test" in csp
    assert "frame-ancestors 'none'" in csp


def test_sso_error_of_a_host_flow_offers_try_again(server):
    server.make_tenant("acme")
    # No OIDC connection: the SP-initiated login fails with the styled page.
    r = server.request("GET", "/sso/acme/oidc/login")
    assert r.status_code in (400, 404), r.text
    assert "<h1>Sign-in failed</h1>" in r.text
    assert '<a class="button" href="/sso/acme/oidc/login">Try again</a>' in r.text


@pytest.mark.parametrize("args, message", [
    (["--brand-color", "red"], "brand_color must be #rrggbb"),
    (["--brand-color", "#12345g"], "brand_color must be #rrggbb"),
    (["--brand-name", ""], "brand_name must be 1 to 60 characters"),
    (["--brand-logo-url", "http://cdn.example.test/logo.png"], "brand_logo_url must be an https://"),
    (["--brand-logo-url", "https://cdn.example.test/a;b.png"], "without spaces, quotes or ;"),
    (["--brand-logo-url", "javascript:alert(1)"], "brand_logo_url must be an https://"),
])
def test_bad_brand_settings_stop_the_server(scimd_bin, tmp_path, args, message):
    p = subprocess.run([scimd_bin, "serve", "--port", "0", "--data-dir", str(tmp_path), *args],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode != 0
    assert message in p.stderr
