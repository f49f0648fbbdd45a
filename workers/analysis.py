"""The blocking half of the pipeline: word lists and the model over one batch of texts.

``analyse`` runs in a worker thread (``asyncio.to_thread``) so the event loop never waits on
the model. The whole batch goes to the scorer in one call, which is what makes a transformer
fast. The scorer isolates a text it cannot score (a ``ScoreError`` in its place), so one poison
comment never fails the others of its batch; if the scorer raises, it is broken as a whole and
every text of the batch fails with that error, to be retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.moderation.policy.words import WordMatcher
from workers import metrics
from workers.scorer import ScoreError

if TYPE_CHECKING:
    from workers.scorer import Scorer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WordLists:
    banned: WordMatcher
    suspect: WordMatcher


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the policy is told about one text: label scores and word-list hits."""

    scores: dict[str, float]
    banned: list[str]
    suspect: list[str]

    @property
    def risk(self) -> float:
        """The highest label score: the moderation queues are ordered by it."""
        return max(self.scores.values(), default=0.0)


@dataclass(frozen=True, slots=True)
class Failure:
    """A text that could not be analysed, with the error to report."""

    error: str


def analyse(
    scorer: Scorer, words: WordLists, texts: Sequence[str]
) -> list[Analysis | Failure]:
    """Score ``texts`` in one model call and match the word lists; one result per text."""
    started = time.perf_counter()
    try:
        scores = scorer.score(list(texts))
        if len(scores) != len(texts):
            raise RuntimeError(f"scorer returned {len(scores)} results for {len(texts)} texts")
    except Exception as exc:  # noqa: BLE001 - reported to the consumer as each job's failure
        log.warning("scoring a batch of %d failed: %s", len(texts), _describe(exc))
        return [Failure(_describe(exc))] * len(texts)
    finally:
        metrics.SCORING_SECONDS.observe(time.perf_counter() - started)
    return [
        Failure(result.error) if isinstance(result, ScoreError) else _combine(words, text, result)
        for text, result in zip(texts, scores, strict=True)
    ]


def _combine(words: WordLists, text: str, scores: Mapping[str, float]) -> Analysis:
    return Analysis(
        scores={label: round(float(value), 6) for label, value in scores.items()},
        banned=words.banned.find(text),
        suspect=words.suspect.find(text),
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
