#!/usr/bin/env python3
"""The upgrade drill's load and checks: the fault test's mixed load on a stack of the previous
release while tests/upgrade/run upgrades it, then the fault test's checks of the books and the
answers, the steps, and how long orders were slowed while the migrations ran.

Run through its wrapper, which builds the previous release, starts the stack and runs the
upgrade's steps:

    tests/upgrade/run [--keep]

What it does:
  1. The fault test's setup and client threads (tests/faults: load.py), at the fault test's
     rate; no fault is injected.
  2. After --baseline seconds (the latency of orders before the upgrade), it writes
     DIR/run/drill.go; the wrapper then runs the upgrade, each step timed into --steps, and
     writes DIR/run/drill.done. The load goes on --after seconds more, then stops.
  3. The fault test's checks (faults.py check_books: money, stock, coupons, one effect per
     Idempotency-Key, every event delivered, no 5xx but 503, a 503 never hid a commit); every
     step succeeded; GET / answers the new version.
  4. The slowdown: the orders (and checkouts) in flight while `commerce-migrate apply` ran,
     against the orders of the baseline: how long orders took longer than the baseline's
     slowest 1%, and their latency.

Every HTTP attempt is logged to DIR/log/upgrade-client.jsonl, the report to stdout and
DIR/log/upgrade-report.json. Exit status 0 when every step and check passed. Python 3 standard
library only.
"""

import argparse
import json
import os
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "faults"))
from common import Check, now  # noqa: E402  (the fault test's modules: reused, not copied)
from faults import add_load_args, check_books, logged, start  # noqa: E402
from inject import Faults  # noqa: E402
from load import Client, setup  # noqa: E402
from report import percentile, print_checks  # noqa: E402

ORDER_OPS = ("order", "checkout")
MIGRATE_STEP = "commerce-migrate apply"
ROLL_STEP = "roll the workers (workers-restart)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_load_args(ap)
    ap.add_argument("--steps", required=True, help="the wrapper's timed steps (TSV)")
    ap.add_argument("--from", dest="from_version", required=True)
    ap.add_argument("--to", dest="to_version", required=True)
    ap.add_argument("--baseline", type=float, default=8.0,
                    help="seconds of load before the upgrade begins")
    ap.add_argument("--after", type=float, default=5.0,
                    help="seconds of load after the last step")
    ap.add_argument("--deadline", type=float, default=600.0,
                    help="give up waiting for the upgrade after this many seconds")
    args = ap.parse_args()
    # what the fault test's modules read from their own arguments (the tokens' lifetime)
    args.seconds = int(args.baseline + args.after + args.deadline)
    ctx, db = start(args)
    report = {"from": args.from_version, "to": args.to_version, "seed": args.seed}
    return logged(args, ctx, "upgrade", report, lambda: run(ctx, db, args, report))


def run(ctx, db, args, report):
    stock = 3000 + 40 * int(args.baseline + args.after + 120)
    print(f"upgrade drill: {args.from_version} -> {args.to_version} under the fault test's load "
          f"({args.clients} clients, {args.rate:g} operations/s) at {args.url}", flush=True)
    setup(ctx, args.clients, args.products, stock)
    faults = Faults(ctx, db)   # no fault runs: its view of the platform serves the feed check
    clients = [Client(ctx, i + 1, u) for i, u in enumerate(ctx.users)]
    for c in clients:
        c.start()
    t_load0 = now()
    time.sleep(args.baseline)  # the baseline: orders before the upgrade, measured below
    t_go = now() - ctx.log.t0
    open(os.path.join(args.dir, "run", "drill.go"), "w").close()
    done = os.path.join(args.dir, "run", "drill.done")
    deadline = now() + args.deadline
    while not os.path.exists(done) and now() < deadline:
        time.sleep(0.2)
    upgraded = os.path.exists(done)
    time.sleep(args.after)
    ctx.stop.set()
    for c in clients:
        c.join()
    print(f"  load stopped after {now() - t_load0:.1f}s", flush=True)

    steps = read_steps(args.steps, ctx.log.wall0)
    checks = check_books(ctx, db, faults)
    checks += [check_steps(steps, upgraded, args), check_version(args)]
    slow = slowdown(ctx.log.records, steps, t_go, args.baseline)
    report.update({"steps": steps, "slowdown": slow,
                   "checks": [c.as_dict() for c in checks]})
    ok = all(c.ok for c in checks)
    report["result"] = "PASS" if ok else "FAIL"
    print_report(report, args)
    return 0 if ok else 1


def read_steps(path, wall0):
    """The wrapper's steps: name, start and end (s since the load's t = 0), exit status."""
    steps = []
    try:
        with open(path) as f:
            for line in f:
                name, t0, t1, rc = line.rstrip("\n").split("\t")
                steps.append({"step": name, "start": round(float(t0) - wall0, 3),
                              "end": round(float(t1) - wall0, 3), "rc": int(rc)})
    except OSError:
        pass
    return steps


def check_steps(steps, upgraded, args):
    c = Check("the upgrade", "every step of docs/OPERATIONS.md's upgrade succeeded under the load")
    if not upgraded:
        c.fail(f"the upgrade did not end within {args.deadline:g}s")
    if not steps:
        c.fail("no step ran")
    for s in steps:
        if s["rc"] != 0:
            c.fail(f"{s['step']}: exit {s['rc']} (output: {args.dir}/log/upgrade-steps.log)")
    try:
        with open(os.path.join(args.dir, "log", "upgrade-steps.log")) as f:
            c.notes += [line.strip() for line in f if line.startswith("schema.py:")]
    except OSError:
        pass
    return c


def check_version(args):
    c = Check("the new version answers", f"GET / says {args.to_version} after the roll")
    try:
        with urllib.request.urlopen(args.url + "/", timeout=10) as r:
            got = json.load(r).get("version")
    except (OSError, ValueError) as e:
        got = f"no answer ({e})"
    if got != args.to_version:
        c.fail(f"GET / says {got}")
    return c


def order_attempts(records):
    """(start, end, ms) of every order and checkout attempt that got an answer, by start."""
    return sorted((r["t"], r["t"] + r["ms"] / 1000, r["ms"]) for r in records
                  if r["op"] in ORDER_OPS and r["thread"] != "setup" and r["status"])


def slowdown(records, steps, t_go, baseline_s):
    """How the orders in flight while the migrations (and, for comparison, the roll) ran fared
    against the baseline: the time during which an order took longer than the baseline's p99
    (the union of those orders' spans), and their latency."""
    attempts = order_attempts(records)
    base = sorted(ms for t0, _, ms in attempts if t_go - baseline_s + 1 <= t0 < t_go)
    p99 = percentile(base, 99) or 0.0
    out = {"baseline": {"orders": len(base), "p50_ms": percentile(base, 50), "p99_ms": p99,
                        "max_ms": base[-1] if base else None}}
    for key, name in (("migrations", MIGRATE_STEP), ("roll", ROLL_STEP)):
        step = next((s for s in steps if s["step"] == name), None)
        if not step:
            continue
        a, b = step["start"], step["end"]
        during = [(t0, t1, ms) for t0, t1, ms in attempts if t0 < b and t1 > a]
        slowed = [(t0, t1) for t0, t1, ms in during if ms > p99]
        slowed_s, last = 0.0, None
        for t0, t1 in sorted(slowed):      # the union of the slowed orders' spans
            if last is None or t0 > last:
                slowed_s += t1 - t0
                last = t1
            elif t1 > last:
                slowed_s += t1 - last
                last = t1
        ms = sorted(m for _, _, m in during)
        out[key] = {"seconds": round(b - a, 3), "orders": len(during),
                    "over_baseline_p99": len(slowed), "slowed_s": round(slowed_s, 3),
                    "p50_ms": percentile(ms, 50), "max_ms": ms[-1] if ms else None}
    return out


def fmt_ms(v):
    return "-" if v is None else f"{v:.0f} ms"


def print_report(rep, args):
    print(f"\n=== upgrade drill: {rep['from']} -> {rep['to']}, seed {rep['seed']}")
    print("steps (s since the load began):")
    for s in rep["steps"]:
        print(f"  {s['start']:7.2f}s  {s['end'] - s['start']:6.2f}s  "
              f"{'ok' if s['rc'] == 0 else 'FAIL (exit %d)' % s['rc']:<6}  {s['step']}")
    sl = rep["slowdown"]
    b = sl["baseline"]
    print(f"orders before the upgrade ({b['orders']} in {args.baseline - 1:g}s): "
          f"p50 {fmt_ms(b['p50_ms'])}, p99 {fmt_ms(b['p99_ms'])}, max {fmt_ms(b['max_ms'])}")
    for key, what in (("migrations", "while the migrations ran"), ("roll", "while the workers rolled")):
        if key in sl:
            m = sl[key]
            print(f"orders {what} ({m['seconds']:.2f}s, {m['orders']} orders): slowed for "
                  f"{m['slowed_s']:.2f}s ({m['over_baseline_p99']} over the baseline's p99), "
                  f"p50 {fmt_ms(m['p50_ms'])}, max {fmt_ms(m['max_ms'])}")
    if "migrations" in sl:
        print(f"UPGRADE SLOWDOWN: orders were slowed for {sl['migrations']['slowed_s']:.2f}s "
              f"while the migrations ran ({sl['migrations']['seconds']:.2f}s)")
    print_checks(rep["checks"])
    print(f"result: {rep['result']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
