"""``baraza serve --demo``: the seed article page with the widget, on the embedded default only."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from server.demo import ARTICLE_ID, HERE, parse_article, render_page
from server.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_keeps_a_faithful_copy_of_the_seed_article() -> None:
    assert (HERE / "article.txt").read_bytes() == (ROOT / "seeds" / "article.txt").read_bytes()
    article = parse_article((HERE / "article.txt").read_text())
    assert article.section == "City Affairs"
    assert article.headline.startswith("Al-Shabaab, global peace feature in Duale meeting")
    assert article.boxes == ["Reader comments", "Live Updates"]
    page = render_page(article)
    assert page.index('data-baraza="comments"') < page.index('data-baraza="liveblog"')
    assert f'data-baraza="count" data-article-id="{ARTICLE_ID}"' in page
    assert '<script src="/embed/v1/baraza.js"' in page
    assert "gas explosion tragedy in Nairobi" in page


def test_the_demo_is_refused_outside_the_embedded_default() -> None:
    with pytest.raises(ValueError, match="embedded default"):
        Settings(demo=True, database_url="postgresql+asyncpg://x/y",
                 jwt_secret="a-real-secret-0123456789-0123456789")
    with pytest.raises(ValueError, match="embedded default"):
        Settings(demo=True, redis_url="redis://127.0.0.1:6379/0")
    assert load_settings(demo=True).demo


async def test_demo_routes_only_with_the_flag(aiohttp_client, tmp_path) -> None:
    from server.app import create_app

    db = f"sqlite+aiosqlite:///{tmp_path}/demo.db"
    plain = await aiohttp_client(create_app(Settings(database_url=db, embedded_worker=False)))
    assert (await plain.get("/demo/")).status == 404

    settings = Settings(database_url=db, demo=True, embedded_worker=False)
    client = await aiohttp_client(create_app(settings))
    page = await client.get("/demo/")
    assert page.status == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "Reader comments" not in (await page.text())  # the markers become the mounts
    r = await client.get("/demo/session", params={"name": "Amina Hassan"})
    session = await r.json()
    claims = jwt.decode(session["token"], settings.jwt_secret, algorithms=["HS256"])
    assert (claims["sub"], claims["name"], claims["roles"]) == ("demo-aminahassan",
                                                                 "Amina Hassan", [])
    editor = await (await client.get("/demo/session",
                                     params={"name": "Desk", "role": "editor"})).json()
    assert editor["roles"] == ["editor"]
    assert (await client.get("/demo/session")).status == 400
    assert (await client.get("/demo/demo.js")).status == 200
    home = await client.get("/", allow_redirects=False)
    assert home.headers["Location"] == "/demo/"
