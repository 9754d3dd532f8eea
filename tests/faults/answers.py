"""The fault test's checks of the answers against the database and the platform: one effect
per Idempotency-Key, the feed (every event delivered and received), no 5xx but 503, and that
a 503 SERVICE_UNAVAILABLE never hid a commit."""

import collections
import json
import os

from client import nothing_happened
from common import Check, ival


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
