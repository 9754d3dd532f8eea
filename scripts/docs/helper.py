#!/usr/bin/env python3
"""The helpers of scripts/check-docs (Python 3 standard library only), one command each:

    helper.py routes ROUTES_C                 the route table: 'METHOD PATH' lines    (spec.py)
    helper.py spec-ops SPEC_JSON              the spec's operations, tab-separated    (spec.py)
    helper.py compare ROUTES_TXT OPS_TSV      (c): the table = the operations         (spec.py)
    helper.py spec-version SPEC_JSON          its info.version                        (spec.py)
    helper.py build SPEC_JSON DIST TEMPLATE CSS JS HEADER OUT   the explorer page     (page.py)
    helper.py page-meta PAGE                  (b): its sha256s and tools, self-contained (page.py)
    helper.py csp PAGE PROD_CONF DEV_CONF     (b): the /docs CSPs allow its inline code (page.py)
    helper.py dom DOM VERSION ROUTES_TXT OPS_TSV  (e): every route shown          (rendered.py)
    helper.py console CHROMIUM_LOG            (e): no console error               (rendered.py)
    helper.py nginx-blocks FILE DIRECTORY     (f): the docs locations         (nginx_blocks.py)
"""

import sys

from common import die
from nginx_blocks import nginx_blocks
from page import build, csp, page_meta
from rendered import console, dom
from spec import compare, routes, spec_ops, spec_version

COMMANDS = {
    "routes": (routes, 1),
    "spec-ops": (spec_ops, 1),
    "compare": (compare, 2),
    "spec-version": (spec_version, 1),
    "build": (build, 7),
    "page-meta": (page_meta, 1),
    "csp": (csp, 3),
    "dom": (dom, 4),
    "console": (console, 1),
    "nginx-blocks": (nginx_blocks, 2),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        die("unknown helper command %s" % (argv[1] if len(argv) > 1 else "(none)"))
    fn, nargs = COMMANDS[argv[1]]
    if len(argv) - 2 != nargs:
        die("helper %s takes %d arguments, not %d" % (argv[1], nargs, len(argv) - 2))
    fn(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
