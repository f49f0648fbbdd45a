"""The scorer contract: texts in, one dict of label scores (or one error) per text out.

A scorer is blocking (callers run it in a thread) and loaded once per worker by
:func:`load_scorer`. Nothing here imports torch or loads a model at import time.

Per-item failures do not raise: ``score`` returns a :class:`ScoreError` in the place of a text
it could not score, so one bad comment never fails the others of its batch. ``score`` raises
only when the scorer as a whole is broken (every text would fail the same way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from server.settings import Settings

log = logging.getLogger(__name__)

Scores = dict[str, float]

SCORER_CHOICES = ("auto", "detoxify", "fallback")


@dataclass(frozen=True, slots=True)
class ScoreError:
    """Stands in the result list for a text that could not be scored, with the reason."""

    error: str


ScoreResult = Scores | ScoreError

Item = TypeVar("Item")


@runtime_checkable
class Scorer(Protocol):
    """What the workers need from a model. Test doubles only have to match this."""

    @property
    def name(self) -> str:
        """Model name and version, stored with every score (e.g. ``detoxify-original@0.5.4``)."""
        ...

    @property
    def labels(self) -> tuple[str, ...]:
        """The keys of every :data:`Scores` dict this scorer returns."""
        ...

    def score(self, texts: Sequence[str]) -> list[ScoreResult]:
        """One result per text, in order: label scores in [0, 1], or a :class:`ScoreError`."""
        ...


class ScorerUnavailable(RuntimeError):
    """The configured model cannot be loaded."""


def describe(exc: BaseException) -> str:
    """A one-line, bounded description of an exception, for a :class:`ScoreError`."""
    return f"{type(exc).__name__}: {exc}"[:500]


def score_isolated(
    score_batch: Callable[[list[Item]], list[Scores]], items: Sequence[Item]
) -> list[ScoreResult]:
    """Run ``score_batch`` over ``items``; if it raises, run it on each item alone.

    An item that still fails alone becomes a :class:`ScoreError`; the others keep their scores.
    """
    batch = list(items)
    try:
        return list(score_batch(batch))
    except Exception as exc:  # noqa: BLE001 - isolate the text at fault below
        if len(batch) == 1:
            return [ScoreError(describe(exc))]
        log.warning("scoring a batch of %d failed (%s); retrying one by one", len(batch), exc)
    results: list[ScoreResult] = []
    for item in batch:
        results.extend(score_isolated(score_batch, [item]))
    return results


class MaxOfScorers:
    """Several scorers over the same texts; each label takes the highest score any gives.

    The offline fallback is tox-block's LSTM plus profanity-check: measured on our test set
    (docs/scoring.md) the profanity model adds catches the LSTM misses.
    """

    def __init__(self, scorers: Sequence[Scorer], name: str) -> None:
        self.scorers = tuple(scorers)
        self.name = name
        self.labels = tuple(dict.fromkeys(label for s in self.scorers for label in s.labels))

    def score(self, texts: Sequence[str]) -> list[ScoreResult]:
        """Per text the per-label maximum; a text any scorer fails is that scorer's error."""
        merged: list[ScoreResult] = [{} for _ in texts]
        for scorer in self.scorers:
            results = scorer.score(texts)
            for index, result in enumerate(results):
                current = merged[index]
                if isinstance(current, ScoreError):
                    continue
                if isinstance(result, ScoreError):
                    merged[index] = result
                    continue
                for label, value in result.items():
                    current[label] = max(value, current.get(label, 0.0))
        return merged


def load_scorer(settings: Settings) -> Scorer:
    """Build the scorer ``settings.scorer`` asks for (blocking: may load or download a model).

    ``detoxify`` loads Detoxify or raises :class:`ScorerUnavailable`; ``fallback`` loads the
    offline tox-block LSTM (or, without its files, the profanity model); ``auto`` tries
    Detoxify and falls back with a loud warning.
    ``settings.model_fast`` selects the fast (less exact) Detoxify path.
    """
    choice = settings.scorer
    if choice not in SCORER_CHOICES:
        raise ScorerUnavailable(f"BARAZA_SCORER must be one of {', '.join(SCORER_CHOICES)}")
    if choice == "fallback":
        return _load_fallback()
    try:
        return _load_detoxify(settings)
    except Exception as exc:
        if choice == "detoxify":
            raise ScorerUnavailable(f"cannot load Detoxify: {describe(exc)}") from exc
        fallback = _load_fallback()
        log.warning(
            "!!! Detoxify model %r could not be loaded (%s). Falling back to %s: an older, "
            "weaker model, so toxicity scores are less reliable. Set BARAZA_MODEL_CHECKPOINT "
            "and BARAZA_MODEL_CONFIG_DIR (docs/scoring.md). !!!",
            settings.model,
            describe(exc),
            fallback.name,
        )
        return fallback


def _load_detoxify(settings: Settings) -> Scorer:
    from workers.detoxify_scorer import DetoxifyScorer

    return DetoxifyScorer.from_settings(settings)


def _load_fallback() -> Scorer:
    """tox-block's LSTM (numpy, no TensorFlow) if its files are installed, else profanity-check."""
    from workers.fallback_scorer import FallbackScorer
    from workers.toxblock_scorer import ToxBlockScorer

    profanity = FallbackScorer.load()
    try:
        lstm = ToxBlockScorer.load()
    except Exception as exc:  # noqa: BLE001 - any failure means the next fallback
        log.warning(
            "!!! the tox-block fallback could not be loaded (%s); using the profanity model, "
            "which only detects profanity (pip install --no-deps tox-block==0.1.2). !!!",
            describe(exc),
        )
        return profanity
    version = profanity.name.split(" ", 1)[0]
    name = f"tox-block-bilstm@0.1.2 + {version} (offline fallback, not Detoxify)"
    scorer = MaxOfScorers([lstm, profanity], name)
    log.warning("!!! scoring with the fallback %s !!!", scorer.name)
    return scorer
