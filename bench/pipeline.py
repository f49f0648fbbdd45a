"""POST-to-decision latency and comments/s through the production shape.

A real ``baraza serve`` process and a real ``baraza worker`` process, against PostgreSQL and
Redis, with a Detoxify-format checkpoint of random weights (see tests/workers/tiny_model.py):
``tiny`` (2 layers, hidden 32) measures the pipeline itself; ``base`` (bert-base-sized: 12
layers, hidden 768) shows what a real model costs. Random weights are fine for speed; the
vocabulary holds every word of the comments, so each word is about one token, as with a real
WordPiece vocabulary on English text.

Two phases, each comment timed from just before its POST is sent to the ``decided_at`` the
worker stores with the decision (same host clock):

- *steady*: comments posted at a fixed rate (open loop), the latency a reader sees;
- *burst*: comments posted as fast as 32 clients can, the throughput of the whole path
  (the server's POST rate and the worker share the same cores);
- *backlog*: comments posted while the worker is paused (SIGSTOP), then drained (SIGCONT): the
  worker's own rate with full batches, timed from the resume to the last decision.

    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.pipeline --model tiny
    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.pipeline --model base --rate 5 \
        --steady 100 --burst 150 --backlog 300
    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.pipeline --shape embedded
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import random
import re
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

from server.auth import mint_token
from server.db import upgrade
from server.settings import Settings

PG = os.environ.get("BARAZA_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BARAZA_TEST_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "bench-secret-0123456789abcdef-0123456789"
SEED_TEXT = Path(
    os.environ.get("BARAZA_SEED_ARTICLE")
    or Path(__file__).resolve().parents[1] / "seeds" / "article.txt"
)
_OPINION_TEXT = (
    "i think this is a good step but the government must explain what it means for ordinary "
    "people in nairobi and mombasa we have heard promises before and nothing changed the police "
    "should protect citizens not harass them thank you for the report well written article my "
    "condolences to the families who lost loved ones in the explosion peace will only come when "
    "leaders listen to the youth this is stupid nonsense from corrupt politicians who never care"
)
OPINION = _OPINION_TEXT.split()
MODELS = {
    "tiny": {"hidden": 32, "layers": 2, "heads": 2, "intermediate": 64},
    "base": {"hidden": 768, "layers": 12, "heads": 12, "intermediate": 3072},
}


def corpus_words() -> list[str]:
    text = SEED_TEXT.read_text(encoding="utf-8") if SEED_TEXT.exists() else ""
    return re.findall(r"[a-z']+", text.lower()) + OPINION


def make_comments(n: int, rng: random.Random) -> list[str]:
    """``n`` comments of 20–60 words: runs of the article's words mixed with opinion words."""
    words = corpus_words()
    comments = []
    for _ in range(n):
        length = rng.randint(20, 60)
        start = rng.randrange(0, max(1, len(words) - length))
        picked = [w if rng.random() > 0.25 else rng.choice(OPINION)
                  for w in words[start:start + length]]
        comments.append(" ".join(picked).capitalize() + ".")
    return comments


def bench_vocab() -> list[str]:
    from tests.workers.tiny_model import _vocabulary

    return list(dict.fromkeys(_vocabulary() + sorted(set(corpus_words()))))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Phase:
    name: str
    sent: dict[int, float]
    decided: dict[int, float]
    started: float
    finished: float
    posted: float = 0.0  # when the last POST was answered
    post_seconds: list[float] = field(default_factory=list)  # each POST's response time
    latency_from: float | None = None  # backlog: latency counts from the resume

    def latencies(self) -> list[float]:
        return sorted(
            self.decided[i] - (self.latency_from or self.sent[i])
            for i in self.sent if i in self.decided
        )

    def quantile(self, q: float) -> float:
        values = self.latencies()
        if not values:
            return math.nan
        return values[max(1, math.ceil(q * len(values))) - 1]

    @property
    def rate(self) -> float:
        return len(self.decided) / (self.finished - self.started)


class Stack:
    """A database, a server process and a worker process of their own."""

    def __init__(
        self, model: str, workdir: Path, batch_size: int, wait_ms: int, embedded: bool
    ) -> None:
        self.model = model
        self.workdir = workdir
        self.embedded = embedded
        self.db = f"baraza_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.prefix = f"bench:{uuid.uuid4().hex[:8]}:"
        self.port = free_port()
        self.metrics_port = free_port()
        self.batch_size = batch_size
        self.wait_ms = wait_ms
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        if embedded:
            self.url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        else:
            self.url = f"postgresql+asyncpg://{PG.split('://', 1)[1]}/{self.db}"

    def env(self, checkpoint: Path, config_dir: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BARAZA_")}
        if not self.embedded:
            env.update({"BARAZA_REDIS_URL": REDIS, "BARAZA_REDIS_PREFIX": self.prefix,
                        "BARAZA_EMBEDDED_WORKER": "false",
                        "BARAZA_WORKER_METRICS_PORT": str(self.metrics_port)})
        env.update({
            "BARAZA_DATABASE_URL": self.url, "BARAZA_JWT_SECRET": SECRET,
            "BARAZA_RATE_LIMIT_ENABLED": "false", "BARAZA_SCORER": "detoxify",
            "BARAZA_MODEL": "original", "BARAZA_MODEL_CHECKPOINT": str(checkpoint),
            "BARAZA_MODEL_CONFIG_DIR": str(config_dir), "BARAZA_LOG_LEVEL": "WARNING",
            "BARAZA_WORKER_BATCH_SIZE": str(self.batch_size),
            "BARAZA_WORKER_BATCH_WAIT_MS": str(self.wait_ms),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        })
        return env

    async def start(self) -> None:
        from tests.workers.tiny_model import build_checkpoint

        checkpoint, config_dir = build_checkpoint(
            self.workdir, vocab=bench_vocab(), **MODELS[self.model]
        )
        env = self.env(checkpoint, config_dir)
        if not self.embedded:
            await _admin(f'CREATE DATABASE "{self.db}"')
            await asyncio.to_thread(upgrade, self.url)
        self.procs["server"] = await _spawn(["serve", "--port", str(self.port)], env)
        if not self.embedded:
            self.procs["worker"] = await _spawn(["worker"], env)

    async def stop(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for name, proc in self.procs.items():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            try:
                codes[name] = await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()
                codes[name] = await proc.wait()
        if self.embedded:
            return codes
        await _admin(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(REDIS)
        keys = [k async for k in client.scan_iter(match=f"{self.prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        return codes

    async def worker_metrics(self, http: aiohttp.ClientSession) -> dict[str, float]:
        """Sums and counts of the worker's histograms (where a batch's time goes)."""
        port = self.port if self.embedded else self.metrics_port
        async with http.get(f"http://127.0.0.1:{port}/metrics") as r:
            text = await r.text()
        pattern = r"^(baraza_worker_\w+_(?:sum|count)) ([0-9.e+]+)$"
        return {name: float(value) for name, value in re.findall(pattern, text, re.M)}

    def worker_memory_mb(self) -> tuple[float, float]:
        """(resident now, peak resident) of the worker process, in MB."""
        proc = self.procs["server" if self.embedded else "worker"]
        status = Path(f"/proc/{proc.pid}/status").read_text()
        values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
        return int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _spawn(args: Sequence[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args, env=env, stdout=asyncio.subprocess.DEVNULL,
    )


async def wait_ready(http: aiohttp.ClientSession, base: str, timeout: float = 300) -> str:
    """Until the server answers and a worker announced its model; return the model name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            async with http.get(f"{base}/readyz") as r:
                scorer = (await r.json())["checks"].get("scorer", {})
                if scorer.get("workers"):
                    return ", ".join(scorer["models"])
                if scorer.get("mode") == "embedded" and scorer.get("ok"):
                    return str(scorer["model"])
        except (aiohttp.ClientError, KeyError, ValueError):
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("server or worker did not become ready")


async def post_all(
    http: aiohttp.ClientSession, base: str, bodies: Sequence[str], *, rate: float | None,
    clients: int = 32, post_seconds: list[float] | None = None,
) -> dict[int, float]:
    """POST every body; open loop at ``rate``/s, else as fast as ``clients`` connections go."""
    sent: dict[int, float] = {}
    answered = post_seconds if post_seconds is not None else []
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for item in enumerate(bodies):
        queue.put_nowait(item)
    start = time.perf_counter()

    async def client(n: int) -> None:
        token = mint_token(Settings(jwt_secret=SECRET), sub=f"reader-{n}", name=f"Reader {n}")
        headers = {"Authorization": f"Bearer {token}"}
        while not queue.empty():
            index, body = queue.get_nowait()
            if rate:
                await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
            at = time.time()
            url = f"{base}/api/v1/articles/bench-{index % 20}/comments"
            async with http.post(url, json={"body": body}, headers=headers) as r:
                if r.status != 202:
                    raise RuntimeError(f"POST answered {r.status}: {await r.text()}")
                sent[(await r.json())["id"]] = at
            answered.append(time.time() - at)

    await asyncio.gather(*(client(n) for n in range(clients)))
    return sent


async def wait_decided(url: str, ids: Sequence[int], timeout: float = 900) -> dict[int, float]:
    if url.startswith("sqlite"):
        return await _wait_decided_sqlite(url.split(":///", 1)[1], ids, timeout)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        deadline = time.monotonic() + timeout
        while True:
            rows = await conn.fetch(
                "SELECT id, decided_at FROM comments WHERE id = ANY($1::bigint[]) "
                "AND status <> 'pending'", list(ids),
            )
            if len(rows) == len(ids) or time.monotonic() > deadline:
                return {r["id"]: r["decided_at"].replace(tzinfo=dt.UTC).timestamp()
                        if r["decided_at"].tzinfo is None else r["decided_at"].timestamp()
                        for r in rows}
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def _wait_decided_sqlite(path: str, ids: Sequence[int], timeout: float) -> dict[int, float]:
    import sqlite3

    def decided() -> dict[int, float]:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            marks = ",".join("?" * len(ids))
            rows = db.execute(f"SELECT id, decided_at FROM comments WHERE id IN ({marks}) "
                              "AND status <> 'pending'", list(ids)).fetchall()
        return {i: dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC).timestamp()
                for i, at in rows}

    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(decided)
        if len(found) == len(ids) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def run_phase(
    name: str, stack: Stack, http: aiohttp.ClientSession, bodies: Sequence[str],
    rate: float | None,
) -> Phase:
    base = f"http://127.0.0.1:{stack.port}"
    started = time.time()
    post_seconds: list[float] = []
    sent = await post_all(http, base, bodies, rate=rate, post_seconds=post_seconds)
    posted = time.time()
    decided = await wait_decided(stack.url, list(sent))
    finished = max(decided.values(), default=time.time())
    return Phase(name, sent, decided, started, finished, posted, post_seconds)


async def run_backlog(
    stack: Stack, http: aiohttp.ClientSession, bodies: Sequence[str]
) -> Phase:
    """Post while the worker is paused, then time the drain from its resume."""
    worker = stack.procs["worker"]
    worker.send_signal(signal.SIGSTOP)
    try:
        sent = await post_all(http, f"http://127.0.0.1:{stack.port}", bodies, rate=None)
    finally:
        resumed = time.time()
        worker.send_signal(signal.SIGCONT)
    decided = await wait_decided(stack.url, list(sent))
    finished = max(decided.values(), default=time.time())
    return Phase("backlog", sent, decided, resumed, finished, resumed, latency_from=resumed)


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="baraza-bench-") as tmp:
        stack = Stack(args.model, Path(tmp), args.batch_size, args.wait_ms,
                      args.shape == "embedded")
        await stack.start()
        try:
            async with aiohttp.ClientSession() as http:
                model = await wait_ready(http, f"http://127.0.0.1:{stack.port}")
                await run_phase("warm-up", stack, http, make_comments(20, rng), rate=None)
                steady = await run_phase(
                    "steady", stack, http, make_comments(args.steady, rng), rate=args.rate
                )
                burst = await run_phase("burst", stack, http, make_comments(args.burst, rng),
                                        rate=None)
                phases = [steady, burst]
                if not stack.embedded:
                    phases.append(await run_backlog(stack, http, make_comments(args.backlog, rng)))
                rss, peak = stack.worker_memory_mb()
                histograms = await stack.worker_metrics(http)
        finally:
            codes = await stack.stop()
    report(args, model, phases, rss, peak, codes)
    report_batches(histograms)


def report(
    args: argparse.Namespace, model: str, phases: Sequence[Phase], rss: float, peak: float,
    codes: dict[str, int | None],
) -> None:
    print(f"shape: {args.shape}; model: {args.model} ({model}); "
          f"batch {args.batch_size} jobs / {args.wait_ms} ms; {os.cpu_count()} CPUs")
    print(f"{'phase':8} {'comments':>8} {'offered/s':>10} {'posted/s':>9} {'POST p50':>9} "
          f"{'decided/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for phase in phases:
        offered = f"{args.rate:.0f}" if phase.name == "steady" else "max"
        posted = (f"{len(phase.sent) / (phase.posted - phase.started):.1f}"
                  if phase.name != "backlog" else "-")
        post_p50 = (f"{sorted(phase.post_seconds)[len(phase.post_seconds) // 2] * 1000:.0f}"
                    if phase.post_seconds else "-")
        print(f"{phase.name:8} {len(phase.decided):8d} {offered:>10} {posted:>9} {post_p50:>9} "
              f"{phase.rate:10.1f} "
              f"{phase.quantile(0.5) * 1000:8.0f} {phase.quantile(0.99) * 1000:8.0f} "
              f"{phase.quantile(1.0) * 1000:8.0f}")
    who = "server (scoring in-process)" if args.shape == "embedded" else "worker"
    print(f"{who} resident memory: {rss:.0f} MB (peak {peak:.0f} MB)")
    print(f"exit codes after SIGTERM: {codes}")


def report_batches(h: dict[str, float]) -> None:
    batches = h.get("baraza_worker_batch_size_count", 0.0)
    if not batches:
        return
    jobs = h["baraza_worker_batch_size_sum"]
    scoring = h["baraza_worker_scoring_seconds_sum"]
    total = h["baraza_worker_batch_seconds_sum"]
    print(f"worker, all phases: {batches:.0f} batches of {jobs / batches:.1f} jobs on average; "
          f"per comment {scoring / jobs * 1000:.1f} ms scoring (words + model), "
          f"{(total - scoring) / jobs * 1000:.1f} ms the rest (read, load, store, publish, ack)")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="tiny")
    parser.add_argument("--shape", choices=("production", "embedded"), default="production",
                        help="production: server + worker processes, Postgres, Redis; "
                             "embedded: one `baraza serve` on SQLite, scoring in-process")
    parser.add_argument("--steady", type=int, default=300, help="comments in the steady phase")
    parser.add_argument("--rate", type=float, default=20.0, help="steady POSTs per second")
    parser.add_argument("--burst", type=int, default=500, help="comments in the burst phase")
    parser.add_argument("--backlog", type=int, default=1000, help="comments drained at once")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--wait-ms", type=int, default=20)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
