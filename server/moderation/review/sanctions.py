"""A user as moderators see them, and sanctions: premod, suspension, ban, reinstatement.

A ban (or suspension) may also reject the user's pending and held comments in the same
transaction, each through ``transition`` so counters and the audit log stay exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal
from server.comments.models import Comment, CommentStatus
from server.db import Sessionmaker, utcnow
from server.errors import NotFound, Unprocessable
from server.lifecycle.audit import audit_row
from server.lifecycle.events import CommentEvent
from server.lifecycle.relay import EventRelay
from server.moderation.review.decisions import moderate
from server.moderation.review.locking import lock_for_decisions, retry_deadlocks
from server.moderation.review.queues import excerpt
from server.moderation.schemas import (
    StatusChangeResponse,
    UserComment,
    UserPage,
    UserStatusChange,
)
from server.users.models import User, UserStatus

RECENT_COMMENTS = 20
AWAITING = (CommentStatus.pending.value, CommentStatus.held.value)
_SANCTIONS = (UserStatus.banned, UserStatus.suspended)


async def user_page(*, sessionmaker: Sessionmaker, user_id: str) -> UserPage:
    """Status, history counts and recent comments of a user."""
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("user not found", code="user_not_found")
        return await _page(session, user, utcnow())


async def _page(session: AsyncSession, user: User, now: dt.datetime) -> UserPage:
    waiting = dict(
        (
            await session.execute(
                select(Comment.status, func.count())
                .where(Comment.author_id == user.id, Comment.status.in_(AWAITING))
                .group_by(Comment.status)
            )
        )
        .tuples()
        .all()
    )
    recent = (
        await session.scalars(
            select(Comment)
            .where(Comment.author_id == user.id)
            .order_by(Comment.id.desc())
            .limit(RECENT_COMMENTS)
        )
    ).all()
    return UserPage.model_validate(
        {
            "id": user.id,
            "name": user.name,
            "status": user.status,
            "effective_status": user.effective_status(now),
            "suspended_until": user.suspended_until,
            "status_reason": user.status_reason,
            "approved_count": user.approved_count,
            "rejected_count": user.rejected_count,
            "reported_count": user.reported_count,
            "pending_count": int(waiting.get(CommentStatus.pending.value, 0)),
            "held_count": int(waiting.get(CommentStatus.held.value, 0)),
            "created_at": user.created_at,
            "last_seen_at": user.last_seen_at,
            "recent_comments": [
                UserComment(
                    id=c.id,
                    article_id=c.article_id,
                    status=CommentStatus(c.status),
                    excerpt=excerpt(c.body),
                    risk=c.risk,
                    decision_reason=c.decision_reason,
                    created_at=c.created_at,
                )
                for c in recent
            ],
        }
    )


def check_change(change: UserStatusChange, now: dt.datetime) -> None:
    """Refuse status changes that do not make sense, with a reason code."""
    if change.status is UserStatus.suspended:
        if change.until is None:
            raise Unprocessable("a suspension needs 'until'", code="until_required")
        if change.until <= now:
            raise Unprocessable("'until' must be in the future", code="until_in_past")
    elif change.until is not None:
        raise Unprocessable("'until' only applies to suspensions", code="until_not_allowed")
    if change.reject_comments and change.status not in _SANCTIONS:
        raise Unprocessable(
            "'reject_comments' only applies to bans and suspensions", code="invalid_cascade"
        )


async def set_status(
    *,
    events: EventRelay,
    principal: Principal,
    user_id: str,
    change: UserStatusChange,
) -> StatusChangeResponse:
    """Set a user's status with a reason; optionally reject what they have awaiting review."""
    now = utcnow()
    check_change(change, now)

    async def unit_of_work() -> tuple[UserPage, list[CommentEvent]]:
        return await _set_status(events, principal.sub, user_id, change, now)

    page, changes = await retry_deadlocks(unit_of_work)
    return StatusChangeResponse(user=page, rejected_comment_ids=[c.comment_id for c in changes])


async def _set_status(
    events: EventRelay,
    actor: str,
    user_id: str,
    change: UserStatusChange,
    now: dt.datetime,
) -> tuple[UserPage, list[CommentEvent]]:
    async with events.transaction() as session:
        awaiting: list[int] = []
        if change.reject_comments:
            awaiting = list(
                (
                    await session.scalars(
                        select(Comment.id).where(
                            Comment.author_id == user_id, Comment.status.in_(AWAITING)
                        )
                    )
                ).all()
            )
        # Comments (and their counter rows) first, then the user: the decisions' lock order.
        targets = await lock_for_decisions(session, awaiting)
        changes = await _reject_awaiting(session, targets.values(), change, actor, now)
        # Loaded after the rejections so its history counters include them.
        user = (
            await session.execute(
                select(User)
                .where(User.id == user_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if user is None:
            raise NotFound("user not found", code="user_not_found")
        _record(session, user, change, actor, now, [c.comment_id for c in changes])
        await session.flush()
        return await _page(session, user, now), changes


def _record(
    session: AsyncSession,
    user: User,
    change: UserStatusChange,
    actor: str,
    now: dt.datetime,
    rejected: list[int],
) -> None:
    before = user.status
    user.status = change.status.value
    user.suspended_until = change.until if change.status is UserStatus.suspended else None
    user.status_reason = change.reason
    session.add(
        audit_row(
            actor=actor,
            action="user.status",
            subject_user_id=user.id,
            before=before,
            after=user.status,
            reason=change.reason,
            details={
                "until": change.until.isoformat() if change.until else None,
                "rejected_comment_ids": rejected,
            },
            now=now,
        )
    )


async def _reject_awaiting(
    session: AsyncSession,
    comments: Iterable[Comment],
    change: UserStatusChange,
    actor: str,
    now: dt.datetime,
) -> list[CommentEvent]:
    # Some may have been decided while we waited for the locks.
    awaiting = sorted((c for c in comments if c.status in AWAITING), key=lambda c: c.id)
    reason = f"rejected with the author's {change.status.value}: {change.reason}"[:500]
    return await moderate(
        session,
        awaiting,
        CommentStatus.rejected,
        actor=actor,
        action="reject",
        reason=reason,
        now=now,
        details={"reason_code": None, "cascade": f"user.{change.status.value}"},
    )
