"""The blocking half of the pipeline: word lists and the model over one batch of texts.

``analyse`` runs in a worker thread (``asyncio.to_thread``) so the event loop never waits on
the model. The whole batch goes to the scorer in one call, which is what makes a transformer
fast; if that call fails, each text is retried alone so one poison comment cannot fail the
others of its batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.moderation.words import WordMatcher
from workers import metrics

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
    """Score ``texts`` in one model call (one at a time if that fails) and match the word lists."""
    started = time.perf_counter()
    try:
        results: list[Analysis | Failure] = _analyse_all(scorer, words, texts)
    except Exception as exc:  # noqa: BLE001 - isolate the text at fault below
        log.warning("batch of %d failed (%s); scoring one at a time", len(texts), _describe(exc))
        results = [_analyse_one(scorer, words, text) for text in texts]
    metrics.SCORING_SECONDS.observe(time.perf_counter() - started)
    return results


def _analyse_all(
    scorer: Scorer, words: WordLists, texts: Sequence[str]
) -> list[Analysis | Failure]:
    scores = scorer.score(list(texts))
    if len(scores) != len(texts):
        raise RuntimeError(f"scorer returned {len(scores)} results for {len(texts)} texts")
    return [_combine(words, text, s) for text, s in zip(texts, scores, strict=True)]


def _analyse_one(scorer: Scorer, words: WordLists, text: str) -> Analysis | Failure:
    try:
        return _analyse_all(scorer, words, [text])[0]
    except Exception as exc:  # noqa: BLE001 - reported to the consumer as this job's failure
        return Failure(_describe(exc))


def _combine(words: WordLists, text: str, scores: Mapping[str, float]) -> Analysis:
    return Analysis(
        scores={label: round(float(value), 6) for label, value in scores.items()},
        banned=words.banned.find(text),
        suspect=words.suspect.find(text),
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
