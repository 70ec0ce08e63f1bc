"""A small OpenID Connect provider for the SSO tests, on 127.0.0.1 only.

It serves discovery, JWKS, /authorize (no UI: the user is picked by login_hint) and /token
(client_secret_basic, PKCE S256 checked), and lets a test replace what /token returns so
token-level attacks (forged headers, wrong claims) reach scimd through the real flow."""
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwk, jwt

CLIENT_ID = "scimd-test-client"
CLIENT_SECRET = "s3cret-of-the-test-client"

USERS = {
    "alice": {"sub": "00u-alice", "email": "Alice@Example.test", "email_verified": True},
    "bob": {"sub": "00u-bob", "email": "bob@example.test", "email_verified": True},
    "carol": {"sub": "00u-carol", "email": "carol@example.test", "email_verified": False},
    "mallory": {"sub": "00u-mallory", "email": "mallory@example.test", "email_verified": True},
    "alice2": {"sub": "00u-alice-other", "email": "alice@example.test", "email_verified": True},
}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class LocalOP:
    def __init__(self):
        self.key = jwk.JWK.generate(kty="RSA", size=2048, kid="k1", alg="RS256", use="sig")
        self.keys = [self.key]
        self.codes = {}
        self.jwks_hits = 0
        self.token_hits = 0
        self.iss_param = True
        self.mutate = None  # f(header, claims) -> (header, claims) or a raw token string
        self.userinfo_mutate = None  # f(claims) -> claims served by /userinfo
        self.access = {}
        self.lock = threading.Lock()
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, body=b"", ctype="application/json", headers=()):
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                if u.path == "/.well-known/openid-configuration":
                    return self.reply(200, op.discovery())
                if u.path == "/jwks":
                    with op.lock:
                        op.jwks_hits += 1
                    keys = [json.loads(k.export_public()) for k in op.keys]
                    return self.reply(200, {"keys": keys})
                if u.path == "/authorize":
                    return op.authorize(self, q)
                if u.path == "/userinfo":
                    auth = self.headers.get("Authorization", "")
                    user = op.access.get(auth[7:]) if auth.startswith("Bearer ") else None
                    if user is None:
                        return self.reply(401, {"error": "invalid_token"})
                    claims = dict(user)
                    if op.userinfo_mutate:
                        claims = op.userinfo_mutate(claims)
                    return self.reply(200, claims)
                self.reply(404, {"error": "not_found"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
                if self.path == "/token":
                    return op.token(self, form)
                self.reply(404, {"error": "not_found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def discovery(self):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "userinfo_endpoint": self.issuer + "/userinfo",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }

    def authorize(self, h, q):
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
            return h.reply(400, {"error": "invalid_request"})
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return h.reply(400, {"error": "invalid_request", "d": "PKCE S256 required"})
        user = USERS.get(q.get("login_hint") or "alice")
        params = {"state": q.get("state", "")}
        if user is None:
            params["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(24)
            self.codes[code] = {"user": user, "nonce": q.get("nonce"),
                                "challenge": q["code_challenge"],
                                "redirect_uri": q.get("redirect_uri")}
            params["code"] = code
        if self.iss_param:
            params["iss"] = self.issuer
        loc = q["redirect_uri"] + "?" + urllib.parse.urlencode(params)
        h.reply(302, b"", headers=[("Location", loc)])

    def token(self, h, form):
        with self.lock:
            self.token_hits += 1
        auth = h.headers.get("Authorization", "")
        expect = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if auth != expect:
            return h.reply(401, {"error": "invalid_client"})
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return h.reply(400, {"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        if b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return h.reply(400, {"error": "invalid_grant", "d": "PKCE"})
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return h.reply(400, {"error": "invalid_grant", "d": "redirect_uri"})
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], **grant["user"]}
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        token = None
        if self.mutate:
            out = self.mutate(header, claims)
            if isinstance(out, str):
                token = out
            else:
                header, claims = out
        if token is None:
            token = self.sign(header, claims)
        access = "at-" + secrets.token_hex(16)
        self.access[access] = grant["user"]
        h.reply(200, {"access_token": access, "token_type": "Bearer",
                      "expires_in": 300, "id_token": token})

    def sign(self, header, claims, key=None):
        t = jwt.JWT(header=header, claims=claims)
        t.make_signed_token(key or self.key)
        return t.serialize()

    def public_pem(self):
        return self.key.export_to_pem(private_key=False)


def raw_token(header, claims, signature=b""):
    """An unsigned or hand-signed compact JWS (for alg none / HS256 forgeries)."""
    h = b64url(json.dumps(header).encode())
    c = b64url(json.dumps(claims).encode())
    return f"{h}.{c}.{b64url(signature)}"


def hs256_token(header, claims, secret):
    h = b64url(json.dumps(header).encode())
    c = b64url(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{h}.{c}".encode(), hashlib.sha256).digest()
    return f"{h}.{c}.{b64url(sig)}"
