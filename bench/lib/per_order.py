#!/usr/bin/env python3
"""bench/lib/per_order.py LABEL READING0 READING1 READING2

Statements sent, rows written, redo bytes and InnoDB fsyncs (Innodb_data_fsyncs: under 1 when
commits share one, group commit) per committed order, in one line for the orders
benchmark (bench/lib/report.sh per_order). The readings are bench/lib/orders.sh db_reading's
files, "name value" lines: the table's row count ("rows") and SHOW GLOBAL STATUS counters. The
first two are an idle pair taken before the run, the third one after it: what a reading
itself adds is the difference of the idle pair, subtracted from the run's."""

import sys


def reading(path):
    """A reading's values by name (a name missing counts as 0, as below)."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words:
                values[words[0]] = float(words[1]) if len(words) > 1 else 0.0
    return values


def main(label, paths):
    r0, r1, r2 = (reading(p) for p in paths)

    def d(k):
        return (r2.get(k, 0) - r1.get(k, 0)) - (r1.get(k, 0) - r0.get(k, 0))

    n = d("rows")
    if n <= 0:
        print("%s: no orders committed" % label)
        return

    def per(k, fmt):
        return fmt % (d(k) / n) if k in r2 else "n/a"

    print("%s: %s statements (%s prepared + %s text; Com_select %s insert %s update %s begin %s "
          "commit %s rollback %s), %s prepares; Handler_write %s Handler_update %s; redo %s "
          "bytes, %s fsyncs; %d orders"
          % (label, per("Questions", "%.2f"), per("Com_stmt_execute", "%.2f"),
             "%.2f" % ((d("Questions") - d("Com_stmt_execute")) / n),
             per("Com_select", "%.2f"), per("Com_insert", "%.2f"), per("Com_update", "%.2f"),
             per("Com_begin", "%.2f"), per("Com_commit", "%.2f"), per("Com_rollback", "%.2f"),
             per("Com_stmt_prepare", "%.2f"), per("Handler_write", "%.2f"),
             per("Handler_update", "%.2f"), per("Innodb_os_log_written", "%.0f"),
             per("Innodb_data_fsyncs", "%.2f"), n))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: per_order.py LABEL READING0 READING1 READING2")
    main(sys.argv[1], sys.argv[2:])
