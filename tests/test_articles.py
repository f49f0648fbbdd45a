"""Article settings: reading never writes; editors' changes go through the articles service."""

from __future__ import annotations

from sqlalchemy import func, select

from server.articles.models import Article
from server.moderation.models import ModerationAction
from tests.conftest import auth


async def _articles(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Article)) or 0)


async def test_get_of_an_unknown_article_answers_defaults_and_creates_nothing(
    client, sessionmaker
):
    r = await client.get("/api/v1/articles/never-seen")
    assert r.status == 200
    body = await r.json()
    assert body["id"] == "never-seen" and body["comments"] == "open"
    assert body["moderation"] == "post" and body["comment_count"] == 0 and body["open"] is True
    assert await _articles(sessionmaker) == 0


async def test_editor_update_creates_and_audits(client, token, sessionmaker):
    headers = auth(token("ed", roles=["editor"]))
    r = await client.put("/api/v1/articles/a1", json={"moderation": "pre"}, headers=headers)
    assert r.status == 200 and (await r.json())["moderation"] == "pre"
    r = await client.get("/api/v1/articles/a1")
    assert (await r.json())["moderation"] == "pre"
    async with sessionmaker() as session:
        row = await session.scalar(select(ModerationAction))
    assert row is not None and row.action == "article.update" and row.actor_id == "ed"
    assert row.details == {
        "article_id": "a1", "before": {"moderation": "post"}, "after": {"moderation": "pre"}
    }
