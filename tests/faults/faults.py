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
     10 s; 2 s and 5 s in runs shorter than 120 s). With a replica (--replica), two drills
     end the run: the replica away past the semi-sync timeout while orders are acknowledged,
     the primary lost, the replica back and a promotion (refused, naming the gap, or keeping
     every acknowledged effect; then the old primary's disk comes back), and the healthy
     failover (kill -9 of the primary, promotion; the old primary started again must be
     read-only). Each has its own recovery measure; the
     feed faults (relay and platform) must recover within 5 s. After each, the next waits
     until the stack has settled (a full pool, /readyz 200, no event pending for more than
     a second), and the load goes on past --seconds until the last one has.
  4. After the load, the feed is drained, then checked against the database, the client's
     log and the fake platform: money, stock, coupons, one effect per Idempotency-Key, the
     feed, no 5xx but 503, and that a 503 SERVICE_UNAVAILABLE never hid a commit.

Every HTTP attempt is logged to DIR/log/faults-client.jsonl; the report goes to stdout and
DIR/log/faults-report.json. Exit status 0 when every check passed and every recovery target
was met, 1 otherwise. Python 3 standard library only.

This file is the run (main, run); its parts, next to it: common.py (limits, the clock, SQL, a
check's result), client.py (HTTP, tokens, the log, outcomes), load.py (the setup and the client
threads), inject.py (the faults and their recovery), books.py and answers.py (the checks) and
report.py (the delivery latency and the report).
"""

import argparse
import collections
import json
import os
import random
import signal
import sys
import time

from answers import check_503_truth, check_feed, check_keys, check_no_5xx
from books import check_coupons, check_money, check_order_lines, check_stock
from client import Ctx, outcomes_by_request
from common import (DRAIN_DEADLINE_S, NGINX_503_DETAIL, SCARCE_STOCK, Check, Db, now,
                    wait_for)
from inject import Faults
from load import Client, setup
from report import delivery_latency, print_report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_load_args(ap)
    ap.add_argument("--replica", action="store_true",
                    help="the stack has a replica: end with the failover drills")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--stock", type=int, default=0,
                    help="initial stock of the plentiful products (default: 3000 + 40 per second)")
    args = ap.parse_args()
    ctx, db = start(args)
    report = {"seconds": args.seconds, "clients": args.clients, "seed": args.seed}
    return logged(args, ctx, "faults", report, lambda: run(ctx, db, args, report))


def add_load_args(ap):
    """The arguments the fault test and the upgrade drill (tests/upgrade/drill.py) share: the
    stack, the secrets, the load."""
    ap.add_argument("--dir", required=True, help="the stack's state dir")
    ap.add_argument("--url", required=True, help="the stack's nginx, http://127.0.0.1:PORT")
    # Secrets come from the environment, never argv (ps shows argv to every user).
    ap.add_argument("--admin-token", default=os.environ.get("COMMERCE_FAULTS_ADMIN_TOKEN"),
                    help="default: $COMMERCE_FAULTS_ADMIN_TOKEN")
    ap.add_argument("--secret", default=os.environ.get("COMMERCE_FAULTS_SECRET"),
                    help="the HS256 secret of user tokens; default: $COMMERCE_FAULTS_SECRET")
    ap.add_argument("--rate", type=float, default=560,
                    help="operations per second over all clients (560: the issue's own run,"
                         " 68,000 operations in 120 s); 0: as fast as they go")
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--audience", required=True)
    ap.add_argument("--platform", required=True, help="the fake platform's event URL")
    ap.add_argument("--db-socket", required=True)
    ap.add_argument("--stack", required=True, help="path of scripts/stack")
    ap.add_argument("--clients", type=int, default=24)
    ap.add_argument("--products", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None,
                    help="for the clients' choices and the fault victims (default: random)")


def start(args):
    """The seed (a random one unless given), SIGTERM as an exit, and what the run shares: the
    clients' context and the database. Returns (ctx, db)."""
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    random.seed(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.makedirs(os.path.join(args.dir, "log"), exist_ok=True)
    return Ctx(args), Db(args.db_socket)


def logged(args, ctx, name, report, body):
    """body()'s result; whatever happens, every HTTP attempt then goes to
    DIR/log/NAME-client.jsonl and the report to DIR/log/NAME-report.json."""
    logdir = os.path.join(args.dir, "log")
    try:
        return body()
    finally:
        ctx.log.write(os.path.join(logdir, f"{name}-client.jsonl"))
        with open(os.path.join(logdir, f"{name}-report.json"), "w") as f:
            json.dump(report, f, indent=2)


def check_books(ctx, db, faults):
    """After the load stopped: wait for the feed to drain, then every check of the books and
    the answers (also the upgrade drill's, tests/upgrade/drill.py). Returns the Checks."""
    drained = wait_for(lambda: int(db.scalar(
        "SELECT COUNT(*) FROM outbox WHERE status = 'PENDING'")) == 0, DRAIN_DEADLINE_S, 0.1)
    print(f"  feed drained: {'no' if drained is None else f'{drained:.1f}s'}", flush=True)

    all_outcomes = outcomes_by_request(ctx.log.records)
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
    return checks + [drain, clients_ok]


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

    checks = check_books(ctx, db, faults)
    records = ctx.log.records
    outcomes = [o for o in outcomes_by_request(records) if o.attempts[0]["thread"] != "setup"]

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


if __name__ == "__main__":
    sys.exit(main())
