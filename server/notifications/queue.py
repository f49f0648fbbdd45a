"""Queueing reply e-mails inside the unit of work that publishes a reply or features a comment.

``reply_emails`` hears a transaction's comment events from the lifecycle (every relay built by
``build_relay`` runs it on the outbox just before the commit), so a notification exists exactly
when the change that caused it committed. A bulk approval costs at most three reads, whatever
the number of replies.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import Comment
from server.db import utcnow
from server.lifecycle.events import CommentEvent, EventKind
from server.notifications.models import NotificationKind, ReplyNotification
from server.readers.models import ReaderSettings

# (reader told, comment, kind)
_Notice = tuple[str, int, str]


async def reply_emails(session: AsyncSession, events: Sequence[CommentEvent]) -> None:
    """Notifications for a transaction's comment events, added in that same transaction: a
    reply that appeared in its thread (to its parent's author), a comment a moderator
    featured (to its author) — for readers who opted in, and once per comment and kind (a
    reply published again after a rejection is not news)."""
    replies = [e for e in events if e.appeared and e.parent_id is not None]
    wanted: list[_Notice] = []
    if replies:
        parents = dict(
            (
                await session.execute(
                    select(Comment.id, Comment.author_id).where(
                        Comment.id.in_(sorted({e.parent_id for e in replies if e.parent_id}))
                    )
                )
            )
            .tuples()
            .all()
        )
        for event in replies:
            to = parents.get(event.parent_id or 0)
            if to is not None and to != event.author_id:
                wanted.append((to, event.comment_id, NotificationKind.reply.value))
    wanted += [
        (e.author_id, e.comment_id, NotificationKind.featured.value)
        for e in events
        if e.kind is EventKind.featured
    ]
    if not wanted:
        return
    opted_in = set(
        (
            await session.scalars(
                select(ReaderSettings.user_id).where(
                    ReaderSettings.user_id.in_(sorted({w[0] for w in wanted})),
                    ReaderSettings.reply_emails.is_(True),
                )
            )
        ).all()
    )
    wanted = [w for w in wanted if w[0] in opted_in]
    if not wanted:
        return
    told: set[_Notice] = set(
        (
            await session.execute(
                select(
                    ReplyNotification.user_id,
                    ReplyNotification.comment_id,
                    ReplyNotification.kind,
                ).where(ReplyNotification.comment_id.in_(sorted({w[1] for w in wanted})))
            )
        )
        .tuples()
        .all()
    )
    now = utcnow()
    for notice in wanted:
        if notice in told:
            continue
        told.add(notice)
        user_id, comment_id, kind = notice
        session.add(
            ReplyNotification(user_id=user_id, comment_id=comment_id, kind=kind, created_at=now)
        )
