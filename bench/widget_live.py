"""Decision-to-page latency with 1,000 open pages: 2 real Chromium pages running the widget plus
998 protocol clients, all on one article, against one ``baraza serve`` (Postgres + Redis) and one
``baraza worker`` (fallback scorer) on this machine.

    .venv/bin/python -m bench.widget_live [--comments 30]

Comments are posted one at a time through the API; the worker approves each. Latency is measured
from the event's ``time`` (stamped when the worker's committed decision is published) to:
- a protocol client parsing the ``comment.published`` frame (aiohttp, in this process);
- a browser page showing it: the widget's "N new comments" bar changing (a MutationObserver
  stamps ``Date.now()``; the same machine clock).
The next comment is posted once every page has the previous one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

from server.auth import mint_token
from server.db import upgrade
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BARAZA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BARAZA_BENCH_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "bench-widget-secret-" + "x" * 32
ARTICLE = "bench-live"
OBSERVER = """
window.__arrivals = [];
new MutationObserver(() => {
  const bar = document.querySelector('.bz-newbar');
  const text = bar ? bar.textContent : '';
  const last = window.__arrivals[window.__arrivals.length - 1];
  if (text && (!last || last[1] !== text)) window.__arrivals.push([Date.now(), text]);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def host_site(api: str) -> tuple[ThreadingHTTPServer, str]:
    page = (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>bench</title>'
            f'<div data-baraza="comments" data-article-id="{ARTICLE}"></div>'
            f'<script src="{api}/embed/v1/baraza.js" data-baraza-api="{api}" async></script>')

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


class Clients:
    def __init__(self) -> None:
        self.received: dict[int, list[float]] = {}
        self.event_time: dict[int, float] = {}

    async def run(self, session: aiohttp.ClientSession, url: str, ready: asyncio.Event,
                  counter: list[int], n: int) -> None:
        async with session.ws_connect(url, autoping=True) as ws:
            await ws.send_str(orjson.dumps({"op": "subscribe",
                                            "channel": f"article:{ARTICLE}"}).decode())
            async for message in ws:
                data = orjson.loads(message.data)
                if data["op"] == "subscribed":
                    counter[0] += 1
                    if counter[0] == n:
                        ready.set()
                elif data["op"] == "event" and data["type"] == "comment.published":
                    now = time.time()
                    cid = int(data["data"]["id"])
                    self.event_time[cid] = data["time"]
                    self.received.setdefault(cid, []).append(now)


async def _page_latencies(page: Any, order: list[int], clients: Clients) -> list[float]:
    arrivals = await page.evaluate("() => window.__arrivals")
    return [stamp - clients.event_time[cid] * 1000
            for cid, (stamp, _text) in zip(order, arrivals, strict=False)]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def bench(args: argparse.Namespace) -> None:
    from playwright.async_api import async_playwright

    name = f"baraza_bench_widget_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://{PG.split('://', 1)[1]}/{name}"
    prefix = f"bench:widget:{uuid.uuid4().hex[:6]}:"
    procs: list[subprocess.Popen[bytes]] = []
    site = None
    try:
        await asyncio.to_thread(upgrade, url)
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        site, host = host_site(api)
        env = {**os.environ, "BARAZA_DATABASE_URL": url, "BARAZA_REDIS_URL": REDIS_URL,
               "BARAZA_REDIS_PREFIX": prefix, "BARAZA_JWT_SECRET": SECRET,
               "BARAZA_EMBEDDED_WORKER": "false", "BARAZA_RATE_LIMIT_ENABLED": "false",
               "BARAZA_LIVE_MAX_CONNECTIONS_PER_IP": "100000", "BARAZA_CORS_ORIGINS": host,
               "BARAZA_LOG_LEVEL": "WARNING", "BARAZA_SCORER": "fallback"}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)], cwd=ROOT,
            env=env, stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], cwd=ROOT,
                                      env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        await asyncio.to_thread(wait_port, port)
        clients = Clients()
        n = args.pages - 2
        ready, counter = asyncio.Event(), [0]
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session, \
                async_playwright() as p:
            tasks = [asyncio.create_task(clients.run(session, f"{api}/api/v1/live", ready,
                                                     counter, n)) for _ in range(n)]
            await asyncio.wait_for(ready.wait(), 120)
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            pages = []
            for _ in range(2):
                page = await (await browser.new_context()).new_page()
                await page.add_init_script(OBSERVER)
                await page.goto(host)
                await page.get_by_text("No comments yet").wait_for()
                pages.append(page)
            settings = Settings(jwt_secret=SECRET)
            order: list[int] = []
            for i in range(args.comments):
                token = mint_token(settings, sub=f"bench-{i}", name=f"Bench {i}")
                async with session.post(f"{api}/api/v1/articles/{ARTICLE}/comments",
                                        json={"body": f"Comment {i} on the talks."},
                                        headers={"Authorization": f"Bearer {token}"}) as r:
                    cid = int((await r.json())["id"])
                order.append(cid)
                while len(clients.received.get(cid, ())) < n:
                    await asyncio.sleep(0.01)
                for page in pages:
                    await page.wait_for_function("n => window.__arrivals.length >= n", arg=i + 1)
            protocol = [(t - clients.event_time[c]) * 1000
                        for c in order for t in clients.received[c]]
            browser_ms = [await _page_latencies(page, order, clients) for page in pages]
            await browser.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        print(f"{args.pages} open pages ({n} protocol clients + 2 Chromium pages), "
              f"{args.comments} comments approved by the worker")
        print(f"protocol clients: p50 {pct(protocol, .5):.1f} ms, p99 {pct(protocol, .99):.1f} ms,"
              f" max {max(protocol):.1f} ms ({len(protocol)} deliveries)")
        browser_ms = [x for page in browser_ms for x in page]
        print(f"browser pages (bar shown): p50 {statistics.median(browser_ms):.1f} ms, "
              f"p99 {pct(browser_ms, .99):.1f} ms, max {max(browser_ms):.1f} ms "
              f"({len(browser_ms)} arrivals)")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        if site is not None:
            site.shutdown()
            site.server_close()
        await _drop(admin, name, prefix)


async def _drop(admin: asyncpg.Connection, name: str, prefix: str) -> None:
    import redis.asyncio as aioredis

    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()
    redis = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=30)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
