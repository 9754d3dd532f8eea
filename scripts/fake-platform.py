#!/usr/bin/env python3
"""A fake data platform for dev and tests: records the order events it gets
and can be told to fail, to hang, or (by stopping it) to be down.

    scripts/fake-platform.py --port PORT [--log FILE] [--secret-file FILE]

Event side: POST /events (any path not under /_) with the event JSON and
Idempotency-Key. Per mode:
    ok     200, the event is recorded (duplicates are counted, not dropped)
    fail   500, nothing recorded
    hang   no answer until the mode changes (the client times out)
With --secret-file, every event must carry a valid X-Commerce-Signature
(t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">, t within 5 minutes): one
that does not is refused with 401 and counted in badSignatures, as a real
receiver would.
Control side (JSON):
    GET  /_state             {"mode","received","unique","failed","hanging","badSignatures",
                              "signed"}
    POST /_mode {"mode": "ok"|"fail"|"hang"}
    GET  /_events            {"events":[{"eventId","type","orderId","status","deliveries",
                              "relays":[...]}]} in arrival order of first delivery
    POST /_reset             forget everything, mode ok
"""
import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Condition()
state = {"mode": "ok", "failed": 0, "hanging": 0, "received": 0, "badSignatures": 0,
         "signed": 0}
secret = None  # bytes, with --secret-file
events = {}   # eventId -> record
order = []    # eventIds in order of first delivery
log_file = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out as separate writes: without TCP_NODELAY, Nagle
    # and the client's delayed ACK add ~40 ms to every request
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: the events log says enough
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        with lock:
            if self.path == "/_state":
                self.reply(200, dict(state, unique=len(events)))
            elif self.path == "/_events":
                self.reply(200, {"events": [events[e] for e in order]})
            else:
                self.reply(404, {"error": "not found"})

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_mode":
            mode = json.loads(body or b"{}").get("mode")
            if mode not in ("ok", "fail", "hang"):
                return self.reply(400, {"error": "mode is ok, fail or hang"})
            with lock:
                state["mode"] = mode
                lock.notify_all()
            return self.reply(200, {"mode": mode})
        if self.path == "/_reset":
            with lock:
                events.clear()
                order.clear()
                state.update(mode="ok", failed=0, received=0, badSignatures=0, signed=0)
                lock.notify_all()
            return self.reply(200, {"reset": True})
        self.event(body)

    def event(self, body):
        with lock:
            if state["mode"] == "hang":
                state["hanging"] += 1
                # hold the request open while the mode stays "hang" (bounded)
                lock.wait_for(lambda: state["mode"] != "hang", timeout=300)
                state["hanging"] -= 1
                self.close_connection = True
                return  # no answer at all: the client's timeout fires
            if state["mode"] == "fail":
                state["failed"] += 1
                return self.reply(500, {"error": "told to fail"})
            if secret is not None:
                if not signature_ok(self.headers.get("X-Commerce-Signature", ""), body):
                    state["badSignatures"] += 1
                    return self.reply(401, {"error": "bad or missing X-Commerce-Signature"})
                state["signed"] += 1
            try:
                doc = json.loads(body)
                event_id = doc["eventId"]
                if self.headers.get("Idempotency-Key") != event_id:
                    raise ValueError("Idempotency-Key does not match eventId")
            except (ValueError, KeyError, TypeError) as e:
                return self.reply(400, {"error": str(e)})
            rec = events.get(event_id)
            if rec is None:
                rec = events[event_id] = {
                    "eventId": event_id, "type": doc.get("type"),
                    "occurredAt": doc.get("occurredAt"),
                    "orderId": (doc.get("order") or {}).get("orderId"),
                    "status": (doc.get("order") or {}).get("status"),
                    "total": (doc.get("order") or {}).get("total"),
                    "deliveries": 0, "relays": []}
                order.append(event_id)
            rec["deliveries"] += 1
            rec["relays"].append(self.headers.get("X-Relay-Id", ""))
            state["received"] += 1
            if log_file:
                log_file.write(body.decode("utf-8", "replace") + "\n")
                log_file.flush()
        self.reply(200, {"received": event_id})


def signature_ok(header, body):
    """What a receiver does: recompute the HMAC over the raw body, compare in
    constant time, and refuse an old timestamp (a replayed request)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    if abs(time.time() - t) > 300:
        return False
    want = hmac.new(secret, str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, given)


def main():
    global log_file, secret
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log")
    ap.add_argument("--secret-file")
    args = ap.parse_args()
    if args.secret_file:
        with open(args.secret_file, "rb") as f:
            secret = f.read().rstrip(b"\r\n")
    if args.log:
        log_file = open(args.log, "a", encoding="utf-8")
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    print(f"fake data platform on http://127.0.0.1:{args.port}/events", file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
