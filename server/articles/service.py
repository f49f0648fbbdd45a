"""Articles: their id format, their settings (read, and changed by editors with an audit row)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article, CommentsState, ModerationMode
from server.db import Sessionmaker, utcnow
from server.dialect import insert_for
from server.errors import BadRequest, Forbidden
from server.ids import ARTICLE_ID
from server.lifecycle.audit import audit_row


def check_article_id(article_id: str) -> str:
    if not ARTICLE_ID.match(article_id):
        raise BadRequest(
            "article id must be 1-128 characters of letters, digits and . _ : ~ -",
            code="invalid_article_id",
        )
    return article_id


async def get_or_create_article(session: AsyncSession, article_id: str) -> Article:
    """The article, created with default settings if the host site has not announced it."""
    existing = await session.get(Article, article_id)
    if existing is not None:
        return existing
    stmt = insert_for(session, Article).values(
        id=article_id,
        comments=CommentsState.open.value,
        moderation=ModerationMode.post.value,
        comment_count=0,
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[Article.id]))
    return (await session.execute(select(Article).where(Article.id == article_id))).scalar_one()


def check_open(article: Article, now: dt.datetime) -> None:
    if not article.is_open(now):
        raise Forbidden("comments are closed on this article", code="article_closed")


async def approved_counts(session: AsyncSession, article_ids: Sequence[str]) -> dict[str, int]:
    """Approved comment counts; articles never seen count 0."""
    rows = await session.execute(
        select(Article.id, Article.comment_count).where(Article.id.in_(article_ids))
    )
    counts = dict.fromkeys(article_ids, 0)
    counts.update({row.id: row.comment_count for row in rows})
    return counts


def default_article(article_id: str) -> Article:
    """An article the host site has not announced yet, as it would be created (not stored)."""
    return Article(
        id=article_id,
        comments=CommentsState.open.value,
        moderation=ModerationMode.post.value,
        comment_count=0,
    )


async def read_article(*, sessionmaker: Sessionmaker, article_id: str) -> Article:
    """The article's settings; an unknown one answers with the defaults and is not created."""
    async with sessionmaker() as session:
        article = await session.get(Article, article_id)
    return article if article is not None else default_article(article_id)


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value.value if isinstance(value, enum.Enum) else value


async def update_article(
    *,
    sessionmaker: Sessionmaker,
    actor: str,
    article_id: str,
    changes: Mapping[str, object],
) -> Article:
    """Apply an editor's ``changes`` (created with defaults first if unknown), audited."""
    now = utcnow()
    async with sessionmaker.begin() as session:
        article = await get_or_create_article(session, article_id)
        before = {name: _plain(getattr(article, name)) for name in changes}
        for name, value in changes.items():
            setattr(article, name, _plain(value) if isinstance(value, enum.Enum) else value)
        article.updated_at = now
        after = {name: _plain(getattr(article, name)) for name in changes}
        session.add(
            audit_row(
                actor=actor,
                action="article.update",
                details={"article_id": article_id, "before": before, "after": after},
                now=now,
            )
        )
    return article
