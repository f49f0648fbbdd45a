"""Review API benchmark against a real server process (``baraza serve``, Postgres + Redis).

Seeds a fresh database with COPY: ``--comments`` comments (default 100,000) over ``--articles``
articles (2,000) by ``--users`` authors, ``--held`` of them held (20,000, spread over every
article), the rest mostly published, some pending, rejected and reported; one audit row per
machine decision. Then, at ``--concurrency`` (8) moderators in a closed loop:

1. the first page of the ``held`` queue ordered by risk (``GET /moderation/queues/held``,
   default page size 20), for ``--duration`` seconds. Target p99 < 50 ms.
2. bulk approve of ``--batch`` (100) held comments per request (``POST /moderation/decisions``),
   each request a different random slice of the held queue, ``--batches`` (100) requests.
   Target p99 < 250 ms.

Server, Postgres, Redis and this client share the machine's cores.

    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.review
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import random
import resource
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

from bench.profile import sampled, summary

ROOT = Path(__file__).resolve().parent.parent
PG_DSN = os.environ.get("BARAZA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BARAZA_BENCH_REDIS", "redis://127.0.0.1:6379/0")
JWT_SECRET = "bench-secret-" + "x" * 32
LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack")
BODY = (
    "Comment {i}: the security co-operation announced today will be judged by what it "
    "changes on the ground in Garissa and Lamu, not by the communique."
)


# Seeding


@dataclass
class Seed:
    held_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _status_plan(n: int, held: int, rng: random.Random) -> list[str]:
    pending, rejected = n // 50, n // 33
    plan = ["held"] * held + ["pending"] * pending + ["rejected"] * rejected
    plan += ["approved"] * (n - len(plan))
    rng.shuffle(plan)
    return plan


def _risk(status: str, rng: random.Random) -> float | None:
    if status == "pending":
        return None
    low, high = {"held": (0.5, 0.99), "rejected": (0.9, 1.0), "approved": (0.0, 0.5)}[status]
    return round(rng.uniform(low, high), 4)


def _scores(risk: float | None, rng: random.Random) -> str | None:
    if risk is None:
        return None
    return orjson.dumps(
        {label: round(risk * rng.uniform(0.2, 1.0), 4) for label in LABELS} | {"toxicity": risk}
    ).decode()


def _comment_rows(
    args: argparse.Namespace, rng: random.Random
) -> tuple[list[tuple[Any, ...]], Seed]:
    seed = Seed()
    now = dt.datetime.now(dt.UTC)
    plan = _status_plan(args.comments, args.held, rng)
    published_top: dict[str, list[int]] = {}
    rows = []
    for i, status in enumerate(plan, start=1):
        article = f"story-{(i * 7919) % args.articles}"
        author = f"reader-{rng.randrange(args.users)}"
        parents = published_top.get(article, [])
        parent = rng.choice(parents) if parents and rng.random() < 0.25 else None
        risk = _risk(status, rng)
        created = now - dt.timedelta(seconds=(args.comments - i) * 6)
        approved = status == "approved"
        reports = 1 + (i % 2) if approved and i % 97 == 0 else 0
        rows.append(
            (
                i,
                article,
                parent,
                parent,
                1 if parent else 0,
                author,
                BODY.format(i=i),
                f"<p>{BODY.format(i=i)}</p>",
                status,
                approved,
                created if approved else None,
                False,
                _scores(risk, rng),
                risk,
                None if risk is None else "original",
                None if status == "pending" else f"{status}: toxicity {risk}",
                None if status == "pending" else created,
                0,
                "{}",
                0,
                reports,
                None,
                created,
                None,
                created,
            )
        )
        if approved and parent is None:
            published_top.setdefault(article, []).append(i)
        if status == "held":
            seed.held_ids.append(i)
        seed.counts[status] = seed.counts.get(status, 0) + 1
    return rows, seed


COMMENT_COLUMNS = (
    "id",
    "article_id",
    "parent_id",
    "root_id",
    "depth",
    "author_id",
    "body",
    "html",
    "status",
    "visible",
    "published_at",
    "featured",
    "scores",
    "risk",
    "model",
    "decision_reason",
    "decided_at",
    "reaction_count",
    "reactions",
    "reply_count",
    "report_count",
    "idempotency_key",
    "created_at",
    "edited_at",
    "updated_at",
)


async def seed_database(database_url: str, args: argparse.Namespace) -> Seed:
    started = time.perf_counter()
    rng = random.Random(args.seed)
    comments, seed = _comment_rows(args, rng)
    now = dt.datetime.now(dt.UTC)
    approved: dict[str, int] = {}
    users: dict[str, list[int]] = {f"reader-{u}": [0, 0, 0] for u in range(args.users)}
    replies: dict[int, int] = {}
    for row in comments:
        status, author = row[8], row[5]
        counts = users.setdefault(author, [0, 0, 0])
        counts[0] += status == "approved"
        counts[1] += status == "rejected"
        counts[2] += row[20]
        if status == "approved":
            approved[row[1]] = approved.get(row[1], 0) + 1
            if row[2] is not None:
                replies[row[2]] = replies.get(row[2], 0) + 1
    comments = [(*row[:19], replies.get(row[0], 0), *row[20:]) for row in comments]
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.copy_records_to_table(
            "articles",
            records=[
                (
                    f"story-{a}",
                    f"Story {a}",
                    None,
                    "open",
                    "post",
                    None,
                    approved.get(f"story-{a}", 0),
                    now,
                    now,
                )
                for a in range(args.articles)
            ],
            columns=[
                "id",
                "title",
                "url",
                "comments",
                "moderation",
                "closes_at",
                "comment_count",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "users",
            records=[
                (u, u.title(), "active", None, None, c[0], c[1], c[2], now, now)
                for u, c in users.items()
            ],
            columns=[
                "id",
                "name",
                "status",
                "suspended_until",
                "status_reason",
                "approved_count",
                "rejected_count",
                "reported_count",
                "created_at",
                "last_seen_at",
            ],
        )
        await conn.copy_records_to_table("comments", records=comments, columns=COMMENT_COLUMNS)
        await conn.copy_records_to_table(
            "moderation_actions",
            records=[
                (
                    "system",
                    "auto_moderate",
                    row[0],
                    row[5],
                    "pending",
                    row[8],
                    row[15],
                    orjson.dumps({"rule": "score_hold" if row[8] == "held" else row[8]}).decode(),
                    row[22],
                )
                for row in comments
                if row[8] != "pending"
            ],
            columns=[
                "actor_id",
                "action",
                "comment_id",
                "subject_user_id",
                "before",
                "after",
                "reason",
                "details",
                "created_at",
            ],
        )
        reported = [row for row in comments if row[20]]
        await conn.copy_records_to_table(
            "reports",
            records=[
                (row[0], f"reader-{(row[0] + k + 1) % args.users}", "abuse", None, False, now)
                for row in reported
                for k in range(row[20])
            ],
            columns=["comment_id", "user_id", "reason", "note", "resolved", "created_at"],
        )
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('comments', 'id'), $1)", len(comments)
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    seed.seconds = time.perf_counter() - started
    return seed


# Server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    database_url: str, prefix: str, root: Path = ROOT
) -> tuple[subprocess.Popen[bytes], int]:
    env = {
        **os.environ,
        "BARAZA_DATABASE_URL": database_url,
        "BARAZA_REDIS_URL": REDIS_URL,
        "BARAZA_REDIS_PREFIX": prefix,
        "BARAZA_JWT_SECRET": JWT_SECRET,
        "BARAZA_EMBEDDED_WORKER": "false",
        "BARAZA_LOG_LEVEL": "WARNING",
        "BARAZA_RATE_LIMIT_ENABLED": "false",
    }
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def moderator_headers() -> dict[str, str]:
    from server.auth import mint_token
    from server.settings import Settings

    settings = Settings(
        database_url="postgresql+asyncpg://bench@127.0.0.1/b", jwt_secret=JWT_SECRET
    )
    token = mint_token(settings, sub="bench-moderator", name="Bench", roles=["moderator"])
    return {"Authorization": f"Bearer {token}"}


# Load


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    load: float = 0.0  # the machine's 1-minute load average when the run ended

    def q(self, quantile: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[max(1, math.ceil(quantile * len(ordered))) - 1] * 1000

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": len(self.latencies),
            "errors": len(self.errors),
            "error_samples": self.errors[:3],
            "rps": round(len(self.latencies) / self.wall, 1),
            "p50_ms": round(self.q(0.50), 2),
            "p99_ms": round(self.q(0.99), 2),
            "max_ms": round(self.q(1.0), 2),
            "server_cpu_s": round(self.server_cpu, 2),
            "client_cpu_s": round(self.client_cpu, 2),
            "wall_s": round(self.wall, 2),
            "load": round(self.load, 2),
        }


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


Request = Callable[[aiohttp.ClientSession], Awaitable[str | None]]


async def closed_loop(
    name: str,
    pid: int,
    concurrency: int,
    next_request: Callable[[], Request | None],
    duration: float | None,
    profile: Path | None = None,
) -> Run:
    """``concurrency`` workers each send a request, await it, send the next, until the time
    is up or ``next_request`` has none left. A request returns an error text or None.
    With ``profile``, the server's stacks are sampled into that file meanwhile."""
    run = Run(name)
    connector = aiohttp.TCPConnector(limit=concurrency)
    deadline = math.inf if duration is None else time.monotonic() + duration
    with sampled(pid, profile):
        cpu0, client0, started = process_cpu(pid), _client_cpu(), time.perf_counter()
        await _drive(run, concurrency, next_request, deadline, connector)
        run.wall = time.perf_counter() - started
        run.server_cpu, run.client_cpu = process_cpu(pid) - cpu0, _client_cpu() - client0
    run.load = os.getloadavg()[0]
    return run


async def _drive(
    run: Run,
    concurrency: int,
    next_request: Callable[[], Request | None],
    deadline: float,
    connector: aiohttp.TCPConnector,
) -> None:
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.monotonic() < deadline:
                request = next_request()
                if request is None:
                    return
                sent = time.perf_counter()
                error = await request(session)
                run.latencies.append(time.perf_counter() - sent)
                if error is not None:
                    run.errors.append(error)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def queue_page(base: str, headers: dict[str, str]) -> Request:
    url = f"{base}/api/v1/moderation/queues/held"

    async def send(session: aiohttp.ClientSession) -> str | None:
        async with session.get(url, params={"order": "risk"}, headers=headers) as r:
            body = await r.read()
            if r.status != 200:
                return f"{r.status} {body[:200]!r}"
            if len(orjson.loads(body)["items"]) != 20:
                return "short page"
            return None

    return send


def bulk_approve(base: str, headers: dict[str, str], ids: list[int]) -> Request:
    url = f"{base}/api/v1/moderation/decisions"
    payload = orjson.dumps({"comment_ids": ids, "action": "approve", "queue": "held"})
    json_headers = {**headers, "Content-Type": "application/json"}

    async def send(session: aiohttp.ClientSession) -> str | None:
        async with session.post(url, data=payload, headers=json_headers) as r:
            body = await r.read()
            if r.status != 200:
                return f"{r.status} {body[:200]!r}"
            applied = orjson.loads(body)["applied"]
            return None if applied == len(ids) else f"applied {applied} of {len(ids)}"

    return send


async def run_benchmarks(base: str, pid: int, seed: Seed, args: argparse.Namespace) -> list[Run]:
    headers = moderator_headers()
    page = queue_page(base, headers)
    await closed_loop("warm-up", pid, args.concurrency, lambda: page, 2.0)
    runs = [
        await closed_loop(
            "held queue, first page by risk",
            pid,
            args.concurrency,
            lambda: page,
            args.duration,
            _profile_path(args, "held-page"),
        )
    ]
    held = list(seed.held_ids)
    random.Random(args.seed + 1).shuffle(held)
    chunks = [held[i : i + args.batch] for i in range(0, len(held), args.batch)]
    chunks = [c for c in chunks if len(c) == args.batch]
    warm, measured = chunks[: args.concurrency], iter(chunks[args.concurrency :][: args.batches])
    warm_iter = iter(warm)
    await closed_loop(
        "warm-up", pid, args.concurrency, lambda: _next_bulk(base, headers, warm_iter), None
    )
    runs.append(
        await closed_loop(
            f"bulk approve {args.batch}",
            pid,
            args.concurrency,
            lambda: _next_bulk(base, headers, measured),
            None,
            _profile_path(args, "bulk-approve"),
        )
    )
    return runs


def _profile_path(args: argparse.Namespace, name: str) -> Path | None:
    if args.profile is None:
        return None
    path: Path = args.profile / f"review-{name}-{args.stamp}.txt"
    return path


def _next_bulk(base: str, headers: dict[str, str], chunks: Any) -> Request | None:
    chunk = next(chunks, None)
    return None if chunk is None else bulk_approve(base, headers, chunk)


# Main


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _report(seed: Seed, runs: Sequence[Run], args: argparse.Namespace) -> dict[str, Any]:
    result = {
        "benchmark": "review",
        "time": dt.datetime.now(dt.UTC).isoformat(),
        "cpus": os.cpu_count(),
        "concurrency": args.concurrency,
        "seed": {
            "comments": args.comments,
            "articles": args.articles,
            "counts": seed.counts,
            "seconds": round(seed.seconds, 1),
        },
        "runs": [run.summary() for run in runs],
    }
    print(f"seeded {args.comments:,} comments ({seed.counts}) in {seed.seconds:.1f} s")
    print(
        f"{'run':34} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'server cpu s':>12} {'load':>5}"
    )
    for run in runs:
        s = run.summary()
        print(
            f"{s['name']:34} {s['requests']:>8} {s['errors']:>6} {s['rps']:>7} "
            f"{s['p50_ms']:>7} {s['p99_ms']:>7} {s['server_cpu_s']:>12} {s['load']:>5}"
        )
        for sample in s["error_samples"]:
            print(f"    error: {sample}")
    return result


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.review",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--held", type=int, default=20_000)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of queue reads")
    parser.add_argument("--batch", type=int, default=100, help="comments per bulk approve")
    parser.add_argument("--batches", type=int, default=120, help="bulk approves measured")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--profile", type=Path, default=None, help="sample the server with py-spy into this dir"
    )
    parser.add_argument(
        "--server-root",
        type=Path,
        default=ROOT,
        help="run `baraza serve` from this checkout (a baseline worktree, say)",
    )
    args = parser.parse_args(argv)
    stamp = args.stamp = int(time.time())

    name = f"baraza_bench_review_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    database_url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}"
    try:
        from server.db import upgrade

        upgrade(database_url)
        seed = asyncio.run(seed_database(database_url, args))
        proc, port = start_server(database_url, f"bench:{name}:", args.server_root)
        try:
            with asyncio.Runner(loop_factory=_new_loop) as runner:
                runs = runner.run(run_benchmarks(f"http://127.0.0.1:{port}", proc.pid, seed, args))
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    result = _report(seed, runs, args)
    if args.profile is not None:
        for path in sorted(args.profile.glob(f"review-*-{stamp}.txt")):
            print(summary(path, 20))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
