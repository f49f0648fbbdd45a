"""Status transitions of a comment, the counters that follow them, and their audit record.

Every change of a comment's status, by its author, the scoring worker or a moderator, goes
through ``transition`` so that reply counts, article counts, user history and the audit log
stay exact. Callers lock the comment row first (``lock_comment``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus
from server.moderation.models import ModerationAction
from server.users.models import User


async def lock_comment(session: AsyncSession, comment_id: int) -> Comment | None:
    """Load a comment for update (a row lock on PostgreSQL; SQLite serialises writers)."""
    result = await session.execute(
        select(Comment)
        .where(Comment.id == comment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def lock_comments(session: AsyncSession, comment_ids: Sequence[int]) -> list[Comment]:
    """Load several comments for update, in id order so concurrent lockers cannot deadlock."""
    result = await session.execute(
        select(Comment)
        .where(Comment.id.in_(comment_ids))
        .order_by(Comment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


DECISIONS = frozenset({CommentStatus.approved, CommentStatus.held, CommentStatus.rejected})


def _visible_after(comment: Comment, status: CommentStatus) -> bool:
    if status is CommentStatus.approved:
        return True
    if status is CommentStatus.deleted:
        # An author's deletion leaves a placeholder where a published comment stood.
        return comment.visible
    return False


async def transition(
    session: AsyncSession,
    comment: Comment,
    status: CommentStatus,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> ModerationAction:
    """Move ``comment`` to ``status``, keep every counter exact, and write the audit row."""
    before = CommentStatus(comment.status)
    was_visible = comment.visible
    comment.status = status.value
    comment.visible = _visible_after(comment, status)
    comment.updated_at = now
    if status is CommentStatus.approved and comment.published_at is None:
        comment.published_at = now
    if status in DECISIONS:
        comment.decision_reason = reason
        comment.decided_at = now
    await _adjust_counters(session, comment, before, status, was_visible)
    record = ModerationAction(
        actor_id=actor,
        action=action,
        comment_id=comment.id,
        subject_user_id=comment.author_id,
        before=before.value,
        after=status.value,
        reason=reason,
        details=details,
        created_at=now,
    )
    session.add(record)
    return record


async def _adjust_counters(
    session: AsyncSession,
    comment: Comment,
    before: CommentStatus,
    after: CommentStatus,
    was_visible: bool,
) -> None:
    visible_delta = int(comment.visible) - int(was_visible)
    if visible_delta and comment.parent_id is not None:
        await session.execute(
            update(Comment)
            .where(Comment.id == comment.parent_id)
            .values(reply_count=Comment.reply_count + visible_delta)
        )
    approved_delta = int(after is CommentStatus.approved) - int(before is CommentStatus.approved)
    if approved_delta:
        await session.execute(
            update(Article)
            .where(Article.id == comment.article_id)
            .values(comment_count=Article.comment_count + approved_delta)
        )
    rejected_delta = int(after is CommentStatus.rejected) - int(before is CommentStatus.rejected)
    if approved_delta or rejected_delta:
        await session.execute(
            update(User)
            .where(User.id == comment.author_id)
            .values(
                approved_count=User.approved_count + approved_delta,
                rejected_count=User.rejected_count + rejected_delta,
            )
        )
