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
from server.comments.visibility import lock_comment, transition
from server.db import Sessionmaker, utcnow
from server.jobs.base import Job
from server.live.base import ChannelBroker
from server.moderation.locking import lock_for_decisions, retry_deadlocks
from server.moderation.models import SYSTEM_ACTOR
from server.users.models import User, UserStatus
from workers import metrics
from workers.analysis import Analysis, Failure, analyse
from workers.consumer import BatchResult
from workers.events import Decided, publish_decisions
from workers.judge import CommentContext, PolicyJudge, Verdict
from workers.language import Detected, LanguageDetector, scorer_languages
from workers.nudge import Nudge, nudge_for, publish_nudges
from workers.spam import MemorySpamTracker, SpamItem, SpamTracker

if TYPE_CHECKING:
    from workers.scorer import Scorer

log = logging.getLogger(__name__)

ACTION = "auto_moderate"
GIVE_UP_ACTION = "scoring_failed"
REASON_CHARS = 500


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
    created_at: dt.datetime | None = None
    nudge: str | None = None


class Pipeline:
    """Decides batches of comments; shared by every consumer of a process."""

    def __init__(
        self,
        *,
        sessionmaker: Sessionmaker,
        channels: ChannelBroker,
        scorer: Scorer,
        judge: PolicyJudge,
        spam: SpamTracker | None = None,
        language: LanguageDetector | None = None,
        edit_window_seconds: int = 15 * 60,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._channels = channels
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
        decided: list[Decided] = []
        if subjects:
            verdicts = await self._judge_all(subjects, errors)
            decided = await self._apply(verdicts, errors)
            await publish_decisions(self._sessionmaker, self._channels, decided)
            await publish_nudges(self._channels, [item.nudge for item in decided if item.nudge])
        for item in decided:
            metrics.DECISIONS.labels(item.status.value).inc()
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
        async with self._sessionmaker.begin() as session:
            comment = await lock_comment(session, comment_id)
            if comment is None or comment.status != CommentStatus.pending:
                return
            comment.decision_reason, comment.decided_at = reason, now
            await transition(
                session, comment, CommentStatus.held, actor=SYSTEM_ACTOR,
                action=GIVE_UP_ACTION, now=now, reason=reason,
                details={"rule": "scoring_failed", "error": error[:1000]},
            )
            author = await session.get(User, comment.author_id)
            item = Decided(
                comment, CommentStatus.held, author.name if author else None, GIVE_UP_ACTION
            )
        metrics.DECISIONS.labels(CommentStatus.held.value).inc()
        await publish_decisions(self._sessionmaker, self._channels, [item])

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
                    author_id=user.id, ip_hash=comment.ip_hash, created_at=comment.created_at,
                    nudge=comment.nudge,
                )
                for comment, mode, user in rows.tuples()
            ]

    async def _judge_all(
        self, subjects: Sequence[Subject], errors: dict[int, str]
    ) -> dict[int, tuple[Subject, Analysis, Verdict]]:
        policy = await self._judge.current(self._sessionmaker)
        texts = [subject.body for subject in subjects]
        async with self._model_lock:
            analyses = await asyncio.to_thread(analyse, self._scorer, policy.words, texts)
            languages = await asyncio.to_thread(self._detect, texts)
        verdicts: dict[int, tuple[Subject, Analysis, Verdict]] = {}
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
            verdict = policy.decide(subject, analysis, context)
            verdicts[subject.comment_id] = (subject, analysis, verdict)
        return verdicts

    def _detect(self, texts: Sequence[str]) -> list[Detected]:
        if self._language is None:
            return [Detected(None, 0.0)] * len(texts)
        return [self._language.detect(text) for text in texts]

    async def _apply(
        self, verdicts: dict[int, tuple[Subject, Analysis, Verdict]], errors: dict[int, str]
    ) -> list[Decided]:
        """Store every decision in one transaction; if that fails, each in its own."""
        if not verdicts:
            return []
        try:
            return await self._store(verdicts)
        except Exception as exc:  # noqa: BLE001 - isolate the comment at fault below
            if len(verdicts) == 1:
                errors.update(dict.fromkeys(verdicts, _describe(exc)))
                return []
            log.warning("storing %d decisions failed (%s); one at a time", len(verdicts), exc)
        decided: list[Decided] = []
        for comment_id, verdict in verdicts.items():
            try:
                decided.extend(await self._store({comment_id: verdict}))
            except Exception as exc:  # noqa: BLE001 - reported as this job's failure
                errors[comment_id] = _describe(exc)
        return decided

    async def _store(self, verdicts: dict[int, tuple[Subject, Analysis, Verdict]]) -> list[Decided]:
        # Workers and moderators lock comments, parents, articles and authors in one order
        # (lock_for_decisions), so they cannot deadlock; a victim of anything else retries.
        return await retry_deadlocks(lambda: self._store_once(verdicts))

    async def _store_once(
        self, verdicts: dict[int, tuple[Subject, Analysis, Verdict]]
    ) -> list[Decided]:
        decided: list[Decided] = []
        now = utcnow()  # decided_at: when the decision is stored, after scoring
        async with self._sessionmaker.begin() as session:
            targets = await lock_for_decisions(session, list(verdicts))
            comments = [targets[comment_id] for comment_id in sorted(targets)]
            # The counter updates inside transition are SQL increments that do not read these
            # rows, so the comments and audit rows can be flushed once, at commit, instead of
            # before every one of those statements (a third of a batch's time otherwise).
            with session.no_autoflush:
                for comment in comments:
                    subject, analysis, verdict = verdicts[comment.id]
                    if comment.status != CommentStatus.pending or comment.body != subject.body:
                        continue  # decided meanwhile, or edited: its own job decides the new text
                    await self._decide_one(session, comment, analysis, verdict, now)
                    nudge = self._nudge(comment, verdict)
                    decided.append(
                        Decided(comment, verdict.status, subject.author_name, ACTION, nudge)
                    )
        return decided

    async def _decide_one(
        self, session: AsyncSession, comment: Comment, analysis: Analysis, verdict: Verdict,
        now: dt.datetime,
    ) -> None:
        reason = _clip(verdict.reason)
        comment.scores, comment.risk = analysis.scores, analysis.risk
        comment.model = self._scorer.name
        language = verdict.details.get("language")
        comment.language = language if isinstance(language, str) else None
        comment.decision_reason, comment.decided_at = reason, now
        await transition(
            session, comment, verdict.status, actor=SYSTEM_ACTOR, action=ACTION,
            now=now, reason=reason, details=_details(verdict, analysis, comment.model),
        )


    def _nudge(self, comment: Comment, verdict: Verdict) -> Nudge | None:
        """Offer the author one revision when only the toxicity scores held the comment."""
        nudge = nudge_for(comment, verdict, self._edit_window)
        if nudge is not None:
            comment.nudge = "offered"
            metrics.NUDGES.inc()
        return nudge


def _details(verdict: Verdict, analysis: Analysis, model: str) -> dict[str, object]:
    return {
        "rule": verdict.rule,
        **verdict.details,
        "scores": analysis.scores,
        "model": model,
    }


def _clip(reason: str) -> str:
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
