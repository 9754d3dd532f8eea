#!/usr/bin/env python3
"""A MariaDB client-protocol proxy for fault tests: it passes every packet on
unchanged, and when armed it loses the connection around a commit, as a
network, a failing server or a killed proxy would.

    scripts/db-fault-proxy.py --listen SOCK --upstream SOCK --control DIR

A commit is a COM_QUERY "COMMIT", or a COM_STMT_EXECUTE of a statement
prepared from text naming commerce_order_write (that procedure commits
itself). Arm it by writing one word into DIR/arm; the next commit from any
connection takes it (the file is removed) and meets the fault:

    before    the commit is never sent: the client's connection is closed
              (the server rolls the transaction back)
    after     the commit is sent, the server's answer (the commit landed) is
              thrown away, and both connections are closed
    during    the commit is sent and the client's connection is closed at
              once, while the server may still be at work on it
    unknown   as after, and then every new connection is closed at once
              (the database is unreachable) until DIR/refuse is removed

Each fault is logged on stderr. No TLS and no compression (a unix socket).
"""
import argparse
import asyncio
import os
import sys

COM_QUERY = 0x03
COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17
PROCEDURE = b"commerce_order_write"


def log(msg):
    print(f"db-fault-proxy: {msg}", file=sys.stderr, flush=True)


async def read_packet(reader):
    """One protocol packet: (sequence id, header + payload bytes) or None at EOF."""
    try:
        head = await reader.readexactly(4)
        length = head[0] | head[1] << 8 | head[2] << 16
        body = await reader.readexactly(length)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return head[3], head + body


class Proxy:
    def __init__(self, upstream, control):
        self.upstream = upstream
        self.arm = os.path.join(control, "arm")
        self.refuse = os.path.join(control, "refuse")

    def take_fault(self):
        try:
            with open(self.arm) as f:
                mode = f.read().strip()
            os.unlink(self.arm)
        except FileNotFoundError:
            return None
        return mode

    async def serve(self, creader, cwriter):
        if os.path.exists(self.refuse):
            cwriter.close()
            return
        try:
            sreader, swriter = await asyncio.open_unix_connection(self.upstream)
        except OSError as e:
            log(f"upstream: {e}")
            cwriter.close()
            return
        conn = {"prepare": False, "ids": set(), "drop_answer": False}
        await asyncio.gather(
            self.client_to_server(conn, creader, cwriter, swriter),
            self.server_to_client(conn, sreader, cwriter, swriter),
        )

    def is_commit(self, conn, payload):
        cmd = payload[0] if payload else -1
        if cmd == COM_QUERY:
            return payload[1:].strip().upper().startswith(b"COMMIT")
        if cmd == COM_STMT_EXECUTE and len(payload) >= 5:
            return int.from_bytes(payload[1:5], "little") in conn["ids"]
        return False

    async def client_to_server(self, conn, creader, cwriter, swriter):
        while True:
            pkt = await read_packet(creader)
            if pkt is None:
                break
            seq, data = pkt
            payload = data[4:]
            if seq == 0 and payload[:1] == bytes([COM_STMT_PREPARE]):
                conn["prepare"] = PROCEDURE in payload
            mode = self.take_fault() if seq == 0 and self.is_commit(conn, payload) else None
            if mode:
                what = "COMMIT" if payload[0] == COM_QUERY else "CALL commerce_order_write"
                log(f"fault '{mode}' at {what}")
            if mode == "before":
                break
            swriter.write(data)
            await swriter.drain()
            if mode in ("after", "unknown"):
                if mode == "unknown":
                    open(self.refuse, "w").close()
                conn["drop_answer"] = True
                return  # the server side closes both once the answer is in
            if mode == "during":
                cwriter.close()
                return  # the server side reads on until the server is done
        cwriter.close()
        swriter.close()

    async def server_to_client(self, conn, sreader, cwriter, swriter):
        while True:
            pkt = await read_packet(sreader)
            if pkt is None:
                break
            seq, data = pkt
            if conn["drop_answer"]:
                break
            if conn["prepare"] and seq == 1:
                conn["prepare"] = False
                if data[4] == 0x00:  # COM_STMT_PREPARE_OK: the statement id follows
                    conn["ids"].add(int.from_bytes(data[5:9], "little"))
            if cwriter.is_closing():
                continue
            cwriter.write(data)
            try:
                await cwriter.drain()
            except ConnectionError:
                pass
        cwriter.close()
        swriter.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--control", required=True)
    args = ap.parse_args()
    os.makedirs(args.control, exist_ok=True)
    try:
        os.unlink(args.listen)
    except FileNotFoundError:
        pass
    proxy = Proxy(args.upstream, args.control)
    server = await asyncio.start_unix_server(proxy.serve, path=args.listen)
    os.chmod(args.listen, 0o666)
    log(f"{args.listen} -> {args.upstream}")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
