"""Slow and greedy clients (issue 15, item 1): the whole-request deadline and the
per-client-address connection limit. Trickling clients connect from other loopback addresses
(127.0.0.2 and up: Linux routes all of 127.0.0.0/8 to lo) so that the checks made from
127.0.0.1 count as another client. Nothing leaves the machine; every loop is bounded and no
timing is asserted beyond "answered at all within N s"."""
import re
import socket
import time

import requests


def trickler(src, port):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def feed(socks, byte=b"G"):
    """Sends one byte on each open socket; returns the ones the server has closed since."""
    closed = []
    for s in list(socks):
        try:
            data = s.recv(4096)
            if data == b"":
                closed.append(s)
                continue
        except BlockingIOError:
            pass
        except OSError:
            closed.append(s)
            continue
        try:
            s.send(byte)
        except OSError:
            closed.append(s)
    for s in closed:
        socks.remove(s)
        s.close()
    return closed


def answered(server, token):
    """/healthz and a SCIM list both answer, each within 5 s."""
    h = requests.get(server.url + "/healthz", timeout=5)
    assert h.status_code == 200, h.text
    r = requests.get(server.url + "/scim/v2/Users", timeout=5,
                     headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def metric(server, name):
    text = requests.get(server.url + "/metrics", timeout=5).text
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(m.group(1))


def test_300_trickling_connections_from_one_address_do_not_starve_others(server_factory):
    server = server_factory(["--max-connections", "64", "--connections-per-address", "16",
                             "--request-timeout", "60", "--threads", "2"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    socks = [s for s in (trickler("127.0.0.2", server.port) for _ in range(300)) if s]
    try:
        deadline = time.monotonic() + 12
        rounds = 0
        while time.monotonic() < deadline and rounds < 6:
            feed(socks)
            answered(server, token)
            rounds += 1
            time.sleep(1)
        assert rounds == 6
        # The limit held: at most 16 of the 300 are still open.
        feed(socks)
        assert 0 < len(socks) <= 16, len(socks)
    finally:
        for s in socks:
            s.close()


def test_a_request_trickled_past_the_deadline_is_cut(server_factory):
    server = server_factory(["--max-connections", "64", "--connections-per-address", "8",
                             "--request-timeout", "2", "--threads", "2"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    socks = [s for s in (trickler(f"127.0.0.{2 + i // 8}", server.port) for i in range(40)) if s]
    assert len(socks) == 40
    total = len(socks)
    try:
        end = time.monotonic() + 12
        while socks and time.monotonic() < end:
            feed(socks)
            time.sleep(0.5)
        assert socks == [], f"{len(socks)} trickling connections still open"
        assert metric(server, "scimd_http_request_deadline_closed_total") >= total
        answered(server, token)
    finally:
        for s in socks:
            s.close()


def test_a_slow_request_within_the_deadline_and_keep_alive_still_work(server_factory):
    server = server_factory(["--request-timeout", "3"])
    server.make_tenant("acme")
    token = server.mint("acme")["token"]
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    req = (f"GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           f"Authorization: Bearer {token}\r\n\r\n").encode()
    for round_ in range(2):
        # Half the request, a pause, the rest: whole within the deadline.
        s.sendall(req[:20])
        time.sleep(1)
        s.sendall(req[20:])
        out = b""
        for _ in range(50):
            out += s.recv(65536)
            if out.endswith(b"]}"):
                break
        assert out.startswith(b"HTTP/1.1 200 "), (round_, out)
        # The deadline of the next request on the connection starts at this answer.
        time.sleep(2)
    s.close()
