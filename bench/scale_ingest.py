"""Ingest at scale: POST throughput with 1, 2 and 4 server processes, single Redis vs the
3-master Redis Cluster, straight to Postgres vs through PgBouncer (transaction pooling).

    scripts/engines      # the local cluster on 7000-7005 and PgBouncer on 6432
    .venv/bin/python -m bench.scale_ingest --processes 1,2,4 --duration 8 --concurrency 32

Each configuration gets fresh server processes against one benchmark database (migrated
directly, emptied between runs) and a closed-loop POST load (``bench.http_load``) spread over
the processes. Each POST commits the comment and enqueues its job (XADD), so Redis is on the
path. Reported: requests/s, p50/p99 ms, errors, server CPU ms per request (all server
processes, from /proc), client CPU. Everything runs on the same cores: read the figures as
what this machine did while busy, not as capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import orjson

from bench.http_load import LoadResult, LoadSpec, run_load
from server.auth import mint_token
from server.db import upgrade
from server.redis_client import connect_redis
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = os.environ.get("BARAZA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
PGBOUNCER_DSN = os.environ.get("BARAZA_BENCH_PGBOUNCER", "postgresql://postgres@127.0.0.1:6432")
REDIS_URL = os.environ.get("BARAZA_BENCH_REDIS", "redis://127.0.0.1:6379/0")
CLUSTER_URL = os.environ.get("BARAZA_BENCH_REDIS_CLUSTER", "redis://127.0.0.1:7000/0")
SECRET = "bench-secret-" + "x" * 32
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


@dataclass
class Row:
    processes: int
    redis: str
    database: str
    result: LoadResult
    server_cpu_ms: float

    def line(self) -> str:
        r = self.result
        return (f"| {self.processes} | {self.redis} | {self.database} | {r.rps:,.0f} | "
                f"{r.percentile(0.5) * 1000:.1f} | {r.percentile(0.99) * 1000:.1f} | {r.errors} | "
                f"{self.server_cpu_ms:.2f} | {r.client_cpu_seconds:.1f} |")


HEADER = ("| server processes | Redis | Postgres via | POST/s | p50 ms | p99 ms | errors "
          "| server CPU ms/POST | client CPU s |\n|---:|---|---|---:|---:|---:|---:|---:|---:|")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _empty(name: str) -> None:
    conn = await asyncpg.connect(f"{PG_DSN}/{name}")
    try:
        await conn.execute("TRUNCATE comments, articles, users RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


async def _forget(env: dict[str, str]) -> None:
    """Delete this run's Redis keys (its jobs stream), on the single node or the cluster."""
    settings = Settings(redis_url=env["BARAZA_REDIS_URL"],
                        redis_cluster=env["BARAZA_REDIS_CLUSTER"] == "true")
    client = connect_redis(settings)
    if client is None:
        return
    try:
        async for key in client.scan_iter(match=env["BARAZA_REDIS_PREFIX"] + "*"):
            await client.delete(key)
    finally:
        await client.aclose()


def _run(args: argparse.Namespace, name: str, processes: int, redis: str, database: str) -> Row:
    host = (PG_DSN if database == "direct" else PGBOUNCER_DSN).split("://", 1)[1]
    env = {
        **os.environ,
        "BARAZA_DATABASE_URL": f"postgresql+asyncpg://{host}/{name}",
        "BARAZA_DATABASE_POOLER": "pgbouncer" if database == "pgbouncer" else "none",
        "BARAZA_REDIS_URL": CLUSTER_URL if redis == "cluster" else REDIS_URL,
        "BARAZA_REDIS_CLUSTER": str(redis == "cluster").lower(),
        "BARAZA_REDIS_PREFIX": f"bench:ingest:{uuid.uuid4().hex[:8]}:",
        "BARAZA_JWT_SECRET": SECRET, "BARAZA_EMBEDDED_WORKER": "false",
        "BARAZA_RATE_LIMIT_ENABLED": "false", "BARAZA_LOG_LEVEL": "WARNING",
        "BARAZA_DATABASE_POOL_SIZE": "10",
    }
    ports = [_free_port() for _ in range(processes)]
    procs = [subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(p)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for p in ports]
    try:
        for port in ports:
            _wait_port(port)
        settings = Settings(jwt_secret=SECRET)
        tokens = [mint_token(settings, sub=f"bench-{i}", name=f"Bench {i}", roles=None,
                             ttl_seconds=3600) for i in range(args.concurrency * 4)]
        spec = LoadSpec(
            "POST", tuple(f"http://127.0.0.1:{p}/api/v1/articles/ingest/comments" for p in ports),
            bodies=tuple(orjson.dumps({"body": f"Comment number {i} on the security story."})
                         for i in range(64)),
            headers=tuple({"Authorization": f"Bearer {t}", "Content-Type": "application/json"}
                          for t in tokens),
            ok_statuses=frozenset({202}),
        )
        run_load(spec, concurrency=8, duration=1.0)  # warm up connections and pools
        cpu0 = sum(_cpu(p.pid) for p in procs)
        result = run_load(spec, concurrency=args.concurrency, duration=args.duration,
                          processes=args.client_processes)
        cpu = sum(_cpu(p.pid) for p in procs) - cpu0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
        asyncio.run(_forget(env))
    return Row(processes, redis, database, result, cpu / max(1, result.requests) * 1000)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--redis", default="single,cluster")
    parser.add_argument("--database", default="direct,pgbouncer")
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--client-processes", type=int, default=1)
    args = parser.parse_args(argv)
    name = f"baraza_bench_ingest_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    rows: list[Row] = []
    try:
        upgrade(f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}")
        for processes in (int(p) for p in args.processes.split(",")):
            for redis in args.redis.split(","):
                for database in args.database.split(","):
                    asyncio.run(_empty(name))
                    row = _run(args, name, processes, redis, database)
                    print(row.line(), flush=True)
                    rows.append(row)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"\nload avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"concurrency {args.concurrency}, {args.duration:.0f} s per run\n")
    print(HEADER)
    for row in rows:
        print(row.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
