"""Check (e) of scripts/check-docs: the explorer as headless Chromium rendered it (its DOM)
and what it logged on its console."""

import re
import sys
from html.parser import HTMLParser

from common import die


class Dom(HTMLParser):
    """A flat list of (kind, value, attrs) tokens of the rendered DOM, without the bodies of
    scripts and styles (the inlined spec holds every summary and path as text). A script's
    own start tag is kept (its id tells a dev token block)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = None
        self.t = []

    def handle_starttag(self, tag, attrs):
        if self.skip:
            return
        if tag in ("script", "style", "template", "noscript"):
            self.skip = tag
            self.t.append(("start", tag, dict(attrs)))
            return
        self.t.append(("start", tag, dict(attrs)))

    def handle_endtag(self, tag):
        if self.skip:
            if tag == self.skip:
                self.skip = None
            return
        self.t.append(("end", tag, None))

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.t.append(("data", " ".join(data.split()), None))


def _classes(a):
    return (a.get("class") or "").split()


def _text(t, i, tag):
    """The text inside the element opened at token i (a TAG), up to its end tag."""
    text, depth, j = [], 0, i + 1
    while j < len(t):
        kind, v, _ = t[j]
        if kind == "start" and v == tag:
            depth += 1
        elif kind == "end" and v == tag:
            if depth == 0:
                break
            depth -= 1
        elif kind == "data":
            text.append(v)
        j += 1
    return " ".join(" ".join(text).split())


def shown(t):
    """What Swagger UI shows, from the page's tokens: {'METHOD /path': summary} for every
    operation block (its method, its path, its summary), the version in its title, and
    whether the page offers a dev token."""
    ops, method, path, version, offers = {}, None, None, None, False
    for i, (kind, v, a) in enumerate(t):
        if kind != "start":
            continue
        c = _classes(a)
        if v == "span" and "opblock-summary-method" in c:
            method, path = _text(t, i, "span").upper(), None
        elif v == "span" and "opblock-summary-path" in c:
            path = a.get("data-path")
        elif v == "div" and "opblock-summary-description" in c and method and path:
            ops["%s %s" % (method, path)] = _text(t, i, "div")
            method = path = None
        elif v == "pre" and "version" in c and version is None:
            version = _text(t, i, "pre")  # Swagger UI's title: <pre class="version"> 1.0.0 </pre>
        if a.get("id") in ("commerce-dev-token", "commerce-dev-authorize"):
            offers = True
    return ops, version, offers


def dom(dom_file, version, routes_file, ops_file):
    """Each route of the table as the rendered page shows it: an operation block with its
    method, path and the spec's summary; Swagger UI's title shows VERSION (the spec's
    info.version); no dev token is offered. Exit status 1 when one is not so."""
    p = Dom()
    with open(dom_file, encoding="utf-8", errors="replace") as f:
        p.feed(f.read())
    ops, shown_version, offers = shown(p.t)
    summaries = {}
    with open(ops_file, encoding="utf-8") as f:
        for line in f:
            k, op_id, summary = line.rstrip("\n").split("\t")
            summaries[k] = (op_id, summary)
    with open(routes_file) as f:
        table = [line.strip() for line in f if line.strip()]
    if not table:
        die("no routes to look for (the route table could not be read)")
    missing = 0
    for k in table:
        op_id, summary = summaries.get(k, ("", ""))
        if k not in ops:
            what = "no operation block with this method and path"
        elif summaries and not summary:
            what = "no summary in the spec (no operation of the spec has this method and path)"
        elif summaries and ops[k] != summary:
            what = "the summary %r, not the spec's %r" % (ops[k], summary)
        else:
            continue
        print("  %s%s: the page shows %s" % (k, " (%s)" % op_id if op_id else "", what))
        missing += 1
    bad = missing
    if version and shown_version != version:
        print("  the page's title shows the version %r, not the spec's %r" % (shown_version, version))
        bad += 1
    if offers:
        print("  the page offers a dev token: only the dev stack's copy may")
        bad += 1
    print("  rendered: %d operations, version %s; %d of %d routes shown with their summaries"
          % (len(ops), shown_version, len(table) - missing, len(table)))
    sys.exit(1 if bad else 0)


def console(log_file):
    """Chromium's console messages (stderr with --enable-logging=stderr): any message fails (a
    script or a stylesheet the CSP refused, a script error, a request that failed)."""
    bad = []
    with open(log_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            if re.search(r":CONSOLE[:(]", line):
                bad.append(line.split("] ", 1)[-1].strip())
    for m in bad[:20]:
        print("  console: %s" % m[:300])
    sys.exit(1 if bad else 0)
