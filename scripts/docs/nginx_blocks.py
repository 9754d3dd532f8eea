"""Check (f) of scripts/check-docs: the docs locations of an nginx file, comparable across
files (nginx/commerce-docs.conf and nginx/dev.conf.in); and one location's text (for (b))."""

import re

LOCATIONS = ("/docs", "/docs/", "/openapi.yaml")


def location_block(src, loc):
    """The text of the `location = LOC { ... }` block of nginx source SRC (comments already
    dropped), braces matched; None when there is none."""
    m = re.search(r"location\s*=\s*%s\s*\{" % re.escape(loc), src)
    if not m:
        return None
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
    return src[m.start():i]


def read_uncommented(path):
    with open(path, encoding="utf-8") as f:
        return re.sub(r"#[^\n]*", "", f.read())


def nginx_blocks(path, directory):
    """The `location = /docs`, `= /docs/` and `= /openapi.yaml` blocks of an nginx file,
    comments and layout dropped, the directory they read replaced by DIR."""
    src = read_uncommented(path)
    out = []
    for loc in LOCATIONS:
        block = location_block(src, loc)
        if block is None:
            out.append("(no location = %s)" % loc)
            continue
        block = " ".join(block.split()).replace(directory, "DIR/")
        out.extend(s.strip() + ";" for s in block.split(";") if s.strip())
    print("\n".join(out))
