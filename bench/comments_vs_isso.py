"""Readers' comment API against Isso 0.14: post a comment, and read the first page of a
5,000-comment thread, at concurrency 1, 16 and 64.

Run (other engineers benchmark on the same machine; the lock serialises us):

    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.comments_vs_isso

Baraza runs against PostgreSQL and Redis as in production: two ``baraza serve`` processes on
two ports, the load generator spreading its connections over both. Isso runs from its own venv
(``bench/.isso-venv``, git-ignored) under gunicorn with two (sync) workers, ``[guard]`` off,
SQLite in a temporary directory. Both threads hold the same 5,000 texts: 1,250 top-level
comments with 3 replies each. A page is 20 top-level comments with their first 3 replies, on
both sides (Isso: ``limit=20&nested_limit=3``). Isso sends ``title`` with each post, as its
widget does, so it never fetches the page to find one.

Client, servers and the database share this machine's cores; the script reports the CPU each
of them used during every measurement so the reader can see who was the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import orjson
import redis

from bench.http_load import LoadResult, LoadSpec, run_load
from bench.profile import sampled, summary

ROOT = Path(__file__).resolve().parent.parent
ISSO_VENV = ROOT / "bench" / ".isso-venv"
RESULTS = ROOT / "bench" / "results"

PG_DSN = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
DB_NAME = "baraza_bench"

TOP_LEVEL = 1250
REPLIES_EACH = 3
THREAD_SIZE = TOP_LEVEL * (1 + REPLIES_EACH)  # 5,000
PAGE_SIZE = 20  # Baraza's default page size, and Isso's `limit`
POSTERS = 256  # distinct signed-in readers posting (Isso has no accounts)
THREAD_ARTICLE, POST_ARTICLE = "bench-thread", "bench-post"
ISSO_THREAD, ISSO_POST = "/bench/thread", "/bench/post"
CONCURRENCIES = (1, 16, 64)
TICK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- texts

_SENTENCES = [
    "The security co-operation agreement should have been signed years ago.",
    "Al-Shabaab has lost ground, but the explosion shows they can still strike the capital.",
    "My cousin lives two streets from the market; the whole neighbourhood heard the blast.",
    "Who pays for the reconstruction this time? The article does not say.",
    "Somali and Kenyan police working together is the only way this ends.",
    "I remember when the road to the port was safe to drive at night.",
    "The gas explosion and the attack are separate stories and should not be mixed up.",
    "Thoughts with the families. Nobody deserves to lose a son at a bus stop.",
    "More soldiers is not a strategy; jobs for young men would do more.",
    "Muslim leaders condemned the attack within an hour, which the headline ignores.",
    "The minister promised an inquiry after the last one too. Nothing came of it.",
    "Good reporting, but a map of where the checkpoints are would help readers.",
    "Can someone explain why the border crossing was open that morning?",
    "Full report here: https://example.org/reports/security-2026?page=2 worth reading.",
]


def comment_texts(n: int, seed: int = 2026) -> list[str]:
    """``n`` reader comments of one to four sentences, some in two paragraphs."""
    rnd = random.Random(seed)
    texts = []
    for i in range(n):
        parts = rnd.sample(_SENTENCES, rnd.randint(1, 4))
        if len(parts) > 2 and rnd.random() < 0.3:
            texts.append(" ".join(parts[:2]) + "\n\n" + " ".join(parts[2:]))
        else:
            texts.append(" ".join(parts) + f" (#{i})")
    return texts


@dataclass(frozen=True)
class SeedComment:
    id: int
    parent: int | None
    author: int
    text: str
    created: float


def thread_rows(now: float) -> list[SeedComment]:
    """The 5,000-comment thread both systems hold: each top-level comment, then its replies."""
    texts = comment_texts(THREAD_SIZE)
    rows = []
    for t in range(TOP_LEVEL):
        top = t * (1 + REPLIES_EACH) + 1
        for k in range(1 + REPLIES_EACH):
            cid = top + k
            rows.append(SeedComment(
                id=cid, parent=None if k == 0 else top, author=cid % 200,
                text=texts[cid - 1], created=now - (THREAD_SIZE - cid) * 30.0,
            ))
    return rows


# --------------------------------------------------------------------------- CPU accounting


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def cpu_seconds(pids: Sequence[int], *, reaped_children: bool = False) -> float:
    """utime+stime of ``pids`` (plus, when asked, of their exited children)."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is None:
            continue
        # Fields after "(comm) ": state=0 ... utime=11 stime=12 cutime=13 cstime=14.
        total += int(fields[11]) + int(fields[12])
        if reaped_children:
            total += int(fields[13]) + int(fields[14])
    return total / TICK


def _pids_named(*names: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in names:
                    pids.append(int(entry.name))
    return pids


def store_pids() -> list[int]:
    """Postgres backends serving the benchmark database, and Redis (shared, but lightly used)."""
    pids = _pids_named("redis-server")
    for pid in _pids_named("postgres"):
        with contextlib.suppress(OSError):
            if f" {DB_NAME} ".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(pid)
    return pids


def _postmasters() -> list[int]:
    """PostgreSQL's main processes (the parents of every backend)."""
    names = set(_pids_named("postgres", "postmaster"))
    out = []
    for pid in names:
        fields = _stat(pid)
        if fields is not None and int(fields[1]) not in names:
            out.append(pid)
    return out


class StoreSampler:
    """CPU of every PostgreSQL backend that served the benchmark database during a measurement,
    including backends that connected and exited meanwhile (a pool that overflows opens and
    closes connections: sampling only at the start and the end lost their CPU, so the
    database's share fell as the churn rose). A thread polls the postmaster's children every
    ``interval`` seconds and keeps each backend's last reading; Redis is read at both ends.
    What a backend spends after its last reading is still lost: ``sessions`` says how many
    backends there were, ``exited`` how many of them left before the end."""

    def __init__(self, interval: float = 0.05) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._ours: dict[int, bool] = {}
        self._redis0 = 0.0
        self.sessions = self.exited = 0

    def _ours_pid(self, pid: int) -> bool:
        known = self._ours.get(pid)
        if known is None:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                return False
            known = self._ours[pid] = f" {DB_NAME} ".encode() in cmdline
        return known

    def _poll(self, first: bool) -> None:
        for master in _postmasters():
            for pid in children(master):
                if not self._ours_pid(pid):
                    continue
                cpu = cpu_seconds([pid])
                if not cpu and _stat(pid) is None:
                    continue
                if pid not in self._last:
                    self._first[pid] = cpu if first else 0.0
                self._last[pid] = cpu

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._poll(False)

    def start(self) -> None:
        self._first, self._last = {}, {}
        self._redis0 = cpu_seconds(_pids_named("redis-server"))
        self._poll(True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """Seconds of CPU the benchmark's backends and Redis used since ``start``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        alive = set(self._last)
        self._poll(False)
        alive = {pid for pid in alive if _stat(pid) is not None}
        self.sessions = len(self._last)
        self.exited = self.sessions - len(alive)
        backends = sum(self._last[pid] - self._first.get(pid, 0.0) for pid in self._last)
        return backends + cpu_seconds(_pids_named("redis-server")) - self._redis0


def children(pid: int) -> list[int]:
    try:
        raw = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in raw.split()]


def machine_busy_seconds() -> float:
    """All CPU time spent on the machine (every core, not idle or iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


@dataclass
class CpuUse:
    """Cores used during a measurement (1.0 = one core busy the whole time)."""

    server: float
    store: float
    client: float
    other: float
    sessions: int = 0  # PostgreSQL backends that served the benchmark during the measurement
    exited: int = 0  # of which closed before its end (pool churn)


class CpuMeter:
    def __init__(self, server_pids: Callable[[], list[int]], uses_stores: bool) -> None:
        self._server_pids = server_pids
        self._uses_stores = uses_stores
        self._stores = StoreSampler()
        self._start: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def _sample(self) -> tuple[float, float, float]:
        return (cpu_seconds(self._server_pids()), machine_busy_seconds(), time.perf_counter())

    def start(self) -> None:
        if self._uses_stores:
            self._stores.start()
        self._start = self._sample()

    def stop(self, client_cpu: float) -> CpuUse:
        end = self._sample()
        store = self._stores.stop() if self._uses_stores else 0.0
        s_server, s_busy, s_wall = self._start
        wall = end[2] - s_wall
        server, busy = end[0] - s_server, end[1] - s_busy
        other = max(0.0, busy - server - store - client_cpu)
        return CpuUse(server / wall, store / wall, client_cpu / wall, other / wall,
                      self._stores.sessions, self._stores.exited)


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


class Servers:
    """Server processes this script started; stopped (and only those) on exit."""

    def __init__(self, name: str, logdir: Path) -> None:
        self.name, self.logdir = name, logdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> None:
        log = (self.logdir / f"{self.name}-{len(self.procs)}.log").open("wb")
        self.procs.append(
            subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        )

    def pids(self) -> list[int]:
        """The processes and their children (gunicorn's workers)."""
        out = []
        for proc in self.procs:
            out.append(proc.pid)
            out.extend(children(proc.pid))
        return out

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def log_tail(self, lines: int = 20) -> str:
        tails = []
        for path in sorted(self.logdir.glob(f"{self.name}-*.log")):
            tails.append(f"--- {path.name}\n" + "\n".join(path.read_text().splitlines()[-lines:]))
        return "\n".join(tails)


# --------------------------------------------------------------------------- Baraza


@dataclass(frozen=True)
class Target:
    """One system under test: where to GET the page and POST comments, and how."""

    name: str
    get: LoadSpec
    post: LoadSpec
    pids: Callable[[], list[int]]
    uses_stores: bool  # Postgres + Redis; Isso's SQLite runs inside its own workers


async def _recreate_database() -> None:
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await conn.close()


async def _seed_baraza(rows: Sequence[SeedComment]) -> None:
    from server.comments.text import render_html

    conn = await asyncpg.connect(f"{PG_DSN}/{DB_NAME}")
    now = dt.datetime.now(dt.UTC)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "users",
                columns=["id", "name", "status", "approved_count", "rejected_count",
                         "reported_count", "created_at", "last_seen_at"],
                records=[(f"reader-{i}", f"Reader {i}", "active", 25, 0, 0, now, now)
                         for i in range(200)],
            )
            await conn.execute(
                "INSERT INTO articles (id, title, comments, moderation, comment_count, "
                "created_at, updated_at) VALUES ($1, $2, 'open', 'post', $3, $4, $4)",
                THREAD_ARTICLE, "Security co-operation and the gas explosion", len(rows), now,
            )
            records = []
            for c in rows:
                at = dt.datetime.fromtimestamp(c.created, dt.UTC)
                records.append((
                    c.id, THREAD_ARTICLE, c.parent, c.parent, 0 if c.parent is None else 1,
                    f"reader-{c.author}", c.text, render_html(c.text), "approved", True, at,
                    False, 0, "{}", REPLIES_EACH if c.parent is None else 0, 0, at, at, at,
                ))
            await conn.copy_records_to_table(
                "comments",
                columns=["id", "article_id", "parent_id", "root_id", "depth", "author_id",
                         "body", "html", "status", "visible", "published_at", "featured",
                         "reaction_count", "reactions", "reply_count", "report_count",
                         "created_at", "updated_at", "decided_at"],
                records=records,
            )
            await conn.execute("SELECT setval('comments_id_seq', $1)", len(rows))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def baraza_env(redis_prefix: str, secret: str) -> dict[str, str]:
    return os.environ | {
        "BARAZA_DATABASE_URL": f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{DB_NAME}",
        "BARAZA_REDIS_URL": REDIS_URL,
        "BARAZA_REDIS_PREFIX": redis_prefix,
        "BARAZA_JWT_SECRET": secret,
        "BARAZA_RATE_LIMIT_ENABLED": "false",
        "BARAZA_EMBEDDED_WORKER": "false",
        "BARAZA_LOG_LEVEL": "WARNING",
    }


def baraza_command() -> list[str]:
    """``baraza``, run from a checkout's directory: its own ``server`` package comes first."""
    return [sys.executable, "-m", "server.cli"]


def setup_baraza(
    servers: Servers,
    rows: Sequence[SeedComment],
    processes: int,
    redis_prefix: str,
    root: Path = ROOT,
) -> Target:
    from server.auth import mint_token
    from server.settings import load_settings

    secret = secrets.token_urlsafe(32)
    env = baraza_env(redis_prefix, secret)
    asyncio.run(_recreate_database())
    baraza = baraza_command()
    subprocess.run([*baraza, "migrate"], env=env, check=True, capture_output=True, cwd=root)
    asyncio.run(_seed_baraza(rows))
    ports = [free_port() for _ in range(processes)]
    for port in ports:
        servers.start([*baraza, "serve", "--host", "127.0.0.1", "--port", str(port)], env, root)
    for port in ports:
        wait_http(f"http://127.0.0.1:{port}/healthz")
    bases = [f"http://127.0.0.1:{port}/api/v1/articles" for port in ports]
    settings = load_settings(database_url=env["BARAZA_DATABASE_URL"], jwt_secret=secret)
    tokens = [mint_token(settings, sub=f"poster-{i}", name=f"Poster {i}") for i in range(POSTERS)]
    texts = comment_texts(POSTERS, seed=7)
    return Target(
        name="Baraza",
        get=LoadSpec("GET", tuple(f"{b}/{THREAD_ARTICLE}/comments?sort=newest&limit={PAGE_SIZE}"
                                  for b in bases)),
        post=LoadSpec(
            "POST", tuple(f"{b}/{POST_ARTICLE}/comments" for b in bases),
            bodies=tuple(orjson.dumps({"body": t}) for t in texts),
            headers=tuple({"Authorization": f"Bearer {t}", "Content-Type": "application/json"}
                          for t in tokens),
            ok_statuses=frozenset({202}),
        ),
        pids=servers.pids,
        uses_stores=True,
    )


def check_baraza_page(body: bytes) -> str:
    page = orjson.loads(body)
    items = page["items"]
    replies = sum(len(i["replies"]) for i in items)
    if len(items) != PAGE_SIZE or replies != PAGE_SIZE * REPLIES_EACH:
        raise RuntimeError(f"unexpected Baraza page: {len(items)} items, {replies} replies")
    if page["comment_count"] != THREAD_SIZE:
        raise RuntimeError(f"Baraza thread holds {page['comment_count']} comments")
    return f"{len(items)} comments + {replies} replies of {page['comment_count']}"


def cleanup_redis(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --------------------------------------------------------------------------- Isso

ISSO_SEED = r"""
import json, sqlite3, sys
from isso import config
from isso.db import SQLite3
from isso.utils import Bloomfilter

conf = config.load(config.default_file(), sys.argv[1])
path = conf.get("general", "dbpath")
db = SQLite3(path, conf)  # Isso creates its own schema (version 5)
db.threads.new(sys.argv[2], "Security co-operation and the gas explosion")
tid = db.threads[sys.argv[2]]["id"]
voters = memoryview(Bloomfilter(iterable=["127.0.0.0"]).array)
rows = json.load(sys.stdin)
with sqlite3.connect(path) as con:
    con.executemany(
        "INSERT INTO comments (tid, id, parent, created, modified, mode, remote_addr, text,"
        " author, email, website, likes, dislikes, voters, notification)"
        " VALUES (?, ?, ?, ?, NULL, 1, '127.0.0.0', ?, ?, NULL, NULL, 0, 0, ?, 0)",
        [(tid, r["id"], r["parent"], r["created"], r["text"], r["author"], voters)
         for r in rows],
    )
print(con.execute("SELECT COUNT(*) FROM comments").fetchone()[0])
"""

ISSO_CONF = """\
[general]
dbpath = {tmp}/isso.db
# Isso checks its site on start; a refused loopback port answers at once.
host = http://127.0.0.1:1/
notify = stdout
[moderation]
enabled = false
[guard]
enabled = false
[server]
listen = http://127.0.0.1:{port}/
"""


def setup_isso(servers: Servers, rows: Sequence[SeedComment], tmp: Path, workers: int) -> Target:
    python, gunicorn = ISSO_VENV / "bin" / "python", ISSO_VENV / "bin" / "gunicorn"
    if not gunicorn.exists():
        raise SystemExit(
            f"Isso is not installed: python3 -m venv {ISSO_VENV} && "
            f"{ISSO_VENV}/bin/pip install isso==0.14.0 gunicorn"
        )
    port = free_port()
    conf = tmp / "isso.cfg"
    conf.write_text(ISSO_CONF.format(tmp=tmp, port=port))
    payload = json.dumps([
        {"id": c.id, "parent": c.parent, "created": c.created, "text": c.text,
         "author": f"Reader {c.author}"} for c in rows
    ])
    seeded = subprocess.run([str(python), "-c", ISSO_SEED, str(conf), ISSO_THREAD],
                            input=payload.encode(), check=True, capture_output=True)
    if int(seeded.stdout.split()[-1]) != THREAD_SIZE:
        raise RuntimeError(f"Isso seeding: {seeded.stdout!r} {seeded.stderr!r}")
    env = os.environ | {"ISSO_SETTINGS": str(conf)}
    servers.start([str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                   "--log-level", "warning", "isso.run:application"], env)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/info")
    texts = comment_texts(POSTERS, seed=7)
    return Target(
        name="Isso",
        get=LoadSpec("GET", (f"{base}/?uri={ISSO_THREAD}&sort=newest&limit={PAGE_SIZE}"
                             f"&nested_limit={REPLIES_EACH}",)),
        post=LoadSpec(
            "POST", (f"{base}/new?uri={ISSO_POST}",),
            bodies=tuple(orjson.dumps({"text": t, "author": f"Poster {i}",
                                       "title": "Security co-operation"})
                         for i, t in enumerate(texts)),
            headers=({"Content-Type": "application/json"},),
            ok_statuses=frozenset({201}),
        ),
        pids=servers.pids,
        uses_stores=False,
    )


def check_isso_page(body: bytes) -> str:
    page = orjson.loads(body)
    items = page["replies"]
    replies = sum(len(i["replies"]) for i in items)
    if len(items) != PAGE_SIZE or replies != PAGE_SIZE * REPLIES_EACH:
        raise RuntimeError(f"unexpected Isso page: {len(items)} items, {replies} replies")
    return f"{len(items)} comments + {replies} replies of {page['total_replies']}"


# --------------------------------------------------------------------------- measuring


@dataclass
class Cell:
    system: str
    op: str
    concurrency: int
    result: LoadResult
    cpu: CpuUse

    def row(self) -> dict[str, object]:
        r = self.result
        return {
            "system": self.system, "op": self.op, "concurrency": self.concurrency,
            "rps": round(r.rps, 1), "p50_ms": round(r.percentile(0.5) * 1000, 2),
            "p99_ms": round(r.percentile(0.99) * 1000, 2), "requests": r.requests,
            "errors": r.errors, "error_samples": r.error_samples,
            "cpu_cores": {"server": round(self.cpu.server, 2), "store": round(self.cpu.store, 2),
                          "client": round(self.cpu.client, 2), "other": round(self.cpu.other, 2)},
        }


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return bytes(resp.read())


def wait_quiet(limit: float, threshold: float = 0.35) -> float:
    """Wait (up to ``limit`` s) until the machine is nearly idle; return the busy cores seen.

    Other engineers share this machine; a measurement that starts while their jobs run
    compares the two systems under different conditions.
    """
    deadline = time.monotonic() + limit
    while True:
        before, started = machine_busy_seconds(), time.perf_counter()
        time.sleep(1.0)
        busy = (machine_busy_seconds() - before) / (time.perf_counter() - started)
        if busy < threshold or time.monotonic() > deadline:
            return busy


def measure(target: Target, op: str, args: argparse.Namespace) -> Iterator[Cell]:
    if op not in args.ops:
        return
    spec = target.get if op == "GET" else target.post
    meter = CpuMeter(target.pids, target.uses_stores)
    if args.warmup > 0:
        # Warm caches and connections once per operation, at low concurrency so that no
        # queued request of the warm-up spills into the first measurement.
        run_load(spec, concurrency=4, duration=args.warmup)
    for concurrency in args.concurrency:
        idle = wait_quiet(args.settle)
        profile = None
        if args.profile is not None and target.uses_stores:
            profile = args.profile / f"{args.label}-{op.lower()}-c{concurrency}.txt"
        with sampled(target.pids()[0], profile):
            meter.start()
            result = run_load(spec, concurrency=concurrency, duration=args.duration,
                              processes=args.client_processes)
            cell = Cell(target.name, op, concurrency, result,
                        meter.stop(result.client_cpu_seconds))
        c = cell.cpu
        print(f"  {target.name:6} {op:4} c={concurrency:<3} {result.summary()}\n"
              f"{'':18}CPU cores: server {c.server:.2f}  postgres+redis {c.store:.2f}  "
              f"client {c.client:.2f}  other {c.other:.2f} (busy before start: {idle:.2f}; "
              f"load average {os.getloadavg()[0]:.2f}; database sessions {c.sessions}, "
              f"{c.exited} closed meanwhile)",
              flush=True)
        if profile is not None:
            print(summary(profile, 15), flush=True)
        for sample in result.error_samples:
            print(f"{'':18}error: {sample}", flush=True)
        yield cell


def run_target(setup: Callable[[], Target], check: Callable[[bytes], str],
               args: argparse.Namespace) -> list[Cell]:
    target = setup()
    print(f"{target.name}: first page = {check(fetch(target.get.urls[0]))}; "
          f"{len(fetch(target.get.urls[0])):,} bytes", flush=True)
    cells = list(measure(target, "GET", args))
    # Posts after reads: Isso scans its whole comments table for a page, so posting first
    # would slow its reads down with our own load.
    cells += list(measure(target, "POST", args))
    return cells


# --------------------------------------------------------------------------- report


def _fmt(cell: Cell | None) -> tuple[str, str, str]:
    if cell is None:
        return ("-", "-", "-")
    r = cell.result
    return (f"{r.rps:,.0f}", f"{r.percentile(0.5) * 1000:.1f}", f"{r.percentile(0.99) * 1000:.1f}")


def cpu_per_request(cell: Cell) -> float:
    """Server + database + client CPU per request, in seconds."""
    c = cell.cpu
    return (c.server + c.store + c.client) / cell.result.rps if cell.result.rps else math.nan


def table(cells: Sequence[Cell]) -> str:
    """A Markdown table, Baraza beside Isso, with the ratio of requests/s.

    The last column divides CPU per request instead (Isso's over Baraza's, client included):
    the ratio the two would reach with the machine to themselves, independent of other load.
    """
    by = {(c.system, c.op, c.concurrency): c for c in cells}
    lines = [
        "| operation | conc. | Baraza req/s | p50 ms | p99 ms | Isso req/s | p50 ms | p99 ms "
        "| Baraza/Isso req/s | by CPU per request |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    concurrencies = sorted({c.concurrency for c in cells})
    for op, label in (("POST", "POST a comment"), ("GET", "GET first page (5,000-comment thread)")):
        for n in concurrencies:
            b, i = by.get(("Baraza", op, n)), by.get(("Isso", op, n))
            ratio = f"{b.result.rps / i.result.rps:.1f}×" if b and i and i.result.rps else "-"
            cpu = f"{cpu_per_request(i) / cpu_per_request(b):.1f}×" if b and i else "-"
            lines.append(f"| {label} | {n} | {' | '.join(_fmt(b))} | {' | '.join(_fmt(i))} "
                         f"| {ratio} | {cpu} |")
    return "\n".join(lines)


def cpu_table(cells: Sequence[Cell]) -> str:
    """CPU per request (ms): robust to other load on the machine, unlike requests/s."""
    lines = ["| system | operation | conc. | server | postgres+redis | client | other load "
             "(cores) | database sessions (closed meanwhile) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in cells:
        per = 1000 / c.result.rps if c.result.rps else math.nan
        store = f"{c.cpu.store * per:.2f}" if c.system == "Baraza" else "(in-process SQLite)"
        lines.append(f"| {c.system} | {c.op} | {c.concurrency} | {c.cpu.server * per:.2f} | "
                     f"{store} | {c.cpu.client * per:.2f} | {c.cpu.other:.2f} "
                     f"| {c.cpu.sessions} ({c.cpu.exited}) |")
    return "\n".join(lines)


def verdict(cells: Sequence[Cell]) -> list[str]:
    by = {(c.system, c.op, c.concurrency): c for c in cells}
    top = max(c.concurrency for c in cells)
    out = []
    for op, want in (("POST", 3.0), ("GET", 5.0)):
        b, i = by.get(("Baraza", op, top)), by.get(("Isso", op, top))
        if b and i and i.result.rps:
            ratio = b.result.rps / i.result.rps
            out.append(f"{op} at concurrency {top}: {ratio:.1f}× Isso (target ≥ {want:.0f}×): "
                       f"{'met' if ratio >= want else 'MISSED'}")
    g = by.get(("Baraza", "GET", top))
    if g:
        p99 = g.result.percentile(0.99) * 1000
        out.append(f"GET p99 at concurrency {top}: {p99:.1f} ms (target < 50 ms): "
                   f"{'met' if p99 < 50 else 'MISSED'}")
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.comments_vs_isso", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of warm-up per system and operation")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds to wait at most for the machine to be idle before each")
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCIES))
    parser.add_argument("--processes", type=int, default=2,
                        help="server processes: Baraza serve processes and Isso gunicorn workers")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--only", choices=["baraza", "isso"], default=None)
    parser.add_argument("--ops", nargs="+", choices=["GET", "POST"], default=["GET", "POST"])
    parser.add_argument("--server-root", type=Path, default=ROOT,
                        help="run Baraza from this checkout (a baseline, say)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="sample the first Baraza server with py-spy into this directory")
    parser.add_argument("--label", default="baraza", help="names the profile files")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    print(f"Readers' comment API vs Isso 0.14 — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores shared by the load generator, the servers, PostgreSQL and "
          f"Redis; {args.processes} server processes each; {args.duration:.0f} s per "
          f"measurement after {args.warmup:.0f} s warm-up.", flush=True)
    rows = thread_rows(time.time())
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="bench-comments-") as tmpdir:
        tmp = Path(tmpdir)
        if args.only in (None, "baraza"):
            cells += _run_baraza(rows, tmp, args)
        if args.only in (None, "isso"):
            isso = Servers("isso", tmp)
            try:
                cells += run_target(lambda: setup_isso(isso, rows, tmp, args.processes),
                                    check_isso_page, args)
            finally:
                isso.stop()
    print("\n" + table(cells) + "\n\nCPU time per request in ms (other load: cores used by "
          "processes outside the test):\n\n"
          + cpu_table(cells) + "\n")
    for line in verdict(cells):
        print(line)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"comments_vs_isso-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps([c.row() for c in cells], indent=1))
    print(f"\nraw figures: {out.relative_to(ROOT)}; total {time.monotonic() - started:.0f} s")
    return 0


def _run_baraza(rows: Sequence[SeedComment], tmp: Path, args: argparse.Namespace) -> list[Cell]:
    servers = Servers("baraza", tmp)
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    try:
        return run_target(
            lambda: setup_baraza(servers, rows, args.processes, prefix, args.server_root),
            check_baraza_page, args)
    except Exception:
        print(servers.log_tail(), file=sys.stderr)
        raise
    finally:
        servers.stop()
        cleanup_redis(prefix)


if __name__ == "__main__":
    sys.exit(main())
