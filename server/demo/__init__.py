"""``baraza serve --demo``: ``/demo/``, the seed article page with the widget, the live blog, a
count and a demo sign-in — on the embedded default only (the sign-in mints tokens for anyone).

The page is built from ``article.txt``, a copy of the seed page kept in the package (section,
headline, byline, standfirst, paragraphs, then "Reader comments" and "Live Updates").
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from server.auth import Role, mint_token
from server.errors import BadRequest, Forbidden
from server.http import json_response
from server.typedefs import SETTINGS

HERE = Path(__file__).parent
ARTICLE_ID = "duale-austin-security-cooperation"
DEMO_TOKEN_SECONDS = 3600
_MARKERS = ("Reader comments", "Live Updates")


@dataclass(frozen=True)
class SeedArticle:
    section: str
    headline: str
    standfirst: str
    paragraphs: list[str]
    boxes: list[str]  # "Reader comments" / "Live Updates", in the page's order


def parse_article(text: str) -> SeedArticle:
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    boxes = [b for b in blocks if b in _MARKERS]
    story = [b for b in blocks if b not in _MARKERS]
    if len(story) < 5:
        raise ValueError("the seed article needs a section, headline, byline, standfirst, text")
    section, headline, _byline, standfirst, *paragraphs = story
    return SeedArticle(section, headline, standfirst, paragraphs, boxes)


def render_page(article: SeedArticle) -> str:
    e = html.escape
    body = "\n".join(f"<p>{e(p)}</p>" for p in article.paragraphs)
    mounts = {
        "Reader comments": f'<section class="box" id="comments"><div data-baraza="comments" '
        f'data-article-id="{ARTICLE_ID}" data-article-title="{e(article.headline)}" '
        f'data-baraza-login-url="#signin"></div></section>',
        "Live Updates": f'<section class="box" id="live"><div data-baraza="liveblog" '
        f'data-article-id="{ARTICLE_ID}"></div></section>',
    }
    boxes = "\n".join(mounts[b] for b in article.boxes)
    return (HERE / "page.html").read_text().format(
        section=e(article.section), headline=e(article.headline),
        standfirst=e(article.standfirst), body=body, boxes=boxes, article_id=ARTICLE_ID,
    )


async def page(request: web.Request) -> web.Response:
    text = (HERE / "article.txt").read_text(encoding="utf-8")
    return web.Response(
        text=render_page(parse_article(text)), content_type="text/html",
        headers={
            "Cache-Control": "no-cache",
            # The demo is itself a strict host: scripts and connections to this origin only.
            "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
            "connect-src 'self'; style-src 'self'; img-src 'self' data:",
        },
    )


async def script(request: web.Request) -> web.Response:
    return web.Response(body=(HERE / "demo.js").read_bytes(),
                        content_type="text/javascript", charset="utf-8")


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(body=(HERE / "demo.css").read_bytes(), content_type="text/css",
                        charset="utf-8")


async def session(request: web.Request) -> web.Response:
    """A token for whoever asks: the demo's stand-in for the news site's sign-in."""
    settings = request.app[SETTINGS]
    if not settings.embedded:
        raise Forbidden("the demo sign-in works only on the embedded default",
                        code="demo_only")
    name = request.query.get("name", "").strip()
    if not 0 < len(name) <= 60:
        raise BadRequest("name must be 1-60 characters", code="invalid_query")
    roles = [Role.editor.value] if request.query.get("role") == "editor" else []
    sub = "demo-" + "".join(c for c in name.lower() if c.isalnum())[:40]
    token = mint_token(settings, sub=sub, name=name, roles=roles,
                       ttl_seconds=DEMO_TOKEN_SECONDS)
    return json_response({"token": token, "sub": sub, "name": name, "roles": roles},
                         headers={"Cache-Control": "no-store"})


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/demo/")


def setup(app: web.Application) -> None:
    """Add the demo's routes (``create_app`` calls this when ``settings.demo``)."""
    app.router.add_get("/", home)
    app.router.add_get("/demo/", page)
    app.router.add_get("/demo/demo.js", script)
    app.router.add_get("/demo/demo.css", stylesheet)
    app.router.add_get("/demo/session", session)
