"""The built explorer page, docs/api.html: made self-contained at build time (inline, for
scripts/check-docs --rebuild) and checked for it (page_meta, check (b))."""

import re
import sys
from html.parser import HTMLParser

from common import die


def inline(built, bundle, out, header, cdn_prefix):
    """Write OUT: the build-docs page BUILT with its one CDN <script src> of the Redoc bundle
    replaced by BUNDLE inline, and HEADER after the doctype."""
    with open(built, encoding="utf-8") as f:
        s = f.read()
    with open(bundle, encoding="utf-8") as f:
        b = f.read()
    tags = re.findall(r'<script src="%s[0-9][^"]*/bundles/redoc\.standalone\.js"></script>'
                      % re.escape(cdn_prefix), s)
    if len(tags) != 1:
        die("build-docs output has %d CDN <script src> tags, expected 1" % len(tags))
    if re.search(r"</script", b, re.I):
        die("the Redoc bundle contains '</script': it cannot be inlined as is")
    s = s.replace(tags[0], "<script>" + b + "</script>")
    if not s.startswith("<!DOCTYPE html>\n"):
        die("build-docs output does not start with <!DOCTYPE html>")
    with open(header, encoding="utf-8") as f:
        s = "<!DOCTYPE html>\n" + f.read() + s[len("<!DOCTYPE html>\n"):]
    with open(out, "w", encoding="utf-8") as f:
        f.write(s)


class Loads(HTMLParser):
    """Anything the markup would load at view time (a link, <a href>, loads nothing). Script
    bodies are code, not markup; style bodies are checked for imports and remote url()s."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.in_style = [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "style":
            self.in_style = True
        if tag == "link" or (tag != "a" and a.get("src") is not None):
            self.found.append("<%s %s>" % (tag, " ".join("%s=%r" % kv for kv in attrs)))

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.found.extend(m.group(0) for m in re.finditer(
                r"@import\b[^;]{0,80}|url\(\s*['\"]?(?:[a-z]+:)?//[^)]{0,80}\)", data, re.I))


def page_meta(page):
    """Print 'sha256<TAB>tools' from the page's header; exit status 1 (naming what it loads
    on stderr) when the page is not self-contained."""
    with open(page, encoding="utf-8") as f:
        s = f.read()
    head = s[:4096]
    sha = re.search(r"^\s*openapi-sha256: ([0-9a-f]{64})$", head, re.M)
    tools = re.search(r"^\s*tools: (.*)$", head, re.M)
    print("%s\t%s" % (sha.group(1) if sha else "-", tools.group(1).strip() if tools else "-"))
    p = Loads()
    p.feed(s)
    for found in p.found[:10]:
        sys.stderr.write("  loads at view time: %s\n" % found[:160])
    sys.exit(1 if p.found else 0)
