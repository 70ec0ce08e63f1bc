"""Operator keys (issue 17; docs/configuration.md): several named keys at once, the name in the
access log, and a reload on SIGHUP without a restart, so a key is rotated without downtime."""
import signal
import time

import pytest

from conftest import OPERATOR_KEY

ALPHA = "alpha-key-0123456789abcdef"
BETA = "beta-key-0123456789abcdefgh"
GAMMA = "gamma-key-0123456789abcdefg"


def status(s, key):
    return s.request("GET", "/admin/v1/tenants", token=key).status_code


def wait_log(s, text, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in s.log:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def keyed(server_factory, tmp_path):
    keys = tmp_path / "operator.keys"
    keys.write_text(f"# host application keys\nhost-app {ALPHA}\n\nci   {BETA}\n")
    keys.chmod(0o600)
    s = server_factory(extra_args=["--operator-keys-file", str(keys)])
    s.keys_file = keys
    return s


def test_named_keys_work_and_the_log_names_them(keyed):
    s = keyed
    assert status(s, ALPHA) == 200 and status(s, BETA) == 200 and status(s, OPERATOR_KEY) == 200
    assert status(s, GAMMA) == 401
    assert wait_log(s, "key=host-app") and wait_log(s, "key=ci") and wait_log(s, "key=default")
    for k in (ALPHA, BETA, GAMMA):
        assert k not in s.log


def test_sighup_rotates_keys_without_a_restart(keyed):
    s = keyed
    s.keys_file.write_text(f"host-app {GAMMA}\n")
    s.proc.send_signal(signal.SIGHUP)
    assert wait_log(s, "SIGHUP: 2 operator keys loaded"), s.log[-800:]
    assert status(s, GAMMA) == 200 and status(s, ALPHA) == 401 and status(s, BETA) == 401
    # A file that does not read keeps the keys in use.
    s.keys_file.write_text("host-app short\n")
    s.proc.send_signal(signal.SIGHUP)
    assert wait_log(s, "operator keys not reloaded"), s.log[-800:]
    assert status(s, GAMMA) == 200
    assert s.proc.poll() is None


@pytest.mark.parametrize("text, fragment", [
    (f"a {ALPHA}\na {BETA}\n", "bad.keys:2: the key name"),
    ("a short\n", "16 to 512 characters"),
    (f"bad/name {ALPHA}\n", "a key's name is"),
    (f"{ALPHA}\n", "bad.keys:1: expected"),
])
def test_a_bad_keys_file_stops_the_start(server_factory, tmp_path, text, fragment):
    keys = tmp_path / "bad.keys"
    keys.write_text(text)
    s = server_factory(extra_args=["--operator-keys-file", str(keys)], start=False)
    with pytest.raises(RuntimeError) as e:
        s.start(timeout=5)
    assert fragment in str(e.value)


def test_sighup_with_an_emptied_keys_file_keeps_the_keys(scimd_bin, tmp_path):
    """A keys file an editor or a deployment left empty: the reload removed every key and
    the host application was shut out until the next reload, logged at info only."""
    import re
    import subprocess
    import threading

    import requests
    keys = tmp_path / "operator.keys"
    keys.write_text(f"host-app {ALPHA}\n")
    keys.chmod(0o600)
    proc = subprocess.Popen([scimd_bin, "serve", "--port", "0", "--data-dir",
                             str(tmp_path / "d"), "--operator-keys-file", str(keys)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    log, port = [], []

    def read():
        for line in proc.stderr:
            log.append(line)
            m = re.search(r"listening on http://[^ ]+:(\d+)", line)
            if m:
                port.append(int(m.group(1)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 10
        while not port and time.monotonic() < deadline:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port[0]}/admin/v1/tenants"

        def code():
            return requests.get(url, headers={"Authorization": "Bearer " + ALPHA},
                                timeout=10).status_code

        assert code() == 200
        keys.write_text("# all gone\n")
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while not any("not reloaded" in x for x in log) and time.monotonic() < deadline:
            time.sleep(0.05)
        line = next(x for x in log if "not reloaded" in x)
        assert "level=error" in line and "no operator key is set any more" in line, line
        assert code() == 200
    finally:
        proc.terminate()
        proc.wait(15)
