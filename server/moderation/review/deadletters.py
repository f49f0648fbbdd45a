"""Dead letters: comments whose scoring kept failing until the workers gave up on them.

The scoring consumer gives up on a job after ``worker_max_deliveries`` attempts: it holds the
comment with the rule ``scoring_failed`` (the error in the audit row) and moves the job to the
dead-letter stream. The database is the record here, so the list survives a Redis flush: a dead
letter is a held comment whose latest decision is ``scoring_failed``. Replaying one sends it
back to ``pending`` (audited) and queues it for the scorers, which decide it as any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import Comment, CommentStatus
from server.comments.service import enqueue_scoring
from server.db import Sessionmaker, utcnow
from server.errors import NotFound
from server.jobs.base import JobQueue
from server.lifecycle.relay import EventRelay
from server.lifecycle.transitions import Move, lock_comments, transition_many
from server.moderation.models import ModerationAction
from server.moderation.review.audit import _entry as audit_entry
from server.moderation.review.queues import build_items, item_rows, latest_rule
from server.moderation.schemas import ItemError, QueueItem
from server.moderation.tool_schemas import (
    DeadLetter,
    DeadLetterDetail,
    DeadLetterPage,
    DeadLetterQuery,
    ReplayResponse,
    ReplayResult,
)

# The rule and audit action the scoring pipeline records when it gives up on a comment.
SCORING_FAILED = "scoring_failed"
REPLAY_ACTION = "replay_scoring"


def _is_dead() -> list[ColumnElement[bool]]:
    return [Comment.status == CommentStatus.held.value, latest_rule() == SCORING_FAILED]


async def _failures(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, tuple[int, str | None, dt.datetime]]:
    """Per comment: how often scoring was given up, the last error and when."""
    if not ids:
        return {}
    rows = await session.execute(
        select(ModerationAction.comment_id, ModerationAction.details, ModerationAction.created_at)
        .where(
            ModerationAction.comment_id.in_(ids), ModerationAction.action == SCORING_FAILED
        )
        .order_by(ModerationAction.id)
    )
    found: dict[int, tuple[int, str | None, dt.datetime]] = {}
    for comment_id, details, at in rows.tuples():
        if comment_id is None:
            continue
        count = found.get(comment_id, (0, None, at))[0] + 1
        error = details.get("error") if isinstance(details, dict) else None
        found[comment_id] = (count, error if isinstance(error, str) else None, at)
    return found


def _letter(item: QueueItem, failures: tuple[int, str | None, dt.datetime] | None) -> DeadLetter:
    count, error, at = failures or (0, None, None)
    return DeadLetter(comment=item, error=error, failures=count, failed_at=at)


async def list_dead_letters(
    *, sessionmaker: Sessionmaker, query: DeadLetterQuery
) -> DeadLetterPage:
    """Dead letters, newest comment first; ``next_cursor`` continues after the last one."""
    stmt = item_rows().where(*_is_dead())
    if query.cursor is not None:
        stmt = stmt.where(Comment.id < int(query.cursor))
    stmt = stmt.order_by(Comment.id.desc()).limit(query.limit + 1)
    async with sessionmaker() as session:
        rows = list((await session.execute(stmt)).all())
        page = rows[: query.limit]
        items = [QueueItem.model_validate(i) for i in await build_items(session, page)]
        failures = await _failures(session, [item.id for item in items])
    more = len(rows) > query.limit and page
    return DeadLetterPage(
        items=[_letter(item, failures.get(item.id)) for item in items],
        next_cursor=str(page[-1].id) if more else None,
    )


async def get_dead_letter(*, sessionmaker: Sessionmaker, comment_id: int) -> DeadLetterDetail:
    """One dead letter with its whole audit log, or a 404 if the comment is not one."""
    stmt = item_rows().where(Comment.id == bindparam("id"), *_is_dead())
    async with sessionmaker() as session:
        row = (await session.execute(stmt, {"id": comment_id})).first()
        if row is None:
            raise NotFound("no dead letter for this comment", code="dead_letter_not_found")
        item = QueueItem.model_validate((await build_items(session, [row]))[0])
        failures = (await _failures(session, [comment_id])).get(comment_id)
        history = await session.scalars(
            select(ModerationAction)
            .where(ModerationAction.comment_id == comment_id)
            .order_by(ModerationAction.id)
        )
        entries = [audit_entry(action) for action in history]
    letter = _letter(item, failures)
    return DeadLetterDetail(**letter.model_dump(), history=entries)


async def count_dead_letters(*, sessionmaker: Sessionmaker) -> int:
    async with sessionmaker() as session:
        n = await session.scalar(select(func.count()).select_from(Comment).where(*_is_dead()))
    return int(n or 0)


async def replay(
    *,
    events: EventRelay,
    jobs: JobQueue,
    actor: str,
    comment_ids: Sequence[int],
) -> ReplayResponse:
    """Send dead letters back to the scorers; anything else named fails on its own.

    Their events (back to ``pending``) are published after the commit by ``events``."""
    ids = list(dict.fromkeys(comment_ids))
    now = utcnow()
    async with events.transaction() as session:
        dead = set(
            (
                await session.scalars(
                    select(Comment.id).where(Comment.id.in_(ids), *_is_dead())
                )
            ).all()
        )
        locked = [c for c in await lock_comments(session, sorted(dead)) if c.status == "held"]
        reason = "scoring replayed from the dead letters"
        moves = [Move(c, CommentStatus.pending, reason, {"rule": REPLAY_ACTION}) for c in locked]
        for comment in locked:
            comment.decision_reason, comment.decided_at = None, None
        await transition_many(session, moves, actor=actor, action=REPLAY_ACTION, now=now)
        replayed = {comment.id for comment in locked}
    await enqueue_scoring(jobs, sorted(replayed))
    results = [
        ReplayResult(id=i, ok=True)
        if i in replayed
        else ReplayResult(
            id=i,
            ok=False,
            error=ItemError(code="not_dead_letter", message="not a held dead letter (any more)"),
        )
        for i in ids
    ]
    return ReplayResponse(
        replayed=len(replayed), failed=len(results) - len(replayed), results=results
    )
