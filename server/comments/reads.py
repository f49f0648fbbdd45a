"""The thread reads behind the hottest routes: cached SQL text, plain rows, no ORM objects.

Building a SQLAlchemy statement, computing its cache key and loading ORM objects for the ~80
comments of a thread page cost several times more CPU than the queries themselves, so these
statements are written once per shape and their rows rendered positionally.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, TextualSelect, bindparam, column, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import Comment, CommentStatus
from server.db import iso_time
from server.users.models import User

AWAITING = (CommentStatus.pending.value, CommentStatus.held.value)
DELETED = CommentStatus.deleted.value

# The columns every public comment is rendered from, in this order (see ``render``).
_SELECT = (
    "SELECT c.id, c.article_id, c.parent_id, c.depth, c.author_id, c.body, c.html, c.status,"
    " c.featured, c.created_at, c.edited_at, c.reactions, c.reaction_count, c.reply_count,"
    " u.name FROM comments c JOIN users u ON u.id = c.author_id"
)
_COLUMNS = (
    Comment.id,
    Comment.article_id,
    Comment.parent_id,
    Comment.depth,
    Comment.author_id,
    Comment.body,
    Comment.html,
    Comment.status,
    Comment.featured,
    Comment.created_at,
    Comment.edited_at,
    Comment.reactions,
    Comment.reaction_count,
    Comment.reply_count,
    User.name,
)


class Sort(enum.StrEnum):
    """The orders of a thread's top-level comments (``?sort=``)."""

    newest = "newest"
    oldest = "oldest"
    top = "top"


@dataclass(frozen=True, slots=True)
class Position:
    """A keyset position: the last row's id, and its reaction count for ``top``."""

    id: int
    reaction_count: int | None = None


def _typed(sql: str) -> TextualSelect:
    """SQL text whose result columns carry the model's types (UTC datetimes, JSON)."""
    return text(sql).columns(*_COLUMNS)


_ORDER_SQL = {
    Sort.newest: ("c.id < :after_id", "c.id DESC"),
    Sort.oldest: ("c.id > :after_id", "c.id ASC"),
    Sort.top: (
        "(c.reaction_count < :after_rc OR (c.reaction_count = :after_rc AND c.id < :after_id))",
        "c.reaction_count DESC, c.id DESC",
    ),
}


@functools.cache
def _top_level_sql(order: Sort, after: bool) -> TextualSelect:
    keyset, order_by = _ORDER_SQL[order]
    # "visible = true" (not IS TRUE) matches the partial indexes' predicate.
    where = "c.article_id = :article_id AND c.parent_id IS NULL AND c.visible = true"
    if after:
        where += f" AND {keyset}"
    return _typed(f"{_SELECT} WHERE {where} ORDER BY {order_by} LIMIT :limit")


async def top_level_page(
    session: AsyncSession, article_id: str, order: Sort, after: Position | None, limit: int
) -> list[tuple[Any, ...]]:
    """Published top-level comments of an article past a keyset position."""
    params: dict[str, Any] = {"article_id": article_id, "limit": limit}
    if after is not None:
        params["after_id"] = after.id
        if order is Sort.top:
            params["after_rc"] = after.reaction_count or 0
    result = await session.execute(_top_level_sql(order, after is not None), params)
    return [tuple(row) for row in result]


_SORT_KEYS = {
    Sort.newest: lambda row: -row[0],
    Sort.oldest: lambda row: row[0],
    Sort.top: lambda row: (-row[12], -row[0]),
}
# The count row of ``_thread_sql``: the article's approved count where ``reply_count`` stands.
_COUNT_ROW = (
    "SELECT 2, " + "NULL, " * 13
    + "COALESCE((SELECT comment_count FROM articles WHERE id = :article_id), 0), NULL"
)


@functools.cache
def _thread_sql(order: Sort, after: bool) -> TextualSelect:
    """PostgreSQL: a page of top-level comments (part 0), the first replies of each (part 1,
    one index range per parent through a LATERAL join) and the article's count (part 2), in
    one statement and one round trip."""
    keyset, order_by = _ORDER_SQL[order]
    where = "c.article_id = :article_id AND c.parent_id IS NULL AND c.visible = true"
    if after:
        where += f" AND {keyset}"
    sql = (
        f"WITH page AS ({_SELECT} WHERE {where} ORDER BY {order_by} LIMIT :limit)"
        " SELECT 0, page.* FROM page"
        " UNION ALL SELECT 1, r.* FROM page CROSS JOIN LATERAL"
        f" ({_SELECT} WHERE c.parent_id = page.id AND c.visible = true"
        " ORDER BY c.id LIMIT :per_parent) r"
        f" UNION ALL {_COUNT_ROW}"
    )
    return text(sql).columns(column("part", Integer()), *_COLUMNS)


@dataclass(frozen=True, slots=True)
class Thread:
    """A page of top-level rows in order, their first replies by parent id, the count."""

    page: list[tuple[Any, ...]]
    replies: dict[int, list[tuple[Any, ...]]]
    count: int


async def thread_page(
    session: AsyncSession,
    article_id: str,
    order: Sort,
    after: Position | None,
    limit: int,
    per_parent: int,
) -> Thread | None:
    """The page, its first replies and the count in one statement (PostgreSQL; None elsewhere:
    SQLite has no LATERAL, the caller reads them one query each)."""
    if session.bind.dialect.name != "postgresql":
        return None
    params: dict[str, Any] = {
        "article_id": article_id,
        "limit": limit,
        "per_parent": per_parent,
    }
    if after is not None:
        params["after_id"] = after.id
        if order is Sort.top:
            params["after_rc"] = after.reaction_count or 0
    page: list[tuple[Any, ...]] = []
    replies: dict[int, list[tuple[Any, ...]]] = {}
    count = 0
    for row in await session.execute(_thread_sql(order, after is not None), params):
        part, values = row[0], tuple(row)[1:]
        if part == 0:
            page.append(values)
        elif part == 1:
            replies.setdefault(values[2], []).append(values)
        else:
            count = int(values[13])
    # UNION ALL keeps no order: put each part back in its own.
    page.sort(key=_SORT_KEYS[order])
    for rows in replies.values():
        rows.sort(key=lambda r: r[0])
    return Thread(page, replies, count)


_FIRST_REPLIES = _typed(
    f"{_SELECT} JOIN (SELECT id AS cid, row_number() OVER"
    " (PARTITION BY parent_id ORDER BY id) AS rank FROM comments"
    " WHERE parent_id IN :parent_ids AND visible = true) r ON r.cid = c.id"
    " WHERE r.rank <= :per_parent ORDER BY c.parent_id, c.id"
).bindparams(bindparam("parent_ids", expanding=True))


async def first_replies(
    session: AsyncSession, parent_ids: Sequence[int], per_parent: int
) -> dict[int, list[tuple[Any, ...]]]:
    """The first ``per_parent`` published replies of each parent, oldest first."""
    if not parent_ids or per_parent == 0:
        return {}
    result = await session.execute(
        _FIRST_REPLIES, {"parent_ids": list(parent_ids), "per_parent": per_parent}
    )
    replies: dict[int, list[tuple[Any, ...]]] = {}
    for row in result:
        replies.setdefault(row[2], []).append(tuple(row))
    return replies


_REPLIES = _typed(
    f"{_SELECT} WHERE c.parent_id = :parent_id AND c.visible = true AND c.id > :after_id"
    " ORDER BY c.id LIMIT :limit"
)


async def replies_page(
    session: AsyncSession, parent_id: int, after_id: int | None, limit: int
) -> list[tuple[Any, ...]]:
    result = await session.execute(
        _REPLIES, {"parent_id": parent_id, "after_id": after_id or 0, "limit": limit}
    )
    return [tuple(row) for row in result]


_AWAITING = _typed(
    f"{_SELECT} WHERE c.author_id = :viewer AND c.article_id = :article_id"
    " AND c.status IN ('pending', 'held') ORDER BY c.id DESC LIMIT 50"
)


async def awaiting_review(
    session: AsyncSession, article_id: str, viewer: str | None
) -> list[tuple[Any, ...]]:
    """The viewer's own comments on the article that moderation has not published yet."""
    if viewer is None:
        return []
    result = await session.execute(_AWAITING, {"viewer": viewer, "article_id": article_id})
    return [tuple(row) for row in result]



def render(
    row: tuple[Any, ...], *, viewer: str | None, my_reactions: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A row of ``_SELECT`` as readers see it (the same shape as ``public_comment``)."""
    (
        cid,
        article_id,
        parent_id,
        depth,
        author_id,
        body,
        html,
        status,
        featured,
        created_at,
        edited_at,
        reactions,
        reaction_count,
        reply_count,
        author_name,
    ) = row
    deleted = status == DELETED
    mine = viewer is not None and viewer == author_id
    return {
        "id": cid,
        "article_id": article_id,
        "parent_id": parent_id,
        "depth": depth,
        "author": None if deleted else {"id": author_id, "name": author_name},
        "body": "" if deleted else body,
        "html": "" if deleted else html,
        "status": status,
        "featured": featured,
        "created_at": iso_time(created_at),
        "edited_at": iso_time(edited_at),
        "reactions": {k: v for k, v in (reactions or {}).items() if v},
        "reaction_count": reaction_count,
        "reply_count": reply_count,
        "mine": mine,
        "awaiting_review": mine and status in AWAITING,
        "my_reactions": sorted(my_reactions),
    }
