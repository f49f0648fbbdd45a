"""Which language a comment is written in, offline: py3langid's model, shipped in its package.

py3langid (BSD-3-Clause, a maintained fork of langid.py) carries a naive Bayes model of 142
languages (0.4.0), Swahili among them, as a 4.6 MB LZMA-compressed ``.npz`` read without pickle. It
is loaded once per worker, like the scorer. A text too short to judge, or judged with low
confidence, gets no language: the policy treats it as one the model reads.

Which languages a scorer reads: Detoxify's ``multilingual`` model was trained on en, fr, es,
it, pt, tr and ru; every other Detoxify model and the offline fallback on English only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MIN_WORDS = 3
MIN_CONFIDENCE = 0.5
MULTILINGUAL = frozenset({"en", "fr", "es", "it", "pt", "tr", "ru"})
ENGLISH = frozenset({"en"})


def scorer_languages(scorer_name: str) -> frozenset[str]:
    """The languages the model named ``scorer_name`` was trained on."""
    return MULTILINGUAL if "multilingual" in scorer_name else ENGLISH


@dataclass(frozen=True, slots=True)
class Detected:
    language: str | None
    confidence: float


class LanguageDetector:
    """py3langid with normalised probabilities, optionally limited to ``candidates``."""

    def __init__(self, identifier: Any, name: str) -> None:
        self._identifier = identifier
        self.name = name

    @classmethod
    def load(cls, candidates: Sequence[str] = ()) -> LanguageDetector:
        """Load the packaged model (blocking, about a second); ``candidates`` limits the
        languages it chooses between (empty: all of them)."""
        import importlib.metadata

        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        if candidates:
            identifier.set_languages(list(candidates))
        version = importlib.metadata.version("py3langid")
        return cls(identifier, f"py3langid@{version}")

    def detect(self, text: str) -> Detected:
        """The language of ``text``, or ``None`` when it is too short or the model unsure."""
        if len(text.split()) < MIN_WORDS:
            return Detected(None, 0.0)
        language, confidence = self._identifier.classify(text)
        if confidence < MIN_CONFIDENCE:
            return Detected(None, float(confidence))
        return Detected(str(language), float(confidence))
