"""Live fan-out benchmark: Baraza's hub (1, 2, 4 processes sharing Redis) against Node ``ws``.

    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.live.run
    .venv/bin/python -m bench.live.run --no-node --redis single,cluster --scale 2,4

``--redis cluster`` runs Baraza on the local Redis Cluster (``scripts/engines``: 3 masters and
3 replicas on 127.0.0.1:7000-7005, ``BARAZA_BENCH_REDIS_CLUSTER``), fan-out by sharded pub/sub;
its Redis CPU is summed over the six nodes.

For each server and each client count, client processes (``bench.live.client``, 2 by default)
open the connections and subscribe to one channel; then 100 events of ~256 bytes are published
(a) as fast as possible and (b) paced to a fixed offered load of 20,000 deliveries/s. Reported:
delivered/s, publish-to-receive latency p50/p99, lost messages, server CPU µs per delivery
(all server processes, from /proc), Redis CPU per delivery (Baraza only), client CPU, and the
server's resident memory per idle connection. Everything runs on loopback, on the same cores.

Baraza events are published the way producers publish them: through ``RedisChannelBroker``
(one Lua script per event) from this process, standing in for a worker. The Node server gets
the same envelope bytes from a publisher WebSocket and writes one pre-encoded frame per client.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from server.live.base import EventType
from server.live.redis import RedisChannelBroker
from server.redis_client import AnyRedis

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHANNEL = "article:bench"
REDIS_URL = os.environ.get("BARAZA_BENCH_REDIS", "redis://127.0.0.1:6379/0")
CLUSTER_URL = os.environ.get("BARAZA_BENCH_REDIS_CLUSTER", "redis://127.0.0.1:7000/0")
CLUSTER_PORTS = range(7000, 7006)
DATABASE_URL = os.environ.get(
    "BARAZA_BENCH_DATABASE", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
TICKS = os.sysconf("SC_CLK_TCK")


def raise_nofile() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Server:
    name: str
    proto: str
    procs: list[subprocess.Popen[bytes]]
    ports: list[int]
    cluster: bool = False

    def cpu(self) -> float:
        return sum(proc_cpu(p.pid) for p in self.procs)

    def rss(self) -> int:
        return sum(proc_rss(p.pid) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start_baraza(n: int, prefix: str, cluster: bool = False) -> Server:
    env = {
        **os.environ,
        "BARAZA_DATABASE_URL": DATABASE_URL,
        "BARAZA_REDIS_URL": CLUSTER_URL if cluster else REDIS_URL,
        "BARAZA_REDIS_CLUSTER": str(cluster).lower(),
        "BARAZA_REDIS_PREFIX": prefix, "BARAZA_JWT_SECRET": "bench-secret-" + "x" * 32,
        "BARAZA_EMBEDDED_WORKER": "false", "BARAZA_LOG_LEVEL": "WARNING",
        "BARAZA_LIVE_MAX_CONNECTIONS_PER_IP": "1000000", "BARAZA_DATABASE_POOL_SIZE": "1",
    }
    ports = [free_port() for _ in range(n)]
    procs = [subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for port in ports]
    for port in ports:
        wait_port(port)
    name = f"Baraza ×{n}" + (" cluster" if cluster else "")
    return Server(name, "baraza", procs, ports, cluster)


def start_node() -> Server:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "ws").exists():
        raise RuntimeError("needs node and bench/live/node_modules: cd bench/live && npm install")
    port = free_port()
    proc = subprocess.Popen([node, str(HERE / "node_ws_server.js"), str(port)],
                            stdout=subprocess.DEVNULL)
    wait_port(port)
    return Server("Node ws", "node", [proc], [port])


class Clients:
    """The client processes of one run, driven line by line."""

    def __init__(self, server: Server, n: int, processes: int) -> None:
        per = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
        first = 0
        self.procs = []
        for count in per:
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "bench.live.client", "--proto", server.proto,
                 "--ports", ",".join(map(str, server.ports)), "--n", str(count),
                 "--first", str(first)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
            first += count

    async def _line(self, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
        if proc.stdout is None:
            raise RuntimeError("no pipe")
        line = await asyncio.to_thread(proc.stdout.readline)
        if not line:
            raise RuntimeError("a client process died")
        result: dict[str, Any] = orjson.loads(line)
        return result

    async def ready(self) -> int:
        replies = await asyncio.gather(*(self._line(p) for p in self.procs))
        failed = sum(r["failed"] for r in replies)
        if failed:
            print(f"  {failed} connections failed: {replies[0]['errors']}", flush=True)
        return sum(r["connected"] for r in replies)

    def tell(self, command: str) -> None:
        for p in self.procs:
            if p.stdin is not None:
                p.stdin.write(command.encode() + b"\n")
                p.stdin.flush()

    async def reports(self) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self._line(p) for p in self.procs)))

    def stop(self) -> None:
        self.tell("quit")
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@dataclass
class Result:
    server: str
    clients: int
    mode: str
    offered: str
    delivered_per_s: float
    p50_ms: float
    p99_ms: float
    lost: int
    dropped: int
    gaps: int
    load: float
    server_cpu_us: float
    redis_cpu_us: float | None
    client_cpu_s: float
    server_kb_per_conn: float
    closes: dict[str, int] = field(default_factory=dict)


class Publisher:
    """Publishes envelope-sized events, Baraza's way (Redis) or to the Node baseline."""

    def __init__(self, server: Server, broker: RedisChannelBroker | None) -> None:
        self.server, self.broker = server, broker
        self.seq = 0
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self.server.proto == "node":
            self.session = aiohttp.ClientSession()
            self.ws = await self.session.ws_connect(
                f"http://127.0.0.1:{self.server.ports[0]}/?publisher=1", compress=0)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()

    async def publish(self) -> None:
        data = {"seq": self.seq, "t": time.time(), "pad": "x" * 96}
        self.seq += 1
        if self.broker is not None:
            await self.broker.publish(CHANNEL, EventType.comment_published, data)
        elif self.ws is not None:
            # The same envelope Baraza sends, so both servers move the same bytes.
            await self.ws.send_bytes(orjson.dumps({
                "op": "event", "channel": CHANNEL, "offset": 1795000000000000 + self.seq,
                "type": "comment.published", "data": data, "time": data["t"],
            }))


async def redis_cpu(redis: AnyRedis) -> float:
    """CPU seconds of the Redis in use: the single node, or all six cluster nodes."""
    if not isinstance(redis, RedisCluster):
        info = await redis.info("cpu")
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
    total = 0.0
    for port in CLUSTER_PORTS:
        node = aioredis.Redis(host="127.0.0.1", port=port)
        try:
            info = await node.info("cpu")
            total += float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
        finally:
            await node.aclose()
    return total


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


async def run_phase(
    server: Server, clients: Clients, publisher: Publisher, redis: AnyRedis, *,
    n: int, events: int, rate: float | None, kb_per_conn: float,
) -> Result:
    clients.tell(f"phase {events} 10")
    await asyncio.sleep(0.5)
    load = os.getloadavg()[0]
    cpu0, rcpu0, t0 = server.cpu(), await redis_cpu(redis), time.time()
    interval = None if rate is None else n / rate
    for i in range(events):
        if interval is not None:
            await asyncio.sleep(max(0.0, t0 + i * interval - time.time()))
        await publisher.publish()
    reports = await clients.reports()
    cpu, rcpu = server.cpu() - cpu0, await redis_cpu(redis) - rcpu0
    received = sum(r["received"] for r in reports)
    last = max(r["last_at"] for r in reports) or time.time()
    latencies: list[float] = []
    closes: dict[str, int] = {}
    for r in reports:
        latencies.extend(array.array("f", base64.b64decode(r["latencies"])))
        for code, count in r["closes"].items():
            closes[code] = closes.get(code, 0) + count
    latencies.sort()
    return Result(
        server=server.name, clients=n, mode="flat-out" if rate is None else "fixed",
        offered="max" if rate is None else f"{rate:,.0f}/s",
        delivered_per_s=received / max(1e-9, last - t0),
        p50_ms=percentile(latencies, 0.5) * 1000, p99_ms=percentile(latencies, 0.99) * 1000,
        lost=n * events - received, gaps=sum(r["gaps"] for r in reports),
        dropped=sum(r["dropped"] for r in reports), load=load,
        server_cpu_us=cpu / max(1, received) * 1e6,
        redis_cpu_us=rcpu / max(1, received) * 1e6 if server.proto == "baraza" else None,
        client_cpu_s=sum(r["cpu"] for r in reports), server_kb_per_conn=kb_per_conn,
        closes=closes,
    )


async def bench_server(server: Server, counts: list[int], modes: list[float | None],
                       args: argparse.Namespace, prefix: str) -> list[Result]:
    results = []
    redis: AnyRedis = (RedisCluster.from_url(CLUSTER_URL) if server.cluster
                       else aioredis.Redis.from_url(REDIS_URL))
    broker = RedisChannelBroker(redis, prefix) if server.proto == "baraza" else None
    try:
        for n in counts:
            await asyncio.sleep(1.0)
            rss0 = server.rss()
            clients = Clients(server, n, args.client_processes)
            try:
                connected = await clients.ready()
                await asyncio.sleep(2.0)  # let presence settle; idle connections only
                kb = (server.rss() - rss0) / max(1, connected) / 1024
                print(f"{server.name}: {connected} connected, {kb:.1f} KB/connection", flush=True)
                publisher = Publisher(server, broker)
                await publisher.open()
                try:
                    for rate in modes:
                        result = await run_phase(server, clients, publisher, redis, n=connected,
                                                 events=args.events, rate=rate, kb_per_conn=kb)
                        print("  ", _row(result), flush=True)
                        results.append(result)
                finally:
                    await publisher.close()
            finally:
                clients.stop()
    finally:
        await redis.aclose()
    return results


HEADER = ("| server | clients | offered | delivered/s | p50 ms | p99 ms | lost | server CPU µs/msg "
          "| Redis CPU µs/msg | client CPU s | server KB/conn | load avg |\n"
          "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def _lost(r: Result) -> str:
    if not r.lost:
        return "0"
    why = [f"{r.dropped} sockets dropped"] if r.dropped else []
    why += [f"{n}× close {code}" for code, n in r.closes.items()]
    return f"{r.lost} ({', '.join(why)})" if why else str(r.lost)


def _row(r: Result) -> str:
    redis = "–" if r.redis_cpu_us is None else f"{r.redis_cpu_us:.2f}"
    return (f"| {r.server} | {r.clients:,} | {r.offered} | {r.delivered_per_s:,.0f} | "
            f"{r.p50_ms:.0f} | {r.p99_ms:.0f} | {_lost(r)} | {r.server_cpu_us:.1f} | {redis} | "
            f"{r.client_cpu_s:.1f} | {r.server_kb_per_conn:.1f} | {r.load:.1f} |")


async def main(args: argparse.Namespace) -> None:
    hard = raise_nofile()
    print(f"RLIMIT_NOFILE raised to {hard}; {os.cpu_count()} CPUs", flush=True)
    prefix = f"bench:live:{uuid.uuid4().hex[:8]}:"
    counts = [int(c) for c in args.clients.split(",")]
    fixed: list[float | None] = [None, args.rate]
    plan: list[tuple[str, int, list[int], list[float | None]]] = []
    if not args.no_node:
        plan.append(("node", 0, counts, fixed))
    for kind in args.redis.split(","):
        name = "baraza" if kind == "single" else "baraza-cluster"
        plan.append((name, 1, counts, fixed))
        for procs in (int(p) for p in args.scale.split(",") if p):
            plan.append((name, procs, [max(counts)], fixed))
    results: list[Result] = []
    started = time.monotonic()
    try:
        for kind, procs, ns, modes in plan:
            for n in ns:  # a fresh server per run, so its memory per connection is its own
                server = (start_node() if kind == "node"
                          else start_baraza(procs, prefix, cluster=kind == "baraza-cluster"))
                try:
                    results += await bench_server(server, [n], modes, args, prefix)
                finally:
                    server.stop()
    finally:
        for url, cluster in ((REDIS_URL, False), (CLUSTER_URL, True)):
            if cluster and "cluster" not in args.redis:
                continue
            redis = RedisCluster.from_url(url) if cluster else aioredis.Redis.from_url(url)
            keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
            for key in keys:
                await redis.delete(key)
            await redis.aclose()
    print(f"\n{len(results)} runs in {time.monotonic() - started:.0f} s; "
          f"{args.events} events of ~256 bytes each\n")
    print(HEADER)
    for r in results:
        print(_row(r))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"live-{int(time.time())}.json").write_bytes(
        orjson.dumps([asdict(r) for r in results], option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="5000,10000", help="client counts")
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20_000, help="fixed deliveries/s")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--scale", default="2,4",
                        help="more Baraza process counts, run with the largest client count")
    parser.add_argument("--redis", default="single", help="single, cluster or single,cluster")
    parser.add_argument("--no-node", action="store_true", help="skip the Node ws reference")
    uvloop.run(main(parser.parse_args()))
