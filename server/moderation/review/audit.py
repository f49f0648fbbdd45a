"""Reading the audit log: every action on a comment, and every action about a user."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from server.comments.models import Comment
from server.cursors import decode_cursor, encode_cursor, foreign_cursor
from server.db import Sessionmaker
from server.errors import NotFound
from server.moderation.models import ModerationAction
from server.moderation.schemas import AuditCursor, AuditEntry, AuditPage, PageQuery
from server.users.models import User


def _entry(action: ModerationAction) -> AuditEntry:
    return AuditEntry(
        id=action.id,
        actor_id=action.actor_id,
        action=action.action,
        comment_id=action.comment_id,
        subject_user_id=action.subject_user_id,
        before=action.before,
        after=action.after,
        reason=action.reason,
        details=action.details,
        created_at=action.created_at,
    )


def _position(query: PageQuery, kind: str) -> int | None:
    if query.cursor is None:
        return None
    cursor = decode_cursor(AuditCursor, query.cursor)
    if cursor.k != kind:
        raise foreign_cursor()
    return cursor.id


async def _page(
    sessionmaker: Sessionmaker,
    where: ColumnElement[bool],
    query: PageQuery,
    kind: str,
    *,
    oldest_first: bool,
) -> AuditPage:
    after = _position(query, kind)
    order = ModerationAction.id.asc() if oldest_first else ModerationAction.id.desc()
    keyset = (
        []
        if after is None
        else [ModerationAction.id > after if oldest_first else ModerationAction.id < after]
    )
    async with sessionmaker() as session:
        rows = (
            await session.scalars(
                select(ModerationAction)
                .where(where, *keyset)
                .order_by(order)
                .limit(query.limit + 1)
            )
        ).all()
    page = rows[: query.limit]
    next_cursor = (
        encode_cursor(AuditCursor(k=kind, id=page[-1].id))
        if len(rows) > query.limit and page
        else None
    )
    return AuditPage(items=[_entry(a) for a in page], next_cursor=next_cursor)


async def comment_history(
    *, sessionmaker: Sessionmaker, comment_id: int, query: PageQuery
) -> AuditPage:
    """Every action on a comment, oldest first: its whole life."""
    async with sessionmaker() as session:
        if await session.get(Comment, comment_id) is None:
            raise NotFound("comment not found", code="comment_not_found")
    return await _page(
        sessionmaker,
        ModerationAction.comment_id == comment_id,
        query,
        "comment",
        oldest_first=True,
    )


async def user_history(*, sessionmaker: Sessionmaker, user_id: str, query: PageQuery) -> AuditPage:
    """Every action about a user (their comments' decisions and sanctions), newest first."""
    async with sessionmaker() as session:
        if await session.get(User, user_id) is None:
            raise NotFound("user not found", code="user_not_found")
    return await _page(
        sessionmaker,
        ModerationAction.subject_user_id == user_id,
        query,
        "user",
        oldest_first=False,
    )
