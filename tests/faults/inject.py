"""The fault test's faults: each run one at a time on this run's own stack (its processes
found by pid file or exact arguments, never by name), evenly spaced over the load, each with
its own measure of recovery, and the next only once the stack has settled."""

import http.client
import json
import os
import random
import signal
import subprocess
import tempfile
import time
import urllib.parse

from common import FEED_TARGET_S, RECOVERY_DEADLINE_S, Db, now, wait_for


# ---------------------------------------------------------------------------------------------
# Faults

def read_pidfile(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def primary_server(state_dir):
    """The server the stack's stable name points at: "mysqld" or "replica"."""
    return os.readlink(os.path.join(state_dir, "run", "db.sock")).removesuffix(".sock")


def alive(pid):
    """Exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


class Faults:
    """The seven faults (and, with a replica, the two failover drills), run one at a time on
    this run's own stack, and their recovery."""

    def __init__(self, ctx, db):
        self.ctx, self.db, self.args = ctx, db, ctx.args
        self.dir = self.args.dir
        short = self.args.seconds < 120
        self.db_outage = 2.0 if short else 3.0
        self.platform_outage = 5.0 if short else 10.0
        self.results = []
        self.platform_events_seen = {}   # eventId -> type, from /_events before a restart
        self.stack_log = open(os.path.join(self.dir, "log", "faults-stack.log"), "a")
        pu = urllib.parse.urlsplit(self.args.platform)
        self.platform_host, self.platform_port = pu.hostname, pu.port

    # --- our own stack's processes, found by pid file / exact arguments, never by name
    def multiwatch(self):
        pid = read_pidfile(os.path.join(self.dir, "run", "fcgi.pid"))
        if pid and alive(pid) and any("multiwatch" in a for a in cmdline(pid)):
            return pid
        raise RuntimeError("no multiwatch for this stack")

    def workers(self):
        mw = self.multiwatch()
        try:
            with open(f"/proc/{mw}/task/{mw}/children") as f:
                return [int(p) for p in f.read().split() if alive(int(p))]
        except OSError:
            return []

    def relay_pid(self):
        pid = read_pidfile(os.path.join(self.dir, "run", "relay.pid"))
        if pid and alive(pid) and any(a.endswith("commerce-relay") for a in cmdline(pid)):
            return pid
        return None

    def db_pids(self):
        want = f"--datadir={self.dir}/mysql"
        pids = []
        for name in os.listdir("/proc"):
            if name.isdigit() and want in cmdline(int(name)) and alive(int(name)):
                pids.append(int(name))
        return pids

    def stack(self, cmd):
        t = now()
        self.stack_log.write(f"--- {time.strftime('%H:%M:%S')} scripts/stack {cmd}\n")
        self.stack_log.flush()
        rc = subprocess.run([self.args.stack, self.dir, cmd], stdin=subprocess.DEVNULL,
                            stdout=self.stack_log, stderr=self.stack_log, timeout=180).returncode
        if rc != 0:
            raise RuntimeError(f"scripts/stack {cmd} exited {rc}")
        return now() - t

    def stack_out(self, cmd):
        """scripts/stack CMD whatever its exit status: (status, its output), also logged."""
        self.stack_log.write(f"--- {time.strftime('%H:%M:%S')} scripts/stack {cmd}\n")
        out = subprocess.run([self.args.stack, self.dir, *cmd.split()], stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=180)
        self.stack_log.write(out.stdout + out.stderr)
        self.stack_log.flush()
        return out.returncode, out.stdout + out.stderr

    def server(self, name):
        """The administrator's connection to one server of the pair, by its own socket."""
        return Db(os.path.join(self.dir, "run", f"{name}.sock"))

    def semi_sync_on(self):
        return self.db.scalar("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                              "WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS'") == "ON"

    def acked_orders_since(self, t_rel):
        """The order ids answered 201 (not replays) from t_rel (seconds of the client log) on."""
        return [r["resp_orderId"] for r in list(self.ctx.log.records)
                if r["t"] >= t_rel and r["op"] in ("order", "checkout") and r["status"] == 201
                and not r["replayed"] and r.get("resp_orderId") is not None]

    def fcgi_write_refused(self, name):
        """A write straight to server NAME as the workers' account: the error it gets (None when
        it was taken). The password goes in a 0600 option file, never on a command line."""
        with open(os.path.join(self.dir, "secrets", "fcgi-db-password")) as f:
            password = f.read().strip()
        fd, cnf = tempfile.mkstemp(prefix="faults-client-", suffix=".cnf")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(f"[client]\nuser=commerce_fcgi\npassword={password}\n")
            out = subprocess.run(
                ["mariadb", f"--defaults-extra-file={cnf}", "--no-auto-rehash",
                 f"--socket={os.path.join(self.dir, 'run', name + '.sock')}", "commerce",
                 "-e", "INSERT INTO users (name) VALUES ('faults: a second writer')"],
                capture_output=True, text=True, timeout=30)
        finally:
            os.unlink(cnf)
        return out.stderr.strip() if out.returncode else None

    def platform(self, method, path, body=None):
        conn = http.client.HTTPConnection(self.platform_host, self.platform_port, timeout=10)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data,
                         headers={"Content-Type": "application/json"} if data else {})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"null")
        finally:
            conn.close()

    def remember_platform_events(self):
        _, doc = self.platform("GET", "/_events")
        for e in doc["events"]:
            self.platform_events_seen[e["eventId"]] = e["type"]

    def ready(self):
        rep = self.ctx.api.request("GET", "/readyz")
        return rep.status == 200

    def db_utc_now(self):
        return self.db.scalar("SELECT UTC_TIMESTAMP(3)")

    def pending_before(self, ts):
        return int(self.db.scalar(
            f"SELECT COUNT(*) FROM outbox WHERE status = 'PENDING' AND occurred_at < '{ts}'"))

    def settled(self, n_workers):
        """The whole stack is back: a full pool, a database that answers and a feed that
        has caught up (no event pending for more than a second); with a replica, one that
        acknowledges (semi-sync ON)."""
        return (len(self.workers()) >= n_workers and self.ready()
                and (not self.args.replica or self.semi_sync_on())
                and int(self.db.scalar(
                    "SELECT COUNT(*) FROM outbox WHERE status = 'PENDING' "
                    "AND occurred_at < UTC_TIMESTAMP(3) - INTERVAL 1 SECOND")) == 0)

    # --- the faults. Each returns a dict for the report with t_start (the fault began) and
    # t_back (the failed part was given back: restarted, or told to work again).
    def kill_worker(self):
        n = len(self.workers())
        victim = random.choice(self.workers())
        if not any("commerce-fcgi" in a for a in cmdline(victim)):
            raise RuntimeError(f"worker {victim} is not commerce-fcgi")
        t = now()
        os.kill(victim, signal.SIGKILL)
        rec = wait_for(lambda: victim not in self.workers() and len(self.workers()) >= n,
                       RECOVERY_DEADLINE_S, 0.005)
        return {"detail": f"killed worker pid {victim}; recovery: until multiwatch had {n} "
                          f"workers again",
                "recovery_s": rec, "t_start": t, "t_back": t}

    def db_down(self, how):
        """A clean stop or a kill -9 of mariadbd, an outage, then scripts/stack db-start."""
        t = now()
        if how == "stop":
            what = f"clean stop took {self.stack('db-stop'):.2f}s"
        else:
            pids = self.db_pids()
            if not pids:
                raise RuntimeError("no mariadbd of this stack")
            for p in pids:
                os.kill(p, signal.SIGKILL)
            if wait_for(lambda: not any(alive(p) for p in pids), 10) is None:
                raise RuntimeError(f"mariadbd {pids} survived SIGKILL")
            what = f"kill -9 of mariadbd {pids}"
        time.sleep(self.db_outage)
        t_back = now()
        start_s = self.stack("db-start")
        rec = wait_for(self.ready, RECOVERY_DEADLINE_S)
        return {"detail": f"{what}, down {self.db_outage:g}s, db-start took {start_s:.2f}s"
                          f"{' (crash recovery)' if how == 'kill' else ''}; recovery: from "
                          f"db-start until GET /readyz 200",
                "recovery_s": None if rec is None else now() - t_back,
                "t_start": t, "t_back": t_back}

    def db_stop(self):
        return self.db_down("stop")

    def db_kill(self):
        return self.db_down("kill")

    def relay_kill(self):
        pid = self.relay_pid()
        if not pid:
            raise RuntimeError("no relay of this stack")

        # The case a restart must handle is a relay killed with a batch in flight: wait
        # (a few seconds at most) for a moment it holds claims, preferably a big batch,
        # which takes longest to deliver. What it held is read after the kill, when
        # nothing can change it any more.
        def claims():
            return int(self.db.scalar("SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL"))
        if wait_for(lambda: claims() >= 10, 3.0, 0.0) is None:
            wait_for(lambda: claims() > 0, 2.0, 0.0)
        t = now()
        os.kill(pid, signal.SIGKILL)
        if wait_for(lambda: not alive(pid), 10) is None:
            raise RuntimeError(f"relay {pid} survived SIGKILL")
        claimed = [r[0] for r in self.db.query(
            "SELECT event_id FROM outbox WHERE claimed_by IS NOT NULL AND status = 'PENDING'")]
        t_restart = now()
        self.stack("relay-start")
        t_back = now()
        restart_ts = self.db_utc_now()
        if claimed:
            ids = ",".join(f"'{e}'" for e in claimed)
            rec = wait_for(lambda: int(self.db.scalar(
                f"SELECT COUNT(*) FROM outbox WHERE event_id IN ({ids}) "
                f"AND status <> 'DELIVERED'")) == 0, RECOVERY_DEADLINE_S)
            what = f"the {len(claimed)} events the dead relay had claimed were DELIVERED"
        else:
            rec = wait_for(lambda: self.pending_before(restart_ts) == 0, RECOVERY_DEADLINE_S)
            what = ("every event pending at the restart was DELIVERED (no claim was held "
                    "at the kill)")
        return {"detail": f"kill -9 of relay pid {pid}, relay-start took "
                          f"{t_back - t_restart:.2f}s; recovery: from the restart until {what}",
                "recovery_s": None if rec is None else now() - t_back,
                "claimed": len(claimed), "target_s": FEED_TARGET_S, "t_start": t,
                "t_back": t_back}

    def platform_outage_result(self, what, t, t_back):
        """Recovery of the feed after the platform is back: until no event older than its
        return is PENDING (the backlog of the outage is delivered)."""
        back_ts = self.db_utc_now()
        backlog = self.pending_before(back_ts)
        rec = wait_for(lambda: self.pending_before(back_ts) == 0, RECOVERY_DEADLINE_S)
        rec = None if rec is None else now() - t_back
        return {"detail": f"{what}; {backlog} events pending at its return; recovery: from "
                          f"the return until no PENDING event older than it",
                "recovery_s": rec, "backlog": backlog, "target_s": FEED_TARGET_S,
                "drain_rate": None if not rec else round(backlog / rec),
                "t_start": t, "t_back": t_back}

    def platform_fail(self):
        _, before = self.platform("GET", "/_state")
        t = now()
        self.platform("POST", "/_mode", {"mode": "fail"})
        time.sleep(self.platform_outage)
        self.platform("POST", "/_mode", {"mode": "ok"})
        t_back = now()
        _, after = self.platform("GET", "/_state")
        return self.platform_outage_result(
            f"platform answered 500 for {self.platform_outage:g}s "
            f"({after['failed'] - before['failed']} deliveries refused)", t, t_back)

    def platform_down(self):
        # the fake platform keeps its events in memory: note what it has before it goes
        self.remember_platform_events()
        t = now()
        self.stack("platform-stop")
        time.sleep(self.platform_outage)
        self.stack("platform-start")
        t_back = now()
        return self.platform_outage_result(
            f"platform stopped (connections refused) for {self.platform_outage:g}s", t, t_back)

    def workers_roll(self):
        before = set(self.workers())
        n = len(before)
        t = now()
        roll_s = self.stack("workers-restart")
        rec = wait_for(lambda: len(self.workers()) >= n and not before & set(self.workers()),
                       RECOVERY_DEADLINE_S, 0.01)
        return {"detail": f"scripts/stack workers-restart took {roll_s:.2f}s; recovery: until "
                          f"{n} new workers",
                "recovery_s": None if rec is None else now() - t, "t_start": t, "t_back": t}

    def failover(self):
        """The failover drill (a stack with a replica): kill -9 of the primary, then
        scripts/stack failover promotes the replica and points everything at it (the
        stable socket name). Recovery: from the kill to the first order placed after it."""
        pids = self.db_pids()
        if not pids:
            raise RuntimeError("no primary mariadbd of this stack")
        t = now()
        t_rel = t - self.ctx.log.t0
        for p in pids:
            os.kill(p, signal.SIGKILL)
        if wait_for(lambda: not any(alive(p) for p in pids), 10) is None:
            raise RuntimeError(f"mariadbd {pids} survived SIGKILL")
        promote_s = self.stack("failover")
        t_back = now()

        def first_order():
            for r in reversed(self.ctx.log.records):
                if r["t"] < t_rel:
                    return False
                if r["op"] in ("order", "checkout") and r["status"] == 201 and not r["replayed"]:
                    return True
            return False
        rec = wait_for(first_order, RECOVERY_DEADLINE_S, 0.01)
        rec = None if rec is None else now() - t
        # No second writer: the old primary started again stays read-only, refusing the
        # workers' account.
        self.stack("db-start")
        read_only = self.server("mysqld").scalar("SELECT @@read_only")
        refused = self.fcgi_write_refused("mysqld")
        if read_only != "1" or not refused or "read-only" not in refused:
            raise RuntimeError(f"the old primary, started again, is read_only={read_only} and a "
                               f"write as commerce_fcgi got: {refused or 'taken'}")
        return {"detail": f"kill -9 of the primary {pids}, scripts/stack failover took "
                          f"{promote_s:.2f}s; recovery: from the kill to the first order placed"
                          f" on the new primary; the old primary started again is read_only "
                          f"and refused a write as commerce_fcgi ({refused.splitlines()[-1]})",
                "recovery_s": rec, "t_start": t, "t_back": t_back}

    def replica_away_failover(self):
        """Issue 17's drill: the replica away longer than the semi-sync timeout under load
        (the primary goes on alone, acknowledging orders the replica never gets), the primary
        lost (kill -9), the replica back, a promotion. Either the promoted replica holds every
        acknowledged effect (the books, checked at the end, say so) or the promotion is refused,
        naming the gap: then, as docs/OPERATIONS.md says to do instead, the old primary's disk
        comes back (db-start: it is still the primary) and the replica catches up from it.
        Recovery: from the kill to the first order placed after it."""
        t = now()
        self.stack("replica-stop")
        # away until the primary went on alone, then while it acknowledged orders alone
        if wait_for(lambda: not self.semi_sync_on(), RECOVERY_DEADLINE_S, 0.05) is None:
            raise RuntimeError("semi-sync did not go OFF with the replica away")
        t_alone = now() - self.ctx.log.t0
        if wait_for(lambda: len(self.acked_orders_since(t_alone)) >= 3,
                    RECOVERY_DEADLINE_S, 0.05) is None:
            raise RuntimeError("no order was acknowledged with the replica away")
        pids = self.db_pids()
        if not pids:
            raise RuntimeError("no primary mariadbd of this stack")
        t_kill = now()
        for p in pids:
            os.kill(p, signal.SIGKILL)
        if wait_for(lambda: not any(alive(p) for p in pids), 10) is None:
            raise RuntimeError(f"mariadbd {pids} survived SIGKILL")
        alone = self.acked_orders_since(t_alone)
        try:
            return self.after_the_kill(t, t_alone, t_kill, pids, alone)
        except Exception:
            # whatever went wrong, the rest of the run needs a primary: the old one's disk back
            if not self.db_pids() and primary_server(self.dir) == "mysqld":
                self.stack_out("db-start")
            raise

    def after_the_kill(self, t, t_alone, t_kill, pids, alone):
        """replica_away_failover from the replica's return on."""
        t_kill_rel = t_kill - self.ctx.log.t0
        self.stack("replica-start")
        rc, out = self.stack_out("failover")
        missing = [o for o in alone if self.server("replica").scalar(
            f"SELECT COUNT(*) FROM orders WHERE id = {int(o)}") == "0"]
        if rc == 0:
            # promoted: the books at the end must find every acknowledged effect; the old
            # primary rejoins as its replica (refused if it holds what the new one lacks)
            if missing:
                raise RuntimeError(f"promoted although orders {missing[:5]} acknowledged with the "
                                   f"replica away are not on it")
            outcome = "promoted: the replica held every acknowledged order"
            self.stack("db-start")
            self.stack("rejoin")
            self.stack("failover")
            self.stack("rejoin")
        else:
            for says in ("REFUSED: the replica may lack acknowledged writes", "gap: ",
                         "the transactions after "):
                if says not in out:
                    raise RuntimeError(f"the refusal does not say {says!r}: {out[-600:]}")
            gap = next((ln.strip() for ln in out.splitlines() if "gap:" in ln), "")
            outcome = (f"refused ({gap}); {len(missing)} of the {len(alone)} orders acknowledged "
                       f"with the replica away were missing on it")
            # what to do instead: the old primary's disk back, the replica catches up
            self.stack("db-start")
            if wait_for(lambda: self.semi_sync_on() and all(
                    self.server("replica").scalar(f"SELECT COUNT(*) FROM orders WHERE id = {int(o)}")
                    == "1" for o in alone), RECOVERY_DEADLINE_S, 0.1) is None:
                raise RuntimeError("the replica did not catch up from the old primary")
        t_back = now()

        def first_order():
            return bool(self.acked_orders_since(t_kill_rel))
        rec = wait_for(first_order, RECOVERY_DEADLINE_S, 0.01)
        return {"detail": f"replica stopped, semi-sync OFF after {t_alone - (t - self.ctx.log.t0):.2f}s, "
                          f"{len(alone)} orders acknowledged alone, kill -9 of the primary {pids}, "
                          f"replica back, scripts/stack failover {outcome}; recovery: from the "
                          f"kill to the first order placed after it",
                "recovery_s": None if rec is None else now() - t_kill, "t_start": t,
                "t_back": t_back, "promotion": "promoted" if rc == 0 else "refused",
                "missing_on_replica": len(missing)}

    PLAN = (("a", "kill -9 of one worker", "kill_worker"),
            ("b", "clean MariaDB stop", "db_stop"),
            ("c", "kill -9 of mariadbd", "db_kill"),
            ("d", "kill -9 of the relay", "relay_kill"),
            ("e", "platform answers 500", "platform_fail"),
            ("f", "platform refuses connections", "platform_down"),
            ("g", "rolling restart of the workers", "workers_roll"))
    # With a replica (--replica), last: the replica away then the primary lost (refused, or
    # every acknowledged effect kept), then the healthy failover (the primary is gone for good
    # after it).
    DRILL = (("h", "replica away, then the primary lost", "replica_away_failover"),
             ("i", "failover: kill -9 of the primary", "failover"))

    def run(self, t_load0):
        """Each fault at its slot (or later), one at a time: after a fault the stack must
        have settled before the next, so that no fault is measured with another's backlog."""
        plan = self.PLAN + (self.DRILL if self.args.replica else ())
        n = len(plan)
        n_workers = len(self.workers())
        for i, (tag, name, method) in enumerate(plan):
            at = t_load0 + self.args.seconds * (i + 1) / (n + 1)
            time.sleep(max(0.0, at - now()))
            res = {"fault": tag, "name": name}
            try:
                res.update(getattr(self, method)())
            except Exception as e:
                res.update({"error": f"{type(e).__name__}: {e}", "recovery_s": None,
                            "t_start": now(), "t_back": now()})
            # How long until nothing shows the fault any more (the pool full, the database
            # answering, no event waiting for more than a second), from the part's return.
            settle = wait_for(lambda: self.settled(n_workers), RECOVERY_DEADLINE_S, 0.05)
            t_settled = now()
            res["settled_s"] = None if settle is None else round(t_settled - res["t_back"], 3)
            t0 = self.ctx.log.t0
            res["start"] = round(res.pop("t_start") - t0, 3)
            res["back"] = round(res.pop("t_back") - t0, 3)
            res["end"] = round(t_settled - t0, 3)
            target = res.get("target_s")
            res["ok"] = ("error" not in res and res["recovery_s"] is not None
                         and res["settled_s"] is not None
                         and (target is None or res["recovery_s"] <= target))
            if res["recovery_s"] is not None:
                res["recovery_s"] = round(res["recovery_s"], 3)
            self.results.append(res)
            rec = "-" if res["recovery_s"] is None else f"{res['recovery_s']:.3f}s"
            print(f"  fault ({tag}) {name}: recovery {rec}{'' if res['ok'] else ' FAILED'}"
                  f"{' ' + res['error'] if 'error' in res else ''}", flush=True)
