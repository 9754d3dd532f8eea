"""The fault test's load: the setup through the API (users, products, coupons, a starting
charge each), then one client thread per user looping over a random mix of operations."""

import random
import threading
import time
import traceback

from common import SCARCE_STOCK


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
