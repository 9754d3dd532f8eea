#!/usr/bin/env python3
"""The dev tools as a newcomer meets them, on a dev stack: scripts/check-dev starts a fresh one
(scripts/dev-up) and runs this after the examples. Standard library only.

    tools.py --root DIR --dev-dir STATE_DIR --api PORT

- scripts/dev-token without arguments exits 2 with its own usage, under its own name (not the
  commerce-token program behind it), and --help prints the same on stdout with exit 0.
- scripts/dev-batch --as-of a day after today (in Asia/Seoul, the dev stack's time_zone) is
  refused: non-zero, a reason that names --force, and GET /products/popular is the same as
  before. With --force it runs and serves that window. Then scripts/dev-batch without a date
  serves today's window again.
- The demo orders' events: every ORDER_PAID event the fake platform received
  (STATE_DIR/log/platform-events.jsonl) carries the time of its order, both as the event's
  occurredAt and as the createdAt of the order document in it. That is the time
  GET /users/{userId}/orders shows. At least 12 of them (dev-up's demo orders, dated back one to
  three days) are from before today.

Ends with "tools: N checks, N failed" and exits 1 when any failed.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request
from zoneinfo import ZoneInfo

failed = 0
checks = 0


def check(ok, what):
    global failed, checks
    checks += 1
    if not ok:
        failed += 1
    print("%s %s" % ("ok  " if ok else "FAIL", what))
    return ok


def run(args, root, env):
    return subprocess.run(args, cwd=root, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)


def get(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def dev_token(root, env):
    p = run(["scripts/dev-token"], root, env)
    check(p.returncode == 2, "scripts/dev-token without arguments exits 2 (it exited %d)" % p.returncode)
    check("scripts/dev-token USER_ID" in p.stderr and "commerce-token" not in p.stderr,
          "…and prints its own usage under its own name: %r" % p.stderr.split("\n")[1:2])
    h = run(["scripts/dev-token", "--help"], root, env)
    check(h.returncode == 0 and h.stdout.strip() == p.stderr.strip(),
          "scripts/dev-token --help prints the same usage on stdout and exits 0")


def dev_batch(root, env, api):
    seoul = datetime.datetime.now(ZoneInfo("Asia/Seoul")).date()
    future = seoul + datetime.timedelta(days=2)  # after today on either side of a midnight
    before = get(api + "/products/popular")
    p = run(["scripts/dev-batch", "--as-of", future.isoformat()], root, env)
    check(p.returncode != 0 and "--force" in p.stderr,
          "scripts/dev-batch --as-of %s (after today) is refused, naming --force (exit %d: %s)"
          % (future, p.returncode, p.stderr.strip().split("\n")[-1][:160]))
    check(get(api + "/products/popular") == before, "…and the served list is unchanged")
    p = run(["scripts/dev-batch", "--as-of", future.isoformat(), "--force"], root, env)
    forced = get(api + "/products/popular")
    check(p.returncode == 0 and forced["to"] == (future - datetime.timedelta(days=1)).isoformat(),
          "scripts/dev-batch --as-of %s --force serves that window (to %s)" % (future, forced["to"]))
    p = run(["scripts/dev-batch"], root, env)
    now = get(api + "/products/popular")
    check(p.returncode == 0 and now["to"] in ((seoul - datetime.timedelta(days=1)).isoformat(),
                                              seoul.isoformat()),
          "scripts/dev-batch serves today's window again (to %s)" % now["to"])


def demo_events(root, env, api, dev_dir):
    """Every ORDER_PAID event against its order, once the demo orders' events are all in
    (polled: the relay delivers them after dev-up; bounded)."""
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    orders = {}
    for user in (1, 2, 3):
        token = run(["scripts/dev-token", str(user)], root, env).stdout.strip()
        for o in get("%s/users/%d/orders?limit=100" % (api, user), token)["items"]:
            orders[o["orderId"]] = o["createdAt"]
    path = os.path.join(dev_dir, "log", "platform-events.jsonl")
    deadline = time.monotonic() + 60
    while True:
        paid = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                e = json.loads(line)
                if e.get("type") == "ORDER_PAID":
                    paid[e["order"]["orderId"]] = e
        old = [i for i, at in orders.items() if at[:10] < today]
        if all(i in paid for i in old) or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # polling for the relay's deliveries, with a deadline
    check(len(old) >= 12, "dev-up's demo orders are dated before today (%d are)" % len(old))
    wrong = ["order %d: created %s, event %s, its document %s"
             % (i, orders[i], paid[i]["occurredAt"], paid[i]["order"]["createdAt"])
             for i in sorted(orders) if i in paid
             and not (paid[i]["occurredAt"] == paid[i]["order"]["createdAt"] == orders[i])]
    missing = [i for i in old if i not in paid]
    check(not wrong and not missing,
          "each of the %d ORDER_PAID events carries its order's time%s%s"
          % (len(paid), "; " + "; ".join(wrong[:5]) if wrong else "",
             "; no event for orders %s" % missing if missing else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--dev-dir", required=True)
    ap.add_argument("--api", type=int, required=True)
    args = ap.parse_args()
    env = dict(os.environ, COMMERCE_DEV_DIR=args.dev_dir)
    api = "http://127.0.0.1:%d" % args.api
    dev_token(args.root, env)
    demo_events(args.root, env, api, args.dev_dir)
    dev_batch(args.root, env, api)
    print("tools: %d checks, %d failed" % (checks, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
