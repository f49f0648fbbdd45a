"""A WebSocket load client for bench/live: many connections in one process, raw asyncio protocols.

Driven by ``bench.live.run`` over stdin/stdout (one JSON object per line). It opens ``--n``
connections spread round-robin over ``--ports``, subscribes each (Baraza protocol) and prints
``{"ready": ...}``. Then, for each ``phase EVENTS IDLE`` line on stdin, it counts messages until
every connection has EVENTS of them, or nothing arrived for IDLE seconds, and prints a report:
received count, publish-to-receive latencies (float32, base64), gaps, its own CPU time.

The client is deliberately lean (no aiohttp, one ``orjson.loads`` per message) so that it, and
not the server, is rarely the limit; it still shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import os
import resource
import struct
import sys
import time
from typing import Any

import orjson


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    head = struct.pack("!BB", 0x80 | opcode, 0x80 | size) if size < 126 else struct.pack(
        "!BBH", 0x80 | opcode, 0x80 | 126, size)
    return head + mask + body



def upgrade_request(path: str) -> bytes:
    """The HTTP request that opens a WebSocket on ``path`` (raw clients, one per socket)."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()

class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.received = 0
        self.gaps = 0
        self.latencies = array.array("f")
        self.last_at = 0.0
        self.closes: dict[int, int] = {}
        self.dropped = 0


class Conn(asyncio.Protocol):
    __slots__ = ("buf", "last_seq", "path", "ready", "stats", "subscribe", "transport", "upgraded")

    def __init__(self, stats: Stats, path: str, subscribe: bytes | None,
                 ready: asyncio.Future[None]) -> None:
        self.stats = stats
        self.path = path
        self.subscribe = subscribe
        self.ready = ready
        self.buf = bytearray()
        self.upgraded = False
        self.last_seq = -1
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(upgrade_request(self.path))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during handshake"))
        else:
            self.stats.dropped += 1

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in buf[:end].split(b"\r\n", 1)[0]:
                self.ready.set_exception(ConnectionError(bytes(buf[:end]).decode()))
                self.transport.close()
                return
            del buf[:end + 4]
            self.upgraded = True
            if self.subscribe is None:
                self.ready.set_result(None)
            else:
                self.transport.write(self.subscribe)
        self._frames(buf, time.time())

    def _frames(self, buf: bytearray, now: float) -> None:
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode, length = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = (buf[pos + 2] << 8) | buf[pos + 3], 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = struct.unpack_from("!Q", buf, pos + 2)[0], 10
            if size - pos < head + length:
                break
            start = pos + head
            pos = start + length
            if opcode == 0x1:
                self._message(buf[start:pos], now)
            else:
                self._control(opcode, bytes(buf[start:pos]))
        del buf[:pos]

    def _message(self, payload: bytearray, now: float) -> None:
        if payload.startswith(b'{"op":"event"'):
            data = orjson.loads(payload)["data"]
            stats = self.stats
            stats.received += 1
            stats.latencies.append(now - data["t"])
            stats.last_at = now
            seq = data["seq"]
            if seq != self.last_seq + 1 and self.last_seq >= 0:
                stats.gaps += 1
            self.last_seq = seq
        elif payload.startswith(b'{"op":"subscribed"') and not self.ready.done():
            self.ready.set_result(None)

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x9:  # ping → pong
            self.transport.write(masked_frame(payload, 0xA))
        elif opcode == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.stats.closes[code] = self.stats.closes.get(code, 0) + 1
            self.transport.close()


async def _open(loop: asyncio.AbstractEventLoop, stats: Stats, port: int, path: str,
                subscribe: bytes | None, gate: asyncio.Semaphore) -> Conn:
    async with gate:
        ready: asyncio.Future[None] = loop.create_future()
        _, conn = await loop.create_connection(
            lambda: Conn(stats, path, subscribe, ready), "127.0.0.1", port)
        await asyncio.wait_for(ready, 30)
        return conn


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(obj).decode() + "\n")
    sys.stdout.flush()


async def _phase(stats: Stats, n: int, events: int, idle: float) -> dict[str, Any]:
    stats.reset()
    cpu0, started = _cpu(), time.time()
    target = n * events
    while stats.received < target:
        await asyncio.sleep(0.05)
        reference = stats.last_at or started
        if time.time() - reference > idle:
            break
    return {
        "received": stats.received, "gaps": stats.gaps, "last_at": stats.last_at,
        "cpu": _cpu() - cpu0, "closes": stats.closes, "dropped": stats.dropped,
        "latencies": base64.b64encode(stats.latencies.tobytes()).decode(),
    }


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    ports = [int(p) for p in args.ports.split(",")]
    subscribe = None
    if args.proto == "baraza":
        subscribe = masked_frame(orjson.dumps({"op": "subscribe", "channel": args.channel}))
    path = "/api/v1/live" if args.proto == "baraza" else "/"
    gate = asyncio.Semaphore(64)
    tasks = [_open(loop, stats, ports[(args.first + i) % len(ports)], path, subscribe, gate)
             for i in range(args.n)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    conns = [r for r in results if isinstance(r, Conn)]
    errors = [repr(r) for r in results if not isinstance(r, Conn)]
    _say({"ready": True, "connected": len(conns), "errors": errors[:3], "failed": len(errors)})
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        if line[0] == "phase":
            _say(await _phase(stats, len(conns), int(line[1]), float(line[2])))
        elif line[0] == "quit":
            break
    for conn in conns:
        conn.transport.abort()


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser()
    parser.add_argument("--proto", choices=["baraza", "node"], required=True)
    parser.add_argument("--ports", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--first", type=int, default=0, help="round-robin start index")
    parser.add_argument("--channel", default="article:bench")
    uvloop.run(main(parser.parse_args()))
