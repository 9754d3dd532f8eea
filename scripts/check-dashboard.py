#!/usr/bin/env python3
"""Check the Grafana dashboard the package ships (docs/grafana/commerce.json) against a running
stack's /metrics and the alert rules (docs/alerts.yml). scripts/test runs it on the test stack.

    scripts/check-dashboard.py --url BASE_URL --promtool PROMTOOL
                               [--dashboard FILE] [--alerts FILE]

It fails, naming each problem, when:
  - the file is not a dashboard Grafana imports: not JSON; no title, uid or schemaVersion; panels
    without a unique id, a known type or a place on the 24-column grid (or overlapping);
    queries without a refId or an expression; a $variable no template defines;
  - an expression (a panel's, an annotation's, a template's label_values) is not PromQL, as
    promtool parses it;
  - an expression, or an alert rule's, names a metric BASE_URL/metrics does not expose (but for
    the series Prometheus makes itself: up, ALERTS, ALERTS_FOR_STATE);
  - an alert of docs/alerts.yml is not marked: every one must be named by a panel (its title or
    description), and the firing ones must be an annotation (a query of ALERTS).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

PANEL_TYPES = {"row", "timeseries", "stat", "table", "alertlist", "text", "gauge", "bargauge"}
NO_QUERIES = {"row", "alertlist", "text"}
VARIABLE_TYPES = {"datasource", "query", "custom", "constant", "interval", "textbox", "adhoc"}
# Grafana's own variables, and what stands in for each when promtool parses an expression.
BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600",
            "__interval_ms": "60000", "__range_ms": "3600000", "__dashboard": "commerce"}
PROMETHEUS_MADE = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds",
                   "scrape_samples_scraped"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "atan2", "start", "end"}
VAR = re.compile(r"\$(?:\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|([A-Za-z_][A-Za-z0-9_]*))")

problems = []


def problem(msg):
    problems.append(msg)


def exposed_metrics(url):
    """Every sample name /metrics serves (a histogram's _bucket, _sum and _count included)."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=20) as r:
        text = r.read().decode("utf-8")
    names = set()
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)", line)
        if m:
            names.add(m.group(1))
    return names


def metric_names(expr):
    """The metric names a PromQL expression reads: its identifiers that are neither functions,
    keywords, label names nor numbers."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS or re.fullmatch(r"\d.*", word):
            continue
        names.add(word)
    return names


def substituted(expr, variables):
    """expr with its $variables replaced by values promtool can parse; unknown ones reported."""
    def repl(m):
        name = m.group(1) or m.group(2)
        if name in BUILTINS:
            return BUILTINS[name]
        if name in variables:
            return variables[name]
        problem("expression %r uses $%s, which no template variable defines" % (expr, name))
        return "x"
    return VAR.sub(repl, expr)


def check_grid(panels):
    taken = []
    ids = set()
    for p in panels:
        where = "panel %r" % p.get("title", p.get("id"))
        if not isinstance(p.get("id"), int) or p["id"] in ids:
            problem("%s: no id, or an id used twice" % where)
        ids.add(p.get("id"))
        if p.get("type") not in PANEL_TYPES:
            problem("%s: unknown type %r" % (where, p.get("type")))
        if not isinstance(p.get("title"), str):
            problem("%s: no title" % where)
        g = p.get("gridPos")
        if not isinstance(g, dict) or not all(isinstance(g.get(k), int) for k in "hwxy"):
            problem("%s: no gridPos {h, w, x, y}" % where)
            continue
        if g["h"] < 1 or g["w"] < 1 or g["x"] < 0 or g["y"] < 0 or g["x"] + g["w"] > 24:
            problem("%s: gridPos %s is off the 24-column grid" % (where, g))
        for other, og in taken:
            if (g["x"] < og["x"] + og["w"] and og["x"] < g["x"] + g["w"] and
                    g["y"] < og["y"] + og["h"] and og["y"] < g["y"] + g["h"]):
                problem("%s overlaps panel %r" % (where, other))
        taken.append((p.get("title"), g))


def expressions(dash, variables):
    """(where, expression) of every query of the dashboard, variables substituted."""
    out = []
    for p in dash.get("panels", []):
        targets = p.get("targets")
        if p.get("type") in NO_QUERIES:
            continue
        if not isinstance(targets, list) or not targets:
            problem("panel %r has no queries" % p.get("title"))
            continue
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or not all(isinstance(r, str) and r for r in refs):
            problem("panel %r: each query needs its own refId" % p.get("title"))
        for t in targets:
            if not isinstance(t.get("expr"), str) or not t["expr"].strip():
                problem("panel %r: query %s has no expression" % (p.get("title"), t.get("refId")))
                continue
            out.append(("panel %r %s" % (p.get("title"), t.get("refId")),
                        substituted(t["expr"], variables)))
    for a in dash.get("annotations", {}).get("list", []):
        if a.get("expr"):
            out.append(("annotation %r" % a.get("name"), substituted(a["expr"], variables)))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", q or "")
        if v.get("type") == "query" and m:
            out.append(("variable %r" % v.get("name"), substituted(m.group(1), variables)))
    return out


def promtool_parses(promtool, exprs):
    """Each expression through promtool's PromQL parser, as a recording rule."""
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (_, e) in enumerate(exprs):
            f.write("      - record: dashboard:expr_%d\n        expr: %s\n" % (i, json.dumps(e)))
        path = f.name
    try:
        r = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        problem("promtool does not parse the dashboard's expressions:\n" + (r.stdout + r.stderr).strip())


def alert_rules(path):
    """(name, expression) of each rule of docs/alerts.yml (its layout: `- alert:` then `expr:`,
    on one line or as a block)."""
    rules, name, block = [], None, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\s*- alert:\s*(\S+)", line)
        if m:
            name, block = m.group(1), None
            continue
        m = re.match(r"(\s*)expr:\s*(.*)$", line)
        if name and m:
            if m.group(2).strip() in ("|", ">", "|-", ">-"):
                block = (len(m.group(1)), [])
                rules.append([name, ""])
            else:
                rules.append([name, m.group(2).strip()])
            continue
        if block is not None:
            indent = len(line) - len(line.lstrip())
            if line.strip() and indent > block[0]:
                rules[-1][1] += " " + line.strip()
            elif line.strip():
                block = None
    return [(n, e.strip()) for n, e in rules]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--promtool", required=True)
    ap.add_argument("--dashboard", default=os.path.join(root, "docs/grafana/commerce.json"))
    ap.add_argument("--alerts", default=os.path.join(root, "docs/alerts.yml"))
    args = ap.parse_args()

    try:
        with open(args.dashboard, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("check-dashboard: %s is not a JSON file: %s" % (args.dashboard, e))
    if not isinstance(dash, dict):
        sys.exit("check-dashboard: %s is not a dashboard (not a JSON object)" % args.dashboard)
    for key, kind in (("title", str), ("uid", str), ("schemaVersion", int), ("panels", list)):
        if not isinstance(dash.get(key), kind):
            problem("the dashboard has no %s (%s)" % (key, kind.__name__))
    if isinstance(dash.get("uid"), str) and not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dash["uid"]):
        problem("uid %r: 1 to 40 letters, digits, '-' or '_'" % dash["uid"])
    if isinstance(dash.get("schemaVersion"), int) and dash["schemaVersion"] < 36:
        problem("schemaVersion %d: Grafana 9 or later reads 36 and up" % dash["schemaVersion"])
    if not isinstance(dash.get("time"), dict) or not {"from", "to"} <= set(dash["time"]):
        problem("the dashboard has no time range {from, to}")
    variables = {}
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") not in VARIABLE_TYPES or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v.get("name", "")):
            problem("template variable %r: a name and a known type" % v.get("name"))
        variables[v.get("name")] = {"job": "commerce", "instance": ".*"}.get(v.get("name"), "x")
    panels = dash.get("panels") if isinstance(dash.get("panels"), list) else []
    check_grid(panels)
    for p in panels:
        ds = p.get("datasource")
        if isinstance(ds, dict) and "uid" in ds:
            substituted(ds["uid"], variables)

    exprs = expressions(dash, variables)
    promtool_parses(args.promtool, exprs)
    have = exposed_metrics(args.url)
    rules = alert_rules(args.alerts)
    for where, e in exprs + [("alert %s" % n, e) for n, e in rules]:
        missing = sorted(metric_names(e) - have - PROMETHEUS_MADE)
        if missing:
            problem("%s names metrics /metrics does not expose: %s" % (where, ", ".join(missing)))

    text = " ".join("%s %s" % (p.get("title", ""), p.get("description", "")) for p in panels)
    for name, _ in rules:
        if not re.search(r"\b%s\b" % re.escape(name), text):
            problem("alert %s (docs/alerts.yml) is not marked on any panel" % name)
    if not rules:
        problem("no alert rules read from %s" % args.alerts)
    if not any("ALERTS" in (a.get("expr") or "") for a in dash.get("annotations", {}).get("list", [])):
        problem("no annotation marks the firing alerts (a query of ALERTS)")

    if problems:
        for p in problems:
            print("check-dashboard: " + p, file=sys.stderr)
        sys.exit(1)
    print("check-dashboard: %s: %d panels, %d expressions parsed and on /metrics, all %d alerts "
          "marked" % (os.path.relpath(args.dashboard, root), len(panels), len(exprs), len(rules)))


if __name__ == "__main__":
    main()
