"""What a policy would do to recent comments, decided again from their stored scores.

The preview and the re-evaluation share one computation (``_evaluate``): the last N comments
the scoring workers decided (a person's decision is never second-guessed here), each put
through the pure policy with its stored scores, today's word lists, its article's mode and its
author's status and record. The preview only reports; ``apply`` stores the changes it reports
for the policy in force, so what an admin previewed is what re-evaluation then does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article, ModerationMode
from server.auth import Principal
from server.comments.models import Comment, CommentStatus
from server.db import Sessionmaker, utcnow
from server.errors import Unprocessable
from server.lifecycle.relay import EventRelay
from server.lifecycle.transitions import Move, transition_many
from server.moderation.models import ModerationAction
from server.moderation.policy import CommentFacts, Decision, PolicyConfig, decide
from server.moderation.policy.store import LoadedPolicy, load_policy
from server.moderation.review.locking import lock_for_decisions, retry_deadlocks
from server.moderation.review.queues import excerpt
from server.moderation.tool_schemas import (
    MAX_LISTED_CHANGES,
    ApplyRequest,
    Outcomes,
    PreviewChange,
    PreviewRequest,
    PreviewResponse,
)
from server.users.models import User

ACTION = "policy_reevaluate"
_DECIDED = (CommentStatus.approved.value, CommentStatus.held.value, CommentStatus.rejected.value)
# Decisions taken by the policy itself: the workers' and this module's.
_POLICY_ACTIONS = ("auto_moderate", ACTION)
# Audit actions that are not status decisions.
_NOT_DECISIONS = ("feature", "unfeature")


@dataclass(frozen=True, slots=True)
class _Outcome:
    comment_id: int
    article_id: str
    body: str
    risk: float | None
    before: CommentStatus
    decision: Decision


def _machine_decided() -> ColumnElement[bool]:
    """The comment's latest status decision was the policy's (a worker's or a re-evaluation)."""
    latest = (
        select(ModerationAction.action)
        .where(
            ModerationAction.comment_id == Comment.id,
            ModerationAction.action.not_in(_NOT_DECISIONS),
        )
        .order_by(ModerationAction.id.desc())
        .limit(1)
        .correlate(Comment)
        .scalar_subquery()
    )
    return latest.in_(_POLICY_ACTIONS)


async def _evaluate(
    session: AsyncSession,
    policy: LoadedPolicy,
    *,
    limit: int,
    article_id: str | None,
    now: dt.datetime,
    only: Sequence[int] | None = None,
) -> list[_Outcome]:
    scope: list[ColumnElement[bool]] = [
        Comment.status.in_(_DECIDED),
        Comment.scores.is_not(None),
        _machine_decided(),
    ]
    if article_id is not None:
        scope.append(Comment.article_id == article_id)
    if only is not None:
        scope.append(Comment.id.in_(only))
    rows = await session.execute(
        select(Comment, Article.moderation, User)
        .join(Article, Article.id == Comment.article_id)
        .join(User, User.id == Comment.author_id)
        .where(*scope)
        .order_by(Comment.id.desc())
        .limit(limit)
    )
    outcomes = []
    for comment, mode, user in rows.tuples():
        facts = CommentFacts(
            scores=comment.scores,
            banned_words=policy.banned.find(comment.body),
            suspect_words=policy.suspect.find(comment.body),
            article_mode=ModerationMode(mode),
            author_status=user.effective_status(now),
            author_approved_count=user.approved_count,
            report_count=comment.report_count,
        )
        outcomes.append(
            _Outcome(
                comment_id=comment.id,
                article_id=comment.article_id,
                body=comment.body,
                risk=comment.risk,
                before=CommentStatus(comment.status),
                decision=decide(facts, policy.config),
            )
        )
    return outcomes


def _count(statuses: Sequence[CommentStatus]) -> Outcomes:
    return Outcomes(
        approved=sum(s is CommentStatus.approved for s in statuses),
        held=sum(s is CommentStatus.held for s in statuses),
        rejected=sum(s is CommentStatus.rejected for s in statuses),
    )


def _report(outcomes: Sequence[_Outcome], applied: int = 0) -> PreviewResponse:
    changed = [o for o in outcomes if o.decision.status is not o.before]
    return PreviewResponse(
        examined=len(outcomes),
        current=_count([o.before for o in outcomes]),
        proposed=_count([o.decision.status for o in outcomes]),
        changed=len(changed),
        changes=[
            PreviewChange(
                id=o.comment_id,
                article_id=o.article_id,
                excerpt=excerpt(o.body),
                risk=o.risk,
                before=o.before,
                after=o.decision.status,
                rule=o.decision.rule.value,
                reason=o.decision.reason,
            )
            for o in changed[:MAX_LISTED_CHANGES]
        ],
        applied=applied,
    )


def _config(request: PreviewRequest, in_force: PolicyConfig) -> PolicyConfig:
    if request.config is None:
        return in_force
    data = request.config.model_dump(exclude_unset=True, exclude={"reason"})
    try:
        return PolicyConfig.from_dict(data)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_policy") from exc


async def preview(*, sessionmaker: Sessionmaker, request: PreviewRequest) -> PreviewResponse:
    """How the policy tried (or the one in force) would decide the last ``limit`` comments."""
    async with sessionmaker() as session:
        policy = await load_policy(session)
        tried = policy._replace(config=_config(request, policy.config))
        outcomes = await _evaluate(
            session, tried, limit=request.limit, article_id=request.article_id, now=utcnow()
        )
    return _report(outcomes)


async def apply(
    *,
    events: EventRelay,
    principal: Principal,
    request: ApplyRequest,
) -> PreviewResponse:
    """Re-decide the last ``limit`` machine-decided comments under the policy in force
    (their events are published after the commit by ``events``)."""
    now = utcnow()
    async with events.sessionmaker() as session:
        policy = await load_policy(session)
        outcomes = await _evaluate(
            session, policy, limit=request.limit, article_id=request.article_id, now=now
        )
    changed = {o.comment_id: o for o in outcomes if o.decision.status is not o.before}

    async def unit_of_work() -> int:
        return await _store(events, changed, principal.sub, now)

    applied = await retry_deadlocks(unit_of_work)
    return _report(outcomes, applied=applied)


async def _store(
    events: EventRelay, changed: dict[int, _Outcome], actor: str, now: dt.datetime
) -> int:
    if not changed:
        return 0
    async with events.transaction() as session:
        locked = await lock_for_decisions(session, sorted(changed))
        moves: list[Move] = []
        for comment_id in sorted(locked):
            comment, outcome = locked[comment_id], changed[comment_id]
            if comment.status != outcome.before.value or comment.body != outcome.body:
                continue  # decided or edited since it was evaluated: leave it
            decision = outcome.decision
            if decision.status is not CommentStatus.approved:
                comment.featured = False
            details = {"rule": decision.rule.value, **decision.details, "reevaluated": True}
            moves.append(Move(comment, decision.status, decision.reason, details))
        await transition_many(session, moves, actor=actor, action=ACTION, now=now)
    return len(moves)
