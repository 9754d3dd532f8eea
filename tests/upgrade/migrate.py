#!/usr/bin/env python3
"""commerce-migrate and the programs' schema check, against a real MariaDB.

    tests/upgrade/migrate.py --socket SOCK --state-dir DIR

SOCK is a running stack's MariaDB (its administrator over the unix socket: the account of the
user running it, scripts/lib/db.sh's db_admin; scripts/test passes its test stack's primary),
DIR that stack's state directory (the program accounts' passwords are in DIR/secrets). Every
check works in scratch databases of its own (commerce_mt_*, dropped at the end) with
commerce-migrate as the account commerce_migrate, as sql/migrate-account.sql makes it. What is
checked:

  - a new database: apply makes the schema and records 0001; applied twice, the second does
    nothing, records nothing and takes no order id: the first order id is 1;
  - --dry-run prints the migrations and changes nothing;
  - a database release 0.1.0's schema.sql made (the revision in tests/upgrade/FROM) is
    recognised: status says so, apply records 0001 without running it and changes no object
    and no order id; its schema is then the new database's (SHOW CREATE of everything);
  - refused, nothing changed: a database of unknown objects, a recorded migration whose file
    changed, a pending migration numbered below one applied, an offline migration without
    --offline (with it, it runs), a second commerce-migrate at once; a file marked online that
    could lock a table is refused before anything runs; --to stops where it says;
  - the programs (commerce-fcgi, commerce-relay status, commerce-popular) refuse a database
    without the migration they need (SCHEMA_NEEDS), naming it: one 0.1.0 made, and one
    migrated up to the migration before it; run on it and on a newer expanded schema;
    refuse one a contract step took past them;
  - the workers', relay's and batch's accounts have no DDL right.

Prints one line per check and exits 1 when any failed. Python 3 standard library only.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import schema  # noqa: E402  (scripts/schema.py: the canonical SHOW CREATE text)
MIGRATIONS = os.path.join(ROOT, "sql", "migrations")
PREFIX = "commerce_mt_"
# The last migration's number (the test's own files come after it), and the one this build's
# programs need (src/store/schema.h).
LAST = max(int(f[:4]) for f in os.listdir(MIGRATIONS) if f[:4].isdigit() and f.endswith(".sql"))
with open(os.path.join(ROOT, "src", "store", "schema.h")) as _h:
    NEEDS = re.search(r'#define SCHEMA_NEEDS "([^"]+)"', _h.read()).group(1)


def later(k):
    """The number of the test's k-th own migration (1, 2, …: after the real ones), 4 digits."""
    return "%04d" % (LAST + k)


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


class Env:
    def __init__(self, sock, state_dir, tmp):
        self.sock, self.state_dir, self.tmp = sock, state_dir, tmp
        self.password_file = os.path.join(tmp, "migrate-db-password")
        with open(os.open(self.password_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("mt-" + os.urandom(12).hex() + "\n")
        self.conf = os.path.join(tmp, "admin.conf")
        with open(self.conf, "w") as f:
            f.write(f"db_socket={sock}\ndb_user={schema.DB_ADMIN}\n")
        self.dbs = []

    # --- SQL as the administrator
    def sql(self, sql, db="", user=schema.DB_ADMIN, password=None):
        args = ["mariadb", "--no-defaults", f"--socket={self.sock}", f"--user={user}", "-N", "-B"]
        env = dict(os.environ)
        if password:
            env["MYSQL_PWD"] = password   # the test's own throwaway accounts' passwords
        out = subprocess.run(args + ([db] if db else []), input=sql, capture_output=True,
                             text=True, timeout=60, env=env)
        return out.returncode, out.stdout, out.stderr

    def must(self, sql, db=""):
        rc, out, err = self.sql(sql, db)
        if rc != 0:
            raise Failed(f"SQL failed: {err.strip()} ({sql[:80]})")
        return out

    def scalar(self, sql, db):
        out = self.must(sql, db).strip()
        return out.split("\n")[0] if out else None

    def new_db(self, name):
        db = PREFIX + name
        self.must(f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db} "
                  "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        self.dbs.append(db)
        with open(os.path.join(ROOT, "sql", "migrate-account.sql")) as f:
            account = f.read()
        with open(self.password_file) as f:
            pw = f.read().strip()
        self.must(f"SET @migrate_password = '{pw}';\n" + account, db)
        return db

    def drop_all(self):
        for db in self.dbs:
            self.sql(f"DROP DATABASE IF EXISTS {db}")

    def tables(self, db):
        return self.must("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                         f"TABLE_SCHEMA = '{db}' ORDER BY 1").split()

    # --- programs
    def migrate(self, db, *args, migrations=MIGRATIONS):
        env = dict(os.environ, COMMERCE_CONFIG=self.conf, COMMERCE_DB_NAME=db,
                   COMMERCE_DB_USER="commerce_migrate",
                   COMMERCE_DB_PASSWORD_FILE=self.password_file)
        out = subprocess.run([os.path.join(ROOT, "commerce-migrate"), "--dir", migrations,
                              *args], capture_output=True, text=True, timeout=300, env=env)
        return out.returncode, out.stdout + out.stderr

    def program_env(self, db):
        return dict(os.environ, COMMERCE_CONFIG=self.conf, COMMERCE_DB_NAME=db,
                    COMMERCE_AUTH="off", COMMERCE_ADMIN_TOKEN="mt-" + "x" * 40)

    def fcgi(self, db):
        """commerce-fcgi on a listening socket of its own: (True, log) once it is ready, or
        (False, log) when it exits instead."""
        path = os.path.join(self.tmp, "fcgi.sock")
        if os.path.exists(path):
            os.unlink(path)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(path)
            s.listen(8)
            log = os.path.join(self.tmp, "fcgi.log")
            with open(log, "w") as err:
                p = subprocess.Popen([os.path.join(ROOT, "commerce-fcgi")], stdin=s.fileno(),
                                     stdout=subprocess.DEVNULL, stderr=err,
                                     env=self.program_env(db))
                deadline = time.monotonic() + 30
                ready = False
                while time.monotonic() < deadline and p.poll() is None:
                    with open(log) as f:
                        if " info: ready" in f.read():
                            ready = True
                            break
                    time.sleep(0.05)
                p.terminate()
                p.wait(timeout=30)
            with open(log) as f:
                return ready, f.read()

    def run(self, program, db, *args):
        out = subprocess.run([os.path.join(ROOT, program), *args], capture_output=True,
                             text=True, timeout=60, env=self.program_env(db))
        return out.returncode, out.stdout + out.stderr


def release_010_schema():
    with open(os.path.join(ROOT, "tests", "upgrade", "FROM")) as f:
        rev = f.read().split()[0]
    out = subprocess.run(["git", "-C", ROOT, "show", f"{rev}:sql/schema.sql"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise Failed(f"git show {rev}:sql/schema.sql: {out.stderr.strip()}")
    return out.stdout


def migrations_dir(env, name, extra):
    """A copy of sql/migrations plus the files in extra (name -> text)."""
    d = os.path.join(env.tmp, name)
    shutil.copytree(MIGRATIONS, d)
    for f, text in extra.items():
        with open(os.path.join(d, f), "w") as out:
            out.write(text)
    return d


def apply_new(env, name, extra, *args):
    """apply (with args) on a new scratch database, from sql/migrations plus extra:
    (db, the migrations' directory, exit status, output)."""
    db = env.new_db(name)
    d = migrations_dir(env, name, extra)
    rc, out = env.migrate(db, "apply", *args, migrations=d)
    return db, d, rc, out


def schema_text(env, db, skip=()):
    return schema.canonical(env.sock, db, skip)


def next_order_id(env, db):
    return env.scalar("SELECT next_not_cached_value FROM orders_id_seq", db)


# ------------------------------------------------------------------------------------ checks

def check_fresh_twice(env):
    db = env.new_db("fresh")
    rc, out = env.migrate(db, "status")
    expect(rc == 4 and "pending" in out, f"status of an empty database: exit {rc} (want 4)\n{out}")
    rc, out = env.migrate(db, "apply")
    expect(rc == 0 and "0001-baseline: applied" in out, f"apply: exit {rc}\n{out}")
    first = env.must("SELECT id, name, how, checksum, applied_at FROM schema_migration", db)
    expect(first.startswith("1\t0001-baseline\tapplied\t"), f"the record: {first}")
    rc, out = env.migrate(db, "apply")
    expect(rc == 0 and "applying" not in out and "up to date" in out,
           f"the second apply did something: exit {rc}\n{out}")
    expect(env.must("SELECT id, name, how, checksum, applied_at FROM schema_migration", db)
           == first, "the second apply changed the record")
    rc, out = env.migrate(db, "status")
    expect(rc == 0, f"status after apply: exit {rc} (want 0)\n{out}")
    expect(next_order_id(env, db) == "1",
           f"the first order id of a new database is {next_order_id(env, db)}, not 1")
    return "apply made the schema, the second did nothing; the first order id is 1"


def check_dry_run(env):
    db = env.new_db("dry")
    rc, out = env.migrate(db, "apply", "--dry-run")
    expect(rc == 0 and "would apply 0001-baseline" in out and "CREATE TABLE IF NOT EXISTS orders"
           in out, f"--dry-run: exit {rc}\n{out[:2000]}")
    expect(env.tables(db) == [], f"--dry-run created {env.tables(db)}")
    return "--dry-run printed the statements and created nothing"


def check_recognises_010(env, fresh_db):
    db = env.new_db("r010")
    env.must(release_010_schema(), db)
    seq = next_order_id(env, db)
    before = schema_text(env, db)
    rc, out = env.migrate(db, "status")
    expect(rc == 4 and "recognised" in out, f"status of a 0.1.0 database: exit {rc}\n{out}")
    for _ in range(2):
        rc, out = env.migrate(db, "apply", "--to", "1")
        expect(rc == 0, f"apply --to 1 on a 0.1.0 database: exit {rc}\n{out}")
    rec = env.must("SELECT id, how FROM schema_migration", db).split()
    expect(rec == ["1", "recognised"], f"the record: {rec}")
    expect(schema_text(env, db, skip=("schema_migration",)) == before,
           "recognising it changed an object")
    # then the migrations after 0001, applied as on any database
    rc, out = env.migrate(db, "apply")
    expect(rc == 0, f"apply on the recognised database: exit {rc}\n{out}")
    rec = env.must("SELECT id, how FROM schema_migration", db).split()
    expect(rec == ["1", "recognised"] + [x for n in range(2, LAST + 1) for x in (str(n), "applied")],
           f"the record: {rec}")
    after = schema_text(env, db)
    expect(next_order_id(env, db) == seq, f"the order id sequence moved: {seq} -> "
                                          f"{next_order_id(env, db)}")
    fresh = schema_text(env, fresh_db)
    expect(after == fresh, "an upgraded 0.1.0 database and a new one differ: "
                           f"scripts/schema.py diff --other-db ... shows how")
    objects = after.count("\n-- ") + 1
    return (f"0.1.0's schema recognised, recorded, nothing else changed (order ids included); "
            f"then the same {objects} objects as a new database")


def check_refusals(env):
    notes = []
    # unknown objects
    db = env.new_db("unknown")
    env.must("CREATE TABLE zz (a INT)", db)
    rc, out = env.migrate(db, "apply")
    expect(rc == 3 and "not the schema release 0.1.0 made" in out and "zz" in out,
           f"a database of unknown objects: exit {rc}\n{out}")
    expect(env.tables(db) == ["zz"], f"it changed the unknown database: {env.tables(db)}")
    notes.append("unknown objects")
    # a changed migration
    db = env.new_db("changed")
    d = migrations_dir(env, "changed", {})
    expect(env.migrate(db, "apply", migrations=d)[0] == 0, "apply before the change")
    with open(os.path.join(d, "0001-baseline.sql"), "a") as f:
        f.write("-- edited after it was applied\n")
    for cmd in ("status", "apply"):
        rc, out = env.migrate(db, cmd, migrations=d)
        expect(rc == 3 and "0001-baseline was applied" in out and "new migration" in out,
               f"{cmd} with a changed 0001: exit {rc}\n{out}")
    notes.append("a changed checksum")
    # offline without the flag, then with it
    db, d, rc, out = apply_new(env, "offline", {f"{later(1)}-offline.sql": (
        "-- online: no: a test migration that says it cannot run under load\n"
        "-- step: expand\n-- adds a table\nCREATE TABLE IF NOT EXISTS mt_offline (a INT);\n")})
    expect(rc == 3 and "--offline" in out and f"{later(1)}-offline" in out,
           f"an offline migration without --offline: exit {rc}\n{out}")
    expect(env.tables(db) == [], f"the refused apply changed the database: {env.tables(db)}")
    rc, out = env.migrate(db, "apply", "--offline", migrations=d)
    expect(rc == 0 and "mt_offline" in env.tables(db), f"apply --offline: exit {rc}\n{out}")
    expect(env.scalar(f"SELECT online FROM schema_migration WHERE id = {LAST + 1}", db) == "0",
           "the record of the offline migration")
    notes.append("offline without --offline")
    # out of order, and --to
    step = ("-- online: yes\n-- step: expand\n-- a test table\n"
            "CREATE TABLE IF NOT EXISTS mt_{0} (a INT);\n")
    db, d, rc, out = apply_new(env, "order", {f"{later(k)}-{c}.sql": step.format(c)
                                              for k, c in ((1, "b"), (2, "c"), (3, "d"))},
                               "--to", str(LAST + 1))
    expect(rc == 0 and env.scalar("SELECT MAX(id) FROM schema_migration", db) == str(LAST + 1),
           f"apply --to {LAST + 1}: exit {rc}\n{out}")
    os.unlink(os.path.join(d, f"{later(2)}-c.sql"))
    expect(env.migrate(db, "apply", migrations=d)[0] == 0, f"apply up to {later(3)}")
    with open(os.path.join(d, f"{later(2)}-c.sql"), "w") as f:
        f.write(step.format("c"))
    rc, out = env.migrate(db, "apply", migrations=d)
    expect(rc == 3 and f"{later(2)}-c is pending, but {later(3)} is applied" in out,
           f"a migration merged out of order: exit {rc}\n{out}")
    expect("mt_c" not in env.tables(db), "the out-of-order migration ran")
    notes.append("out of order")
    # a second commerce-migrate at once
    holder = subprocess.Popen(["mariadb", "--no-defaults", f"--socket={env.sock}",
                               f"--user={schema.DB_ADMIN}", "-N", "-B", "--unbuffered", db], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write(f"SELECT GET_LOCK('commerce-migrate:{db}', 10);\n")
        holder.stdin.flush()
        expect(holder.stdout.readline().strip() == "1", "could not take the lock")
        rc, out = env.migrate(db, "apply", migrations=d)
        expect(rc == 3 and "another commerce-migrate" in out, f"apply while another runs: "
                                                               f"exit {rc}\n{out}")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    notes.append("a second run at once")
    # a file marked online that could lock a table: refused before connecting
    db, d, rc, out = apply_new(env, "lint", {f"{later(1)}-lock.sql": (
        "-- online: yes\n-- step: expand\n-- an index built the locking way\n"
        "ALTER TABLE orders ADD INDEX mt_i (total);\n")})
    expect(rc == 2 and f"{later(1)}-lock.sql: line 4: ALTER TABLE without ALGORITHM" in out,
           f"an online migration with a locking ALTER: exit {rc}\n{out}")
    expect(env.tables(db) == [], "the refused directory changed the database")
    notes.append("a locking ALTER marked online")
    return "refused, nothing changed: " + ", ".join(notes) + "; --offline and --to work"


# What a later release might add: an expand step the programs of this one run on.
FUTURE = ("-- online: yes\n-- step: expand\n-- what a later release adds\n"
          "CREATE TABLE IF NOT EXISTS mt_future (a INT);\n"
          "ALTER TABLE orders ADD COLUMN IF NOT EXISTS mt_note VARCHAR(20) NULL, "
          "ALGORITHM=INSTANT;\n")


def check_programs(env, fresh_db):
    notes = []
    # no record: the migration to apply is named
    db = env.new_db("p010")
    env.must(release_010_schema(), db)
    ready, log = env.fcgi(db)
    expect(not ready and f"needs schema {NEEDS}" in log and "commerce-migrate apply" in log,
           f"commerce-fcgi on a 0.1.0 database:\n{log}")
    for prog, args in (("commerce-relay", ["status"]), ("commerce-popular", [])):
        rc, out = env.run(prog, db, *args)
        expect(rc == 1 and f"needs schema {NEEDS}" in out,
               f"{prog} on a 0.1.0 database: exit {rc}\n{out}")
    # a database migrated up to the migration before the one they need
    db = env.new_db("pbefore")
    rc, out = env.migrate(db, "apply", "--to", str(int(NEEDS[:4]) - 1))
    expect(rc == 0, f"apply --to the migration before {NEEDS}: exit {rc}\n{out}")
    ready, log = env.fcgi(db)
    expect(not ready and f"needs schema {NEEDS}" in log,
           f"commerce-fcgi on a database before {NEEDS}:\n{log}")
    notes.append(f"refuse a 0.1.0 database and one before {NEEDS}, naming it")
    # the schema they need, and a newer expanded one
    db = env.new_db("newer")
    d = migrations_dir(env, "newer", {"9001-future.sql": FUTURE})
    for what, target in (("the schema they need", fresh_db), ("a newer expanded schema", db)):
        if target == db:
            rc, out = env.migrate(db, "apply", migrations=d)
            expect(rc == 0, f"apply 9001: exit {rc}\n{out}")
        ready, log = env.fcgi(target)
        expect(ready, f"commerce-fcgi on {what}:\n{log}")
        for prog, args in (("commerce-relay", ["status"]), ("commerce-popular", [])):
            rc, out = env.run(prog, target, *args)
            expect(rc == 0, f"{prog} on {what}: exit {rc}\n{out}")
    notes.append("run on theirs and on a newer expanded one")
    # a contract step past them
    d = migrations_dir(env, "contract", {"9001-future.sql": FUTURE, "9002-contract.sql": (
        "-- online: yes\n-- step: contract 9001\n-- drops what programs before 9001 used\n"
        "DROP TABLE IF EXISTS mt_gone;\n")})
    rc, out = env.migrate(db, "apply", migrations=d)
    expect(rc == 0, f"apply 9002: exit {rc}\n{out}")
    ready, log = env.fcgi(db)
    expect(not ready and "9002-contract" in log and "9001 or later" in log,
           f"commerce-fcgi on a schema contracted past it:\n{log}")
    rc, out = env.run("commerce-relay", db, "status")
    expect(rc == 1 and "9002-contract" in out, f"commerce-relay on it: exit {rc}\n{out}")
    notes.append("refuse one a contract step took past them")
    return "the programs " + "; ".join(notes)


def check_no_ddl(env):
    denied = []
    for name in ("fcgi", "relay", "popular"):
        with open(os.path.join(env.state_dir, "secrets", f"{name}-db-password")) as f:
            pw = f.read().strip()
        for stmt in ("CREATE TABLE mt_ddl (a INT)", "ALTER TABLE orders ADD COLUMN mt INT",
                     "DROP VIEW payment"):
            rc, _, err = env.sql(stmt, "commerce", user=f"commerce_{name}", password=pw)
            expect(rc != 0 and ("denied" in err), f"commerce_{name} may run {stmt}: {err}")
        denied.append(f"commerce_{name}")
    return ", ".join(denied) + ": CREATE, ALTER and DROP denied"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--state-dir", required=True)
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="commerce-migrate-test.") as tmp:
        env = Env(args.socket, args.state_dir, tmp)
        try:
            checks = [("a new database", lambda: check_fresh_twice(env)),
                      ("--dry-run", lambda: check_dry_run(env)),
                      ("a 0.1.0 database", lambda: check_recognises_010(env, PREFIX + "fresh")),
                      ("refusals", lambda: check_refusals(env)),
                      ("the programs' check", lambda: check_programs(env, PREFIX + "fresh")),
                      ("no DDL for the programs", lambda: check_no_ddl(env))]
            for name, fn in checks:
                try:
                    print(f"PASS {name}: {fn()}", flush=True)
                except Failed as e:
                    failed += 1
                    print(f"FAIL {name}: {e}", flush=True)
        finally:
            env.drop_all()
    print(f"migrate.py: {len(checks) - failed} of {len(checks)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
