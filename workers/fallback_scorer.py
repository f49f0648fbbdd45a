"""The offline fallback: ``alt-profanity-check``'s shipped linear model, no download needed.

It is a bag-of-words profanity classifier, not a toxicity model: it misses insults and threats
written in clean words. It is used only when no Detoxify model can be loaded, and its one
probability is reported as ``toxicity`` and ``obscene`` (what it can honestly speak to).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from typing import Any

from workers.scorer import ScoreResult, Scores, score_isolated

LABELS = ("toxicity", "obscene")
DISTRIBUTION = "alt-profanity-check"


class FallbackScorer:
    """Profanity probability from ``profanity_check.predict_prob``, for every label."""

    labels: tuple[str, ...] = LABELS

    def __init__(self, predict_prob: Callable[[list[str]], Any], version: str) -> None:
        self._predict_prob = predict_prob
        self.name = f"profanity-check@{version} (fallback)"

    @classmethod
    def load(cls) -> FallbackScorer:
        """Import the package (it loads its model from its own data files) and wrap it."""
        import profanity_check

        return cls(profanity_check.predict_prob, importlib.metadata.version(DISTRIBUTION))

    def score(self, texts: Sequence[str]) -> list[ScoreResult]:
        """One dict per text; a text the vectoriser rejects becomes a ``ScoreError``."""
        return score_isolated(self._score_batch, texts)

    def _score_batch(self, texts: list[str]) -> list[Scores]:
        if not texts:
            return []
        probabilities = self._predict_prob(texts)
        return [dict.fromkeys(self.labels, float(p)) for p in probabilities]
