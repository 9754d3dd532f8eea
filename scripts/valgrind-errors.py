#!/usr/bin/env python3
"""The first error records of a valgrind (memcheck) log, with their stacks.

    scripts/valgrind-errors.py LOG        (scripts/valgrind-check, report_log)

Prints memcheck's errors (invalid reads and writes, uninitialised values, bad frees, ...) and
the leak records of lost blocks, at most 8, each line without its ==PID== prefix and indented
by four spaces; "    ..." ends each record.
"""
import re
import sys

MAX_RECORDS = 8
START = re.compile(r"^==\d+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched"
                   r"|Source and destination|Argument"
                   r"|[\d,]+ (\(|bytes)[^)]*.*(definitely|indirectly|possibly) lost)")
END = re.compile(r"^==\d+== $")
PREFIX = re.compile(r"^==\d+== ")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: valgrind-errors.py LOG")
    inside, records = False, 0
    with open(sys.argv[1], errors="replace") as log:
        for line in log:
            line = line.rstrip("\n")
            if START.match(line):
                inside, records = True, records + 1
            if inside and END.match(line):
                inside = False
                print("    ...")
            if inside and records <= MAX_RECORDS:
                print(PREFIX.sub("    ", line, count=1))


if __name__ == "__main__":
    main()
