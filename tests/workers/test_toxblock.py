"""The tox-block fallback: the package's own outputs reproduced without TensorFlow."""

from __future__ import annotations

import io
import json
import logging
import pickle
from pathlib import Path

import numpy as np
import pytest

from server.settings import Settings
from workers.scorer import MaxOfScorers, ScoreError, Scorer, load_scorer
from workers.toxblock_scorer import (
    LABELS,
    KerasTokenizer,
    ToxBlockScorer,
    load_tokenizer,
    package_dir,
    pad_front,
)

REFERENCE = Path(__file__).parents[1] / "data" / "toxblock_reference.json"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def toxblock() -> ToxBlockScorer:
    return ToxBlockScorer.load()


@pytest.fixture(scope="module")
def reference() -> dict[str, list]:
    data: dict[str, list] = json.loads(REFERENCE.read_text("utf-8"))
    return data


def test_reproduces_the_package_outputs(toxblock: ToxBlockScorer, reference: dict) -> None:
    """Built once with TensorFlow 2.15.1 by scripts/toxblock_reference.py."""
    assert len(reference["texts"]) >= 20
    rescaled = toxblock.model.predict(reference["texts"])
    raw = toxblock.model.predict(reference["texts"], rescale=False)
    assert np.abs(rescaled - np.array(reference["rescaled"])).max() < TOLERANCE
    assert np.abs(raw - np.array(reference["raw"])).max() < TOLERANCE


def test_one_at_a_time_equals_batched(toxblock: ToxBlockScorer, reference: dict) -> None:
    texts = reference["texts"][:6]
    batched = toxblock.model.predict(texts)
    alone = np.vstack([toxblock.model.predict([text]) for text in texts])
    assert np.abs(batched - alone).max() < 1e-6


def test_scorer_uses_detoxify_labels_clipped(toxblock: ToxBlockScorer) -> None:
    assert isinstance(toxblock, Scorer)
    assert "tox-block" in toxblock.name and "fallback" in toxblock.name
    results = toxblock.score(["I know where you live and I will kill you.", "Thanks.", "", "!!!"])
    assert not any(isinstance(result, ScoreError) for result in results)
    threat = results[0]
    assert isinstance(threat, dict) and set(threat) == set(LABELS)
    assert threat["threat"] == 1.0  # the package's rescale gives 1.011; scores stay in [0, 1]
    assert all(0.0 <= value <= 1.0 for result in results if isinstance(result, dict)
               for value in result.values())


def test_keras_tokenizer_rules() -> None:
    tokenizer = KerasTokenizer(word_index={"you": 1, "are": 2, "an": 3, "idiot": 4})
    assert tokenizer.words("You ARE,an\tidiot!!\nnow") == ["you", "are", "an", "idiot", "now"]
    # Only spaces (and the filter characters) split: a non-breaking space does not.
    assert tokenizer.words("you\u00a0are") == ["you\u00a0are"]
    assert tokenizer.ids("you are an unknown idiot") == [1, 2, 3, 4]


def test_padding_and_truncation_are_at_the_front() -> None:
    padded = pad_front([[1, 2, 3], list(range(1, 151)), []], length=100)
    assert padded[0].tolist() == [0] * 97 + [1, 2, 3]
    assert padded[1].tolist() == list(range(51, 151))  # the last 100 kept
    assert padded[2].tolist() == [0] * 100


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


def test_unpickler_refuses_anything_but_the_encoder_classes() -> None:
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load builtins\.print"):
        load_tokenizer(pickle.dumps(_Evil()))
    buffer = io.BytesIO()
    pickle.dump({"tokenizer": None}, buffer)
    with pytest.raises(Exception, match="TokenSequencer"):
        load_tokenizer(buffer.getvalue())


def test_vocabulary_is_the_first_20000_ids(toxblock: ToxBlockScorer) -> None:
    index = toxblock.model.tokenizer.word_index
    assert len(index) == 19_999 and max(index.values()) == 19_999 and min(index.values()) == 1


def test_fallback_setting_loads_toxblock(caplog: pytest.LogCaptureFixture) -> None:
    assert package_dir().is_dir()
    with caplog.at_level(logging.WARNING, logger="workers.scorer"):
        scorer = load_scorer(Settings(scorer="fallback"))
    assert isinstance(scorer, MaxOfScorers)
    assert isinstance(scorer.scorers[0], ToxBlockScorer)
    assert "tox-block" in scorer.name and "profanity-check" in scorer.name
    assert "not Detoxify" in scorer.name
    assert any(scorer.name in record.getMessage() for record in caplog.records)


def test_fallback_takes_the_higher_score_per_label(toxblock: ToxBlockScorer) -> None:
    from workers.fallback_scorer import FallbackScorer

    profanity = FallbackScorer.load()
    both = MaxOfScorers([toxblock, profanity], "both")
    texts = ["Bunch of pricks in parliament.", "A fair point about fuel prices."]
    merged, lstm, words = both.score(texts), toxblock.score(texts), profanity.score(texts)
    for m, a, b in zip(merged, lstm, words, strict=True):
        assert isinstance(m, dict) and isinstance(a, dict) and isinstance(b, dict)
        assert set(m) == set(a) | set(b)
        assert all(m[label] == max(a.get(label, 0.0), b.get(label, 0.0)) for label in m)


def test_missing_files_fall_back_to_profanity_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers import toxblock_scorer
    from workers.fallback_scorer import FallbackScorer

    with pytest.raises(Exception, match="tox-block file missing"):
        ToxBlockScorer.load(tmp_path)
    monkeypatch.setattr(toxblock_scorer, "package_dir", lambda: tmp_path)
    assert isinstance(load_scorer(Settings(scorer="fallback")), FallbackScorer)
