"""Check (c) of scripts/check-docs: the route table of src/api/routes.c against the operations
of docs/openapi.yaml (bundled to JSON by redocly)."""

import json
import re
import sys

from common import die

METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]


def routes(path):
    """Every row of the route table: 'METHOD PATH' lines. A row that does not parse is an
    error, never skipped."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", " ", src)
    m = re.search(r"\broutes\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;", src, re.S)
    if not m:
        die("%s: no `routes[] = { ... };` table" % path)
    body, depth, cur, rows, outside = m.group(1), 0, "", [], ""
    for ch in body:
        if ch == "{":
            depth += 1
            if depth == 1:
                cur = ""
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                rows.append(cur)
                continue
        if depth >= 1:
            cur += ch
        else:
            outside += ch
    if depth != 0 or outside.replace(",", "").strip():
        die("%s: cannot read the route table (unbalanced braces or text between rows: %r)"
            % (path, outside.replace(",", "").strip()[:80]))
    if not rows:
        die("%s: the route table has no rows" % path)
    for row in rows:
        r = re.match(r'\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,', row)
        if not r:
            die("%s: cannot read the route row {%s}" % (path, " ".join(row.split())))
        print("%s %s" % (r.group(1), r.group(2)))


def spec_ops(path):
    """The operations of the bundled spec's paths: 'METHOD PATH<TAB>operationId<TAB>summary'."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    for p, item in doc.get("paths", {}).items():
        for m in METHODS:
            if m in item:
                op = item[m]
                print("%s %s\t%s\t%s" % (m.upper(), p, op.get("operationId", ""),
                                         " ".join(op.get("summary", "").split())))


def spec_version(path):
    """The bundled spec's info.version."""
    with open(path, encoding="utf-8") as f:
        version = json.load(f).get("info", {}).get("version")
    if not version:
        die("%s has no info.version" % path)
    print(version)


def _lines(path):
    with open(path) as f:
        return [line for line in f if line.strip()]


def _norm(key):
    """A route or operation with its parameter names dropped: GET /orders/{}."""
    return re.sub(r"\{[^}]*\}", "{}", key)


def _missing(keys, others, message, others_name):
    """Print MESSAGE for each of KEYS not among OTHERS, naming the one of OTHERS that differs
    only in its parameter names, if any; return how many."""
    n = 0
    for k in keys:
        if k not in others:
            near = [o for o in others if _norm(o) == _norm(k)]
            print(message % k + (" (the %s has %s: other parameter names)" % (others_name, near[0])
                                 if near else ""))
            n += 1
    return n


def compare(routes_file, ops_file):
    """Each route missing from the spec and each operation missing from the table, and any
    listed twice; exit status 1 when there is one."""
    table = [line.rstrip("\n") for line in _lines(routes_file)]
    ops = [line.split("\t")[0] for line in _lines(ops_file)]
    bad = 0
    for name, lst in (("route table", table), ("spec", ops)):
        dups = sorted({x for x in lst if lst.count(x) > 1})
        for d in dups:
            print("  %s twice in the %s" % (d, name))
            bad += 1
    bad += _missing(table, ops, "  route %s is not an operation of docs/openapi.yaml", "spec")
    bad += _missing(ops, table, "  operation %s of docs/openapi.yaml is not in src/api/routes.c",
                    "table")
    if bad:
        sys.exit(1)
    print("  %d routes = %d operations" % (len(table), len(ops)))
