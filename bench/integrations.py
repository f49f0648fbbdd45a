"""Integrations benchmarks: Disqus import throughput and peak memory, webhook deliveries/s.

1. ``import``: generates a Disqus export of ``--comments`` posts (default 1,000,000) over
   ``--threads`` threads (2,000) under /tmp (30% replies, 2% deleted, 1% spam, some odd
   Unicode and HTML), then runs ``baraza import disqus FILE`` as a child process against a fresh
   PostgreSQL database and reports wall time, comments/s and the child's peak RSS; then runs it
   a second time (idempotent: everything already imported).
2. ``webhooks``: a receiver in a child process (aiohttp, answers 500 to ``--fail`` of requests,
   default 1%), ``--deliveries`` (20,000) queued deliveries, one Dispatcher (batch 50,
   concurrency 16, retry base 0.1 s) in this process, until every delivery is delivered.

    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.integrations import
    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.integrations webhooks
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
PG_DSN = os.environ.get("BARAZA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
JWT_SECRET = "bench-secret-" + "x" * 32
ODD = ["Ḽơᶉëᶆ", "🇰🇪", "مرحبا", "שלום", "e\u0301", "zero\u200bwidth", "&amp;", "<b>bold</b>"]


# Generating a Disqus export


def generate_disqus(path: Path, comments: int, threads: int, seed: int = 1) -> None:
    """Write the export in one pass (threads first, then posts), never holding it in memory."""
    rng = random.Random(seed)
    per_thread: list[list[int]] = [[] for _ in range(threads)]
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        out.write(
            '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n'
        )
        for t in range(threads):
            out.write(
                f'<thread dsq:id="{t + 1}"><id>bench-article-{t + 1}</id><forum>bench</forum>'
                f"<link>https://paper.example/a/{t + 1}</link><title>Article {t + 1}</title>"
                "<createdAt>2018-01-01T00:00:00Z</createdAt></thread>\n"
            )
        for i in range(comments):
            post_id = 1_000_000 + i
            t = rng.randrange(threads)
            siblings = per_thread[t]
            parent = ""
            if siblings and rng.random() < 0.3:
                parent = f'<parent dsq:id="{rng.choice(siblings[-50:])}"/>'
            if len(siblings) < 200:
                siblings.append(post_id)
            else:
                siblings[rng.randrange(200)] = post_id
            odd = rng.choice(ODD) if rng.random() < 0.1 else ""
            deleted = "true" if rng.random() < 0.02 else "false"
            spam = "true" if rng.random() < 0.01 else "false"
            user = rng.randrange(50_000)
            seconds = i * 60
            created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1514764800 + seconds))
            out.write(
                f'<post dsq:id="{post_id}"><message><![CDATA[<p>Comment {i} on the security '
                f"co-operation story {odd}</p><p>Second paragraph with a "
                f'<a href="https://x.example/{i}">link</a>.</p>]]></message>'
                f"<createdAt>{created}</createdAt><isDeleted>{deleted}</isDeleted>"
                f"<isSpam>{spam}</isSpam><author><name>Reader {user}</name>"
                f"<username>reader{user}</username><isAnonymous>false</isAnonymous></author>"
                f'<thread dsq:id="{t + 1}"/>{parent}</post>\n'
            )
        out.write("</disqus>\n")


# Databases


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def fresh_database(name: str) -> str:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}"
    from server.db import upgrade

    upgrade(url)
    return url


def drop_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# 1. Import


def _child_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(BARAZA_DATABASE_URL=url, BARAZA_JWT_SECRET=JWT_SECRET, PYTHONPATH=str(ROOT))
    return env


def _timed_import(path: Path, url: str) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB of the child, its last stderr lines)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "import", "disqus", str(path)],
        env=_child_env(url), capture_output=True, text=True, check=False,
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stderr[-3000:]}")
    tail = "\n".join(done.stderr.replace("\r", "\n").strip().splitlines()[-4:])
    # ru_maxrss of children is the largest child so far (KiB on Linux).
    return elapsed, max(peak, before) / 1024, tail


def bench_import(args: argparse.Namespace) -> None:
    path = Path(args.file)
    if not path.exists() or args.regenerate:
        started = time.perf_counter()
        generate_disqus(path, args.comments, args.threads)
        print(f"generated {path} ({path.stat().st_size / 2**20:,.0f} MiB, {args.comments:,} "
              f"posts) in {time.perf_counter() - started:,.0f} s")
    name = f"baraza_bench_import_{uuid.uuid4().hex[:6]}"
    url = fresh_database(name)
    try:
        seconds, peak, tail = _timed_import(path, url)
        print(f"first import: {seconds:,.1f} s, {args.comments / seconds:,.0f} posts/s, "
              f"peak RSS {peak:,.0f} MiB\n{tail}")
        seconds, peak, tail = _timed_import(path, url)
        print(f"second import (all already there): {seconds:,.1f} s, "
              f"{args.comments / seconds:,.0f} posts/s\n{tail}")
    finally:
        drop_database(name)


# 2. Webhooks


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def receiver(port: int, fail: float) -> None:
    from aiohttp import web

    rng = random.Random(2)

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500 if rng.random() < fail else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _webhooks(url: str, port: int, deliveries: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from server.db import create_engine, create_sessionmaker, utcnow
    from server.settings import Settings
    from server.webhooks.dispatch import Dispatcher, HttpSender
    from server.webhooks.models import EventType, Webhook, WebhookAttempt, WebhookDelivery
    from server.webhooks.outbox import enqueue

    settings = Settings(
        database_url=url, jwt_secret=JWT_SECRET, webhook_allow_private=True,
        webhook_backoff_base_seconds=0.1, webhook_max_attempts=8,
    )
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        session.add(Webhook(url=f"http://127.0.0.1:{port}/hook", events=["comment.posted"],
                            secret="whsec_" + "A" * 43 + "=", active=True, created_by="bench"))
    for start in range(0, deliveries, 1000):
        async with sessionmaker.begin() as session:
            for i in range(start, min(start + 1000, deliveries)):
                await enqueue(session, EventType.comment_posted,
                              {"comment": {"id": i, "body": "Bench comment " * 8}},
                              now=utcnow())
    sender = HttpSender(settings)
    dispatcher = Dispatcher(sessionmaker=sessionmaker, settings=settings, sender=sender)
    started = time.perf_counter()
    try:
        while True:
            tried = await dispatcher.run_once()
            if tried == 0:
                async with sessionmaker() as session:
                    left = await session.scalar(
                        select(func.count()).select_from(WebhookDelivery)
                        .where(WebhookDelivery.status == "pending")
                    )
                if not left:
                    break
                await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        async with sessionmaker() as session:
            attempts = await session.scalar(select(func.count()).select_from(WebhookAttempt))
            failed = await session.scalar(
                select(func.count()).select_from(WebhookAttempt)
                .where(WebhookAttempt.status_code != 200)
            )
            statuses = dict((await session.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
            )).tuples().all())
    finally:
        await sender.aclose()
        await engine.dispose()
    return {"seconds": elapsed, "attempts": attempts, "failed_attempts": failed,
            "statuses": statuses}


def bench_webhooks(args: argparse.Namespace) -> None:
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.integrations", "receiver", "--port", str(port),
         "--fail", str(args.fail)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    name = f"baraza_bench_hooks_{uuid.uuid4().hex[:6]}"
    try:
        url = fresh_database(name)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        out = asyncio.run(_webhooks(url, port, args.deliveries))
        delivered = out["statuses"].get("delivered", 0)
        print(f"{args.deliveries:,} deliveries, receiver failing {args.fail:.0%}: "
              f"{out['seconds']:,.1f} s, {delivered / out['seconds']:,.0f} delivered/s, "
              f"{out['attempts'] / out['seconds']:,.0f} attempts/s; attempts {out['attempts']:,} "
              f"(failed {out['failed_attempts']:,}); final {out['statuses']}")
    finally:
        child.terminate()
        child.wait()
        drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    imp = sub.add_parser("import")
    imp.add_argument("--comments", type=int, default=1_000_000)
    imp.add_argument("--threads", type=int, default=2_000)
    imp.add_argument("--file", default="/tmp/baraza-bench-disqus.xml")
    imp.add_argument("--regenerate", action="store_true")
    hooks = sub.add_parser("webhooks")
    hooks.add_argument("--deliveries", type=int, default=20_000)
    hooks.add_argument("--fail", type=float, default=0.01)
    rec = sub.add_parser("receiver")
    rec.add_argument("--port", type=int, required=True)
    rec.add_argument("--fail", type=float, default=0.01)
    args = parser.parse_args()
    if args.what == "import":
        bench_import(args)
    elif args.what == "webhooks":
        bench_webhooks(args)
    else:
        receiver(args.port, args.fail)


if __name__ == "__main__":
    main()
