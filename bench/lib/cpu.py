#!/usr/bin/env python3
"""bench/lib/cpu.py: where a benchmark run's CPU goes, per process group, from /proc.

  cpu.py run -- COMMAND [ARGS...]
      Runs COMMAND (the load generator: wrk, rawdb_min, bench_rawdb), its output passed
      through, and reads the CPU time of every process on the machine (/proc/PID/stat: user +
      system, all threads) and the machine's idle time (/proc/stat: idle + iowait) just before
      it starts and just after it ends. Then prints one line:
        cpu win_s=W cores=N cpu_mariadbd_s=.. cpu_workers_s=.. cpu_nginx_s=.. cpu_php_s=..
            cpu_hello_s=.. cpu_load_s=.. cpu_other_s=.. cpu_idle_s=..
      (CPU-seconds over the window). The load generator's own time is its rusage (os.wait4:
      it and every child it waited for), exact even though it has exited by the second
      reading. A process that started during the window counts from zero; one that exited
      during it (other than the load generator's) is lost: none of the stack's do.
      COMMAND's exit status is cpu.py's.

  cpu.py per COUNT LINE
      The line's CPU-seconds divided by COUNT (requests or commits), in microseconds per
      request, and the idle share of the machine over the window, as one line of text. "gone"
      is the CPU no group and no idle time holds: processes that started and exited inside
      the window (someone else's build on the machine, PHP-FPM children it recycles),
      interrupts, steal, and rounding.
"""

import os
import re
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
GROUPS = ("mariadbd", "workers", "nginx", "php", "hello", "load", "other")


def group_of(comm):
    """The group a process belongs to, by its command name (/proc/PID/stat's comm)."""
    if comm in ("mariadbd", "mysqld"):
        return "mariadbd"
    if comm == "commerce-fcgi":
        return "workers"
    if comm == "nginx":
        return "nginx"
    if comm.startswith("php-fpm"):
        return "php"
    if comm == "hello":
        return "hello"
    return "other"


def processes():
    """{pid: (starttime, group, cpu ticks)} for every process readable now."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # comm is in parentheses and may hold spaces and parentheses: split at the last ')'
        lp, rp = stat.index("("), stat.rindex(")")
        rest = stat[rp + 2:].split()
        # fields after comm: state(3) ... utime(14) stime(15) ... starttime(22); rest[0] is 3
        out[int(name)] = (int(rest[19]), group_of(stat[lp + 1:rp]), int(rest[11]) + int(rest[12]))
    return out


def idle_ticks():
    """The machine's idle + iowait ticks (all CPUs) from /proc/stat."""
    with open("/proc/stat", encoding="utf-8") as f:
        words = f.readline().split()
    return int(words[4]) + int(words[5])


def run(argv):
    before, idle0, t0 = processes(), idle_ticks(), time.monotonic()
    child = subprocess.Popen(argv)
    _, status, usage = os.wait4(child.pid, 0)
    t1 = time.monotonic()
    after, idle1 = processes(), idle_ticks()
    sys.stdout.flush()
    secs = dict.fromkeys(GROUPS, 0.0)
    for pid, (start, group, ticks) in after.items():
        if pid == child.pid:
            continue
        if pid in before and before[pid][0] == start:
            ticks -= before[pid][2]
        secs[group] += ticks / TICK
    secs["load"] = usage.ru_utime + usage.ru_stime
    fields = " ".join("cpu_%s_s=%.3f" % (g, secs[g]) for g in GROUPS)
    print("cpu win_s=%.3f cores=%d %s cpu_idle_s=%.3f"
          % (t1 - t0, os.cpu_count(), fields, (idle1 - idle0) / TICK), flush=True)
    return os.waitstatus_to_exitcode(status)


def per(count, line):
    values = dict((k, float(v)) for k, v in re.findall(r"\b(\w+)=([0-9.]+)", line))
    if count <= 0 or "win_s" not in values:
        return "cpu: no reading"
    names = {"load": "loadgen"}
    parts = ["%s %.0f" % (names.get(g, g), values["cpu_%s_s" % g] * 1e6 / count)
             for g in GROUPS if values.get("cpu_%s_s" % g, 0) > 0 or g in ("mariadbd", "nginx")]
    capacity = values["win_s"] * values["cores"]
    # what neither a group nor idle holds: processes that started and exited inside the window
    # (another's builds or tests, recycled PHP-FPM children), interrupts, steal, rounding
    gone = capacity - values["cpu_idle_s"] - sum(values.get("cpu_%s_s" % g, 0) for g in GROUPS)
    return "cpu us/req: %s gone %.0f | idle %.0f us/req, %.1f%% of %d cores over %.1f s" % (
        " ".join(parts), max(gone, 0) * 1e6 / count, values["cpu_idle_s"] * 1e6 / count,
        100 * values["cpu_idle_s"] / capacity, values["cores"], values["win_s"])


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "run" and sys.argv[2] == "--":
        sys.exit(run(sys.argv[3:]))
    if len(sys.argv) == 4 and sys.argv[1] == "per":
        print(per(float(sys.argv[2] or 0), sys.argv[3]))
        return
    sys.exit("usage: cpu.py run -- COMMAND [ARGS...] | cpu.py per COUNT LINE")


if __name__ == "__main__":
    main()
