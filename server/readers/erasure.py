"""Erasure: a reader's name, e-mail and words removed; ids and threads kept.

Their comments become placeholders (status ``deleted`` through the lifecycle's
``transition_many`` in the relay's unit of work, so counters, the audit log and the events —
readers' pages drop them, page caches forget those threads — stay exact; bodies emptied), their
reactions are removed and counts redone, their report notes dropped, their settings (e-mail)
deleted, their name replaced everywhere it is stored (user row, audit reasons, live-blog
bylines), webhook deliveries about them redacted, and audit rows about them marked ``erased``
(with one more, ``erase``, recording the erasure itself).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import orjson
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import Comment, CommentStatus, Reaction, Report
from server.db import utcnow
from server.errors import NotFound
from server.lifecycle import EventRelay, audit_row
from server.lifecycle.transitions import Move, transition_many
from server.liveblog.models import LiveBlogPost, LiveBlogPostRevision
from server.moderation.models import ModerationAction
from server.moderation.review.locking import lock_for_decisions, retry_deadlocks
from server.readers.models import Erasure, ReaderSettings
from server.readers.schemas import Erased
from server.users.models import User
from server.webhooks.models import WebhookDelivery

ERASED = "[erased]"


async def erase_user(
    *,
    events: EventRelay,
    user_id: str,
    actor: str,
    reason: str | None = None,
    missing_ok: bool = False,
) -> Erased:
    """Erase ``user_id``; return the summary. Readers' pages and page caches hear of the
    placeholders from the relay's subscribers once it committed.

    An unknown user is a NotFound, or (``missing_ok``: a reader erasing themselves before
    ever writing) an erasure of nothing."""
    now = utcnow()

    async def unit_of_work() -> Erased:
        async with events.transaction() as session:
            if missing_ok and await session.get(User, user_id) is None:
                return Erased(user_id=user_id, comments=0, reactions=0, reports=0, erased_at=now)
            return await _erase(session, user_id, actor, reason, now)

    return await retry_deadlocks(unit_of_work)


async def _erase(
    session: AsyncSession, user_id: str, actor: str, reason: str | None, now: dt.datetime
) -> Erased:
    ids = list(
        (await session.scalars(select(Comment.id).where(Comment.author_id == user_id))).all()
    )
    locked = await lock_for_decisions(session, ids)
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("user not found", code="user_not_found")
    name = user.name
    why = "erased at the author's request" if reason is None else f"erased: {reason}"
    comments = [locked[i] for i in sorted(locked)]
    moves = [
        Move(c, CommentStatus.deleted, why, {"erased": True})
        for c in comments
        if c.status != CommentStatus.deleted
    ]
    for comment in comments:
        comment.featured = False  # written with the transition's columns
    with session.no_autoflush:
        # Set-based: the moved objects leave the session, holding what the database holds.
        await transition_many(session, moves, actor=actor, action="erase", now=now)
    await session.execute(
        update(Comment)
        .where(Comment.author_id == user_id)
        .values(body="", html="", featured=False)
        .execution_options(synchronize_session=False)
    )
    reactions = await _drop_reactions(session, user_id)
    reports = await session.execute(
        update(Report).where(Report.user_id == user_id).values(note=None)
    )
    await session.execute(delete(ReaderSettings).where(ReaderSettings.user_id == user_id))
    await _scrub_audit(session, user_id, name)
    await _redact_deliveries(session, user_id)
    await session.execute(
        update(LiveBlogPost).where(LiveBlogPost.author_id == user_id).values(author_name=ERASED)
    )
    await session.execute(
        update(LiveBlogPostRevision)
        .where(LiveBlogPostRevision.actor_id == user_id)
        .values(actor_name=ERASED)
    )
    user.name = ERASED
    user.status_reason = _without(user.status_reason, name)
    await session.merge(Erasure(user_id=user_id, actor_id=actor, erased_at=now))
    erased = Erased(
        user_id=user_id,
        comments=len(comments),
        reactions=reactions,
        reports=int(getattr(reports, "rowcount", 0) or 0),
        erased_at=now,
    )
    session.add(
        audit_row(
            actor=actor,
            action="erase",
            subject_user_id=user_id,
            reason=_without(reason, name),
            details={
                "erased": True,
                "comments": erased.comments,
                "reactions": erased.reactions,
                "reports": erased.reports,
            },
            now=now,
        )
    )
    return erased


async def _drop_reactions(session: AsyncSession, user_id: str) -> int:
    """Remove the user's reactions and recount the comments they were on."""
    targets = sorted(
        set(
            (
                await session.scalars(
                    select(Reaction.comment_id).where(Reaction.user_id == user_id)
                )
            ).all()
        )
    )
    if not targets:
        return 0
    await session.execute(
        select(Comment.id).where(Comment.id.in_(targets)).order_by(Comment.id).with_for_update()
    )
    result = await session.execute(delete(Reaction).where(Reaction.user_id == user_id))
    await _recount_reactions(session, targets)
    return int(getattr(result, "rowcount", 0) or 0)


async def _recount_reactions(session: AsyncSession, comment_ids: Sequence[int]) -> None:
    rows = await session.execute(
        select(Reaction.comment_id, Reaction.kind, func.count())
        .where(Reaction.comment_id.in_(comment_ids))
        .group_by(Reaction.comment_id, Reaction.kind)
    )
    counts: dict[int, dict[str, int]] = {i: {} for i in comment_ids}
    for comment_id, kind, n in rows.tuples():
        counts[comment_id][kind] = int(n)
    for comment_id, reactions in counts.items():
        await session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(reactions=reactions, reaction_count=sum(reactions.values()))
            .execution_options(synchronize_session=False)
        )


def _without(text: str | None, name: str) -> str | None:
    if text is None or not name.strip():
        return text
    return text.replace(name, ERASED)


async def _scrub_audit(session: AsyncSession, user_id: str, name: str) -> None:
    """Audit rows about the user keep their ids, lose the name, and say they were erased."""
    actions = (
        await session.scalars(
            select(ModerationAction).where(ModerationAction.subject_user_id == user_id)
        )
    ).all()
    for action in actions:
        action.reason = _without(action.reason, name)
        action.details = {**(action.details or {}), "erased": True}


async def _redact_deliveries(session: AsyncSession, user_id: str) -> None:
    deliveries = (
        await session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.subject_user_id == user_id)
        )
    ).all()
    for delivery in deliveries:
        body = orjson.loads(delivery.payload)
        delivery.payload = orjson.dumps(
            {
                "type": body.get("type"),
                "timestamp": body.get("timestamp"),
                "data": {"erased": True, "user_id": user_id},
            }
        ).decode()
