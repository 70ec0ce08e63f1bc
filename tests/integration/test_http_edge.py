"""The HTTP layer under hostile input, over raw sockets (issue 15, items 3-5): a NUL byte in a
header, early refusals (Expect: 100-continue over the limit, unknown transfer codings,
conflicting Content-Length), errors in the route's style, long paths and ids that are not
UTF-8. Only 127.0.0.1 is contacted."""
import json
import random
import socket
import time

import pytest

from conftest import ERROR_URN, OPERATOR_KEY, SCIM, assert_scim_error, user_body


def complete(resp):
    """True when resp holds a whole response head and its Content-Length of body."""
    head, sep, body = resp.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def raw(server, data, timeout=5.0, one=False):
    """Sends data on a fresh connection and reads until the server closes it or timeout
    (or, with one, a whole response arrived); returns (bytes read, seconds taken, whether
    the server closed)."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    start = time.monotonic()
    s.sendall(data)
    out, closed = b"", False
    try:
        while time.monotonic() - start < timeout:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            out += b
            if one and complete(out) and not out.startswith(b"HTTP/1.1 100"):
                break
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return out, time.monotonic() - start, closed


def parse(resp):
    """One HTTP/1.1 response: (status, headers (lower-case names), body); asserts that exactly
    one response was sent."""
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    assert len(body) == n, f"expected one response of {n} body bytes, got {resp!r}"
    return status, headers, body


def scim_error(resp, status):
    st, headers, body = parse(resp)
    assert st == status, resp
    assert headers["content-type"].startswith(SCIM), headers
    j = json.loads(body)
    assert j["schemas"] == [ERROR_URN] and j["status"] == str(status), j
    return j


def get(path, extra=b"", auth=None):
    h = b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if auth is not None:
        h += b"Authorization: Bearer " + auth + b"\r\n"
    return h + extra + b"\r\n"


def user_count(server, token):
    r = server.scim("GET", "/Users", token)
    assert r.status_code == 200, r.text
    return r.json()["totalResults"]


# ---- item 3: NUL in a header ----

def test_nul_after_a_valid_scim_token_is_400_not_authenticated(server, tenant_token):
    ok, _, _ = raw(server, get(b"/scim/v2/Users", auth=tenant_token.encode()))
    assert parse(ok)[0] == 200
    resp, _, _ = raw(server, get(b"/scim/v2/Users", auth=tenant_token.encode() + b"\0garbage"))
    j = scim_error(resp, 400)
    assert "NUL" in j["detail"]


def test_nul_after_the_operator_key_is_400_in_the_admin_style(server):
    resp, _, _ = raw(server, get(b"/admin/v1/tenants", auth=OPERATOR_KEY.encode() + b"\0x"))
    status, headers, body = parse(resp)
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == "BAD_REQUEST"


def test_nul_in_any_header_is_refused_and_nothing_is_written(server, tenant_token):
    body = json.dumps(user_body("nul@example.com")).encode()
    req = (b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
           b"Authorization: Bearer " + tenant_token.encode() + b"\r\n"
           b"X-Trace: a\0b\r\nContent-Type: application/scim+json\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    scim_error(raw(server, req)[0], 400)
    assert user_count(server, tenant_token) == 0


def test_bare_lf_and_trailing_spaces_are_not_taken_for_a_nul(server, tenant_token):
    """The NUL check reads libmicrohttpd's buffer layout: line ends of both kinds pass."""
    t = tenant_token.encode()
    lf = (b"GET /scim/v2/Users HTTP/1.1\nHost: x\nAuthorization: Bearer " + t +
          b"\nX-Empty:\nConnection: close\n\n")
    assert raw(server, lf)[0].startswith(b"HTTP/1.1 200 ")
    spaces = get(b"/scim/v2/Users", extra=b"X-A: b   \r\nX-E:\r\n", auth=t + b"  ")
    assert raw(server, spaces)[0].startswith(b"HTTP/1.1 200 ")


def test_control_bytes_in_a_bearer_token_are_401(server, tenant_token):
    r = server.request("GET", "/scim/v2/Users",
                       headers={"Authorization": f"Bearer {tenant_token[:10]}\x01{tenant_token}"})
    assert_scim_error(r, 401)


# ---- item 4: early refusals ----

def test_expect_continue_over_the_limit_is_413_before_any_body(server, tenant_token):
    req = (b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Authorization: Bearer " + tenant_token.encode() + b"\r\n"
           b"Content-Type: application/scim+json\r\nContent-Length: 5000000\r\n"
           b"Expect: 100-continue\r\n\r\n")
    resp, took, closed = raw(server, req)
    assert not resp.startswith(b"HTTP/1.1 100"), resp
    scim_error(resp, 413)
    assert closed and took < 4


def test_expect_continue_within_the_limit_still_gets_100(server, tenant_token):
    body = json.dumps(user_body("exp@example.com")).encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
              b"Authorization: Bearer " + tenant_token.encode() + b"\r\n"
              b"Content-Type: application/scim+json\r\nContent-Length: " +
              str(len(body)).encode() + b"\r\nExpect: 100-continue\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 100 Continue")
    s.sendall(body)
    out = b""
    for _ in range(100):
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    assert out.lstrip(b"\r\n").startswith(b"HTTP/1.1 201 "), out


@pytest.mark.parametrize("coding", [b"gzip", b"identity", b"chunked, gzip"])
def test_unknown_transfer_coding_is_501_at_once(server, tenant_token, coding):
    req = (b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Authorization: Bearer " + tenant_token.encode() + b"\r\n"
           b"Transfer-Encoding: " + coding + b"\r\n\r\n")
    resp, took, closed = raw(server, req)
    scim_error(resp, 501)
    assert closed and took < 4
    assert user_count(server, tenant_token) == 0


def test_chunked_upload_still_works(server, tenant_token):
    body = json.dumps(user_body("chunked@example.com")).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    req = (b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
           b"Authorization: Bearer " + tenant_token.encode() + b"\r\n"
           b"Content-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    assert parse(raw(server, req)[0])[0] == 201


def test_conflicting_content_lengths_are_400_once(server, tenant_token):
    req = (b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Authorization: Bearer " + tenant_token.encode() + b"\r\n"
           b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
    resp, took, closed = raw(server, req)
    j = scim_error(resp, 400)
    assert "Content-Length" in j["detail"]
    assert closed and took < 4


def test_transfer_encoding_with_content_length_is_400(server, tenant_token):
    req = (b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Authorization: Bearer " + tenant_token.encode() + b"\r\n"
           b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    scim_error(raw(server, req)[0], 400)


MALFORMED_CL = b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"


def test_malformed_content_length_is_400_and_closed(server):
    """libmicrohttpd answers this itself, before scimd sees the request (docs/deploy.md)."""
    resp, _, closed = raw(server, MALFORMED_CL)
    assert resp.startswith(b"HTTP/1.1 400 ") and closed


@pytest.mark.xfail(strict=True, reason="libmicrohttpd 0.9.75 (Debian 12) writes its own error "
                   "response's head twice; a 10-line program with no scimd code does the same. "
                   "Strict: when the library is fixed this passes and must become a plain test.")
def test_malformed_content_length_gets_one_status_line(server):
    resp, _, _ = raw(server, MALFORMED_CL)
    assert resp.count(b"HTTP/1.1 ") == 1


# ---- errors in the route's style; long paths; ids that are not UTF-8 ----

@pytest.mark.parametrize("n", [2047, 2048, 4000, 8000])
def test_long_scim_paths_are_scim_404(server, tenant_token, n):
    path = b"/scim/v2/Users/" + b"a" * (n - len(b"/scim/v2/Users/"))
    scim_error(raw(server, get(path, auth=tenant_token.encode()))[0], 404)


def test_long_admin_paths_are_admin_404(server):
    path = b"/admin/v1/tenants/" + b"a" * 3000
    status, headers, body = parse(raw(server, get(path, auth=OPERATOR_KEY.encode()))[0])
    assert status == 404 and json.loads(body)["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("what", ["Users", "Groups"])
def test_id_that_is_not_utf8_is_scim_404_on_every_backend(server, tenant_token, what):
    for method in ("GET", "DELETE"):
        req = (method.encode() + b" /scim/v2/" + what.encode() + b"/%ff%fe HTTP/1.1\r\n"
               b"Host: x\r\nConnection: close\r\nAuthorization: Bearer " +
               tenant_token.encode() + b"\r\n\r\n")
        scim_error(raw(server, req)[0], 404)
    r = server.scim("PATCH", f"/{what}/%C3%28", tenant_token,
                    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "path": "active", "value": False}]})
    assert_scim_error(r, 404)


def test_admin_id_that_is_not_utf8_is_admin_404(server):
    server.make_tenant("acme")
    r = server.admin("GET", "/tenants/acme/users/%ff")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


def test_random_request_heads_never_crash_or_hang(server, tenant_token):
    """A small property test of the request head: random bytes spliced into a valid request
    get one well-formed answer or a closed connection, and the server stays up."""
    rng = random.Random(15)
    base = get(b"/scim/v2/Users", extra=b"X-A: b\r\n", auth=tenant_token.encode())
    alphabet = b"\0\r\n :\t\x7f\xff%/"
    for _ in range(60):
        b = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            b.insert(rng.randrange(len(b) - 4), rng.choice(alphabet))
        resp, _, closed = raw(server, bytes(b), timeout=2, one=True)
        assert resp or closed, bytes(b)
        if resp:
            assert resp.startswith(b"HTTP/1.1 "), resp
            assert parse(resp)[0] in (200, 400, 401, 404, 405, 505), resp
    assert server.request("GET", "/healthz").status_code == 200
