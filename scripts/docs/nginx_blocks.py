"""Check (f) of scripts/check-docs: the docs locations of an nginx file, comparable across
files (nginx/commerce-docs.conf and nginx/dev.conf.in)."""

import re

def nginx_blocks(path, directory):
    """The `location = /docs` and `location = /openapi.yaml` blocks of an nginx file,
    comments and layout dropped, the directory they read replaced by DIR."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    src = re.sub(r"#[^\n]*", "", src)
    out = []
    for loc in ("/docs", "/openapi.yaml"):
        m = re.search(r"location\s*=\s*%s\s*\{" % re.escape(loc), src)
        if not m:
            out.append("(no location = %s)" % loc)
            continue
        i, depth, q = m.end(), 1, None
        while i < len(src) and depth:
            c = src[i]
            if q:
                q = None if c == q else q
            elif c in "\"'":
                q = c
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            i += 1
        block = " ".join(src[m.start():i].split()).replace(directory, "DIR/")
        out.extend(s.strip() + ";" for s in block.split(";") if s.strip())
    print("\n".join(out))
