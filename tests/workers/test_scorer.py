"""The scorers: Detoxify loaded offline from a tiny checkpoint, the fallback, ``load_scorer``.

Scores here come from random weights: they check plumbing and equivalence, not quality.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from tiny_model import ORIGINAL_LABELS, TinyDetoxify, block_network

from server.settings import Settings
from workers.detoxify_scorer import (
    DetoxifyScorer,
    load_detoxify_model,
    plan_batches,
    token_limit,
)
from workers.fallback_scorer import FallbackScorer
from workers.scorer import MaxOfScorers, ScoreError, Scorer, ScoreResult, Scores, load_scorer

TOLERANCE = 1e-3

COMMENTS = [
    "The minister should resign, this is a disgrace to the whole country.",
    "Al-Shabaab attack near the border: police say three people were killed.",
    "ok",
    "Why do the Somali and Muslim communities always get blamed when a bomb goes off in "
    "Nairobi? The gas explosion was an accident and the government knows it.",
    "You are an idiot and everyone here knows it",
    "Peace in the region depends on security co-operation, not on more soldiers.",
]
ODD = [
    "", "   ", "\u200b\u200d\ufeff", "lone \ud800 surrogate", "nul\x00byte",
    "🙂🙃 ∑≈ç√ ﷽", "ＡＢＣ",
]


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    with block_network():
        yield


@pytest.fixture(scope="module")
def stock(tiny_detoxify: TinyDetoxify, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``detoxify.Detoxify`` itself, on a copy of the checkpoint whose ``model_type`` names
    the local config folder (the offline rewrite our loader does in memory)."""
    import torch
    from detoxify import Detoxify

    loaded = torch.load(tiny_detoxify.checkpoint, weights_only=False)
    loaded["config"]["arch"]["args"]["model_type"] = str(tiny_detoxify.config_dir)
    path = tmp_path_factory.mktemp("stock") / "model.ckpt"
    torch.save(loaded, path)
    with block_network():
        return Detoxify(
            "original", checkpoint=str(path), huggingface_config_path=str(tiny_detoxify.config_dir)
        )


def scores_of(results: Sequence[ScoreResult]) -> list[Scores]:
    """The results, asserting none is an error."""
    assert not [r for r in results if isinstance(r, ScoreError)], results
    return [r for r in results if not isinstance(r, ScoreError)]


def assert_close(a: Scores, b: Scores, tolerance: float = TOLERANCE) -> None:
    assert a.keys() == b.keys()
    for label in a:
        assert abs(a[label] - b[label]) <= tolerance, (label, a[label], b[label])


def settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


def test_loads_offline_with_detoxify_labels(tiny_detoxify: TinyDetoxify) -> None:
    scorer = tiny_detoxify.scorer
    assert isinstance(scorer, Scorer)
    assert scorer.labels == ORIGINAL_LABELS
    assert scorer.name == "detoxify-original@0.5.4 (model.ckpt)"
    assert scorer.max_length == 512
    [result] = scores_of(scorer.score(["hello there"]))
    assert result.keys() == set(ORIGINAL_LABELS)
    assert all(0.0 <= value <= 1.0 for value in result.values())


def test_batch_equals_one_at_a_time_and_detoxify_predict(
    tiny_detoxify: TinyDetoxify, stock: Any
) -> None:
    scorer = tiny_detoxify.scorer
    batch = scores_of(scorer.score(COMMENTS))
    alone = [scores_of(scorer.score([text]))[0] for text in COMMENTS]
    predicted = stock.predict(COMMENTS)
    for index, text in enumerate(COMMENTS):
        assert_close(batch[index], alone[index])
        assert_close(batch[index], {label: predicted[label][index] for label in scorer.labels})
        assert_close(alone[index], stock.predict(text))
    # Random weights still tell texts apart, so a mixed-up order would show.
    toxicity = [s["toxicity"] for s in batch]
    assert max(toxicity) - min(toxicity) > 10 * TOLERANCE


def test_long_comment_is_truncated_not_crashing(tiny_detoxify: TinyDetoxify, stock: Any) -> None:
    long_comment = ("security police attack " * 500)[:10_000]
    results = scores_of(tiny_detoxify.scorer.score([long_comment, *COMMENTS[:2]]))
    assert_close(results[0], stock.predict(long_comment))
    assert_close(results[1], scores_of(tiny_detoxify.scorer.score([COMMENTS[0]]))[0])


def test_truncates_even_without_model_max_length(tiny_detoxify: TinyDetoxify) -> None:
    base = tiny_detoxify.scorer
    tokenizer = copy.deepcopy(base.tokenizer)
    tokenizer.model_max_length = int(1e30)  # what transformers reports when the config has none
    model = load_detoxify_model(
        "original", checkpoint=tiny_detoxify.checkpoint, config_dir=tiny_detoxify.config_dir
    ).model
    assert token_limit(tokenizer, model.config) == 512
    limit = token_limit(tokenizer, model.config)
    scorer = DetoxifyScorer(base.engine, tokenizer, base.labels, name="t", max_length=limit)
    [result] = scores_of(scorer.score(["word " * 3000]))
    assert_close(result, scores_of(base.score(["word " * 3000]))[0])


def test_empty_and_odd_unicode_do_not_break_the_batch(tiny_detoxify: TinyDetoxify) -> None:
    scorer = tiny_detoxify.scorer
    texts = [*COMMENTS[:3], *ODD]
    results = scores_of(scorer.score(texts))
    assert len(results) == len(texts)
    for text, result in zip(texts[:3], results, strict=False):
        assert_close(result, scores_of(scorer.score([text]))[0])


def test_a_failing_text_fails_alone(tiny_detoxify: TinyDetoxify) -> None:
    base = tiny_detoxify.scorer
    poison_id = base.tokenizer.convert_tokens_to_ids("idiot")

    def engine(batch: Any) -> Any:
        if (batch["input_ids"] == poison_id).any():
            raise RuntimeError("poisoned")
        return base.engine(batch)

    scorer = DetoxifyScorer(engine, base.tokenizer, base.labels, name="t", max_length=512)
    texts: list[Any] = [*COMMENTS, None]
    results = scorer.score(texts)
    errors = [i for i, r in enumerate(results) if isinstance(r, ScoreError)]
    assert errors == [COMMENTS.index("You are an idiot and everyone here knows it"), len(COMMENTS)]
    for index in set(range(len(COMMENTS))) - set(errors):
        assert_close(results[index], scores_of(base.score([COMMENTS[index]]))[0])  # type: ignore[arg-type]


def test_empty_batch(tiny_detoxify: TinyDetoxify) -> None:
    assert tiny_detoxify.scorer.score([]) == []


def test_fast_onnx_modes(tiny_detoxify: TinyDetoxify) -> None:
    loaded = load_detoxify_model(
        "original", checkpoint=tiny_detoxify.checkpoint, config_dir=tiny_detoxify.config_dir
    )
    attention = loaded.model.config._attn_implementation
    exact = scores_of(tiny_detoxify.scorer.score(COMMENTS))
    fp32 = DetoxifyScorer.fast(loaded, name="tiny", mode="onnx-fp32")
    int8 = DetoxifyScorer.fast(loaded, name="tiny", mode="onnx-int8")
    torch_int8 = DetoxifyScorer.fast(loaded, name="tiny", mode="torch-int8")
    # Exporting must leave the shared model as it was: no dropout, same attention kernel.
    assert not loaded.model.training
    assert loaded.model.config._attn_implementation == attention
    assert int8.name == "tiny [fast:onnx-int8]"
    for a, b, c, d in zip(exact, scores_of(fp32.score(COMMENTS)), scores_of(int8.score(COMMENTS)),
                          scores_of(torch_int8.score(COMMENTS)), strict=True):
        assert_close(a, b, 1e-4)
        assert_close(a, c, 0.1)  # random weights: real divergence is in docs/scoring.md
        assert_close(a, d, 0.1)


def test_fallback_scorer() -> None:
    scorer = FallbackScorer.load()
    assert isinstance(scorer, Scorer)
    assert scorer.name.startswith("profanity-check@") and scorer.name.endswith("(fallback)")
    results = scores_of(scorer.score(["what a fucking shit idiot", COMMENTS[1], *ODD]))
    assert results[0]["toxicity"] > 0.8 > results[1]["toxicity"]
    assert all(r.keys() == set(scorer.labels) for r in results)


def test_load_scorer_from_settings(tiny_detoxify: TinyDetoxify) -> None:
    scorer = load_scorer(settings(**tiny_detoxify.settings_overrides()))
    assert isinstance(scorer, DetoxifyScorer)
    for a, b in zip(scores_of(scorer.score(COMMENTS)),
                    scores_of(tiny_detoxify.scorer.score(COMMENTS)), strict=True):
        assert_close(a, b, 1e-6)


def test_load_scorer_auto_falls_back_loudly(
    tiny_detoxify: TinyDetoxify, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    overrides = tiny_detoxify.settings_overrides() | {
        "scorer": "auto",
        "model_checkpoint": tmp_path / "missing.ckpt",
    }
    with caplog.at_level(logging.WARNING, logger="workers.scorer"):
        scorer = load_scorer(settings(**overrides))
    assert isinstance(scorer, MaxOfScorers)
    assert any("missing.ckpt" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


def test_load_scorer_detoxify_does_not_fall_back(
    tiny_detoxify: TinyDetoxify, tmp_path: Path
) -> None:
    overrides = tiny_detoxify.settings_overrides() | {"model_checkpoint": tmp_path / "missing.ckpt"}
    with pytest.raises(Exception, match=r"missing\.ckpt"):
        load_scorer(settings(**overrides))
    assert isinstance(load_scorer(settings(scorer="fallback")), MaxOfScorers)


def test_plan_batches_cuts_sorted_lengths_where_padding_costs_least() -> None:
    assert plan_batches([]) == []
    assert plan_batches([600, 600, 700], budget=1024) == [1, 2, 3]  # over budget: one each
    assert plan_batches([5] * 100, max_batch=64) == [64, 100]
    # Two clusters of lengths: one forward pass each, not one padded to 200.
    assert plan_batches([10] * 8 + [200] * 4, budget=4096, per_batch=64) == [8, 12]
    # Equal lengths: one batch, since another forward pass saves no padding.
    assert plan_batches([30] * 20, budget=4096) == [20]
