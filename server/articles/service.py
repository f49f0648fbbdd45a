from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article, CommentsState, ModerationMode
from server.dialect import insert_for
from server.errors import BadRequest, Forbidden

ARTICLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$")


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
