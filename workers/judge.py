"""The policy as the pipeline sees it: the current config and word lists, and one ``decide``.

The pure rules live in ``server.moderation.policy.rules``; this module only gathers a comment's
facts for it and keeps the stored policy (thresholds, word lists) fresh between batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from server.db import Sessionmaker
from server.moderation.policy.rules import CommentFacts, Decision, PolicyConfig, decide
from server.moderation.policy.signals import SpamCounts
from server.moderation.policy.store import PolicyCache
from workers.analysis import Analysis, WordLists

if TYPE_CHECKING:
    from workers.pipeline import Subject

# How stale the policy may be: its versions are checked at most this often.
POLICY_CHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class CommentContext:
    """What the workers counted or detected about a comment besides its scores."""

    spam: SpamCounts = field(default_factory=SpamCounts)
    language: str | None = None
    language_covered: bool = True


@dataclass(frozen=True, slots=True)
class CurrentPolicy:
    """The policy in force for one batch."""

    config: PolicyConfig
    words: WordLists

    def decide(
        self, subject: Subject, analysis: Analysis, context: CommentContext | None = None
    ) -> Decision:
        """Apply the pure policy (``policy.decide``) to one analysed comment."""
        context = context or CommentContext()
        facts = CommentFacts(
            scores=analysis.scores,
            banned_words=analysis.banned,
            suspect_words=analysis.suspect,
            article_mode=subject.article_mode,
            author_status=subject.author_status,
            author_approved_count=subject.author_approved,
            report_count=subject.report_count,
            deobfuscated_labels=analysis.deobfuscated,
            text=subject.body,
            spam_counts=context.spam,
            language=context.language,
            language_covered=context.language_covered,
        )
        decision = decide(facts, self.config)
        if context.language is None:
            return decision
        return replace(decision, details={**decision.details, "language": context.language})


class PolicyJudge:
    """Hands out the policy in force; re-reads it only when a stored version changed."""

    def __init__(self, *, check_interval: float = POLICY_CHECK_SECONDS) -> None:
        self._cache = PolicyCache(check_interval=check_interval)

    async def current(self, sessionmaker: Sessionmaker) -> CurrentPolicy:
        """The policy for the next batch (a moderator's edit applies within ``check_interval``)."""
        async with sessionmaker() as session:
            loaded = await self._cache.get(session)
        return CurrentPolicy(loaded.config, WordLists(banned=loaded.banned, suspect=loaded.suspect))
