"""Console benchmark in headless Chromium: a 100-item queue page rendered after its data
arrives, and a keyboard decision until the next item has the focus (optimistic).

The server runs on the embedded default (a fresh SQLite file, in-process broker, no scorer) in
a thread of this process; 100 held comments are seeded as the scoring pipeline records them.

1. Render: ``--loads`` (10) loads of ``/console/#/queue/held`` (100 items per page); time from
   the queue's JSON being parsed to 100 items in the DOM, laid out. Target ≤ 200 ms.
2. Decide: ``--decisions`` (50) presses of ``a``; time from the keydown event to the ``focusin``
   of the next item. Target ≤ 50 ms.

    .venv/bin/python -m bench.console
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from server.app import create_app
from server.auth import mint_token
from server.comments.models import CommentStatus
from server.settings import Settings
from server.typedefs import SESSIONMAKER
from tests.factories import make_comment
from tests.moderation.review_support import machine_decide

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SECRET = "bench-console-" + "x" * 32
BODY = (
    "Comment {i}: the security co-operation announced today will be judged by what it "
    "changes on the ground in Garissa and Lamu, not by the communique."
)
# Marks the moment the held queue's JSON is parsed, the moment 100 items are laid out, and
# keydown → focusin of the next item, all on the page's own clock (performance.now()).
PROBE = """
(() => {
  const json = Response.prototype.json;
  Response.prototype.json = async function () {
    const data = await json.call(this);
    if (this.url.includes('/moderation/queues/held')) {
      window.__dataAt = performance.now();
      const watch = new MutationObserver(() => {
        if (document.querySelectorAll('article.item').length >= 100) {
          document.body.getBoundingClientRect();
          window.__renderedAt = performance.now();
          watch.disconnect();
        }
      });
      watch.observe(document.body, { childList: true, subtree: true });
    }
    return data;
  };
  window.__focus = [];
  document.addEventListener('keydown', (e) => {
    if (e.key === 'a') window.__keyAt = e.timeStamp;
  }, true);
  document.addEventListener('focusin', (e) => {
    if (window.__keyAt !== undefined && e.target.matches && e.target.matches('article.item')) {
      window.__focus.push(performance.now() - window.__keyAt);
      window.__keyAt = undefined;
    }
  }, true);
})();
"""


class Server:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.url = ""

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    async def _start(self) -> None:
        self.runner = web.AppRunner(create_app(self.settings), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    def start(self) -> None:
        self.thread.start()
        self.call(self._start())

    def stop(self) -> None:
        if self.runner is not None:
            self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    async def seed(self, n: int) -> None:
        assert self.runner is not None
        sessionmaker = self.runner.app[SESSIONMAKER]
        for i in range(n):
            comment_id = await make_comment(
                sessionmaker, article_id=f"article-{i % 7}", author=f"reader-{i % 23}",
                body=BODY.format(i=i), status=CommentStatus.pending,
            )
            await machine_decide(
                sessionmaker, comment_id, CommentStatus.held, risk=0.5 + (i % 50) / 100
            )


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ordered[-1]:.1f} ms (n={len(ordered)})"
    )


async def measure(server: Server, loads: int, decisions: int) -> dict[str, list[float]]:
    from playwright.async_api import async_playwright

    token = mint_token(server.settings, sub="bench-mod", name="Bench", roles=["moderator"])
    renders: list[float] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        await context.add_init_script(PROBE)
        page = await context.new_page()
        await page.goto(f"{server.url}/console/#token={token}&next=/queue/held")
        for _ in range(loads):
            await page.reload()
            await page.wait_for_function("window.__renderedAt !== undefined", timeout=30_000)
            renders.append(await page.evaluate("window.__renderedAt - window.__dataAt"))
        await page.locator(".conn.open").wait_for()
        for i in range(decisions):
            await page.keyboard.press("a")
            await page.wait_for_function(f"window.__focus.length > {i}", timeout=30_000)
        focus = list(await page.evaluate("window.__focus"))
        await browser.close()
    return {"render": renders, "focus": focus}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--decisions", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", jwt_secret=SECRET,
            embedded_worker=False, rate_limit_enabled=False,
        )
        server = Server(settings)
        server.start()
        try:
            server.call(server.seed(100 + args.decisions))
            figures = asyncio.run(measure(server, args.loads, args.decisions))
        finally:
            server.stop()
    manifest = json.loads((ROOT / "server/static/console/manifest.json").read_text())
    print(f"console.js: {manifest['console.js']['bytes']} B, "
          f"{manifest['console.js']['gzip_bytes']} B gzipped (target ≤ 80 KB gzipped)")
    print(f"100-item queue, data parsed → laid out: {summary(figures['render'])} "
          "(target ≤ 200 ms)")
    print(f"keyboard decision → next item focused: {summary(figures['focus'])} (target ≤ 50 ms)")


if __name__ == "__main__":
    main()
