"""The fault test's client side: HTTP requests (a new connection each), user tokens, the log
of every attempt, what the client can conclude from a logical request's attempts (Outcome), and
the context every thread shares (Ctx), whose do() sends one logical request with the retries
a careful client makes."""

import base64
import collections
import hashlib
import hmac
import http.client
import itertools
import json
import random
import threading
import time
import urllib.parse

from common import HTTP_TIMEOUT_S, MAX_ATTEMPTS, UNSAFE_UNKEYED, now


# ---------------------------------------------------------------------------------------------
# HTTP

class Reply:
    __slots__ = ("status", "headers", "body", "error", "sent", "ms")

    def __init__(self, status=None, headers=None, body=None, error=None, sent=True, ms=0.0):
        self.status, self.headers, self.body = status, headers or {}, body
        self.error, self.sent, self.ms = error, sent, ms

    @property
    def code(self):
        return self.body.get("code") if isinstance(self.body, dict) else None

    def retry_after(self):
        try:
            return min(5.0, max(0.0, float(self.headers.get("retry-after", ""))))
        except ValueError:
            return 0.2


class Api:
    def __init__(self, url, timeout=HTTP_TIMEOUT_S):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = u.hostname, u.port or 80, timeout

    def request(self, method, path, body=None, token=None, key=None, request_id=None):
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        if key is not None:
            headers["Idempotency-Key"] = key
        if request_id:
            headers["X-Request-Id"] = request_id
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        # A new connection per request: a kept-alive one that the server closed meanwhile
        # would fail after sending, and the client could not tell that from a lost answer.
        start = now()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            try:
                conn.connect()
            except OSError as e:  # nothing was sent: always safe to try again
                return Reply(error=f"connect: {type(e).__name__}: {e}", sent=False,
                             ms=(now() - start) * 1000)
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            try:
                doc = json.loads(raw) if raw else None
            except ValueError:
                doc = {"_raw": raw[:200].decode("utf-8", "replace")}
            return Reply(resp.status, hdrs, doc, ms=(now() - start) * 1000)
        except (OSError, http.client.HTTPException) as e:
            return Reply(error=f"{type(e).__name__}: {e}", sent=True, ms=(now() - start) * 1000)
        finally:
            conn.close()


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256_jwt(secret, claims):
    def part(obj):
        return b64url(json.dumps(obj, separators=(",", ":")).encode())
    signing_input = part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims)
    sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


# ---------------------------------------------------------------------------------------------
# The client log: one record per HTTP attempt

class Log:
    def __init__(self):
        self.records = []
        self.lock = threading.Lock()
        self.t0 = now()
        self.wall0 = time.time()
        self.req_ids = itertools.count(1)

    def add(self, rec):
        with self.lock:
            self.records.append(rec)

    def write(self, path):
        with open(path, "w", encoding="utf-8") as f:
            for r in self.records:
                f.write(json.dumps(r, separators=(",", ":")) + "\n")


class Outcome:
    """All attempts of one logical request, and what the client can conclude from them."""

    def __init__(self, attempts):
        self.attempts = attempts
        self.final = attempts[-1]
        self.ok_rec = next((a for a in attempts if a["status"] and 200 <= a["status"] < 300), None)

    @property
    def ok(self):
        return self.ok_rec is not None

    @property
    def body(self):
        return self.ok_rec.get("_body") if self.ok_rec else None

    @property
    def refused(self):
        """A definite 'nothing changed': a 4xx the service decided on."""
        s, c = self.final["status"], self.final["code"]
        return (s is not None and 400 <= s < 500 and s != 429
                and c != "IDEMPOTENCY_KEY_IN_USE")

    @property
    def unresolved(self):
        """Whether the effect may or may not have happened (no answer tells)."""
        if self.ok or self.refused:
            return False
        return not all(nothing_happened(a) for a in self.attempts)


def nothing_happened(a):
    """An attempt that by contract changed nothing: 503 SERVICE_UNAVAILABLE, nginx's 429,
    or a connection that failed before the request was sent."""
    return ((a["status"] == 503 and a["code"] == "SERVICE_UNAVAILABLE")
            or (a["status"] == 429 and a["code"] == "RATE_LIMITED")
            or (a["error"] is not None and not a["sent"]))


def outcomes_by_request(records):
    """The Outcome of each logical request, in the order they began."""
    by = collections.OrderedDict()
    for r in records:
        by.setdefault(r["req"], []).append(r)
    return [Outcome(a) for a in by.values()]


def body_fields(body):
    """The response fields worth keeping in the log."""
    if not isinstance(body, dict):
        return {}
    keep = {}
    for k in ("orderId", "balance", "charged", "total", "couponId", "userId", "status",
              "productId", "detail"):
        if k in body:
            keep["resp_" + k] = body[k]
    return keep


class Ctx:
    """What every thread shares: the API, the log, the stop flag and the setup's facts."""

    def __init__(self, args):
        self.args = args
        self.api = Api(args.url)
        self.log = Log()
        self.stop = threading.Event()
        self.users, self.products, self.coupons = [], {}, {}
        self.tokens = {}
        self.thread_errors = []

    def token(self, user):
        """An access token as the identity provider would sign it, valid for the whole run."""
        t = int(time.time())
        return hs256_jwt(self.args.secret, {"sub": str(user), "iss": self.args.issuer,
                                            "aud": self.args.audience, "iat": t,
                                            "exp": t + 3600 + 2 * self.args.seconds})

    def do(self, thread, op, method, path, body=None, user=None, key=None, admin=False,
           info=None, rng=None):
        """One logical request with retries; every attempt is logged."""
        req = next(self.log.req_ids)
        token = self.args.admin_token if admin else (self.tokens.get(user) if user else None)
        blind_ok = key is not None or op not in UNSAFE_UNKEYED
        attempts = []
        for n in range(1, MAX_ATTEMPTS + 1):
            rep = self.api.request(method, path, body, token, key, f"faults-{req}-{n}")
            rec = {"t": round(now() - self.log.t0, 4), "wall": round(time.time(), 4),
                   "thread": thread, "op": op, "user": user, "key": key, "req": req,
                   "attempt": n, "method": method, "path": path, "status": rep.status,
                   "code": rep.code, "replayed": rep.headers.get("idempotent-replayed") == "true",
                   "error": rep.error, "sent": rep.sent, "ms": round(rep.ms, 2)}
            if n == 1 and info:
                rec.update(info)
            if rep.status and rep.status >= 300 and isinstance(rep.body, dict):
                rec["detail"] = str(rep.body.get("detail", ""))[:200]
            rec.update(body_fields(rep.body) if rep.status and rep.status < 300 else {})
            self.log.add(rec)
            rec_private = dict(rec, _body=rep.body)   # the full body, for the caller only
            attempts.append(rec_private)
            pause = None
            if rep.error:
                # A request that reached the service may have taken effect: resend it only
                # when a second copy is harmless (a key, or an operation that is idempotent).
                if not rep.sent or blind_ok:
                    pause = 0.2
            elif rep.status in (502, 503, 504, 429) or rep.code == "IDEMPOTENCY_KEY_IN_USE":
                # 503 SERVICE_UNAVAILABLE and 429 say nothing changed; anything else in this
                # group (OUTCOME_UNKNOWN, a gateway error) does not.
                if blind_ok or rep.code in ("SERVICE_UNAVAILABLE", "RATE_LIMITED"):
                    pause = rep.retry_after() if rep.status in (503, 429) else 0.2
            if pause is None:
                break
            time.sleep(pause * (0.8 + 0.4 * (rng or random).random()))
        return Outcome(attempts)
