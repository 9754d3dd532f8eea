#!/usr/bin/env python3
"""The schema of a commerce database, as MariaDB itself shows it, in one canonical text.

    scripts/schema.py dump  --socket SOCK --db NAME          print it
    scripts/schema.py diff  --socket SOCK --db NAME --other-socket SOCK2 --other-db NAME2
                                                            compare two databases; exit 1 when
                                                            they differ (a unified diff)
    scripts/schema.py check --socket SOCK --db NAME [--write]
                                                            compare with sql/schema.sql (or
                                                            rewrite it); exit 1 when it differs

The text is SHOW CREATE of every table, sequence, view, procedure, function and trigger of the
database, by kind and name, each with the sql_mode a routine was created under. What does not
belong to the schema is left out: a table's AUTO_INCREMENT counter (data), and the DEFINER of
views and routines (the account that ran the DDL: root for a database 0.1.0's schema.sql made,
commerce_migrate for one commerce-migrate made; the routines run with the invoker's rights).

It reads as the stack's administrator (the account of the user running it, by unix_socket) over
the unix socket, with the mariadb client's XML output. Python 3 standard library only.
"""

import argparse
import difflib
import os
import pwd
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_SQL = os.path.join(ROOT, "sql", "schema.sql")
# The stacks' database administrator: the account named after the user running the stack,
# authenticated by the socket's peer (unix_socket; scripts/lib/db.sh, db_admin).
DB_ADMIN = pwd.getpwuid(os.geteuid()).pw_name

HEADER = """\
-- The schema of a new commerce database: what `commerce-migrate apply` makes of the migrations
-- in sql/migrations/, as MariaDB shows it (SHOW CREATE; no AUTO_INCREMENT counters, no
-- DEFINER). The why of each table, column and procedure is in the migration that made it.
--
-- Generated: do not edit it, and do not apply it (commerce-migrate makes and upgrades
-- schemas). To change the schema, add a migration (HACKING.md, "Adding a migration"), then
-- rewrite this file from a stack made with it: scripts/schema.py check --write --socket
-- DIR/run/db.sock --db commerce. scripts/test fails while it is out of date.
"""


def query(socket, db, sql):
    """The rows of sql as lists of field values (None for NULL)."""
    out = subprocess.run(["mariadb", "--no-defaults", f"--socket={socket}", f"--user={DB_ADMIN}",
                          "--xml", db, "-e", sql], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit(f"schema.py: mariadb: {out.stderr.strip()}")
    rows = []
    for row in ET.fromstring(out.stdout).iter("row"):
        rows.append([None if f.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
                     else (f.text or "") for f in row.iter("field")])
    return rows


def canonical(socket, db, skip=()):
    """The database's schema as one text (without the tables and views named in skip)."""
    def q(sql):
        return query(socket, db, sql)

    strip_definer = re.compile(r" DEFINER=`[^`]*`@`[^`]*`")
    this_db = re.compile(r"`" + re.escape(db) + r"`\.")
    parts = []
    kinds = q("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
              f"WHERE TABLE_SCHEMA = '{db}' ORDER BY TABLE_TYPE, TABLE_NAME")
    kinds = [(name, kind) for name, kind in kinds if name not in skip]
    for name, kind in kinds:
        if kind == "BASE TABLE":
            text = q(f"SHOW CREATE TABLE `{name}`")[0][1]
            text = re.sub(r" AUTO_INCREMENT=\d+", "", text)
            parts.append(f"-- table {name}\n{text};\n")
        elif kind == "SEQUENCE":
            parts.append(f"-- sequence {name}\n{q(f'SHOW CREATE SEQUENCE `{name}`')[0][1]};\n")
    for name, kind in kinds:
        if kind == "VIEW":
            text = this_db.sub("", strip_definer.sub("", q(f"SHOW CREATE VIEW `{name}`")[0][1]))
            parts.append(f"-- view {name}\n{text};\n")
    for name, kind in q("SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "
                        f"WHERE ROUTINE_SCHEMA = '{db}' ORDER BY ROUTINE_TYPE, ROUTINE_NAME"):
        row = q(f"SHOW CREATE {kind} `{name}`")[0]
        text = strip_definer.sub("", row[2])
        parts.append(f"-- {kind.lower()} {name} (sql_mode {row[1]})\nDELIMITER //\n{text} //\n"
                     "DELIMITER ;\n")
    for (name,) in q("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
                     f"WHERE TRIGGER_SCHEMA = '{db}' ORDER BY TRIGGER_NAME"):
        row = q(f"SHOW CREATE TRIGGER `{name}`")[0]
        parts.append(f"-- trigger {name} (sql_mode {row[1]})\nDELIMITER //\n"
                     f"{strip_definer.sub('', row[2])} //\nDELIMITER ;\n")
    return "\n".join(parts)


def show_diff(a, b, name_a, name_b):
    diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(), name_a, name_b,
                                     lineterm="", n=2))
    for line in diff:
        print(line)
    return len(diff) == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=("dump", "diff", "check"))
    ap.add_argument("--socket", required=True)
    ap.add_argument("--db", default="commerce")
    ap.add_argument("--other-socket")
    ap.add_argument("--other-db")
    ap.add_argument("--write", action="store_true", help="check: rewrite sql/schema.sql")
    args = ap.parse_args()

    text = canonical(args.socket, args.db)
    if args.command == "dump":
        sys.stdout.write(text)
        return 0
    if args.command == "diff":
        if not args.other_db:
            ap.error("diff needs --other-db (and --other-socket, default --socket)")
        other = canonical(args.other_socket or args.socket, args.other_db)
        objects = text.count("\n-- ") + 1
        if show_diff(text, other, args.db, args.other_db):
            print(f"schema.py: {args.db} and {args.other_db}: the same {objects} objects "
                  "(SHOW CREATE of every table, sequence, view, procedure and trigger)")
            return 0
        print(f"schema.py: {args.db} and {args.other_db} differ (above)")
        return 1
    want = HEADER + "\n" + text
    if args.write:
        with open(SCHEMA_SQL, "w") as f:
            f.write(want)
        print(f"schema.py: wrote {SCHEMA_SQL}")
        return 0
    try:
        with open(SCHEMA_SQL) as f:
            have = f.read()
    except OSError as e:
        have = f"(cannot read it: {e})"
    if show_diff(have, want, "sql/schema.sql", f"the schema of {args.db}"):
        print(f"schema.py: sql/schema.sql is the schema the migrations make")
        return 0
    print("schema.py: sql/schema.sql is not the schema the migrations make (above): rewrite it "
          "with scripts/schema.py check --write (its header says how)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
