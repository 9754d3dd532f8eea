#!/usr/bin/env python3
"""Fault test of the commerce service: mixed load while its parts fail, then the books.

Run it through its wrapper, which brings up a throwaway stack (MariaDB, 4 workers, nginx,
relay, fake data platform) on free ports, runs this program against it and tears it down:

    tests/faults/run [--seconds N] [--keep]

What it does:
  1. Setup through the API (admin token): users, products, coupons that sell out, and a
     keyed starting charge for every user.
  2. Load: one thread per user (--clients, default 24) for --seconds, each looping over a
     random mix of charges, orders (keyed and unkeyed, with and without a coupon), cancels,
     coupon issues, cart + checkout and product reads. A thread owns its user, so it knows
     which of its orders are PAID and which coupons it holds. Retries follow what a careful
     client does: the same request (same key) after a 503, a 502/504 or a connection error,
     but never an unkeyed order after a failure whose outcome it cannot know.
  3. Faults, one at a time, evenly spaced over the run: kill -9 of a worker, a clean MariaDB
     stop, kill -9 of mariadbd, kill -9 of the relay, the platform answering 500, the
     platform refusing connections, a rolling restart of the workers (outages of 3 s and
     10 s; 2 s and 5 s in runs shorter than 120 s). Each has its own recovery measure; the
     feed faults (relay and platform) must recover within 5 s. After each, the next waits
     until the stack has settled (a full pool, /readyz 200, no event pending for more than
     a second), and the load goes on past --seconds until the last one has.
  4. After the load, the feed is drained, then checked against the database, the client's
     log and the fake platform: money, stock, coupons, one effect per Idempotency-Key, the
     feed, no 5xx but 503, and that a 503 SERVICE_UNAVAILABLE never hid a commit.

Every HTTP attempt is logged to DIR/log/faults-client.jsonl; the report goes to stdout and
DIR/log/faults-report.json. Exit status 0 when every check passed and every recovery target
was met, 1 otherwise. Python 3 standard library only.
"""

import argparse
import base64
import collections
import hashlib
import hmac
import http.client
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

MAX_ATTEMPTS = 40            # per logical request; Retry-After is 1 s, so ~40 s of outage
HTTP_TIMEOUT_S = 30
FEED_TARGET_S = 5.0          # recovery target of the relay and platform faults
RECOVERY_DEADLINE_S = 90     # give up waiting for any recovery after this
DRAIN_DEADLINE_S = 120
SCARCE_STOCK = 300           # of the first two products
NGINX_503_DETAIL = "no worker could answer"   # nginx's own 503 page (a 502/504 upstream)

# Orders, checkouts and charges without a key are not safe to resend once they may have
# reached the service: a second copy would be a second effect.
UNSAFE_UNKEYED = {"order", "checkout", "charge"}


def now():
    return time.monotonic()


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
# SQL through the mariadb command line client (root over the stack's socket)

class Db:
    def __init__(self, socket_path):
        self.socket = socket_path

    def query(self, sql, timeout=30):
        """Rows of tab-separated columns; NULL becomes None. Raises on any failure."""
        # UTC for the session, as the service's own connections: occurred_at and friends are
        # UTC DATETIMEs, and UNIX_TIMESTAMP() must read them as such.
        out = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "commerce",
             "-N", "-B", "-e", "SET time_zone = '+00:00';\n" + sql],
            capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"mariadb: {out.stderr.strip()}")
        return [[None if c == "NULL" else c for c in line.split("\t")]
                for line in out.stdout.splitlines()]

    def scalar(self, sql):
        rows = self.query(sql)
        return rows[0][0] if rows else None


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


# ---------------------------------------------------------------------------------------------
# Setup through the API

def setup(ctx, n_users, n_products, stock):
    rng = random.Random(ctx.args.seed)

    def must(out, what):
        if not out.ok:
            f = out.final
            raise SystemExit(f"setup failed: {what}: {f['status']} {f['code']} {f['error']}")
        return out.body

    for i in range(n_users):
        b = must(ctx.do("setup", "admin-user", "POST", "/admin/users",
                        {"name": f"faults-user-{i + 1}"}, admin=True), "user")
        ctx.users.append(b["userId"])
        ctx.tokens[b["userId"]] = ctx.token(b["userId"])
    for i in range(n_products):
        # Two scarce products sell out early, so that OUT_OF_STOCK is answered (and stock
        # must stay exact at 0) under the faults too; the others last the whole run.
        b = must(ctx.do("setup", "admin-product", "POST", "/admin/products",
                        {"name": f"faults-product-{i + 1}", "price": rng.randint(100, 2000),
                         "stock": SCARCE_STOCK if i < 2 else stock}, admin=True), "product")
        ctx.products[b["id"]] = {"price": b["price"], "stock": b["stock"]}
    # Fewer of each coupon than there are users, so that every one sells out; FIXED 1000 on
    # a cheap product makes orders with a total of 0 (no history row).
    n = n_users
    for name, typ, value, total in (("faults fixed 1000", "FIXED", 1000, n // 3),
                                    ("faults 15 percent", "PERCENT", 15, n // 2),
                                    ("faults fixed 300", "FIXED", 300, n - 4)):
        b = must(ctx.do("setup", "admin-coupon", "POST", "/admin/coupons",
                        {"name": name, "type": typ, "value": value, "totalQuantity": total,
                         "validDays": 7}, admin=True), "coupon")
        ctx.coupons[b["couponId"]] = {"type": typ, "value": value, "total": total}
    for u in ctx.users:
        must(ctx.do("setup", "charge", "POST", f"/users/{u}/points/charge", {"amount": 300000},
                    user=u, key=f"setup-charge-{u}"), "charge")


# ---------------------------------------------------------------------------------------------
# Load: one thread per user

class Client(threading.Thread):
    OPS = ("charge", "order", "cancel", "issue", "cart", "product")
    WEIGHTS = (10, 30, 12, 6, 10, 20)

    def __init__(self, ctx, idx, user):
        super().__init__(name=f"c{idx}", daemon=True)
        self.ctx, self.user = ctx, user
        self.rng = random.Random(ctx.args.seed * 1000 + idx)
        self.paid = {}      # order id -> coupon id (or None): its PAID orders
        self.coupons = {}   # coupon id -> AVAILABLE | USED | UNSURE (as far as it knows)
        self.sold_out = set()
        self.cart = set()
        self.seq = 0

    def run(self):
        # Paced at its share of --rate: a shop's steady traffic, not a flood that would leave
        # the feed no CPU to catch up with after an outage on a 2-core machine.
        gap = self.ctx.args.clients / self.ctx.args.rate if self.ctx.args.rate > 0 else 0.0
        due = time.monotonic()
        try:
            while not self.ctx.stop.is_set():
                op = self.rng.choices(self.OPS, self.WEIGHTS)[0]
                getattr(self, "op_" + op)()
                if gap:
                    due = max(due + gap, time.monotonic() - gap)
                    self.ctx.stop.wait(max(0.0, due - time.monotonic()))
        except Exception:  # a broken client makes the run fail, it must not pass silently
            self.ctx.thread_errors.append(f"{self.name}: {traceback.format_exc()}")

    def key(self, prefix):
        self.seq += 1
        return f"{prefix}-{self.user}-{self.seq}-{self.rng.getrandbits(32):08x}"

    def do(self, op, method, path, body=None, key=None, info=None):
        return self.ctx.do(self.name, op, method, path, body, user=self.user, key=key,
                           info=info, rng=self.rng)

    def pick_coupon(self):
        r = self.rng.random()
        avail = [c for c, s in self.coupons.items() if s == "AVAILABLE"]
        if avail and r < 0.5:
            return self.rng.choice(avail)
        if r > 0.95:  # sometimes one it may not hold: COUPON_NOT_USABLE is a valid answer
            return self.rng.choice(list(self.ctx.coupons))
        return None

    def after_order(self, out, coupon):
        """Book an order's or a checkout's outcome into what the thread knows."""
        if out.ok:
            self.paid[out.body["orderId"]] = coupon
            if coupon:
                self.coupons[coupon] = "USED"
        elif out.unresolved and coupon:
            self.coupons[coupon] = "UNSURE"

    def op_charge(self):
        self.do("charge", "POST", f"/users/{self.user}/points/charge",
                {"amount": self.rng.randint(5000, 100000)}, key=self.key("ch"))

    def op_order(self):
        pids = self.rng.sample(list(self.ctx.products), self.rng.randint(1, 3))
        body = {"userId": self.user,
                "items": [{"productId": p, "quantity": self.rng.randint(1, 3)} for p in pids]}
        coupon = self.pick_coupon()
        if coupon:
            body["couponId"] = coupon
        key = self.key("or") if self.rng.random() < 0.8 else None
        out = self.do("order", "POST", "/orders", body, key=key,
                      info={"couponKnownAvailable": self.coupons.get(coupon) == "AVAILABLE"}
                      if coupon else None)
        self.after_order(out, coupon)

    def op_cancel(self):
        if not self.paid:
            return self.op_order()
        oid = self.rng.choice(list(self.paid))
        coupon = self.paid.pop(oid)
        # no key: cancels take none; only this thread cancels its user's orders
        out = self.do("cancel", "POST", f"/orders/{oid}/cancel", info={"orderId": oid})
        if out.ok and coupon and self.coupons.get(coupon) == "USED":
            self.coupons[coupon] = "AVAILABLE"
        elif not out.ok and not out.refused and coupon:
            self.coupons[coupon] = "UNSURE"

    def op_issue(self):
        fresh = [c for c in self.ctx.coupons if c not in self.coupons and c not in self.sold_out]
        if fresh and self.rng.random() < 0.9:
            cid = self.rng.choice(fresh)
        else:
            cid = self.rng.choice(list(self.ctx.coupons))
        out = self.do("issue", "POST", f"/coupons/{cid}/issue", {"userId": self.user},
                      info={"couponId": cid, "priorHeld": cid in self.coupons})
        if out.ok:
            self.coupons[cid] = "AVAILABLE"
        elif out.final["code"] == "COUPON_ALREADY_ISSUED" or out.unresolved:
            self.coupons.setdefault(cid, "UNSURE")
        elif out.final["code"] == "COUPON_SOLD_OUT":
            self.sold_out.add(cid)

    def op_cart(self):
        for p in self.rng.sample(list(self.ctx.products), self.rng.randint(1, 2)):
            out = self.do("cart-put", "PUT", f"/users/{self.user}/cart/items/{p}",
                          {"quantity": self.rng.randint(1, 3)})
            if out.ok:
                self.cart.add(p)
        coupon = self.pick_coupon()
        body = {"couponId": coupon} if coupon else {}
        out = self.do("checkout", "POST", f"/users/{self.user}/cart/checkout", body,
                      key=self.key("co"),
                      info={"couponKnownAvailable": self.coupons.get(coupon) == "AVAILABLE"}
                      if coupon else None)
        self.after_order(out, coupon)
        if out.ok:
            self.cart.clear()
        else:
            # a line out of stock (or a balance too low) would fail every later checkout
            for p in sorted(self.cart):
                self.do("cart-delete", "DELETE", f"/users/{self.user}/cart/items/{p}")
            self.cart.clear()

    def op_product(self):
        p = self.rng.choice(list(self.ctx.products))
        self.ctx.do(self.name, "product", "GET", f"/products/{p}", rng=self.rng)


# ---------------------------------------------------------------------------------------------
# Faults

def read_pidfile(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def alive(pid):
    """Exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def wait_for(pred, deadline_s, interval=0.02):
    """Seconds until pred() held, or None after deadline_s."""
    start = now()
    while True:
        try:
            if pred():
                return now() - start
        except Exception:  # e.g. the database is not back yet
            pass
        if now() - start > deadline_s:
            return None
        time.sleep(interval)


class Faults:
    """The seven faults, run one at a time on this run's own stack, and their recovery."""

    def __init__(self, ctx, db):
        self.ctx, self.db, self.args = ctx, db, ctx.args
        self.dir = self.args.dir
        short = self.args.seconds < 120
        self.db_outage = 2.0 if short else 3.0
        self.platform_outage = 5.0 if short else 10.0
        self.results = []
        self.platform_events_seen = {}   # eventId -> type, from /_events before a restart
        self.stack_log = open(os.path.join(self.dir, "log", "faults-stack.log"), "a")
        pu = urllib.parse.urlsplit(self.args.platform)
        self.platform_host, self.platform_port = pu.hostname, pu.port

    # --- our own stack's processes, found by pid file / exact arguments, never by name
    def multiwatch(self):
        pid = read_pidfile(os.path.join(self.dir, "run", "fcgi.pid"))
        if pid and alive(pid) and any("multiwatch" in a for a in cmdline(pid)):
            return pid
        raise RuntimeError("no multiwatch for this stack")

    def workers(self):
        mw = self.multiwatch()
        try:
            with open(f"/proc/{mw}/task/{mw}/children") as f:
                return [int(p) for p in f.read().split() if alive(int(p))]
        except OSError:
            return []

    def relay_pid(self):
        pid = read_pidfile(os.path.join(self.dir, "run", "relay.pid"))
        if pid and alive(pid) and any(a.endswith("commerce-relay") for a in cmdline(pid)):
            return pid
        return None

    def db_pids(self):
        want = f"--datadir={self.dir}/mysql"
        pids = []
        for name in os.listdir("/proc"):
            if name.isdigit() and want in cmdline(int(name)) and alive(int(name)):
                pids.append(int(name))
        return pids

    def stack(self, cmd):
        t = now()
        self.stack_log.write(f"--- {time.strftime('%H:%M:%S')} scripts/stack {cmd}\n")
        self.stack_log.flush()
        rc = subprocess.run([self.args.stack, self.dir, cmd], stdin=subprocess.DEVNULL,
                            stdout=self.stack_log, stderr=self.stack_log, timeout=180).returncode
        if rc != 0:
            raise RuntimeError(f"scripts/stack {cmd} exited {rc}")
        return now() - t

    def platform(self, method, path, body=None):
        conn = http.client.HTTPConnection(self.platform_host, self.platform_port, timeout=10)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data,
                         headers={"Content-Type": "application/json"} if data else {})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"null")
        finally:
            conn.close()

    def remember_platform_events(self):
        _, doc = self.platform("GET", "/_events")
        for e in doc["events"]:
            self.platform_events_seen[e["eventId"]] = e["type"]

    def ready(self):
        rep = self.ctx.api.request("GET", "/readyz")
        return rep.status == 200

    def db_utc_now(self):
        return self.db.scalar("SELECT UTC_TIMESTAMP(3)")

    def pending_before(self, ts):
        return int(self.db.scalar(
            f"SELECT COUNT(*) FROM outbox WHERE status = 'PENDING' AND occurred_at < '{ts}'"))

    def settled(self, n_workers):
        """The whole stack is back: a full pool, a database that answers and a feed that
        has caught up (no event pending for more than a second)."""
        return (len(self.workers()) >= n_workers and self.ready()
                and int(self.db.scalar(
                    "SELECT COUNT(*) FROM outbox WHERE status = 'PENDING' "
                    "AND occurred_at < UTC_TIMESTAMP(3) - INTERVAL 1 SECOND")) == 0)

    # --- the faults. Each returns a dict for the report with t_start (the fault began) and
    # t_back (the failed part was given back: restarted, or told to work again).
    def kill_worker(self):
        n = len(self.workers())
        victim = random.choice(self.workers())
        if not any("commerce-fcgi" in a for a in cmdline(victim)):
            raise RuntimeError(f"worker {victim} is not commerce-fcgi")
        t = now()
        os.kill(victim, signal.SIGKILL)
        rec = wait_for(lambda: victim not in self.workers() and len(self.workers()) >= n,
                       RECOVERY_DEADLINE_S, 0.005)
        return {"detail": f"killed worker pid {victim}; recovery: until multiwatch had {n} "
                          f"workers again",
                "recovery_s": rec, "t_start": t, "t_back": t}

    def db_down(self, how):
        """A clean stop or a kill -9 of mariadbd, an outage, then scripts/stack db-start."""
        t = now()
        if how == "stop":
            what = f"clean stop took {self.stack('db-stop'):.2f}s"
        else:
            pids = self.db_pids()
            if not pids:
                raise RuntimeError("no mariadbd of this stack")
            for p in pids:
                os.kill(p, signal.SIGKILL)
            if wait_for(lambda: not any(alive(p) for p in pids), 10) is None:
                raise RuntimeError(f"mariadbd {pids} survived SIGKILL")
            what = f"kill -9 of mariadbd {pids}"
        time.sleep(self.db_outage)
        t_back = now()
        start_s = self.stack("db-start")
        rec = wait_for(self.ready, RECOVERY_DEADLINE_S)
        return {"detail": f"{what}, down {self.db_outage:g}s, db-start took {start_s:.2f}s"
                          f"{' (crash recovery)' if how == 'kill' else ''}; recovery: from "
                          f"db-start until GET /readyz 200",
                "recovery_s": None if rec is None else now() - t_back,
                "t_start": t, "t_back": t_back}

    def db_stop(self):
        return self.db_down("stop")

    def db_kill(self):
        return self.db_down("kill")

    def relay_kill(self):
        pid = self.relay_pid()
        if not pid:
            raise RuntimeError("no relay of this stack")

        # The case a restart must handle is a relay killed with a batch in flight: wait
        # (a few seconds at most) for a moment it holds claims, preferably a big batch,
        # which takes longest to deliver. What it held is read after the kill, when
        # nothing can change it any more.
        def claims():
            return int(self.db.scalar("SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL"))
        if wait_for(lambda: claims() >= 10, 3.0, 0.0) is None:
            wait_for(lambda: claims() > 0, 2.0, 0.0)
        t = now()
        os.kill(pid, signal.SIGKILL)
        if wait_for(lambda: not alive(pid), 10) is None:
            raise RuntimeError(f"relay {pid} survived SIGKILL")
        claimed = [r[0] for r in self.db.query(
            "SELECT event_id FROM outbox WHERE claimed_by IS NOT NULL AND status = 'PENDING'")]
        t_restart = now()
        self.stack("relay-start")
        t_back = now()
        restart_ts = self.db_utc_now()
        if claimed:
            ids = ",".join(f"'{e}'" for e in claimed)
            rec = wait_for(lambda: int(self.db.scalar(
                f"SELECT COUNT(*) FROM outbox WHERE event_id IN ({ids}) "
                f"AND status <> 'DELIVERED'")) == 0, RECOVERY_DEADLINE_S)
            what = f"the {len(claimed)} events the dead relay had claimed were DELIVERED"
        else:
            rec = wait_for(lambda: self.pending_before(restart_ts) == 0, RECOVERY_DEADLINE_S)
            what = ("every event pending at the restart was DELIVERED (no claim was held "
                    "at the kill)")
        return {"detail": f"kill -9 of relay pid {pid}, relay-start took "
                          f"{t_back - t_restart:.2f}s; recovery: from the restart until {what}",
                "recovery_s": None if rec is None else now() - t_back,
                "claimed": len(claimed), "target_s": FEED_TARGET_S, "t_start": t,
                "t_back": t_back}

    def platform_outage_result(self, what, t, t_back):
        """Recovery of the feed after the platform is back: until no event older than its
        return is PENDING (the backlog of the outage is delivered)."""
        back_ts = self.db_utc_now()
        backlog = self.pending_before(back_ts)
        rec = wait_for(lambda: self.pending_before(back_ts) == 0, RECOVERY_DEADLINE_S)
        rec = None if rec is None else now() - t_back
        return {"detail": f"{what}; {backlog} events pending at its return; recovery: from "
                          f"the return until no PENDING event older than it",
                "recovery_s": rec, "backlog": backlog, "target_s": FEED_TARGET_S,
                "drain_rate": None if not rec else round(backlog / rec),
                "t_start": t, "t_back": t_back}

    def platform_fail(self):
        _, before = self.platform("GET", "/_state")
        t = now()
        self.platform("POST", "/_mode", {"mode": "fail"})
        time.sleep(self.platform_outage)
        self.platform("POST", "/_mode", {"mode": "ok"})
        t_back = now()
        _, after = self.platform("GET", "/_state")
        return self.platform_outage_result(
            f"platform answered 500 for {self.platform_outage:g}s "
            f"({after['failed'] - before['failed']} deliveries refused)", t, t_back)

    def platform_down(self):
        # the fake platform keeps its events in memory: note what it has before it goes
        self.remember_platform_events()
        t = now()
        self.stack("platform-stop")
        time.sleep(self.platform_outage)
        self.stack("platform-start")
        t_back = now()
        return self.platform_outage_result(
            f"platform stopped (connections refused) for {self.platform_outage:g}s", t, t_back)

    def workers_roll(self):
        before = set(self.workers())
        n = len(before)
        t = now()
        roll_s = self.stack("workers-restart")
        rec = wait_for(lambda: len(self.workers()) >= n and not before & set(self.workers()),
                       RECOVERY_DEADLINE_S, 0.01)
        return {"detail": f"scripts/stack workers-restart took {roll_s:.2f}s; recovery: until "
                          f"{n} new workers",
                "recovery_s": None if rec is None else now() - t, "t_start": t, "t_back": t}

    def failover(self):
        """The failover drill (a stack with a replica): kill -9 of the primary, then
        scripts/stack failover promotes the replica and points everything at it (the
        stable socket name). Recovery: from the kill to the first order placed after it."""
        pids = self.db_pids()
        if not pids:
            raise RuntimeError("no primary mariadbd of this stack")
        t = now()
        t_rel = t - self.ctx.log.t0
        for p in pids:
            os.kill(p, signal.SIGKILL)
        if wait_for(lambda: not any(alive(p) for p in pids), 10) is None:
            raise RuntimeError(f"mariadbd {pids} survived SIGKILL")
        promote_s = self.stack("failover")
        t_back = now()

        def first_order():
            for r in reversed(self.ctx.log.records):
                if r["t"] < t_rel:
                    return False
                if r["op"] in ("order", "checkout") and r["status"] == 201 and not r["replayed"]:
                    return True
            return False
        rec = wait_for(first_order, RECOVERY_DEADLINE_S, 0.01)
        return {"detail": f"kill -9 of the primary {pids}, scripts/stack failover took "
                          f"{promote_s:.2f}s; recovery: from the kill to the first order placed"
                          f" on the new primary",
                "recovery_s": None if rec is None else now() - t, "t_start": t,
                "t_back": t_back}

    PLAN = (("a", "kill -9 of one worker", "kill_worker"),
            ("b", "clean MariaDB stop", "db_stop"),
            ("c", "kill -9 of mariadbd", "db_kill"),
            ("d", "kill -9 of the relay", "relay_kill"),
            ("e", "platform answers 500", "platform_fail"),
            ("f", "platform refuses connections", "platform_down"),
            ("g", "rolling restart of the workers", "workers_roll"))
    # With a replica (--replica), last: the primary is gone for good after it.
    DRILL = (("h", "failover: kill -9 of the primary", "failover"),)

    def run(self, t_load0):
        """Each fault at its slot (or later), one at a time: after a fault the stack must
        have settled before the next, so that no fault is measured with another's backlog."""
        plan = self.PLAN + (self.DRILL if self.args.replica else ())
        n = len(plan)
        n_workers = len(self.workers())
        for i, (tag, name, method) in enumerate(plan):
            at = t_load0 + self.args.seconds * (i + 1) / (n + 1)
            time.sleep(max(0.0, at - now()))
            res = {"fault": tag, "name": name}
            try:
                res.update(getattr(self, method)())
            except Exception as e:
                res.update({"error": f"{type(e).__name__}: {e}", "recovery_s": None,
                            "t_start": now(), "t_back": now()})
            # How long until nothing shows the fault any more (the pool full, the database
            # answering, no event waiting for more than a second), from the part's return.
            settle = wait_for(lambda: self.settled(n_workers), RECOVERY_DEADLINE_S, 0.05)
            t_settled = now()
            res["settled_s"] = None if settle is None else round(t_settled - res["t_back"], 3)
            t0 = self.ctx.log.t0
            res["start"] = round(res.pop("t_start") - t0, 3)
            res["back"] = round(res.pop("t_back") - t0, 3)
            res["end"] = round(t_settled - t0, 3)
            target = res.get("target_s")
            res["ok"] = ("error" not in res and res["recovery_s"] is not None
                         and res["settled_s"] is not None
                         and (target is None or res["recovery_s"] <= target))
            if res["recovery_s"] is not None:
                res["recovery_s"] = round(res["recovery_s"], 3)
            self.results.append(res)
            rec = "-" if res["recovery_s"] is None else f"{res['recovery_s']:.3f}s"
            print(f"  fault ({tag}) {name}: recovery {rec}{'' if res['ok'] else ' FAILED'}"
                  f"{' ' + res['error'] if 'error' in res else ''}", flush=True)


# ---------------------------------------------------------------------------------------------
# Checks

class Check:
    def __init__(self, name, what):
        self.name, self.what, self.violations, self.notes = name, what, [], []

    def fail(self, msg):
        self.violations.append(msg)

    @property
    def ok(self):
        return not self.violations

    def as_dict(self):
        return {"check": self.name, "what": self.what, "ok": self.ok,
                "violations": len(self.violations), "first": self.violations[:5],
                "notes": self.notes}


def outcomes_by_request(records):
    by = collections.OrderedDict()
    for r in records:
        by.setdefault(r["req"], []).append(r)
    return [Outcome(a) for a in by.values()]


def ival(v):
    return None if v is None else int(v)


def check_money(db, ctx):
    c = Check("money", "balance = charges + refunds - uses, the history chain and the latest "
                       "balanceAfter match it, one USE per paid order and one REFUND per cancel")
    balances = {int(u): int(b) for u, b in db.query("SELECT user_id, balance FROM point")}
    hist = collections.defaultdict(list)
    for hid, uid, typ, amount, after, oid in db.query(
            "SELECT id, user_id, type, amount, balance_after, order_id FROM point_history "
            "ORDER BY user_id, id"):
        hist[int(uid)].append((int(hid), typ, int(amount), int(after), ival(oid)))
    for uid, bal in balances.items():
        running, total = 0, 0
        for hid, typ, amount, after, _ in hist.get(uid, []):
            delta = -amount if typ == "USE" else amount
            running += delta
            total += delta
            if after != running:
                c.fail(f"user {uid}: history row {hid} ({typ} {amount}) has balance_after "
                       f"{after}, the rows before it make {running}")
                running = after
        if total != bal:
            c.fail(f"user {uid}: balance {bal}, but CHARGE+REFUND-USE in point_history = {total}")
        rows = hist.get(uid, [])
        if rows and rows[-1][3] != bal:
            c.fail(f"user {uid}: balance {bal}, latest history row {rows[-1][0]} has "
                   f"balance_after {rows[-1][3]}")
    for uid in hist:
        if uid not in balances:
            c.fail(f"history rows for user {uid} who has no point row")
    by_order = collections.defaultdict(list)
    for uid, rows in hist.items():
        for hid, typ, amount, after, oid in rows:
            if typ == "CHARGE":
                if oid is not None:
                    c.fail(f"CHARGE row {hid} names order {oid}")
            elif oid is None:
                c.fail(f"{typ} row {hid} of user {uid} names no order")
            else:
                by_order[oid].append((hid, typ, amount, after, uid))
    orders = {}
    for oid, uid, status, pay, total, bal_after, refund_after in db.query(
            "SELECT id, user_id, status, payment_status, total, balance_after, "
            "refund_balance_after FROM orders"):
        orders[int(oid)] = (int(uid), status, pay, int(total), int(bal_after), ival(refund_after))
    for oid, (uid, status, pay, total, bal_after, refund_after) in orders.items():
        if (status, pay) not in (("PAID", "PAID"), ("CANCELLED", "REFUNDED")):
            c.fail(f"order {oid}: status {status} with payment_status {pay}")
        rows = by_order.get(oid, [])
        uses = [r for r in rows if r[1] == "USE"]
        refunds = [r for r in rows if r[1] == "REFUND"]
        want_refunds = 1 if status == "CANCELLED" and total > 0 else 0
        if total > 0 and (len(uses) != 1 or uses[0][2] != total or uses[0][4] != uid):
            c.fail(f"order {oid} ({status}, total {total}, user {uid}): USE rows "
                   f"{[(r[0], r[2], r[4]) for r in uses]}, want exactly one of {total}")
        if total == 0 and uses:
            c.fail(f"order {oid} has total 0 but USE rows {[r[0] for r in uses]}")
        if len(refunds) != want_refunds or (refunds and (refunds[0][2] != total
                                                           or refunds[0][4] != uid)):
            c.fail(f"order {oid} ({status}, total {total}): REFUND rows "
                   f"{[(r[0], r[2]) for r in refunds]}, want {want_refunds} of {total}")
        if uses and uses[0][3] != bal_after:
            c.fail(f"order {oid}: balance_after {bal_after}, its USE row says {uses[0][3]}")
        if refunds and refunds[0][3] != refund_after:
            c.fail(f"order {oid}: refund_balance_after {refund_after}, its REFUND row says "
                   f"{refunds[0][3]}")
    for oid in by_order:
        if oid not in orders:
            c.fail(f"history rows {[r[0] for r in by_order[oid]]} name order {oid}, "
                   f"which does not exist")
    c.notes.append(f"{len(balances)} balances, {sum(len(v) for v in hist.values())} history rows,"
                   f" {len(orders)} orders")
    return c, orders


def check_stock(db, ctx):
    c = Check("stock", "initial stock - units in PAID orders = inventory.stock, every product")
    stock = {int(p): int(s) for p, s in db.query("SELECT product_id, stock FROM inventory")}
    sold = {int(p): int(q) for p, q in db.query(
        "SELECT oi.product_id, SUM(oi.quantity) FROM order_item oi "
        "JOIN orders o ON o.id = oi.order_id WHERE o.status = 'PAID' GROUP BY oi.product_id")}
    for pid, p in ctx.products.items():
        want = p["stock"] - sold.get(pid, 0)
        if stock.get(pid) != want:
            c.fail(f"product {pid}: stock {stock.get(pid)}, want {p['stock']} - "
                   f"{sold.get(pid, 0)} sold = {want}")
    for pid in set(stock) | set(sold):
        if pid not in ctx.products:
            c.fail(f"product {pid} was not made by this test")
    empty = db.query("SELECT o.id FROM orders o LEFT JOIN order_item oi ON oi.order_id = o.id "
                     "WHERE oi.order_id IS NULL LIMIT 5")
    for (oid,) in empty:
        c.fail(f"order {oid} has no items")
    sold_out = [p for p in ctx.products if stock.get(p) == 0]
    c.notes.append(f"{sum(sold.values())} units in PAID orders; sold out: {sold_out or 'none'}")
    return c


def check_order_lines(db, ctx):
    c = Check("order arithmetic", "amount = quantity x unit price (the product's price), "
                                  "subtotal, the coupon's discount, total = subtotal - discount")
    lines = collections.defaultdict(list)
    for oid, pid, qty, unit, amount in db.query(
            "SELECT order_id, product_id, quantity, unit_price, amount FROM order_item "
            "ORDER BY order_id, line_no"):
        lines[int(oid)].append((int(pid), int(qty), int(unit), int(amount)))
    for oid, subtotal, discount, total, coupon in db.query(
            "SELECT id, subtotal, discount, total, coupon_id FROM orders"):
        oid, subtotal, discount, total = int(oid), int(subtotal), int(discount), int(total)
        s = 0
        for pid, qty, unit, amount in lines.get(oid, []):
            p = ctx.products.get(pid)
            if p and unit != p["price"]:
                c.fail(f"order {oid}: product {pid} at {unit}, its price is {p['price']}")
            if amount != qty * unit:
                c.fail(f"order {oid}: line of product {pid}: {qty} x {unit} != {amount}")
            s += amount
        if s != subtotal:
            c.fail(f"order {oid}: subtotal {subtotal}, lines sum to {s}")
        want = 0
        if coupon is not None:
            cp = ctx.coupons.get(int(coupon))
            if cp is None:
                c.fail(f"order {oid}: unknown coupon {coupon}")
            else:
                want = (min(cp["value"], subtotal) if cp["type"] == "FIXED"
                        else subtotal * cp["value"] // 100)
        if discount != want or total != subtotal - discount:
            c.fail(f"order {oid}: subtotal {subtotal}, discount {discount} (want {want}), "
                   f"total {total}")
    return c


def check_coupons(db, ctx, outcomes):
    c = Check("coupons", "issued_quantity = user_coupon rows <= total_quantity; a user coupon "
                         "is USED iff a PAID order uses it")
    for cid, total, issued, rows in db.query(
            "SELECT c.id, c.total_quantity, c.issued_quantity, "
            "(SELECT COUNT(*) FROM user_coupon uc WHERE uc.coupon_id = c.id) FROM coupon c"):
        total, issued, rows = int(total), int(issued), int(rows)
        if issued != rows or rows > total:
            c.fail(f"coupon {cid}: total {total}, issued_quantity {issued}, {rows} user coupons")
        c.notes.append(f"coupon {cid}: {rows} of {total} issued"
                       f"{' (sold out)' if rows == total else ''}")
    paid_with = collections.defaultdict(list)
    coupon_orders = collections.defaultdict(list)
    for oid, uid, cid, status in db.query(
            "SELECT id, user_id, coupon_id, status FROM orders WHERE coupon_id IS NOT NULL"):
        coupon_orders[(int(cid), int(uid))].append(int(oid))
        if status == "PAID":
            paid_with[(int(cid), int(uid))].append(int(oid))
    held = set()
    for cid, uid, status, used_oid in db.query(
            "SELECT coupon_id, user_id, status, used_order_id FROM user_coupon"):
        k = (int(cid), int(uid))
        held.add(k)
        paid = paid_with.get(k, [])
        if len(paid) > 1:
            c.fail(f"coupon {cid} of user {uid} used by {len(paid)} PAID orders {paid}")
        if (status == "USED") != bool(paid):
            c.fail(f"coupon {cid} of user {uid} is {status} (order {used_oid}), "
                   f"PAID orders using it: {paid}")
        elif paid and ival(used_oid) != paid[0]:
            c.fail(f"coupon {cid} of user {uid}: used_order_id {used_oid}, PAID order {paid[0]}")
    for k, oids in coupon_orders.items():
        if k not in held:
            c.fail(f"orders {oids} use coupon {k[0]} that user {k[1]} was never issued")
    # the client's view: a coupon it was issued (201) is there, and one it knew AVAILABLE
    # was not refused
    for o in outcomes:
        f = o.attempts[0]
        if f["op"] == "issue" and o.ok and (f["couponId"], f["user"]) not in held:
            c.fail(f"user {f['user']} got 201 for coupon {f['couponId']}, no user_coupon row")
        if (f["op"] in ("order", "checkout") and f.get("couponKnownAvailable")
                and o.final["code"] == "COUPON_NOT_USABLE"):
            c.fail(f"{f['op']} req {f['req']} (user {f['user']}): 409 COUPON_NOT_USABLE for a "
                   f"coupon the user held AVAILABLE")
    return c


def check_keys(db, ctx, outcomes, orders):
    c = Check("one effect per key", "per (user, Idempotency-Key): at most one order/charge, "
                                    "every 2xx answer with the same orderId / balance")
    stored = {}
    for uid, key, status, oid, bal, charged in db.query(
            "SELECT user_id, idem_key, status_code, "
            "JSON_VALUE(CONVERT(response USING utf8mb4), '$.orderId'), "
            "JSON_VALUE(CONVERT(response USING utf8mb4), '$.balance'), "
            "JSON_VALUE(CONVERT(response USING utf8mb4), '$.charged') "
            "FROM idempotency_key WHERE user_id > 0"):
        stored[(int(uid), key)] = (int(status), ival(oid), ival(bal), ival(charged))
    sent = {}
    for o in outcomes:
        f = o.attempts[0]
        if f["key"] is None:
            continue
        k = (f["user"], f["key"])
        if k in sent:
            c.fail(f"the client sent key {k} for two requests (test bug)")
        sent[k] = o
        ok = [a for a in o.attempts if a["status"] and 200 <= a["status"] < 300]
        row = stored.get(k)
        if ok and row is None:
            c.fail(f"{f['op']} {k}: answered {ok[0]['status']}, but no key row is stored")
            continue
        if not ok:
            if row is not None and o.refused:
                c.fail(f"{f['op']} {k}: final answer {o.final['status']} {o.final['code']}, but "
                       f"the key is stored with a {row[0]} (orderId {row[1]}): it took effect")
            continue
        if f["op"] in ("order", "checkout"):
            ids = {a.get("resp_orderId") for a in ok}
            if len(ids) != 1 or row[1] not in ids:
                c.fail(f"{f['op']} {k}: 2xx answers carried orderIds {sorted(map(str, ids))}, "
                       f"the key's stored order is {row[1]}")
            elif row[1] not in orders or orders[row[1]][0] != f["user"]:
                c.fail(f"{f['op']} {k}: the key's order {row[1]} does not exist for the user")
        elif f["op"] == "charge":
            got = {(a.get("resp_balance"), a.get("resp_charged")) for a in ok}
            if got != {(row[2], row[3])}:
                c.fail(f"charge {k}: 2xx answers {sorted(got)}, stored response "
                       f"balance {row[2]} charged {row[3]}")
    for k in stored:
        if k not in sent:
            c.fail(f"key {k} is stored but the client never sent it")
    # Every charge here carries a key, so a user's CHARGE rows must be exactly the charge
    # keys stored for them: a second charge under one key would be one row too many.
    charge_keys = collections.Counter(k[0] for k, o in sent.items()
                                      if o.attempts[0]["op"] == "charge" and k in stored)
    charge_rows = {int(u): int(n) for u, n in db.query(
        "SELECT user_id, COUNT(*) FROM point_history WHERE type = 'CHARGE' GROUP BY user_id")}
    for uid in set(charge_keys) | set(charge_rows):
        if charge_keys.get(uid, 0) != charge_rows.get(uid, 0):
            c.fail(f"user {uid}: {charge_rows.get(uid, 0)} CHARGE rows, "
                   f"{charge_keys.get(uid, 0)} stored charge keys")
    c.notes.append(f"{len(sent)} keys sent, {len(stored)} stored")
    return c


def check_feed(db, ctx, faults, orders):
    c = Check("feed", "every PAID / CANCELLED order has its ORDER_PAID (and ORDER_CANCELLED) "
                      "event DELIVERED and received by the platform")
    events = collections.defaultdict(list)
    by_status = collections.Counter()
    all_ids = {}
    for eid, typ, oid, status in db.query("SELECT event_id, type, order_id, status FROM outbox"):
        events[int(oid)].append((eid, typ, status))
        by_status[status] += 1
        all_ids[eid] = typ
    received = dict(faults.platform_events_seen)
    try:
        _, doc = faults.platform("GET", "/_events")
        received.update({e["eventId"]: e["type"] for e in doc["events"]})
    except Exception as e:
        c.fail(f"GET /_events of the platform failed: {e}")
    # Deliveries between the last /_events before a platform restart and the restart are
    # only in the platform's own event log.
    try:
        with open(os.path.join(ctx.args.dir, "log", "platform-events.jsonl")) as f:
            for line in f:
                doc = json.loads(line)
                received.setdefault(doc["eventId"], doc["type"])
    except OSError:
        pass
    for oid, (uid, status, *_rest) in orders.items():
        evs = events.get(oid, [])
        want = ["ORDER_PAID"] + (["ORDER_CANCELLED"] if status == "CANCELLED" else [])
        got = sorted(t for _, t, _ in evs)
        if got != sorted(want):
            c.fail(f"order {oid} ({status}): events {got}, want {want}")
        for eid, typ, st in evs:
            if st != "DELIVERED":
                c.fail(f"order {oid}: event {eid} {typ} is {st}")
            elif eid not in received:
                c.fail(f"order {oid}: event {eid} {typ} is DELIVERED but the platform never "
                       f"received it")
    for oid in events:
        if oid not in orders:
            c.fail(f"events {[e[0] for e in events[oid]]} for order {oid}, which does not exist")
    for eid in received:
        if eid not in all_ids:
            c.fail(f"the platform received event {eid}, which is not in the outbox")
    c.notes.append(f"{len(all_ids)} events ({dict(by_status)}), {len(received)} received")
    return c


def check_no_5xx(outcomes):
    c = Check("no 5xx but 503", "no answer was a 500, 502, 504 or any 5xx other than 503")
    for o in outcomes:
        for a in o.attempts:
            if a["status"] and a["status"] >= 500 and a["status"] != 503:
                c.fail(f"{a['method']} {a['path']} req {a['req']} attempt {a['attempt']}: "
                       f"{a['status']} {a['code']} {a.get('detail', '')}")
    return c


def describe(attempts):
    return ", ".join(f"{a['status'] or a['error']}"
                     f"{' ' + a['code'] if a['code'] else ''}"
                     f"{' (' + a['detail'] + ')' if a.get('detail') and a['status'] == 503 else ''}"
                     for a in attempts)


def check_503_truth(db, ctx, outcomes, orders):
    c = Check("503 means nothing committed",
              "a retry after only 503 SERVICE_UNAVAILABLE finds nothing done; every order the "
              "client saw exists and no order exists the client cannot account for")
    for o in outcomes:
        f = o.attempts[0]
        if f["key"] is not None and o.ok:
            i = o.attempts.index(o.ok_rec)
            if o.ok_rec["replayed"] and all(nothing_happened(a) for a in o.attempts[:i]):
                why = ("an attempt answered 503 SERVICE_UNAVAILABLE had committed" if i
                       else "a key never used before was answered as a replay")
                c.fail(f"{f['op']} req {f['req']} (t={f['t']}s) user {f['user']} key "
                       f"{f['key']}: answers [{describe(o.attempts[:i + 1])}]; the 2xx is a "
                       f"replay, so {why}")
        if (len(o.attempts) < 2 or not all(nothing_happened(a) for a in o.attempts[:-1])
                or not any(a["status"] == 503 for a in o.attempts[:-1])):
            continue
        last = o.final
        if f["op"] == "cancel" and last["code"] == "ORDER_NOT_CANCELLABLE":
            c.fail(f"cancel of order {f['orderId']} (req {f['req']}, t={f['t']}s, PAID before "
                   f"it): answers [{describe(o.attempts)}]: an attempt answered 503 had "
                   f"cancelled it")
        if (f["op"] == "issue" and not f.get("priorHeld")
                and last["code"] == "COUPON_ALREADY_ISSUED"):
            c.fail(f"issue of coupon {f['couponId']} to user {f['user']} (req {f['req']}, "
                   f"t={f['t']}s, not held before): answers [{describe(o.attempts)}]: an "
                   f"attempt answered 503 had issued it")
    # The client's orders against the database's, user by user.
    seen = collections.defaultdict(set)
    unknown = collections.Counter()
    for o in outcomes:
        f = o.attempts[0]
        if f["op"] not in ("order", "checkout"):
            continue
        if o.ok:
            seen[f["user"]].add(o.ok_rec["resp_orderId"])
        elif o.unresolved:
            unknown[f["user"]] += 1
    db_orders = collections.defaultdict(set)
    for oid, (uid, *_rest) in orders.items():
        db_orders[uid].add(oid)
    cancelled_ok = {o.attempts[0]["orderId"] for o in outcomes
                    if o.attempts[0]["op"] == "cancel" and o.ok}
    cancel_tried = {o.attempts[0]["orderId"] for o in outcomes if o.attempts[0]["op"] == "cancel"}
    for uid in set(seen) | set(db_orders):
        missing = seen[uid] - db_orders[uid]
        if missing:
            c.fail(f"user {uid}: orders {sorted(missing)} were answered 2xx but do not exist")
        extra = db_orders[uid] - seen[uid]
        if len(extra) > unknown[uid]:
            c.fail(f"user {uid}: {len(db_orders[uid])} orders in the database, the client saw "
                   f"{len(seen[uid])} made and had {unknown[uid]} order requests of unknown "
                   f"outcome; unaccounted: {sorted(extra)}")
        for oid in seen[uid] & db_orders[uid]:
            status = orders[oid][1]
            if oid in cancelled_ok and status != "CANCELLED":
                c.fail(f"order {oid}: cancel answered 200, the database says {status}")
            if oid not in cancel_tried and status != "PAID":
                c.fail(f"order {oid}: never cancelled by the client, the database says {status}")
    c.notes.append(f"{sum(len(v) for v in seen.values())} orders seen made, "
                   f"{sum(unknown.values())} order requests of unknown outcome, "
                   f"{len(orders)} orders in the database")
    return c


# ---------------------------------------------------------------------------------------------
# Report

def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def delivery_latency(db, faults, log):
    """commit -> delivery, ms: for all events, and for those of calm times: not from a
    second before a fault began (a batch in flight) to when the stack had settled again."""
    rows = db.query("SELECT UNIX_TIMESTAMP(occurred_at), "
                    "TIMESTAMPDIFF(MICROSECOND, occurred_at, delivered_at) "
                    "FROM outbox WHERE status = 'DELIVERED'")
    windows = [(log.wall0 + f["start"] - 1, log.wall0 + f["end"]) for f in faults.results]
    all_ms, calm_ms = [], []
    for occurred, us in rows:
        ms = int(us) / 1000
        all_ms.append(ms)
        if not any(a <= float(occurred) <= b for a, b in windows):
            calm_ms.append(ms)

    def summary(vals):
        vals.sort()
        return {"events": len(vals), "p50_ms": percentile(vals, 50),
                "p99_ms": percentile(vals, 99), "max_ms": vals[-1] if vals else None}
    return {"all": summary(all_ms), "calm": summary(calm_ms)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="the stack's state dir")
    ap.add_argument("--url", required=True, help="the stack's nginx, http://127.0.0.1:PORT")
    # Secrets come from the environment, never argv (ps shows argv to every user).
    ap.add_argument("--admin-token", default=os.environ.get("COMMERCE_FAULTS_ADMIN_TOKEN"),
                    help="default: $COMMERCE_FAULTS_ADMIN_TOKEN")
    ap.add_argument("--secret", default=os.environ.get("COMMERCE_FAULTS_SECRET"),
                    help="the HS256 secret of user tokens; default: $COMMERCE_FAULTS_SECRET")
    ap.add_argument("--replica", action="store_true",
                    help="the stack has a replica: end with the failover drill")
    ap.add_argument("--rate", type=float, default=560,
                    help="operations per second over all clients (560: the issue's own run,"
                         " 68,000 operations in 120 s); 0: as fast as they go")
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--audience", required=True)
    ap.add_argument("--platform", required=True, help="the fake platform's event URL")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--db-socket", required=True)
    ap.add_argument("--stack", required=True, help="path of scripts/stack")
    ap.add_argument("--clients", type=int, default=24)
    ap.add_argument("--products", type=int, default=20)
    ap.add_argument("--stock", type=int, default=0,
                    help="initial stock of the plentiful products (default: 3000 + 40 per second)")
    ap.add_argument("--seed", type=int, default=None,
                    help="for the clients' choices and the fault victims (default: random)")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    random.seed(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    ctx = Ctx(args)
    db = Db(args.db_socket)
    logdir = os.path.join(args.dir, "log")
    os.makedirs(logdir, exist_ok=True)
    report = {"seconds": args.seconds, "clients": args.clients, "seed": args.seed}
    try:
        return run(ctx, db, args, report)
    finally:
        ctx.log.write(os.path.join(logdir, "faults-client.jsonl"))
        with open(os.path.join(logdir, "faults-report.json"), "w") as f:
            json.dump(report, f, indent=2)


def run(ctx, db, args, report):
    stock = args.stock or 3000 + 40 * args.seconds
    print(f"faults: {args.clients} clients, {args.products} products of stock {stock} "
          f"(two of {SCARCE_STOCK}), "
          f"{args.seconds}s of load against {args.url}", flush=True)
    setup(ctx, args.clients, args.products, stock)

    faults = Faults(ctx, db)
    clients = [Client(ctx, i + 1, u) for i, u in enumerate(ctx.users)]
    t_load0 = now()
    for c in clients:
        c.start()
    faults.run(t_load0)
    # The load runs for --seconds; when the faults took longer, a second more after the last
    # one settled, so that every fault and its recovery happen under load.
    if now() - t_load0 >= args.seconds:
        time.sleep(1.0)
    time.sleep(max(0.0, t_load0 + args.seconds - now()))
    ctx.stop.set()
    for c in clients:
        c.join()
    load_s = now() - t_load0
    print(f"  load stopped after {load_s:.1f}s", flush=True)

    drained = wait_for(lambda: int(db.scalar(
        "SELECT COUNT(*) FROM outbox WHERE status = 'PENDING'")) == 0, DRAIN_DEADLINE_S, 0.1)
    print(f"  feed drained: {'no' if drained is None else f'{drained:.1f}s'}", flush=True)

    records = ctx.log.records
    outcomes = [o for o in outcomes_by_request(records) if o.attempts[0]["thread"] != "setup"]
    all_outcomes = outcomes_by_request(records)
    money, orders = check_money(db, ctx)
    checks = [money, check_stock(db, ctx), check_order_lines(db, ctx),
              check_coupons(db, ctx, all_outcomes), check_keys(db, ctx, all_outcomes, orders),
              check_feed(db, ctx, faults, orders), check_no_5xx(all_outcomes),
              check_503_truth(db, ctx, all_outcomes, orders)]
    drain = Check("feed drained", f"no PENDING event {DRAIN_DEADLINE_S}s after the load")
    if drained is None:
        left = db.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'PENDING'")
        drain.fail(f"{left} events still PENDING")
    clients_ok = Check("clients ran", "no client thread crashed")
    for e in ctx.thread_errors:
        clients_ok.fail(e)
    checks += [drain, clients_ok]

    # --- the figures
    ops = collections.defaultdict(collections.Counter)
    for o in outcomes:
        f = o.final
        ops[o.attempts[0]["op"]][f"{f['status']} {f['code']}" if f["code"] else
                                 str(f["status"] or "no answer")] += 1
    attempts = collections.Counter()
    unavailable = collections.Counter()
    for r in records:
        attempts[str(r["status"] or "no answer")] += 1
        if r["status"] == 503:
            src = "nginx" if NGINX_503_DETAIL in r.get("detail", "") else "worker"
            unavailable[f"{r['code']} ({src})"] += 1
    for fr in faults.results:
        fr["503s"] = sum(1 for r in records if r["status"] == 503
                         and fr["start"] <= r["t"] <= fr["end"] + 1)
    latency = delivery_latency(db, faults, ctx.log)
    report.update({
        "load_seconds": round(load_s, 1),
        "t0_unix": round(ctx.log.wall0, 3),   # wall clock of t = 0 in the client log
        "operations": {op: dict(c) for op, c in sorted(ops.items())},
        "logical_requests": len(outcomes),
        "http_requests": len(records),
        "http_by_status": dict(attempts),
        "503s": dict(unavailable),
        "faults": faults.results,
        "delivery_latency": latency,
        "checks": [c.as_dict() for c in checks],
    })
    ok = all(c.ok for c in checks) and all(f["ok"] for f in faults.results)
    report["result"] = "PASS" if ok else "FAIL"
    print_report(report)
    return 0 if ok else 1


def print_report(rep):
    print(f"\n=== faults report: {rep['seconds']}s requested, load ran {rep['load_seconds']}s, "
          f"{rep['clients']} clients, seed {rep['seed']}")
    print(f"operations ({rep['logical_requests']} logical requests, "
          f"{rep['http_requests']} HTTP requests):")
    for op, st in rep["operations"].items():
        print(f"  {op:<12} " + ", ".join(f"{k}: {v}" for k, v in
                                         sorted(st.items(), key=lambda kv: -kv[1])))
    print("HTTP answers: " + ", ".join(f"{k}: {v}"
                                       for k, v in sorted(rep["http_by_status"].items())))
    print("503s: " + (", ".join(f"{k}: {v}" for k, v in rep["503s"].items()) or "none"))
    print("faults:")
    for f in rep["faults"]:
        rec = "-" if f["recovery_s"] is None else f"{f['recovery_s']:.3f}s"
        tgt = f" (target {f['target_s']:g}s)" if f.get("target_s") else ""
        print(f"  ({f['fault']}) {f['name']:<32} at {f['start']:7.2f}s  recovery {rec}{tgt}  "
              f"503s {f['503s']}  {'ok' if f['ok'] else 'FAIL'}")
        print(f"      {f.get('error') or f['detail']}")
        extra = []
        if f.get("settled_s") is None:
            extra.append(f"the stack had not settled {RECOVERY_DEADLINE_S}s after it")
        else:
            extra.append(f"stack settled {f['settled_s']:.2f}s after the part was back")
        if f.get("claimed") is not None:
            extra.append(f"{f['claimed']} claims held at the kill")
        if f.get("drain_rate"):
            extra.append(f"backlog of {f['backlog']} drained at {f['drain_rate']} events/s "
                         f"while the load went on")
        if extra:
            print(f"      ({'; '.join(extra)})")
    for k, v in rep["delivery_latency"].items():
        fmt = (lambda x: "-" if x is None else f"{x:.1f} ms")
        what = "all events" if k == "all" else "calm: outside the fault windows"
        print(f"delivery latency ({what}): {v['events']} events, "
              f"p50 {fmt(v['p50_ms'])}, p99 {fmt(v['p99_ms'])}, max {fmt(v['max_ms'])}")
    print("checks:")
    for c in rep["checks"]:
        print(f"  {'PASS' if c['ok'] else 'FAIL'} {c['check']}: {c['what']}"
              + (f" ({c['violations']} violations)" if not c["ok"] else ""))
        for n in c["notes"]:
            print(f"       {n}")
        for v in c["first"]:
            print(f"       - {v}")
    print(f"result: {rep['result']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
