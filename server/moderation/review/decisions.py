"""Moderators' decisions: approve, reject, feature and unfeature, one comment or hundreds.

A bulk decision is one transaction that locks every named comment and the counter rows it will
touch (``locking.lock_for_decisions``: one global order, so overlapping decisions cannot
deadlock) and then decides each comment on its own merits: an unknown, deleted or moved-on
comment gets a failed result and the others still apply. Since the rows are locked, a second
moderator deciding the same comment waits for the first and then sees the first's outcome
(``changed: false`` with the last action, or a ``conflict`` when it asked for the comment's old
queue). Every status change goes through ``transition_many`` (``transition`` for a batch).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import Principal
from server.comments.models import Comment, CommentStatus, Report
from server.comments.service import enqueue_scoring
from server.db import utcnow
from server.errors import Unprocessable
from server.jobs.base import JobQueue
from server.lifecycle.events import CommentEvent
from server.lifecycle.relay import EventRelay
from server.lifecycle.transitions import Move, feature, lock_comments, transition, transition_many
from server.moderation.models import ModerationAction
from server.moderation.review.locking import lock_for_decisions, retry_deadlocks
from server.moderation.review.queues import in_queue
from server.moderation.schemas import (
    CommentStatusAwaiting,
    DecisionAction,
    DecisionRequest,
    DecisionResponse,
    DecisionResult,
    ItemError,
    LastAction,
    ReasonCode,
    ReevaluateRequest,
    ReevaluateResponse,
)

MODERATOR_RULE = "moderator"
_TARGET = {
    DecisionAction.approve: CommentStatus.approved,
    DecisionAction.reject: CommentStatus.rejected,
}


@dataclass(slots=True)
class _Batch:
    """What one decision request did, collected while the rows are locked."""

    results: list[DecisionResult] = field(default_factory=list)
    changes: list[CommentEvent] = field(default_factory=list)


def _failed(comment_id: int, comment: Comment | None, code: str, message: str) -> DecisionResult:
    status = CommentStatus(comment.status) if comment is not None else None
    return DecisionResult(
        id=comment_id,
        ok=False,
        changed=False,
        status=status,
        previous_status=status,
        featured=comment.featured if comment is not None else None,
        error=ItemError(code=code, message=message),
    )


def _refusal(
    comment_id: int, comment: Comment | None, request: DecisionRequest
) -> DecisionResult | None:
    """Why ``request`` cannot apply to this comment, or None when it can."""
    if comment is None:
        return _failed(comment_id, None, "comment_not_found", "comment not found")
    if comment.status == CommentStatus.deleted:
        return _failed(comment_id, comment, "comment_deleted", "its author deleted this comment")
    if request.queue is not None and not in_queue(comment, request.queue):
        return _failed(
            comment_id,
            comment,
            "conflict",
            f"no longer in the {request.queue.value} queue (now {comment.status})",
        )
    featuring = request.action in (DecisionAction.feature, DecisionAction.unfeature)
    if featuring and comment.status != CommentStatus.approved:
        return _failed(comment_id, comment, "not_published", "only published comments are featured")
    return None


def _unchanged(comment: Comment, action: DecisionAction) -> bool:
    if action is DecisionAction.feature:
        return comment.featured
    if action is DecisionAction.unfeature:
        return not comment.featured
    if action is DecisionAction.approve:
        # Approving a reported comment dismisses its reports: that is a change.
        return comment.status == CommentStatus.approved and comment.report_count == 0
    return comment.status == CommentStatus.rejected


async def moderate(
    session: AsyncSession,
    comments: Sequence[Comment],
    target: CommentStatus,
    *,
    actor: str,
    action: str,
    reason: str,
    now: dt.datetime,
    details: dict[str, object],
) -> list[CommentEvent]:
    """Approve or reject locked comments by a person's decision, resolving their reports
    (they leave the reported queue); one ``transition_many`` keeps the counters exact."""
    reported = [c.id for c in comments if c.report_count]
    if reported:
        await session.execute(
            update(Report)
            .where(Report.comment_id.in_(reported), Report.resolved.is_(False))
            .values(resolved=True)
            .execution_options(synchronize_session=False)
        )
    moves = []
    for comment in comments:
        resolved, comment.report_count = comment.report_count, 0
        if target is not CommentStatus.approved:
            comment.featured = False
        info = {"rule": MODERATOR_RULE, "reports_resolved": resolved, **details}
        moves.append(Move(comment, target, reason, info))
    return await transition_many(session, moves, actor=actor, action=action, now=now)


def _reason_text(request: DecisionRequest) -> str:
    verb = "approved" if request.action is DecisionAction.approve else "rejected"
    text = f"{verb} by a moderator"
    if request.reason is not None:
        text += f": {request.reason.value}"
    return text


async def _apply(
    session: AsyncSession,
    comments: Sequence[Comment],
    request: DecisionRequest,
    actor: str,
    now: dt.datetime,
) -> list[CommentEvent]:
    target = _TARGET.get(request.action)
    if target is None:
        on = request.action is DecisionAction.feature
        return [
            feature(session, c, on=on, actor=actor, now=now, reason=request.note)
            for c in comments
        ]
    return await moderate(
        session,
        comments,
        target,
        actor=actor,
        action=request.action.value,
        reason=_reason_text(request),
        now=now,
        details={
            "reason_code": request.reason.value if request.reason else None,
            "note": request.note,
        },
    )


def _applied(comment: Comment, change: CommentEvent) -> DecisionResult:
    return DecisionResult(
        id=comment.id,
        ok=True,
        changed=True,
        status=CommentStatus(comment.status),
        previous_status=change.before,
        featured=comment.featured,
    )


async def apply_decisions(
    *,
    events: EventRelay,
    principal: Principal,
    request: DecisionRequest,
) -> DecisionResponse:
    """Apply one action to each listed comment, atomically per comment, with a result each."""
    if request.action is DecisionAction.reject and request.reason is None:
        raise Unprocessable(
            "rejecting needs a reason code: " + ", ".join(_reason_codes()),
            code="reason_required",
        )
    ids = list(dict.fromkeys(request.comment_ids))
    now = utcnow()

    async def unit_of_work() -> _Batch:
        return await _decide_all(events, request, ids, principal.sub, now)

    batch = await retry_deadlocks(unit_of_work)
    return _response(request.action, batch.results)


async def _decide_all(
    events: EventRelay,
    request: DecisionRequest,
    ids: Sequence[int],
    actor: str,
    now: dt.datetime,
) -> _Batch:
    batch = _Batch()
    async with events.transaction() as session:
        locked = await lock_for_decisions(session, ids)
        # The rows are locked and nothing below reads them back: flushing each comment before
        # every counter UPDATE would cost a round trip per comment. One flush at commit.
        with session.no_autoflush:
            await _decide_locked(session, batch, locked, request, ids, actor, now)
        batch.results = await _with_last_actions(session, batch.results)
    return batch


async def _decide_locked(
    session: AsyncSession,
    batch: _Batch,
    locked: dict[int, Comment],
    request: DecisionRequest,
    ids: Sequence[int],
    actor: str,
    now: dt.datetime,
) -> None:
    answered: dict[int, DecisionResult] = {}
    todo: list[Comment] = []
    for comment_id in ids:
        comment = locked.get(comment_id)
        refused = _refusal(comment_id, comment, request)
        if refused is not None or comment is None:
            answered[comment_id] = refused or _failed(
                comment_id, None, "comment_not_found", "comment not found"
            )
        elif _unchanged(comment, request.action):
            answered[comment_id] = _same(comment)
        else:
            todo.append(comment)
    changes = {c.comment_id: c for c in await _apply(session, todo, request, actor, now)}
    batch.changes.extend(changes[c.id] for c in todo)
    batch.results.extend(answered.get(i) or _applied(locked[i], changes[i]) for i in ids)


def _same(comment: Comment) -> DecisionResult:
    status = CommentStatus(comment.status)
    return DecisionResult(
        id=comment.id,
        ok=True,
        changed=False,
        status=status,
        previous_status=status,
        featured=comment.featured,
    )


def _reason_codes() -> list[str]:
    return [code.value for code in ReasonCode]


def _response(action: DecisionAction, results: list[DecisionResult]) -> DecisionResponse:
    return DecisionResponse(
        action=action,
        applied=sum(r.changed for r in results),
        unchanged=sum(r.ok and not r.changed for r in results),
        failed=sum(not r.ok for r in results),
        results=results,
    )


async def _with_last_actions(
    session: AsyncSession, results: list[DecisionResult]
) -> list[DecisionResult]:
    """Show who last acted on comments this request did not change (the "second moderator")."""
    ids = [r.id for r in results if not r.changed and r.status is not None]
    if not ids:
        return results
    last = await last_actions(session, ids)
    return [
        r.model_copy(update={"last_action": last.get(r.id)})
        if r.id in last and not r.changed
        else r
        for r in results
    ]


async def last_actions(session: AsyncSession, ids: Sequence[int]) -> dict[int, LastAction]:
    latest = (
        select(func.max(ModerationAction.id))
        .where(ModerationAction.comment_id.in_(ids))
        .group_by(ModerationAction.comment_id)
    )
    rows = await session.execute(
        select(
            ModerationAction.comment_id,
            ModerationAction.actor_id,
            ModerationAction.action,
            ModerationAction.created_at,
        ).where(ModerationAction.id.in_(latest))
    )
    return {
        cid: LastAction(actor_id=actor, action=action, created_at=at)
        for cid, actor, action, at in rows.tuples()
        if cid is not None
    }


async def reevaluate(
    *,
    events: EventRelay,
    jobs: JobQueue,
    principal: Principal,
    request: ReevaluateRequest,
) -> ReevaluateResponse:
    """Send pending and held comments back through the current policy.

    Held comments return to ``pending`` (audited) and, like pending ones, are queued for the
    scoring workers, which decide them with the policy and word lists in force now. Old
    comments are never re-decided unless a moderator asks for it here.
    """
    now = utcnow()
    statuses = [s.value for s in dict.fromkeys(request.statuses)]
    scope: list[ColumnElement[bool]] = [Comment.status.in_(statuses)]
    if request.article_id is not None:
        scope.append(Comment.article_id == request.article_id)
    changes: list[CommentEvent] = []
    async with events.transaction() as session:
        ids = list(
            (
                await session.scalars(
                    select(Comment.id).where(*scope).order_by(Comment.id).limit(request.limit)
                )
            ).all()
        )
        for comment in await lock_comments(session, ids):
            if comment.status != CommentStatusAwaiting.held:
                continue
            changes.append(await _reopen(session, comment, principal.sub, now))
    await enqueue_scoring(jobs, ids)
    return ReevaluateResponse(
        examined=len(ids), reopened=len(changes), queued=len(ids), comment_ids=ids
    )


async def _reopen(
    session: AsyncSession, comment: Comment, actor: str, now: dt.datetime
) -> CommentEvent:
    reason = "re-evaluation requested by a moderator"
    comment.decision_reason, comment.decided_at = None, None
    return await transition(
        session,
        comment,
        CommentStatus.pending,
        actor=actor,
        action="reevaluate",
        now=now,
        reason=reason,
        details={"rule": "reevaluate"},
    )
