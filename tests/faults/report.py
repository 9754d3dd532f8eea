"""The fault test's report: the delivery latency of the feed (all events and calm times) and
the report printed at the end of a run."""

from common import RECOVERY_DEADLINE_S


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
    print_checks(rep["checks"])
    print(f"result: {rep['result']}", flush=True)


def print_checks(checks):
    """The checks (Check.as_dict()), one line each with their notes and first violations."""
    print("checks:")
    for c in checks:
        print(f"  {'PASS' if c['ok'] else 'FAIL'} {c['check']}: {c['what']}"
              + (f" ({c['violations']} violations)" if not c["ok"] else ""))
        for n in c["notes"]:
            print(f"       {n}")
        for v in c["first"]:
            print(f"       - {v}")
