"""Browser tests of the reader widget: a real Baraza process (Postgres, Redis), a host news
page on other origins (a listed port and an unlisted one), and one headless Chromium.

The stack has its own database and Redis prefix, so the per-test cleanup of the other suites
does not pull its tables or job stream away while the server runs; tests use their own
article ids and readers instead.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, quote, urlsplit
from urllib.request import Request, urlopen

import orjson
import pytest

from server.auth import mint_token
from server.settings import Settings
from tests.conftest import JWT_SECRET, PG_DSN, REDIS_URL, _admin
from tests.live.conftest import ROOT, ServerProcess, start_server

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
TOKEN_SETTINGS = Settings(jwt_secret=JWT_SECRET)

HOST_JS = """
// The host site's own script: its sign-in hands the reader's token to Baraza.
const reader = new URLSearchParams(location.search).get("reader");
async function fetchToken() {
  const r = await fetch("/session?reader=" + encodeURIComponent(reader));
  return r.ok ? r.text() : null;
}
async function signIn() {
  window.Baraza.onTokenExpired(fetchToken);
  window.Baraza.setToken(await fetchToken());
}
if (reader) {
  if (window.Baraza && window.Baraza.setToken) signIn();
  else document.addEventListener("baraza:ready", signIn);
}
"""


def host_page(api: str, query: dict[str, str]) -> str:
    article = query.get("article", "story")
    lang = query.get("lang", "en")
    mounts = query.get("mounts", "liveblog,comments").split(",")
    parts = []
    if "liveblog" in mounts:
        parts.append(f'<div data-baraza="liveblog" data-article-id="{article}"></div>')
    if "comments" in mounts:
        parts.append(f'<div data-baraza="comments" data-article-id="{article}" '
                     f'data-baraza-login-url="/login"></div>')
    if "counts" in mounts:
        for other in query.get("ids", "").split(","):
            parts.append(f'<p>{other}: <span data-baraza="count" data-article-id="{other}">'
                         f'</span></p>')
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Host news page</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="/host.js"></script></head>
<body><main><h1>Security co-operation</h1><p>The story.</p>{"".join(parts)}</main>
<script src="{api}/embed/v1/baraza.js" data-baraza-api="{api}" async></script>
</body></html>"""


class HostSite(BaseHTTPRequestHandler):
    """The news site: article pages embedding the widget under a strict CSP, and a sign-in."""

    api = ""

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/host.js":
            self._send(200, "text/javascript", HOST_JS)
        elif url.path == "/session":
            reader = query.get("reader", "reader")
            token = mint_token(TOKEN_SETTINGS, sub=reader, name=reader.title(), ttl_seconds=900)
            self._send(200, "text/plain", token)
        elif url.path == "/article":
            api = self.api
            ws = api.replace("http", "ws", 1)
            csp = (f"default-src 'none'; script-src 'self' {api}; connect-src 'self' {api} {ws}; "
                   "style-src 'self'; img-src 'self' data:")
            self._send(200, "text/html; charset=utf-8", host_page(api, query),
                       {"Content-Security-Policy": csp})
        else:
            self._send(404, "text/plain", "not found")

    def _send(self, status: int, kind: str, body: str, headers: dict[str, str] | None = None
              ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@dataclass
class Stack:
    api: ServerProcess
    host: str  # listed in BARAZA_CORS_ORIGINS
    unlisted: str  # another origin serving the same page
    database_url: str
    redis_prefix: str

    def page(self, article: str, *, reader: str | None = None, origin: str | None = None,
             **query: str) -> str:
        params = {"article": article, **query}
        if reader:
            params["reader"] = reader
        qs = "&".join(f"{k}={quote(v)}" for k, v in params.items())
        return f"{origin or self.host}/article?{qs}"

    def token(self, sub: str, roles: list[str] | None = None) -> str:
        return mint_token(TOKEN_SETTINGS, sub=sub, name=sub.title(), roles=roles)

    def call(self, method: str, path: str, sub: str = "editor-1",
             roles: tuple[str, ...] = ("moderator", "editor", "admin"), json: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token(sub, list(roles))}",
                   "Content-Type": "application/json"}
        data = None if json is None else orjson.dumps(json)
        request = Request(self.api.url("/api/v1" + path), data=data, headers=headers,
                          method=method)
        try:
            with urlopen(request, timeout=10) as r:
                body = r.read()
        except HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()!r}") from exc
        return orjson.loads(body) if body else None

    def post(self, article: str, sub: str, body: str, parent_id: int | None = None) -> int:
        payload: dict[str, Any] = {"body": body}
        if parent_id:
            payload["parent_id"] = parent_id
        return int(self.call("POST", f"/articles/{article}/comments", sub, (), json=payload)["id"])

    def decide(self, ids: list[int], action: str) -> None:
        body: dict[str, Any] = {"comment_ids": ids, "action": action}
        if action == "reject":
            body["reason"] = "abuse"
        self.call("POST", "/moderation/decisions", "mod-1", ("moderator",), json=body)

    def published(self, article: str, sub: str, body: str, parent_id: int | None = None) -> int:
        comment_id = self.post(article, sub, body, parent_id)
        self.decide([comment_id], "approve")
        return comment_id

    def worker(self) -> subprocess.Popen[bytes]:
        """``baraza worker`` with the offline fallback scorer (stopped by the caller)."""
        env = {**os.environ, **self.env(), "BARAZA_SCORER": "fallback"}
        return subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def env(self) -> dict[str, str]:
        return {"BARAZA_DATABASE_URL": self.database_url, "BARAZA_REDIS_URL": REDIS_URL,
                "BARAZA_REDIS_PREFIX": self.redis_prefix, "BARAZA_JWT_SECRET": JWT_SECRET}


def _serve() -> ThreadingHTTPServer:
    """A host site on a port the kernel picks (bound before anyone else can take it); its
    handler learns the API's address once the server has started (``handler.api``)."""
    handler = type("Host", (HostSite,), {"api": ""})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _drop_keys(prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    from server.db import upgrade

    name = f"baraza_embed_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}"
    prefix = f"test:embed:{uuid.uuid4().hex[:8]}:"
    sites = [_serve(), _serve()]
    host_port, unlisted_port = (site.server_address[1] for site in sites)
    host = f"http://127.0.0.1:{host_port}"
    api = None
    try:
        upgrade(url)
        api = start_server(
            url, prefix, BARAZA_CORS_ORIGINS=host, BARAZA_THREAD_CACHE_SECONDS="0",
            BARAZA_LIVEBLOG_PAGE_CACHE_SECONDS="0", BARAZA_LIVEBLOG_CACHE_SECONDS="0",
            BARAZA_PRESENCE_INTERVAL_SECONDS="0.5",
        )
        for site in sites:
            site.RequestHandlerClass.api = api.base
        yield Stack(api=api, host=host, unlisted=f"http://127.0.0.1:{unlisted_port}",
                    database_url=url, redis_prefix=prefix)
    finally:
        for site in sites:
            site.shutdown()
            site.server_close()
        if api is not None:
            api.stop()
        asyncio.run(_drop_keys(prefix))
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """Replaces the suite's async cleanup: Playwright's sync API runs its own event loop, and
    this stack keeps its own database and Redis prefix (dropped at the end of the session)."""


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, so it must be closed before the suite's async tests run again.
@pytest.fixture(scope="package")
def browser(stack: Stack) -> Iterator[Any]:
    # Depends on ``stack`` so the browser closes first and the stack's teardown may use asyncio.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("the Debian chromium package is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    yield ctx
    ctx.close()


@pytest.fixture
def article(request: pytest.FixtureRequest) -> str:
    """An article id of this test's own."""
    return f"{request.node.name[:40].replace('[', '-').replace(']', '')}-{uuid.uuid4().hex[:6]}"
