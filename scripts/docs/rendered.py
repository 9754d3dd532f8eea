"""Check (e) of scripts/check-docs: the explorer as headless Chromium rendered it (its DOM)
and what it logged on its console."""

import re
import sys
from html.parser import HTMLParser

from common import die


class Dom(HTMLParser):
    """A flat list of (kind, value, attrs) tokens of the rendered DOM, without scripts and
    styles (the inlined bundle and state hold every summary and path as text)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = None
        self.t = []

    def handle_starttag(self, tag, attrs):
        if self.skip:
            return
        if tag in ("script", "style", "template", "noscript"):
            self.skip = tag
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


def shown(t):
    """What the page shows, from its tokens: endpoints ('METHOD /path'), full URLs and the
    text of h2 headings."""
    endpoints, urls, headings = set(), set(), set()
    for i, (kind, v, a) in enumerate(t):
        if kind == "start" and v == "span" and "http-verb" in (a.get("class") or "").split():
            # <span class="... http-verb get">get</span><span ...>/path</span>
            w = t[i + 1:i + 5]
            if (len(w) == 4 and w[0][0] == "data" and w[1][:2] == ("end", "span")
                    and w[2][:2] == ("start", "span") and w[3][0] == "data"):
                endpoints.add("%s %s" % (w[0][1].upper(), w[3][1]))
        if kind == "start" and v == "span" and not a:
            # the endpoint's full URL: <span>ORIGIN</span>/path (empty when prerendered)
            w = t[i + 1:i + 4]
            if (len(w) == 3 and w[0][0] == "data" and w[1][:2] == ("end", "span")
                    and w[2][0] == "data" and w[2][1].startswith("/")):
                urls.add(w[0][1] + w[2][1])
        if kind == "start" and v == "h2":
            text, j = [], i + 1
            while j < len(t) and t[j][:2] != ("end", "h2"):
                if t[j][0] == "data":
                    text.append(t[j][1])
                j += 1
            headings.add(" ".join(" ".join(text).split()))
    return endpoints, urls, headings


def dom(dom_file, origin, routes_file, ops_file):
    """Each route of the table as the page shows it: its method and path, its full URL on
    ORIGIN and the spec's summary of it as a heading. Exit status 1 when one is missing."""
    p = Dom()
    with open(dom_file, encoding="utf-8", errors="replace") as f:
        p.feed(f.read())
    endpoints, urls, headings = shown(p.t)
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
        method, path = k.split(" ", 1)
        what = []
        if k not in endpoints:
            what.append("its method and path")
        if origin + path not in urls and origin + "/" + path.lstrip("/") not in urls:
            what.append("its URL %s%s" % (origin, path))
        op_id, summary = summaries.get(k, ("", ""))
        if not summaries:
            pass  # no readable spec (reported already): method, path and URL only
        elif not summary:
            what.append("a summary (no operation of the spec has this method and path)")
        elif summary not in headings:
            what.append("its heading %r" % summary)
        if what:
            print("  %s%s: the page does not show %s"
                  % (k, " (%s)" % op_id if op_id else "", "; ".join(what)))
            missing += 1
    print("  rendered: %d endpoints, %d full URLs, %d headings; %d of %d routes shown"
          % (len(endpoints), len(urls), len(headings), len(table) - missing, len(table)))
    sys.exit(1 if missing else 0)


HYDRATION_RE = re.compile(r"Minified React error #(418|423|425)\b")
LOGO_RE = re.compile(r"^\"Loading the image 'https://cdn\.redoc\.ly/redoc/logo-mini\.svg' "
                     r"violates the following Content Security Policy directive")


def console(log_file):
    """Chromium's console messages (stderr with --enable-logging=stderr): any message fails
    but two known ones. React's hydration mismatch, which it recovers from by rendering on
    the client (upstream: Redocly/redoc#2734). The Redocly logo that Redoc's sidebar footer
    adds on the client from Redocly's CDN, which the CSP blocks (Redoc then hides it): the
    page must not reach out to anyone."""
    bad, hydration, logo = [], 0, 0
    with open(log_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not re.search(r":CONSOLE[:(]", line):
                continue
            msg = line.split("] ", 1)[-1].strip()
            if HYDRATION_RE.search(msg):
                hydration += 1
            elif LOGO_RE.search(msg):
                logo += 1
            else:
                bad.append(msg)
    for m in bad[:20]:
        print("  console: %s" % m[:300])
    if hydration:
        print("  (%d console errors of React's hydration mismatch, recovered: Redocly/redoc#2734)"
              % hydration)
    if logo:
        print("  (the Redocly logo from cdn.redoc.ly blocked by the CSP, as it should be)")
    sys.exit(1 if bad else 0)
