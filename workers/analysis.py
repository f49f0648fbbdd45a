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

from server.moderation.policy.words import WordMatcher, deobfuscate, plain_words
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
    # Labels whose score came from the de-obfuscated reading (higher than the text's own).
    deobfuscated: tuple[str, ...] = ()

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
    """Score ``texts`` in one model call and match the word lists; one result per text.

    A text whose de-obfuscated reading differs from its plain words is scored twice, in the
    same call: as written and as read (``deobfuscate``); each label keeps the higher score.
    """
    started = time.perf_counter()
    readings = [reading_to_score(text) for text in texts]
    extra = [reading for reading in readings if reading is not None]
    try:
        results = scorer.score([*texts, *extra])
        if len(results) != len(texts) + len(extra):
            raise RuntimeError(
                f"scorer returned {len(results)} results for {len(texts) + len(extra)} texts"
            )
    except Exception as exc:  # noqa: BLE001 - reported to the consumer as each job's failure
        log.warning("scoring a batch of %d failed: %s", len(texts), _describe(exc))
        return [Failure(_describe(exc))] * len(texts)
    finally:
        metrics.SCORING_SECONDS.observe(time.perf_counter() - started)
    read_results = iter(results[len(texts) :])
    analyses: list[Analysis | Failure] = []
    for text, reading, result in zip(texts, readings, results[: len(texts)], strict=True):
        read = next(read_results) if reading is not None else None
        if isinstance(result, ScoreError):
            analyses.append(Failure(result.error))
            continue
        read_scores = None if read is None or isinstance(read, ScoreError) else read
        analyses.append(_combine(words, text, result, read_scores))
    return analyses


def reading_to_score(text: str) -> str | None:
    """The de-obfuscated reading of ``text`` if it differs from the text's plain words."""
    reading = deobfuscate(text)
    return None if reading.split() == plain_words(text) else reading


def merge_scores(
    written: Mapping[str, float], read: Mapping[str, float] | None
) -> tuple[dict[str, float], tuple[str, ...]]:
    """Per label the higher of the two scores, and the labels the reading raised."""
    merged = {label: round(float(value), 6) for label, value in written.items()}
    raised: list[str] = []
    for label, value in (read or {}).items():
        score = round(float(value), 6)
        if label in merged and score > merged[label]:
            merged[label] = score
            raised.append(label)
    return merged, tuple(raised)


def _combine(
    words: WordLists, text: str, scores: Mapping[str, float], read: Mapping[str, float] | None
) -> Analysis:
    merged, raised = merge_scores(scores, read)
    return Analysis(
        scores=merged,
        banned=words.banned.find(text),
        suspect=words.suspect.find(text),
        deobfuscated=raised,
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
