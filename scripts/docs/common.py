"""What the helpers of scripts/check-docs share: how they give up."""

import sys


def die(msg):
    """An error the check cannot go on from: one line on stderr, exit status 1."""
    sys.stderr.write("check-docs: error: %s\n" % msg)
    sys.exit(1)
