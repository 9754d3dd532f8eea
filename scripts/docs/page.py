"""The built explorer page, docs/api.html: built self-contained (build, for scripts/check-docs
--rebuild) and checked for it (page_meta, check (b))."""

import base64
import hashlib
import html
import json
import os
import re
import sys
from html.parser import HTMLParser

from common import die
from nginx_blocks import location_block, read_uncommented


PLACEHOLDERS = ("@HEADER@", "@TITLE@", "@VERSION@", "@SWAGGER_CSS@", "@PAGE_CSS@", "@SPEC_JSON@",
                "@SWAGGER_JS@", "@INIT_JS@", "@LICENSES@")
# Swagger UI's license texts, shipped with the page it is part of (Apache-2.0 asks for the
# license and the NOTICE; the bundle's modules have their notices in the third file).
LICENSE_FILES = ("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt")
# The line of the committed page that the dev stack replaces with its token (scripts/lib/nginx.sh).
DEV_TOKEN_SLOT = "<!-- commerce-dev-token: scripts/lib/nginx.sh replaces this line on the dev stack only -->"
SOURCE_MAP = re.compile(r"\n?/[/*]# sourceMappingURL=[^\n]*$")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _csp_hash(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def inline_hashes(page):
    """The CSP hashes of the page's inline scripts that run (not its JSON data blocks) and of
    its <style> elements: (scripts, styles), each a list of 'sha256-...' in page order."""
    scripts = [m.group(2) for m in re.finditer(r"<script(\s[^>]*)?>(.*?)</script>", page, re.S)
               if not re.search(r"type=\"application/json\"", m.group(1) or "")]
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    return [_csp_hash(s) for s in scripts], [_csp_hash(s) for s in styles]


def build(spec_json, dist, template, page_css, init_js, header, out):
    """Write OUT, the self-contained explorer: TEMPLATE with Swagger UI's bundle, stylesheet and
    license texts (from the unpacked npm package DIST), the page's own stylesheet and start
    script, the bundled spec as a JSON data block and HEADER (the provenance comment) filled in.
    Prints the CSP source lists of its inline scripts and styles, one line each."""
    with open(spec_json, encoding="utf-8") as f:
        spec = json.load(f)
    info = spec.get("info", {})
    if not info.get("version") or not info.get("title"):
        die("the spec has no info.title or info.version")
    # In a data block only "</script" could end it early: JSON may write "<" as \u003c.
    data = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    parts = {
        "@HEADER@": _read(header).rstrip("\n"),
        "@TITLE@": html.escape(info["title"]),
        "@VERSION@": html.escape(info["version"]),
        "@SWAGGER_CSS@": SOURCE_MAP.sub("", _read(os.path.join(dist, "swagger-ui.css")).rstrip()),
        "@PAGE_CSS@": _read(page_css),
        "@SPEC_JSON@": data,
        "@SWAGGER_JS@": SOURCE_MAP.sub("", _read(os.path.join(dist, "swagger-ui-bundle.js")).rstrip()),
        "@INIT_JS@": _read(init_js),
        "@LICENSES@": "\n".join(_read(os.path.join(dist, f)).rstrip() for f in LICENSE_FILES),
    }
    if re.search(r"--!?>", parts["@LICENSES@"]):
        die("the license texts contain '-->': they cannot go into a comment as they are")
    for key in ("@SWAGGER_JS@", "@INIT_JS@"):
        if re.search(r"</script", parts[key], re.I):
            die("%s contains '</script': it cannot be inlined as is" % key)
    for key in ("@SWAGGER_CSS@", "@PAGE_CSS@"):
        if re.search(r"</style", parts[key], re.I):
            die("%s contains '</style': it cannot be inlined as is" % key)
    s = _read(template)
    if DEV_TOKEN_SLOT not in s:
        die("%s has no dev token slot line" % template)
    # One pass, so that nothing inserted is taken for a placeholder.
    missing = [k for k in PLACEHOLDERS if k not in s]
    if missing:
        die("%s lacks %s" % (template, ", ".join(missing)))
    s = re.sub("|".join(re.escape(k) for k in PLACEHOLDERS), lambda m: parts[m.group(0)], s)
    with open(out, "w", encoding="utf-8") as f:
        f.write(s)
    scripts, styles = inline_hashes(s)
    print("script-src %s" % " ".join(scripts))
    print("style-src %s" % " ".join(styles))


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
    """Print 'openapi-sha256<TAB>sources-sha256<TAB>tools' from the page's header; exit status 1
    (saying why on stderr) when the page is not self-contained, or carries a dev token or
    lacks the line the dev stack puts its token in (this page is what production serves)."""
    with open(page, encoding="utf-8") as f:
        s = f.read()
    head = s[:4096]
    fields = []
    for name in ("openapi-sha256", "sources-sha256", "tools"):
        m = re.search(r"^\s*%s: (.*)$" % name, head, re.M)
        fields.append(m.group(1).strip() if m else "-")
    print("\t".join(fields))
    p = Loads()
    p.feed(s)
    bad = ["loads at view time: %s" % found[:160] for found in p.found[:10]]
    if 'id="commerce-dev-token"' in s:
        bad.append("carries a dev token (id=commerce-dev-token): only the dev stack's copy may")
    if s.count(DEV_TOKEN_SLOT) != 1:
        bad.append("has not exactly one dev token slot line (%s)" % DEV_TOKEN_SLOT)
    for b in bad:
        sys.stderr.write("  docs/api.html %s\n" % b)
    sys.exit(1 if bad else 0)


def _docs_csp(conf):
    """The Content-Security-Policy of the `location = /docs` block of an nginx file."""
    block = location_block(read_uncommented(conf), "/docs")
    h = re.search(r'add_header\s+Content-Security-Policy\s+"([^"]*)"', block or "")
    return h.group(1) if h else None


def csp(page, *confs):
    """(b): the /docs Content-Security-Policy of each nginx file allows the page's inline scripts
    and styles by their hashes, and nothing else inline (no 'unsafe-inline', no 'unsafe-eval').
    Exit status 1, naming each difference, when one does not."""
    with open(page, encoding="utf-8") as f:
        want_scripts, want_styles = inline_hashes(f.read())
    bad = 0
    for conf in confs:
        policy = _docs_csp(conf)
        if policy is None:
            print("  %s: no Content-Security-Policy in its location = /docs" % conf)
            bad += 1
            continue
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.split()}
        for name, want in (("script-src", want_scripts), ("style-src", want_styles)):
            have = directives.get(name, [])
            if sorted(have) != sorted(want):
                print("  %s: %s is %s, the page needs %s (scripts/check-docs --rebuild writes it)"
                      % (conf, name, " ".join(have) or "(none)", " ".join(want)))
                bad += 1
    sys.exit(1 if bad else 0)
