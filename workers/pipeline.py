"""One batch of scoring jobs, from pending comments to stored decisions and published events.

load (one query) → analyse (one model call, in a thread) → decide (pure policy) → apply (one
transaction through ``transition``) → publish (after commit). A comment that is no longer
pending, or whose text changed since it was loaded, is left alone: handling is idempotent, so
at-least-once delivery is safe.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article, ModerationMode
from server.comments.models import Comment, CommentStatus
from server.comments.nudges import offer
from server.db import Sessionmaker, utcnow
from server.jobs.base import Job
from server.lifecycle.events import EventKind, record
from server.lifecycle.relay import EventRelay
from server.lifecycle.subscribers import build_relay
from server.lifecycle.transitions import comment_event, lock_comment, transition
from server.live.base import ChannelBroker
from server.moderation.models import SYSTEM_ACTOR
from server.moderation.policy.rules import Decision
from server.moderation.review.locking import lock_for_decisions, retry_deadlocks
from server.users.models import User, UserStatus
from workers import metrics
from workers.analysis import Analysis, Failure, analyse
from workers.consumer import BatchResult
from workers.judge import CommentContext, PolicyJudge
from workers.language import Detected, LanguageDetector, scorer_languages
from workers.spam import MemorySpamTracker, SpamItem, SpamTracker

if TYPE_CHECKING:
    from workers.scorer import Scorer

log = logging.getLogger(__name__)

ACTION = "auto_moderate"
GIVE_UP_ACTION = "scoring_failed"
REASON_CHARS = 500


@dataclass(frozen=True, slots=True)
class Stored:
    """A decision the worker has stored (committed)."""

    comment_id: int
    status: CommentStatus
    nudged: bool = False  # its author was offered one revision (server.comments.nudges)


@dataclass(frozen=True, slots=True)
class Subject:
    """A pending comment and what the policy needs to know about it."""

    comment_id: int
    body: str
    article_id: str
    author_name: str
    article_mode: ModerationMode
    author_status: UserStatus
    author_approved: int
    report_count: int
    author_id: str = ""
    ip_hash: str | None = None


class Pipeline:
    """Decides batches of comments; shared by every consumer of a process."""

    def __init__(
        self,
        *,
        sessionmaker: Sessionmaker,
        channels: ChannelBroker,
        scorer: Scorer,
        judge: PolicyJudge,
        events: EventRelay | None = None,
        spam: SpamTracker | None = None,
        language: LanguageDetector | None = None,
        edit_window_seconds: int = 15 * 60,
    ) -> None:
        self._sessionmaker = sessionmaker
        # Inside the server the app's relay (and its subscribers); a worker process its own.
        self._events = events or build_relay(sessionmaker, channels)
        self._scorer = scorer
        self._judge = judge
        self._spam: SpamTracker = spam if spam is not None else MemorySpamTracker()
        self._language = language
        self._covered = scorer_languages(scorer.name)
        self._edit_window = dt.timedelta(seconds=edit_window_seconds)
        # One model call at a time: the model already uses every core it is given, and
        # consumers overlap their database work with another's scoring.
        self._model_lock = asyncio.Lock()

    @property
    def model_name(self) -> str:
        return str(self._scorer.name)

    async def handle(self, jobs: Sequence[Job]) -> BatchResult:
        """Decide the comments of ``jobs``; a job fails alone, never because of a batch-mate."""
        now = utcnow()
        subjects = await self._load(sorted({job.comment_id for job in jobs}), now)
        errors: dict[int, str] = {}
        decided: list[Stored] = []
        if subjects:
            decisions = await self._judge_all(subjects, errors)
            decided = await self._apply(decisions, errors)
        for item in decided:
            metrics.DECISIONS.labels(item.status.value).inc()
            if item.nudged:
                metrics.NUDGES.inc()
        result = BatchResult()
        for job in jobs:
            if job.comment_id in errors:
                result.failed.append((job, errors[job.comment_id]))
            else:
                result.done.append(job)
        metrics.SKIPPED.inc(len(jobs) - len(decided) - len(result.failed))
        return result

    async def give_up(self, comment_id: int, error: str) -> None:
        """Hold a comment whose scoring keeps failing, with the error as its reason."""
        now = utcnow()
        reason = _clip(f"held: scoring failed ({error})")
        async with self._events.transaction() as session:
            comment = await lock_comment(session, comment_id)
            if comment is None or comment.status != CommentStatus.pending:
                return
            comment.decision_reason, comment.decided_at = reason, now
            await transition(
                session, comment, CommentStatus.held, actor=SYSTEM_ACTOR,
                action=GIVE_UP_ACTION, now=now, reason=reason,
                details={"rule": "scoring_failed", "error": error[:1000]},
            )
        metrics.DECISIONS.labels(CommentStatus.held.value).inc()

    async def _load(self, comment_ids: Sequence[int], now: dt.datetime) -> list[Subject]:
        async with self._sessionmaker() as session:
            rows = await session.execute(
                select(Comment, Article.moderation, User)
                .join(Article, Article.id == Comment.article_id)
                .join(User, User.id == Comment.author_id)
                .where(Comment.id.in_(comment_ids), Comment.status == CommentStatus.pending.value)
                .order_by(Comment.id)
            )
            return [
                Subject(
                    comment_id=comment.id, body=comment.body, article_id=comment.article_id,
                    author_name=user.name, article_mode=ModerationMode(mode),
                    author_status=user.effective_status(now),
                    author_approved=user.approved_count, report_count=comment.report_count,
                    author_id=user.id, ip_hash=comment.ip_hash,
                )
                for comment, mode, user in rows.tuples()
            ]

    async def _judge_all(
        self, subjects: Sequence[Subject], errors: dict[int, str]
    ) -> dict[int, tuple[Subject, Analysis, Decision]]:
        policy = await self._judge.current(self._sessionmaker)
        texts = [subject.body for subject in subjects]
        async with self._model_lock:
            analyses = await asyncio.to_thread(analyse, self._scorer, policy.words, texts)
            languages = await asyncio.to_thread(self._detect, texts)
        decisions: dict[int, tuple[Subject, Analysis, Decision]] = {}
        for subject, analysis, detected in zip(subjects, analyses, languages, strict=True):
            if isinstance(analysis, Failure):
                errors[subject.comment_id] = analysis.error
                continue
            item = SpamItem(
                subject.comment_id, subject.author_id, subject.article_id, subject.body,
                subject.ip_hash,
            )
            context = CommentContext(
                spam=await self._spam.observe(item, policy.config.spam),
                language=detected.language,
                language_covered=detected.language is None or detected.language in self._covered,
            )
            decision = policy.decide(subject, analysis, context)
            decisions[subject.comment_id] = (subject, analysis, decision)
        return decisions

    def _detect(self, texts: Sequence[str]) -> list[Detected]:
        if self._language is None:
            return [Detected(None, 0.0)] * len(texts)
        return [self._language.detect(text) for text in texts]

    async def _apply(
        self, decisions: dict[int, tuple[Subject, Analysis, Decision]], errors: dict[int, str]
    ) -> list[Stored]:
        """Store every decision in one transaction; if that fails, each in its own."""
        if not decisions:
            return []
        try:
            return await self._store(decisions)
        except Exception as exc:  # noqa: BLE001 - isolate the comment at fault below
            if len(decisions) == 1:
                errors.update(dict.fromkeys(decisions, _describe(exc)))
                return []
            log.warning("storing %d decisions failed (%s); one at a time", len(decisions), exc)
        decided: list[Stored] = []
        for comment_id, decision in decisions.items():
            try:
                decided.extend(await self._store({comment_id: decision}))
            except Exception as exc:  # noqa: BLE001 - reported as this job's failure
                errors[comment_id] = _describe(exc)
        return decided

    async def _store(
        self, decisions: dict[int, tuple[Subject, Analysis, Decision]]
    ) -> list[Stored]:
        # Workers and moderators lock comments, parents, articles and authors in one order
        # (lock_for_decisions), so they cannot deadlock; a victim of anything else retries.
        return await retry_deadlocks(lambda: self._store_once(decisions))

    async def _store_once(
        self, decisions: dict[int, tuple[Subject, Analysis, Decision]]
    ) -> list[Stored]:
        decided: list[Stored] = []
        now = utcnow()  # decided_at: when the decision is stored, after scoring
        async with self._events.transaction() as session:
            targets = await lock_for_decisions(session, list(decisions))
            comments = [targets[comment_id] for comment_id in sorted(targets)]
            # The counter updates inside transition are SQL increments that do not read these
            # rows, so the comments and audit rows can be flushed once, at commit, instead of
            # before every one of those statements (a third of a batch's time otherwise).
            with session.no_autoflush:
                for comment in comments:
                    subject, analysis, decision = decisions[comment.id]
                    if comment.status != CommentStatus.pending or comment.body != subject.body:
                        continue  # decided meanwhile, or edited: its own job decides the new text
                    nudged = await self._decide_one(session, comment, analysis, decision, now)
                    decided.append(Stored(comment.id, decision.status, nudged))
        return decided

    async def _decide_one(
        self, session: AsyncSession, comment: Comment, analysis: Analysis, decision: Decision,
        now: dt.datetime,
    ) -> bool:
        """Store one decision; True if its author was offered a revision (a nudge)."""
        reason = _clip(decision.reason)
        comment.scores, comment.risk = analysis.scores, analysis.risk
        comment.model = self._scorer.name
        language = decision.details.get("language")
        comment.language = language if isinstance(language, str) else None
        comment.decision_reason, comment.decided_at = reason, now
        nudge = offer(comment, decision, self._edit_window)
        details = _details(decision, analysis, comment.model)
        if nudge is not None:
            details["nudge"] = nudge
        await transition(
            session, comment, decision.status, actor=SYSTEM_ACTOR, action=ACTION,
            now=now, reason=reason, details=details,
        )
        if nudge is None:
            return False
        # The author hears it after commit (lifecycle subscriber NudgeNotices, user:{sub}).
        record(
            session,
            comment_event(
                comment, EventKind.nudged, actor=SYSTEM_ACTOR, action=ACTION,
                before=CommentStatus.held, was_visible=False, data=nudge,
            ),
        )
        return True


def _details(decision: Decision, analysis: Analysis, model: str) -> dict[str, object]:
    return {
        "rule": decision.rule.value,
        **decision.details,
        "scores": analysis.scores,
        "model": model,
    }


def _clip(reason: str) -> str:
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
