"""``baraza export article ID``: an article and all its comments as one JSON document,
streamed row by row (a large thread is never held in memory)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import IO, Any

import orjson
from sqlalchemy import select

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus
from server.db import create_engine, create_sessionmaker, utcnow
from server.settings import Settings
from server.users.models import User

_OPTIONS = orjson.OPT_NAIVE_UTC


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _comment(comment: Comment, author_name: str) -> dict[str, Any]:
    deleted = comment.status == CommentStatus.deleted
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "root_id": comment.root_id,
        "depth": comment.depth,
        "author": {"id": comment.author_id, "name": author_name},
        # What an author deleted stays out of archives, as it is out of the thread.
        "body": None if deleted else comment.body,
        "html": None if deleted else comment.html,
        "status": comment.status,
        "featured": comment.featured,
        "reactions": comment.reactions,
        "reply_count": comment.reply_count,
        "created_at": _iso(comment.created_at),
        "edited_at": _iso(comment.edited_at),
        "published_at": _iso(comment.published_at),
    }


async def write_article(settings: Settings, article_id: str, out: IO[bytes]) -> int | None:
    """Write the archive of ``article_id`` to ``out``; the comment count, or None if unknown."""
    engine = create_engine(settings)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            article = await session.get(Article, article_id)
            if article is None:
                return None
            head = {
                "id": article.id,
                "title": article.title,
                "url": article.url,
                "comment_count": article.comment_count,
                "created_at": _iso(article.created_at),
            }
            out.write(b'{"exported_at":' + orjson.dumps(_iso(utcnow())))
            out.write(b',"article":' + orjson.dumps(head, option=_OPTIONS) + b',"comments":[')
            rows = await session.stream(
                select(Comment, User.name)
                .join(User, User.id == Comment.author_id)
                .where(Comment.article_id == article_id)
                .order_by(Comment.id)
                .execution_options(yield_per=1000)
            )
            count = 0
            async for comment, name in rows:
                out.write((b"," if count else b"") + b"\n")
                out.write(orjson.dumps(_comment(comment, name), option=_OPTIONS))
                count += 1
            out.write(b"\n]}\n")
            return count
    finally:
        await engine.dispose()


def run(settings: Settings, article_id: str, output: str | None) -> int:
    import asyncio

    if output is None:
        count = asyncio.run(write_article(settings, article_id, sys.stdout.buffer))
    else:
        with open(output, "wb") as handle:
            count = asyncio.run(write_article(settings, article_id, handle))
    if count is None:
        print(f"baraza export: no article {article_id!r}", file=sys.stderr)
        return 1
    print(f"baraza export: {count} comments of {article_id}", file=sys.stderr)
    return 0
