"""A real server (with a scoring service using the stub scorer) and headless Chromium, for the
console's browser tests. The server runs on its own event loop in a thread, as `baraza serve`
would; tests set data up through that loop and drive the console as a person does."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from aiohttp import web

from server.app import create_app
from server.auth import mint_token
from server.settings import Settings
from server.typedefs import CHANNELS, EVENTS, JOBS, REDIS, SESSIONMAKER
from tests.conftest import JWT_SECRET, REDIS_URL
from tests.workers.pipeline_support import StubScorer
from workers.service import ScoringService

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

READER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Article {article}</title></head>
<body><main><h1>Article {article}</h1>
<section aria-label="Live updates">
<div data-baraza="liveblog" data-article-id="{article}"></div></section>
<section aria-label="Reader comments">
<div data-baraza="comments" data-article-id="{article}"></div></section>
</main>
<script src="/embed/v1/baraza.js" data-baraza-api="{origin}" async></script>
</body></html>
"""


class Site:
    """The app on a free port, its scoring service, and a way to run coroutines in its loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.scorer = StubScorer()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._service: ScoringService | None = None
        self.app: web.Application | None = None
        self.url = ""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coro`` on the server's loop, blocking (for sync fixtures)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop, awaited from a test's loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def start(self) -> None:
        self._thread.start()
        self.run(self._start())

    async def _reader_page(self, request: web.Request) -> web.Response:
        article = request.match_info["article"]
        return web.Response(
            text=READER_PAGE.format(article=article, origin=self.url), content_type="text/html"
        )

    async def _start(self) -> None:
        app = create_app(self.settings)
        app.router.add_get("/test/articles/{article}", self._reader_page)
        self.app = app
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._service = ScoringService(
            settings=self.settings, sessionmaker=app[SESSIONMAKER], jobs=app[JOBS],
            channels=app[CHANNELS], redis=app[REDIS], scorer=self.scorer, concurrency=1,
            events=app[EVENTS],
        )
        self._service.start()

    async def _stop(self) -> None:
        if self._service is not None:
            await self._service.stop(10)
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        self.run(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    @property
    def sessionmaker(self) -> Any:
        assert self.app is not None
        return self.app[SESSIONMAKER]

    def token(self, sub: str, roles: list[str] | None = None, name: str | None = None) -> str:
        return mint_token(self.settings, sub=sub, name=name or sub.title(), roles=roles)

    def console(self, sub: str = "mod-1", roles: list[str] | None = None, path: str = "") -> str:
        token = self.token(sub, roles if roles is not None else ["moderator"])
        return f"{self.url}/console/#token={token}" + (f"&next={path}" if path else "")


@pytest.fixture(scope="module")
def site(database_url: str, redis_prefix: str) -> Iterator[Site]:
    settings = Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret=JWT_SECRET,
        database_pool_size=5,
        rate_limit_enabled=False,
        embedded_worker=False,
        thread_cache_seconds=0,
        worker_max_deliveries=1,
        worker_batch_wait_ms=5,
        presence_interval_seconds=0.3,
    )
    server = Site(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium through Playwright's async API (the tests' own loop drives it)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def new_page(browser: Any) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """``await new_page()`` → a tab in a context of its own (another person)."""
    contexts: list[Any] = []

    async def make(width: int = 1280, height: int = 900) -> Any:
        context = await browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        tab = await context.new_page()
        tab.set_default_timeout(15_000)
        return tab

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(new_page: Callable[..., Awaitable[Any]]) -> Any:
    return await new_page()
