#!/usr/bin/env python3
"""The README's and the docs' examples, run against a dev stack: scripts/check-dev starts a
fresh one (scripts/dev-up) and runs this. Standard library only.

    examples.py --root DIR --dev-dir STATE_DIR --api PORT --platform PORT --spec SPEC_JSON
                [--printed LOG] [--write] [--list]

What runs, in this order (README.md first, then docs/*.md by name, each top to bottom):
- Every fenced block in README.md and docs/*.md that talks to the dev stack: one that names
  localhost:8080 or 127.0.0.1:8080 (the API), :8099 (the fake data platform), scripts/dev-token
  or scripts/dev-batch outside a comment. A `console` block is a session: `$ ` commands (a line
  ending in `\\` goes on) and, under each, the answer it prints. An `sh` block is commands only.
  Any other kind of block that talks to the dev stack is an error: it would not be run.
- Every inline code span that is such a command (curl, scripts/dev-token or scripts/dev-batch
  with arguments: the bare name is a mention) and has no placeholder (USER_ID, [SECONDS], …).
- With --printed LOG: the example calls scripts/dev-up printed (its output in LOG).
Each command runs as written, with bash in the repository (so `$(scripts/dev-token 1)` works,
COMMERCE_DEV_DIR naming the stack's STATE_DIR), but for the ports: 8080 and 8099 become the
stack's.

What is checked, for each command:
- it exits 0;
- each curl request it makes (seen through a curlrc's --write-out, on stderr): the status the
  command's trailing comment names (`# 201 Created`; the phrase must be the status's), or a
  2xx when it names none; a request to the fake platform, 200;
- when the command's output is one API answer as it came (one curl, no pipe): the operation of
  docs/openapi.yaml it is documents that status with that media type, and the body fits the
  schema (tests/devstack/shape.py);
- in a `console` block, the answer the block shows is the one the command printed, but for the
  values that differ on every run (times, dates, event ids, the relay's name, delivery counts):
  README.md and the docs show real answers. --write rewrites the blocks with this run's answers
  (its times and ids too, below) instead of failing on a difference.
A command that reads the fake platform runs again (for 30 s at most) until it shows as many
lines as the block does: the relay delivers after the commit, by design.
The session's order ids come from the run: in a console block, a command after an answer that
placed an order (`{"orderId":N,...}`) names that order as /orders/N or "orderId": N, and those
are replaced by the id the run's order got. So the cancel example cancels the order just placed,
whatever id a fresh stack gives it; a command that names another order (/orders/N) fails.

Ends with "examples: N run, N failed" and exits 1 when any check failed.
"""

import argparse
import difflib
import glob
import http
import os
import re
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from shape import Spec

DEV = re.compile(r"\b(?:localhost|127\.0\.0\.1):(?:8080|8099)\b|\bscripts/dev-(?:token|batch)\b")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
INLINE = re.compile(r"`([^`\n]+)`")
COMMAND = re.compile(r"^(?:curl|scripts/dev-(?:token|batch))\s+\S")  # a bare name is a mention
PLACEHOLDER = re.compile(r"(?<![-\w])[A-Z][A-Z_0-9]*(?!\w)|\[|…|<[a-z]")
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
EXPECT = re.compile(r"\s#\s*(\d{3})\b\s*([A-Za-z][A-Za-z -]*?)?\s*$")
CURL_MARK = "@@curl "
CURLRC = 'write-out = "%%{stderr}%s%%{method} %%{http_code} %%{url_effective} %%{content_type}\\n"\n' % CURL_MARK
# Values that differ on every run: masked when the shown answer is compared with the run's.
VOLATILE = ("createdAt", "cancelledAt", "computedAt", "occurredAt", "eventId", "from", "to",
            "deliveries", "relays")
MASK = re.compile(r'("(?:%s)"\s*:\s*)("(?:[^"\\]|\\.)*"|\[[^\]]*\]|-?\d+)' % "|".join(VOLATILE))
ORDER_ANSWER = re.compile(r'^\{"orderId":(\d+),')
ORDER_SLOT = "\x00orderId\x00"


def mask(text):
    return MASK.sub(r"\1…", text)


class Block:
    """A fenced block of a Markdown file: its kind (the info string), its lines (indent
    removed) and where they are (0-based line numbers of the body)."""

    def __init__(self, path, lang, indent, start, lines):
        self.path, self.lang, self.indent, self.start, self.lines = path, lang, indent, start, lines

    @property
    def end(self):
        return self.start + len(self.lines)


def scan(path):
    """The fenced blocks of a Markdown file, and its inline code spans outside them as
    (line number, text)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, spans, i = [], [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            spans += [(i, s) for s in INLINE.findall(lines[i])]
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3)
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        body = [l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines[i + 1:j]]
        blocks.append(Block(path, lang, indent, i + 1, body))
        i = j + 1
    return blocks, spans


def talks_to_dev(lines):
    return any(DEV.search(re.sub(r"(^|\s)#.*$", "", l)) for l in lines)


class Step:
    """One command (its lines as written) and the answer shown under it."""

    def __init__(self, where, lines, shown=None):
        self.where, self.lines, self.shown = where, lines, shown if shown is not None else []
        m = EXPECT.search(lines[-1])
        self.status = int(m.group(1)) if m else None
        self.phrase = (m.group(2) or "").strip() if m else ""

    @property
    def text(self):
        return "\n".join(self.lines)


def commands(block, console):
    """The steps of a block: `$ ` commands with what is shown under them (console), or every
    command line (sh), continued over lines that end in a backslash."""
    steps, i, lines = [], 0, block.lines
    while i < len(lines):
        line, n = lines[i], block.start + i + 1
        if console and not line.startswith("$ "):
            if not steps:
                raise ValueError("%s:%d: a console block starts with a `$ ` command" % (block.path, n))
            steps[-1].shown.append(line)
            i += 1
            continue
        if not console and (not line.strip() or line.lstrip().startswith("#")):
            i += 1
            continue
        cmd = [line[2:] if console else line]
        while cmd[-1].rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd.append(lines[i])
        steps.append(Step("%s:%d" % (block.path, n), cmd))
        i += 1
    return steps


class Runner:
    def __init__(self, args):
        self.root, self.api, self.platform = args.root, args.api, args.platform
        self.spec = Spec(args.spec)
        # curl reads CURL_HOME/.curlrc: the --write-out that reports each request
        self.tmp = tempfile.TemporaryDirectory(prefix="commerce-examples.")
        with open(os.path.join(self.tmp.name, ".curlrc"), "w") as f:
            f.write(CURLRC)
        self.env = dict(os.environ, CURL_HOME=self.tmp.name, COMMERCE_DEV_DIR=args.dev_dir)
        self.run_count = self.failed = 0

    def ports(self, text):
        return re.sub(r"\b(localhost|127\.0\.0\.1):(8080|8099)\b",
                      lambda m: "%s:%d" % (m.group(1), self.api if m.group(2) == "8080" else self.platform),
                      text)

    def unports(self, text):
        for port, dev in ((self.api, 8080), (self.platform, 8099)):
            text = re.sub(r"\b(localhost|127\.0\.0\.1):%d\b" % port, r"\g<1>:%d" % dev, text)
        return text

    def fail(self, where, what):
        self.failed += 1
        print("FAIL %s: %s" % (where, what))

    def attempt(self, step, console=False):
        """Run a step and check it (the module's header): (its output, or None when it did not
        exit 0; the list of what is wrong)."""
        cmd = self.ports(step.text)
        try:
            p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=self.root, env=self.env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return None, ["timed out"]
        calls, noise = [], []
        for line in p.stderr.splitlines():
            if line.startswith(CURL_MARK):
                method, status, url, *ctype = line[len(CURL_MARK):].split(" ", 3)
                calls.append((method, int(status), url, (ctype[0] if ctype else "").split(";")[0].strip()))
            else:
                noise.append(line)
        bad = []
        if p.returncode != 0:
            bad.append("exit status %d%s" % (p.returncode, ": " + " | ".join(noise[-3:]) if noise else ""))
        if "curl" in cmd and not calls:
            bad.append("no curl request was seen")
        if step.phrase and step.status and http.HTTPStatus(step.status).phrase != step.phrase:
            bad.append("# %d %s: %d is %s" % (step.status, step.phrase, step.status,
                                              http.HTTPStatus(step.status).phrase))
        for k, (method, status, url, ctype) in enumerate(calls):
            port = urlsplit(url).port
            last = k == len(calls) - 1
            if port == self.platform:
                want = [200]
            elif step.status and last:
                want = [step.status]
            else:
                want = list(range(200, 300))
            if status not in want:
                bad.append("%s %s answered %d, not %s" % (method, self.unports(url), status,
                                                          want[0] if len(want) == 1 else "2xx"))
        if len(calls) == 1 and "|" not in cmd and urlsplit(calls[0][2]).port == self.api:
            method, status, url, ctype = calls[0]
            bad += self.spec.answer(method, urlsplit(url).path, status, ctype, p.stdout)
        if console and not p.stdout.strip():
            bad.append("printed nothing to show")
        return (None if p.returncode != 0 else p.stdout), bad

    def run(self, step, console=False, until=None):
        """attempt() a step, again while until(output) is false (for 30 s at most: see the
        header), and count and report it; its output (None when it did not exit 0)."""
        self.run_count += 1
        deadline = time.monotonic() + 30
        output, bad = self.attempt(step, console)
        while until and not until(output) and time.monotonic() < deadline:
            time.sleep(0.2)  # polling the fake platform for the relay's delivery, bounded
            output, bad = self.attempt(step, console)
        for b in bad:
            self.fail(step.where, b)
        print("%s %s: $ %s%s" % ("ok  " if not bad else "    ", step.where,
                                 step.lines[0][:100], " …" if len(step.lines) > 1 else ""))
        return output


def session(runner, block):
    """Run a console block; return the block's lines as this run answered them."""
    steps = commands(block, console=True)
    shown_order = None
    out = []
    run_order = None
    for step in steps:
        template = step.lines
        for n in re.findall(r"/orders/(\d+)", step.text):
            if n != shown_order:
                runner.fail(step.where, "names order %s, not the order this session placed (%s):"
                            " an example acts on the order it just placed" % (n, shown_order))
        if shown_order is not None:
            template = [re.sub(r'(/orders/|"orderId":\s*)%s\b' % shown_order, r"\1" + ORDER_SLOT, l)
                        for l in template]
        if any(ORDER_SLOT in l for l in template):
            if run_order is None:
                runner.fail(step.where, "names order %s, but no order was placed in this run" % shown_order)
                return None
            template = [l.replace(ORDER_SLOT, run_order) for l in template]
        live = Step(step.where, template)
        until = None
        if ":8099" in step.text:
            # the feed is asynchronous: the relay delivers after the commit, by design
            def until(output, want=len(step.shown)):
                return output is not None and len(output.strip().split("\n")) >= want
        output = runner.run(live, console=True, until=until)
        out.append("$ " + template[0])
        out += template[1:]
        if output is not None:
            out += runner.unports(output).rstrip("\n").split("\n") if output.strip() else []
            for line in output.split("\n"):
                m = ORDER_ANSWER.match(line)
                if m:
                    run_order = m.group(1)
        for line in step.shown:
            m = ORDER_ANSWER.match(line)
            if m:
                shown_order = m.group(1)
    return out


def printed_calls(log):
    """The example calls scripts/dev-up printed: its lines `  curl …` (and their continuations)."""
    with open(log, encoding="utf-8") as f:
        lines = f.read().split("\n")
    calls, i = [], 0
    while i < len(lines):
        if lines[i].startswith("  curl "):
            cmd = [lines[i].strip()]
            while cmd[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd.append(lines[i])
            calls.append(Step("%s:%d" % (log, i + 1), cmd))
        i += 1
    return calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--dev-dir", required=True)
    ap.add_argument("--api", type=int, required=True)
    ap.add_argument("--platform", type=int, required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--printed")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--list", action="store_true", help="list what would run, run nothing")
    args = ap.parse_args()
    files = [os.path.join(args.root, "README.md")] + sorted(glob.glob(os.path.join(args.root, "docs", "*.md")))
    runner = Runner(args)
    stale = []
    for path in files:
        rel = os.path.relpath(path, args.root)
        blocks, spans = scan(path)
        rewrites = []
        for b in blocks:
            b.path = rel
            if not talks_to_dev(b.lines):
                continue
            if b.lang not in ("console", "sh", "bash"):
                runner.fail("%s:%d" % (rel, b.start), "a ```%s block talks to the dev stack: make it"
                            " console (with answers) or sh, so that it runs" % (b.lang or "(plain)"))
                continue
            if args.list:
                print("%s:%d: %s block, %d lines" % (rel, b.start, b.lang, len(b.lines)))
                continue
            if b.lang != "console":
                for step in commands(b, console=False):
                    runner.run(step)
                continue
            got = session(runner, b)
            if got is None:
                continue
            if args.write:
                if got != b.lines:
                    rewrites.append((b, got))
            elif mask("\n".join(got)) != mask("\n".join(b.lines)):
                stale.append((b, got))
        for n, span in spans:
            if COMMAND.match(span) and DEV.search(span) and not any(
                    t not in HTTP_METHODS for t in PLACEHOLDER.findall(span)):
                if args.list:
                    print("%s:%d: inline: %s" % (rel, n + 1, span))
                else:
                    runner.run(Step("%s:%d" % (rel, n + 1), [span]))
        if rewrites:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            for b, got in sorted(rewrites, key=lambda r: -r[0].start):
                lines[b.start:b.end] = [(b.indent + l) if l else l for l in got]
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines))
            print("rewrote %d block(s) of %s with this run's answers" % (len(rewrites), rel))
    if args.printed and not args.list:
        for step in printed_calls(args.printed):
            step.where = "scripts/dev-up's example (%s)" % step.where.rsplit(":", 1)[1]
            runner.run(step)
    for b, got in stale:
        runner.fail("%s:%d" % (b.path, b.start), "the block is not what this run answers"
                    " (scripts/check-dev --write rewrites it):")
        sys.stdout.writelines(difflib.unified_diff(
            [mask(l) + "\n" for l in b.lines], [mask(l) + "\n" for l in got],
            "%s (shown)" % b.path, "this run", n=1))
    print("examples: %d run, %d failed" % (runner.run_count, runner.failed))
    sys.exit(1 if runner.failed else 0)


if __name__ == "__main__":
    main()
