"""The host site's sign-in hand-off (``BARAZA_CONSOLE_LOGIN_URL``), in headless Chromium.

The "host site" is a second server on its own origin: its login page signs a moderator in and
redirects back to ``return_to`` with the token in the fragment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from server.auth import mint_token
from server.settings import Settings
from tests.conftest import JWT_SECRET, REDIS_URL
from tests.console.conftest import Site


class HostSite:
    def __init__(self) -> None:
        self.return_to: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.token = ""

    async def login(self, request: web.Request) -> web.Response:
        back = request.query["return_to"]
        self.return_to.append(back)
        raise web.HTTPFound(f"{back}#token={self.token}&next=/queue/held")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/login", self.login)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"


@pytest.fixture
async def host() -> AsyncIterator[HostSite]:
    host = HostSite()
    await host.start()
    yield host
    assert host.runner is not None
    await host.runner.cleanup()


@pytest.fixture
def login_site(database_url: str, redis_prefix: str, host: HostSite) -> Any:
    settings = Settings(
        database_url=database_url, redis_url=REDIS_URL, redis_prefix=redis_prefix,
        jwt_secret=JWT_SECRET, database_pool_size=2, rate_limit_enabled=False,
        embedded_worker=False, console_login_url=f"{host.url}/login",
    )
    host.token = mint_token(settings, sub="mod-9", name="Wanjiru", roles=["moderator"])
    server = Site(settings)
    server.start()
    yield server
    server.stop()


async def test_signed_out_staff_go_through_the_host_login_and_back(login_site, host, page):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(f"{login_site.url}/console/")
    await page.locator(".conn.open").wait_for()
    await page.get_by_text("Wanjiru").wait_for()
    assert host.return_to == [f"{login_site.url}/console/"]
    assert page.url == f"{login_site.url}/console/#/queue/held"
    # The token never travelled in a URL a server saw (only the fragment carried it).
    assert requested and not any(host.token in url for url in requested)
