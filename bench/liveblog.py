"""Live-blog benchmarks against real server processes (``baraza serve``, Postgres + Redis).

1. First page of a 2,000-entry blog: anonymous ``GET /api/v1/articles/{id}/liveblog`` in a
   closed loop at concurrency 64 (target p99 < 30 ms), then the same with ``If-None-Match``
   (the 304 a CDN or a polling page gets).
2. Publish-to-screen: ``--subscribers`` WebSocket readers subscribed to ``article:{id}`` spread
   over the server processes; an editor publishes ``--posts`` entries through the HTTP API,
   one every ``--interval`` seconds. Latency = time the reader parsed the
   ``liveblog.post.published`` frame minus the time the editor's POST was sent (one clock:
   everything runs on this machine). Target p99 < 300 ms at 5,000 readers.

Everything shares the machine's cores: servers, Postgres, Redis and the load clients.

    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.liveblog
"""

from __future__ import annotations

import argparse
import array
import asyncio
import math
import multiprocessing
import os
import resource
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

from bench.live.client import upgrade_request

ROOT = Path(__file__).resolve().parent.parent
PG_DSN = os.environ.get("BARAZA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BARAZA_BENCH_REDIS", "redis://127.0.0.1:6379/0")
JWT_SECRET = "bench-secret-" + "x" * 32
ARTICLE = "bench-liveblog"

ENTRY = (
    "**{i}:** Defence Cabinet Secretary Aden Duale and US Secretary of Defense Lloyd Austin "
    "discussed [intelligence sharing](https://example.com/kenya-us/{i}), maritime security "
    "and the fight against Al-Shabaab. *Austin* expressed condolences for the gas explosion "
    "in Nairobi.\n\n- ATMIS\n- Operation Prosperity Guardian"
)


# ------------------------------------------------------------------ processes and setup


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _drop_keys(prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@dataclass
class Servers:
    procs: list[subprocess.Popen[bytes]]
    ports: list[int]

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def cpu(self) -> float:
        total = 0.0
        for proc in self.procs:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_servers(n: int, database_url: str, prefix: str) -> Servers:
    env = {
        **os.environ,
        "BARAZA_DATABASE_URL": database_url, "BARAZA_REDIS_URL": REDIS_URL,
        "BARAZA_REDIS_PREFIX": prefix, "BARAZA_JWT_SECRET": JWT_SECRET,
        "BARAZA_EMBEDDED_WORKER": "false", "BARAZA_LOG_LEVEL": "WARNING",
        "BARAZA_RATE_LIMIT_ENABLED": "false",
        "BARAZA_LIVE_MAX_CONNECTIONS_PER_IP": "1000000",
        "BARAZA_LIVE_MAX_CONNECTIONS": "1000000",
    }
    ports = [free_port() for _ in range(n)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        )
        for port in ports
    ]
    servers = Servers(procs, ports)
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_port(port, proc)
    except Exception:
        servers.stop()
        raise
    return servers


def editor_headers() -> dict[str, str]:
    from server.auth import mint_token
    from server.settings import Settings

    settings = Settings(
        database_url="postgresql+asyncpg://bench@127.0.0.1/bench", jwt_secret=JWT_SECRET
    )
    token = mint_token(settings, sub="bench-editor", name="Bench Editor", roles=["editor"])
    return {"Authorization": f"Bearer {token}"}


async def seed(database_url: str, entries: int) -> None:
    """A blog of ``entries`` entries (every tenth a key event, one pinned), written straight
    to the database in one transaction, rendered by the same renderer as the API."""
    from server.articles.models import Article
    from server.db import create_engine, create_sessionmaker, utcnow
    from server.liveblog.markdown import Renderer
    from server.liveblog.models import LiveBlog, LiveBlogPost
    from server.settings import Settings
    from server.users.models import User

    settings = Settings(database_url=database_url, jwt_secret=JWT_SECRET)
    engine = create_engine(settings)
    renderer, now = Renderer(), utcnow()
    try:
        async with create_sessionmaker(engine).begin() as session:
            session.add(Article(id=ARTICLE, comments="open", moderation="post", comment_count=0))
            session.add(User(id="bench-editor", name="Bench Editor", status="active",
                             approved_count=0, rejected_count=0, reported_count=0))
            await session.flush()
            session.add(LiveBlog(article_id=ARTICLE, title="Bench live blog", status="live",
                                 revision=entries, created_by="bench-editor"))
            await session.flush()
            for i in range(1, entries + 1):
                body = ENTRY.format(i=i)
                session.add(LiveBlogPost(
                    article_id=ARTICLE, author_id="bench-editor", author_name="Bench Editor",
                    body=body, html=renderer.render(body), status="published",
                    key_event=i % 10 == 0, pinned=i == 1, position=i, revision=i,
                    created_at=now, published_at=now, updated_at=now,
                ))
    finally:
        await engine.dispose()


# ------------------------------------------------------------------ closed-loop HTTP load


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def line(self) -> str:
        n = len(self.latencies)
        return (
            f"{n / self.wall:8.0f} req/s  p50 {percentile(self.latencies, 0.5) * 1e3:6.2f} ms  "
            f"p99 {percentile(self.latencies, 0.99) * 1e3:6.2f} ms  "
            f"max {max(self.latencies) * 1e3:6.1f} ms  errors {self.errors}  "
            f"({n} requests in {self.wall:.1f} s; CPU: client {self.client_cpu / self.wall:.0%}, "
            f"servers {self.server_cpu / self.wall:.0%} of a core)"
        )


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _closed_loop(
    urls: Sequence[str], workers: Sequence[int], start: float, duration: float,
    headers: dict[str, str], ok: int,
) -> tuple[bytes, int, float]:
    """Workers send, read, send again; warm up until ``start`` (wall clock), then measure."""
    latencies: array.array[float] = array.array("d")
    errors = 0
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as http:

        async def worker(url: str, until: float, measure: bool) -> None:
            nonlocal errors
            while time.time() < until:
                started = time.perf_counter()
                async with http.get(url, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
                if measure:
                    latencies.append(time.perf_counter() - started)
                    errors += status != ok

        # Warm up: connections open, caches and pools filled.
        await asyncio.gather(*(worker(urls[w % len(urls)], start, False) for w in workers))
        cpu0 = _cpu()
        await asyncio.gather(*(worker(urls[w % len(urls)], start + duration, True)
                               for w in workers))
        return latencies.tobytes(), errors, _cpu() - cpu0


def _loop_process(
    urls: Sequence[str], workers: Sequence[int], start: float, duration: float,
    headers: dict[str, str], ok: int,
) -> tuple[bytes, int, float]:
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(_closed_loop(urls, workers, start, duration, headers, ok))


def closed_loop(
    urls: Sequence[str], concurrency: int, duration: float, headers: dict[str, str],
    ok: int, servers: Servers, processes: int,
) -> Load:
    """``concurrency`` closed-loop workers over ``processes`` client processes."""
    start = time.time() + 2.0
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        pending = pool.starmap_async(
            _loop_process,
            [(urls, range(p, concurrency, processes), start, duration, headers, ok)
             for p in range(processes)],
        )
        time.sleep(max(0.0, start - time.time()))
        scpu0, wall0 = servers.cpu(), time.perf_counter()
        parts = pending.get()
        load = Load(wall=duration, server_cpu=servers.cpu() - scpu0)
        if time.perf_counter() - wall0 > duration + 1.0:
            print("warning: a client process finished late", flush=True)
    for raw, errors, cpu in parts:
        values: array.array[float] = array.array("d")
        values.frombytes(raw)
        load.latencies.extend(values)
        load.errors += errors
        load.client_cpu += cpu
    return load


async def bench_first_page(servers: Servers, args: argparse.Namespace) -> dict[str, Any]:
    urls = [f"{b}/api/v1/articles/{ARTICLE}/liveblog" for b in servers.bases]
    async with aiohttp.ClientSession() as http, http.get(urls[0]) as resp:
        page = await resp.json()
        etag = resp.headers["ETag"]
        size = len(await resp.read())
    if len(page["items"]) != 20:
        raise RuntimeError(f"first page has {len(page['items'])} entries")
    print(f"first page: {len(page['items'])} entries, {size} bytes, ETag {etag}", flush=True)
    where = (f"c={args.concurrency}, {args.page_clients} client process(es), "
             f"{len(servers.ports)} server process(es)")
    full = await asyncio.to_thread(
        closed_loop, urls, args.concurrency, args.duration, {}, 200, servers, args.page_clients
    )
    print(f"GET first page, {where}: {full.line()}", flush=True)
    cached = await asyncio.to_thread(
        closed_loop, urls, args.concurrency, args.duration, {"If-None-Match": etag}, 304,
        servers, args.page_clients,
    )
    print(f"GET first page If-None-Match (304), {where}: {cached.line()}", flush=True)
    return {"full": full, "cached": cached, "bytes": size}


# ------------------------------------------------------------------ WebSocket readers


def _masked(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + body


class Reader(asyncio.Protocol):
    """One WebSocket reader: handshake, subscribe, then note when each published entry lands."""

    def __init__(self, path: str, subscribe: bytes, ready: asyncio.Future[None],
                 seen: array.array[float], ids: array.array[int]) -> None:
        self.path, self.subscribe, self.ready = path, subscribe, ready
        self.seen, self.ids = seen, ids
        self.buf = bytearray()
        self.upgraded = False
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(upgrade_request(self.path))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during handshake"))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in self.buf[:end]:
                self.ready.set_exception(ConnectionError(bytes(self.buf[:end]).decode()))
                return
            del self.buf[:end + 4]
            self.upgraded = True
            self.transport.write(self.subscribe)
        self._frames(now)

    def _frames(self, now: float) -> None:
        buf, pos = self.buf, 0
        while len(buf) - pos >= 2:
            opcode, length, head = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, 2
            if length == 126:
                if len(buf) - pos < 4:
                    break
                length, head = struct.unpack_from("!H", buf, pos + 2)[0], 4
            elif length == 127:
                if len(buf) - pos < 10:
                    break
                length, head = struct.unpack_from("!Q", buf, pos + 2)[0], 10
            if len(buf) - pos < head + length:
                break
            start, pos = pos + head, pos + head + length
            if opcode == 0x1:
                self._message(bytes(buf[start:pos]), now)
            elif opcode == 0x9:
                self.transport.write(struct.pack("!BB", 0x8A, 0x80) + b"\0\0\0\0")
        del buf[:pos]

    def _message(self, payload: bytes, now: float) -> None:
        message = orjson.loads(payload)
        op = message.get("op")
        if op == "event" and message.get("type") == "liveblog.post.published":
            self.ids.append(message["data"]["id"])
            self.seen.append(now)
        elif op == "subscribed" and not self.ready.done():
            self.ready.set_result(None)


async def _readers(ports: Sequence[int], n: int, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    seen: array.array[float] = array.array("d")
    ids: array.array[int] = array.array("q")
    subscribe = _masked(orjson.dumps({"op": "subscribe", "channel": f"article:{ARTICLE}"}))
    gate = asyncio.Semaphore(100)
    transports = []

    async def open_one(i: int) -> None:
        async with gate:
            ready: asyncio.Future[None] = loop.create_future()
            transport, _ = await loop.create_connection(
                lambda: Reader("/api/v1/live", subscribe, ready, seen, ids),
                "127.0.0.1", ports[i % len(ports)],
            )
            transports.append(transport)
            await asyncio.wait_for(ready, 30)

    await asyncio.gather(*(open_one(i) for i in range(n)))
    pipe.send("ready")
    await loop.run_in_executor(None, pipe.recv)
    pipe.send((ids.tobytes(), seen.tobytes()))
    for transport in transports:
        transport.close()


def reader_process(ports: Sequence[int], n: int, pipe: Connection) -> None:
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        runner.run(_readers(ports, n, pipe))


async def bench_publish(
    servers: Servers, args: argparse.Namespace, headers: dict[str, str]
) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    per = [args.subscribers // args.client_processes] * args.client_processes
    per[0] += args.subscribers - sum(per)
    pipes, procs = [], []
    for p, n in enumerate(per):
        ours, theirs = ctx.Pipe()
        # Each reader process starts on a different server, so the ports interleave.
        ports = servers.ports[p % len(servers.ports):] + servers.ports[:p % len(servers.ports)]
        proc = ctx.Process(target=reader_process, args=(ports, n, theirs), daemon=True)
        proc.start()
        pipes.append(ours)
        procs.append(proc)
    opened = time.perf_counter()
    for pipe in pipes:
        if pipe.recv() != "ready":
            raise RuntimeError("reader process failed")
    print(f"{args.subscribers} readers subscribed in {time.perf_counter() - opened:.1f} s "
          f"over {len(servers.ports)} server process(es)", flush=True)
    sent: dict[int, float] = {}
    url = f"{servers.bases[-1]}/api/v1/articles/{ARTICLE}/liveblog/posts"
    async with aiohttp.ClientSession(headers=headers) as http:
        for i in range(args.posts):
            await asyncio.sleep(args.interval)
            started = time.time()
            async with http.post(url, json={"body": f"Live entry {i}: **breaking**"}) as resp:
                if resp.status != 201:
                    raise RuntimeError(f"POST: {resp.status}")
                sent[(await resp.json())["id"]] = started
        await asyncio.sleep(2.0)
    latencies: list[float] = []
    for pipe in pipes:
        pipe.send("report")
        raw_ids, raw_seen = pipe.recv()
        ids, seen = array.array("q"), array.array("d")
        ids.frombytes(raw_ids)
        seen.frombytes(raw_seen)
        latencies.extend(t - sent[i] for i, t in zip(ids, seen, strict=True) if i in sent)
    for proc in procs:
        proc.join(timeout=10)
    expected = args.subscribers * args.posts
    print(
        f"publish-to-screen, {args.subscribers} readers x {args.posts} entries: "
        f"p50 {percentile(latencies, 0.5) * 1e3:.1f} ms  "
        f"p99 {percentile(latencies, 0.99) * 1e3:.1f} ms  "
        f"max {max(latencies) * 1e3:.1f} ms  delivered {len(latencies)}/{expected}",
        flush=True,
    )
    return {"latencies": latencies, "expected": expected}


# ------------------------------------------------------------------ main


async def run(servers: Servers, args: argparse.Namespace) -> None:
    headers = editor_headers()
    if not args.skip_page:
        await bench_first_page(servers, args)
    if args.subscribers:
        await bench_publish(servers, args, headers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.liveblog", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load run")
    parser.add_argument("--servers", type=int, default=1, help="server processes")
    parser.add_argument("--subscribers", type=int, default=5000, help="0 skips the WS bench")
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between entries")
    parser.add_argument("--client-processes", type=int, default=2,
                        help="WebSocket reader processes")
    parser.add_argument("--page-clients", type=int, default=1,
                        help="HTTP load client processes for the first-page runs")
    parser.add_argument("--skip-page", action="store_true")
    args = parser.parse_args(argv)

    name = f"baraza_bench_lb_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    database_url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}"
    try:
        from server.db import upgrade

        upgrade(database_url)
        asyncio.run(seed(database_url, args.entries))
        servers = start_servers(args.servers, database_url, f"bench:{name}:")
        try:
            with asyncio.Runner(loop_factory=_new_loop) as runner:
                runner.run(run(servers, args))
        finally:
            servers.stop()
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_drop_keys(f"bench:{name}:"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
