#!/usr/bin/env python3
"""bench/lib/plain_write.py: bench_order_write_plain, made from commerce_order_write as the
bench database has it, for `bench/run dbside` (bench/lib/dbside.sh), mode proc-plain.

  mariadb -N -B -r -e 'SHOW CREATE PROCEDURE commerce_order_write' | plain_write.py

Reads SHOW CREATE PROCEDURE's row on stdin and prints, for the mariadb client, the statements
that create bench_order_write_plain: commerce_order_write statement for statement, with the
same sql_mode, but for an order of one line given as plain parameters (p_product, p_name,
p_quantity, p_unit, p_amount) instead of the JSON array p_items: each `IF JSON_LENGTH(p_items)
= 1 THEN ... ELSE ... END IF;` becomes its THEN branch, and each `JSON_VALUE(p_items,
'$[0].x')` the parameter of member x. Made from the procedure itself, it stays what the service
runs when a migration changes it; a procedure of another shape than the one this knows (two
JSON_LENGTH, seven JSON_VALUE, p_items nowhere else) is refused, exit status 1."""

import re
import sys

MEMBERS = {"p": "p_product", "n": "p_name", "q": "p_quantity", "u": "p_unit", "a": "p_amount"}
PARAMS = ("p_product BIGINT, p_name VARCHAR(200), p_quantity INT, p_unit BIGINT, "
          "p_amount BIGINT")


def fail(why):
    sys.exit("plain_write.py: commerce_order_write is not of the shape it knows: " + why)


def one_line_branches(lines):
    """Each IF JSON_LENGTH(p_items) = 1 THEN block replaced by its THEN branch, one level less
    indented; the ELSE and END IF found at the IF's own indentation. Returns (lines, count)."""
    out, i, count = [], 0, 0
    while i < len(lines):
        m = re.match(r"^( *)IF JSON_LENGTH\(p_items\) = 1 THEN$", lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        pad = m.group(1)
        try:
            els = lines.index(pad + "ELSE", i)
            end = lines.index(pad + "END IF;", els)
        except ValueError:
            fail("an IF JSON_LENGTH(p_items) = 1 without its ELSE and END IF")
        out.extend(line[2:] if line.startswith(pad + "  ") else line for line in lines[i + 1:els])
        i, count = end + 1, count + 1
    return out, count


def main():
    cols = sys.stdin.read().rstrip("\n").split("\t")
    if len(cols) < 3 or not cols[2].startswith("CREATE"):
        fail("no SHOW CREATE PROCEDURE row on stdin")
    sql_mode, text = cols[1], cols[2]
    text, n = re.subn(r"^CREATE\s+(DEFINER=\S+\s+)?PROCEDURE\s+`?commerce_order_write`?\s*\(",
                      "CREATE OR REPLACE PROCEDURE bench_order_write_plain(", text)
    if n != 1:
        fail("no CREATE PROCEDURE commerce_order_write(")
    text, n = re.subn(r"\bp_items\s+MEDIUMTEXT\b", PARAMS, text, flags=re.I)
    if n != 1:
        fail("no parameter p_items MEDIUMTEXT")
    lines, n = one_line_branches(text.split("\n"))
    if n != 2:
        fail("%d IF JSON_LENGTH(p_items) = 1 blocks, not 2" % n)
    text, n = re.subn(r"JSON_VALUE\(p_items, '\$\[0\]\.([pnqua])'\)",
                      lambda m: MEMBERS[m.group(1)], "\n".join(lines))
    if n != 7:
        fail("%d JSON_VALUE(p_items, '$[0].x') in the one-line branches, not 7" % n)
    if "p_items" in text or "JSON_" in text.upper():
        fail("p_items or a JSON function left after the rewrite")
    if "'" in sql_mode:
        fail("a quote in its sql_mode")
    print("SET SESSION sql_mode = '%s';" % sql_mode)
    print("DELIMITER //")
    print(text + " //")
    print("DELIMITER ;")


if __name__ == "__main__":
    main()
