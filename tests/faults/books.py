"""The fault test's checks of the books in the database: money (balances and their history),
stock, the orders' arithmetic and coupons."""

import collections

from common import Check, ival


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
