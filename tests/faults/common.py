"""What every part of the fault test shares: its limits and targets, the clock, waiting for a
condition, SQL through the mariadb client, and a check's result."""

import os
import pwd
import subprocess
import time

MAX_ATTEMPTS = 40            # per logical request; Retry-After is 1 s, so ~40 s of outage
HTTP_TIMEOUT_S = 30
FEED_TARGET_S = 5.0          # recovery target of the relay and platform faults
RECOVERY_DEADLINE_S = 90     # give up waiting for any recovery after this
DRAIN_DEADLINE_S = 120
SCARCE_STOCK = 300           # of the first two products
NGINX_503_DETAIL = "no worker could answer"   # nginx's own 503 page (a 502/504 upstream)

# Orders, checkouts and charges without a key are not safe to resend once they may have
# reached the service: a second copy would be a second effect.
UNSAFE_UNKEYED = {"order", "checkout", "charge"}


def now():
    return time.monotonic()


def wait_for(pred, deadline_s, interval=0.02):
    """Seconds until pred() held, or None after deadline_s."""
    start = now()
    while True:
        try:
            if pred():
                return now() - start
        except Exception:  # e.g. the database is not back yet
            pass
        if now() - start > deadline_s:
            return None
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# SQL through the mariadb command line client (the stack's administrator over its socket)

# The account of the user running the stack, authenticated by the socket's peer (unix_socket).
DB_ADMIN = pwd.getpwuid(os.geteuid()).pw_name

class Db:
    def __init__(self, socket_path):
        self.socket = socket_path

    def query(self, sql, timeout=30):
        """Rows of tab-separated columns; NULL becomes None. Raises on any failure."""
        # UTC for the session, as the service's own connections: occurred_at and friends are
        # UTC DATETIMEs, and UNIX_TIMESTAMP() must read them as such.
        out = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.socket}", f"--user={DB_ADMIN}", "commerce",
             "-N", "-B", "-e", "SET time_zone = '+00:00';\n" + sql],
            capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"mariadb: {out.stderr.strip()}")
        return [[None if c == "NULL" else c for c in line.split("\t")]
                for line in out.stdout.splitlines()]

    def scalar(self, sql):
        rows = self.query(sql)
        return rows[0][0] if rows else None


# ---------------------------------------------------------------------------------------------
# A check of the books: what it asserts, its violations and notes

class Check:
    def __init__(self, name, what):
        self.name, self.what, self.violations, self.notes = name, what, [], []

    def fail(self, msg):
        self.violations.append(msg)

    @property
    def ok(self):
        return not self.violations

    def as_dict(self):
        return {"check": self.name, "what": self.what, "ok": self.ok,
                "violations": len(self.violations), "first": self.violations[:5],
                "notes": self.notes}


def ival(v):
    return None if v is None else int(v)
