"""A webhook receiver the tests control: a small HTTP server on 127.0.0.1 that records
(headers, raw body, status answered) of every POST, in arrival order, and answers with the
status the test sets (`status`). Subclasses say what body goes with a status."""
import http.server
import threading
import time

# Fast delivery for tests: plain http to 127.0.0.1, a 20 ms poll, 50 ms retries.
FAST = ["--webhook-allow-http", "on", "--webhook-poll-ms", "20", "--webhook-retry-ms", "50"]


def hooked_server(server_factory):
    """A scimd delivering fast, with tenant "acme" and one of its tokens."""
    server = server_factory(extra_args=FAST)
    server.make_tenant("acme")
    return server, server.mint("acme")["token"]


class HookReceiver:
    def __init__(self, path, status):
        self.received = []
        self.status = status
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    status = outer.status
                    outer.received.append((dict(self.headers), outer.decode(raw), status))
                body, ctype = outer.reply(status)
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def decode(self, raw):
        return raw

    def reply(self, status):
        """(body bytes, Content-Type or None) answered with status."""
        return b"", None

    def wait_for(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            time.sleep(0.02)
        return False

    def close(self):
        self.httpd.shutdown()
