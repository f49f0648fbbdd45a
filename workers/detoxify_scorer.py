"""Detoxify through its own loader, scored in length-sorted micro-batches.

Loading goes through ``detoxify``'s code: ``Detoxify(...)`` when the checkpoint or the Hugging
Face files are to be downloaded, and ``detoxify.detoxify.get_model_and_tokenizer`` (what
``Detoxify.__init__`` calls) for offline loading, because detoxify 0.5.4 asks
``from_pretrained`` for the checkpoint's ``arch.args.model_type`` (a Hub name such as
``bert-base-uncased``) even when given a local config directory. Offline, we rewrite that
``model_type`` to the local directory, so the config and tokenizer come from it and
``num_labels`` still comes from the checkpoint.

Scoring: each text is tokenised alone (truncated at the model's position limit even when the
tokenizer config has no ``model_max_length``), texts are sorted by token count and cut into
batches under a token budget where padding costs least (:func:`plan_batches`), run under
``torch.inference_mode()``, and put back in input order. A batch that fails is retried text
by text (:func:`score_isolated`).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.scorer import ScoreError, ScoreResult, Scores, describe, score_isolated

if TYPE_CHECKING:
    import torch

    from server.settings import Settings

log = logging.getLogger(__name__)

MODEL_TYPES = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
# Detoxify renames these class names when loading (see detoxify.detoxify.load_checkpoint).
CLASS_RENAMES = {
    "toxic": "toxicity",
    "identity_hate": "identity_attack",
    "severe_toxic": "severe_toxicity",
}
# Padded tokens per forward pass and texts per batch: large enough to keep the matrix
# multiplications efficient, small enough that padding and activations stay small (measured
# on bert-base, 2 cores: 1,024 tokens beat 2,048 and 4,096).
BATCH_TOKENS = 1024
MAX_BATCH = 64
# What one more forward pass costs, in padded tokens: splitting a batch saves padding but
# makes the matrix products smaller (below ~200 rows they run well under the machine's rate).
PER_BATCH_TOKENS = 64
# Models whose position ids start after the padding index (RoBERTa family).
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "camembert"}

Encoding = dict[str, list[int]]
Engine = Callable[[Mapping[str, "torch.Tensor"]], "torch.Tensor"]


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """What detoxify's loader returns: the transformers model, its tokenizer, label names."""

    model: Any
    tokenizer: Any
    class_names: tuple[str, ...]


def load_detoxify_model(
    model_type: str,
    *,
    checkpoint: Path | None = None,
    config_dir: Path | None = None,
    device: str = "cpu",
) -> LoadedModel:
    """Load a Detoxify model; fully offline when both ``checkpoint`` and ``config_dir`` are given.

    Without ``config_dir`` this is ``Detoxify(model_type, checkpoint, device)`` exactly
    (Detoxify downloads what it needs). With it, config and tokenizer come from that folder
    and the Hugging Face Hub is not contacted.
    """
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown Detoxify model {model_type!r}; one of {', '.join(MODEL_TYPES)}")
    if checkpoint is not None and not checkpoint.is_file():
        raise FileNotFoundError(f"Detoxify checkpoint not found: {checkpoint}")
    if config_dir is None:
        return _load_stock(model_type, checkpoint, device)
    if not (config_dir / "config.json").is_file():
        raise FileNotFoundError(f"no config.json in the model config directory {config_dir}")
    return _load_local_config(model_type, checkpoint, config_dir, device)


def _load_stock(model_type: str, checkpoint: Path | None, device: str) -> LoadedModel:
    from detoxify import Detoxify

    detox = Detoxify(
        model_type, checkpoint=None if checkpoint is None else str(checkpoint), device=device
    )
    return LoadedModel(detox.model, detox.tokenizer, tuple(detox.class_names))


def _load_local_config(
    model_type: str, checkpoint: Path | None, config_dir: Path, device: str
) -> LoadedModel:
    from detoxify.detoxify import get_model_and_tokenizer

    loaded = _read_checkpoint(model_type, checkpoint)
    args = dict(loaded["config"]["arch"]["args"])
    args["model_type"] = str(config_dir)  # the trap: a Hub name here means a download
    classes = loaded["config"]["dataset"]["args"]["classes"]
    with _hub_offline():
        model, tokenizer = get_model_and_tokenizer(
            **args, state_dict=loaded["state_dict"], huggingface_config_path=None
        )
    del loaded  # drop the (memory-mapped) checkpoint tensors: the model holds copies
    model.to(device)
    return LoadedModel(model, tokenizer, tuple(CLASS_RENAMES.get(c, c) for c in classes))


def _read_checkpoint(model_type: str, checkpoint: Path | None) -> dict[str, Any]:
    """Detoxify's checkpoint dict (``config`` + ``state_dict``), memory-mapped when possible."""
    import torch

    if checkpoint is None:
        from detoxify.detoxify import MODEL_URLS

        loaded = torch.hub.load_state_dict_from_url(
            MODEL_URLS[model_type], map_location="cpu", weights_only=False
        )
    else:
        try:
            loaded = torch.load(checkpoint, map_location="cpu", weights_only=False, mmap=True)
        except RuntimeError:  # files in torch's legacy (non-zip) format cannot be mapped
            loaded = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if not isinstance(loaded, dict) or "config" not in loaded or "state_dict" not in loaded:
        source = checkpoint or model_type
        raise ValueError(f"{source}: not a Detoxify checkpoint (config + state_dict)")
    return loaded


@contextlib.contextmanager
def _hub_offline() -> Iterator[None]:
    """HF_HUB_OFFLINE for the duration of a load: any Hub request fails instead of connecting."""
    from huggingface_hub import constants

    previous = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = previous


def token_limit(tokenizer: Any, config: Any) -> int:
    """Longest input the model accepts: its position table, or the tokenizer's lower limit.

    A tokenizer config without ``model_max_length`` reports a huge number, and truncation at
    that silently does nothing; the position table is the limit that really crashes.
    """
    limit = int(config.max_position_embeddings)
    if config.model_type in _OFFSET_POSITIONS:
        limit -= int(config.pad_token_id) + 1
    declared = getattr(tokenizer, "model_max_length", None)
    if isinstance(declared, int) and 0 < declared < limit:
        limit = declared
    return limit


def torch_engine(model: Any, device: str) -> Engine:
    """The default fp32 forward pass: logits for one padded batch."""
    import torch

    model.eval()

    def run(batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        with torch.inference_mode():
            inputs = {key: value.to(device) for key, value in batch.items()}
            logits: torch.Tensor = model(**inputs)[0]
            return logits.float().cpu()

    return run


def detoxify_version() -> str:
    """The installed detoxify version, part of every scorer name."""
    return importlib.metadata.version("detoxify")


class DetoxifyScorer:
    """Detoxify's labels for a batch of texts; see the module docstring for how."""

    def __init__(
        self,
        engine: Engine,
        tokenizer: Any,
        class_names: Sequence[str],
        *,
        name: str,
        max_length: int,
        batch_tokens: int = BATCH_TOKENS,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.name = name
        self.labels: tuple[str, ...] = tuple(class_names)
        self.engine = engine
        self.tokenizer = tokenizer
        self.max_length = max_length
        self._batch_tokens = batch_tokens
        self._max_batch = max_batch

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, *, name: str, device: str = "cpu") -> DetoxifyScorer:
        """Wrap a loaded model with the default fp32 engine."""
        return cls(
            torch_engine(loaded.model, device),
            loaded.tokenizer,
            loaded.class_names,
            name=name,
            max_length=token_limit(loaded.tokenizer, loaded.model.config),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> DetoxifyScorer:
        """Load ``settings.model`` (checkpoint, config dir, device, threads, fast) and wrap it."""
        set_threads(settings.model_threads)
        checkpoint, device = settings.model_checkpoint, settings.model_device
        loaded = load_detoxify_model(
            settings.model, checkpoint=checkpoint, config_dir=settings.model_config_dir,
            device=device,
        )
        name = f"detoxify-{settings.model}@{detoxify_version()}"
        if checkpoint is not None:
            name += f" ({checkpoint.name})"
        if settings.model_fast:
            return cls.fast(loaded, name=name, device=device, mode=_fast_mode(settings))
        log.info("loaded %s on %s (%s)", name, device, ", ".join(loaded.class_names))
        return cls.from_loaded(loaded, name=name, device=device)

    @classmethod
    def fast(
        cls, loaded: LoadedModel, *, name: str, device: str = "cpu", mode: str = "auto"
    ) -> DetoxifyScorer:
        """Wrap a loaded model with a fast engine (see :mod:`workers.fast_scorer`)."""
        from workers.fast_scorer import fast_engine

        engine, chosen = fast_engine(loaded, device, mode)
        log.warning("loaded %s on %s, fast mode %s: scores differ from fp32", name, device, chosen)
        return cls(
            engine,
            loaded.tokenizer,
            loaded.class_names,
            name=f"{name} [fast:{chosen}]",
            max_length=token_limit(loaded.tokenizer, loaded.model.config),
        )

    def score(self, texts: Sequence[str]) -> list[ScoreResult]:
        """One result per text, in order; see :class:`workers.scorer.Scorer`."""
        results: list[ScoreResult | None] = [None] * len(texts)
        encoded: list[tuple[int, Encoding]] = []
        for index, text in enumerate(texts):
            item = self._encode(text)
            if isinstance(item, ScoreError):
                results[index] = item
            else:
                encoded.append((index, item))
        encoded.sort(key=lambda pair: len(pair[1]["input_ids"]))
        for batch in self._batches(encoded):
            scored = score_isolated(self._score_encoded, [enc for _, enc in batch])
            for (index, _), result in zip(batch, scored, strict=True):
                results[index] = result
        return [r if r is not None else ScoreError("not scored") for r in results]

    def _encode(self, text: str) -> Encoding | ScoreError:
        try:
            # Lone surrogates cannot be encoded as UTF-8 and break the tokenizer.
            clean = text.encode("utf-8", "replace").decode("utf-8")
            encoding = self.tokenizer(clean, truncation=True, max_length=self.max_length)
            return {key: list(value) for key, value in encoding.items()}
        except Exception as exc:  # noqa: BLE001 - this text alone is at fault
            return ScoreError(describe(exc))

    def _batches(
        self, encoded: list[tuple[int, Encoding]]
    ) -> Iterator[list[tuple[int, Encoding]]]:
        """Consecutive runs of the length-sorted texts: see :func:`plan_batches`."""
        widths = [len(enc["input_ids"]) for _, enc in encoded]
        start = 0
        for end in plan_batches(widths, self._batch_tokens, self._max_batch):
            yield encoded[start:end]
            start = end

    def _score_encoded(self, encodings: list[Encoding]) -> list[Scores]:
        import torch

        padded = self.tokenizer.pad(encodings, padding=True, return_tensors="pt")
        logits = self.engine(dict(padded))
        probabilities = torch.sigmoid(logits[:, : len(self.labels)]).tolist()
        return [dict(zip(self.labels, row, strict=True)) for row in probabilities]


def plan_batches(
    widths: Sequence[int], budget: int = BATCH_TOKENS, max_batch: int = MAX_BATCH,
    per_batch: int = PER_BATCH_TOKENS,
) -> list[int]:
    """Where to cut ascending ``widths`` into batches: the end index of each batch.

    Minimises padded tokens plus ``per_batch`` for every forward pass (small matrix products
    run below the machine's rate), with at most ``budget`` padded tokens and ``max_batch``
    texts per batch. Dynamic programming over the cut points: O(len(widths) * max_batch).
    """
    cost = [0.0] + [float("inf")] * len(widths)
    previous = [0] * (len(widths) + 1)
    for end in range(1, len(widths) + 1):
        width = widths[end - 1]  # ascending: the widest text of any batch ending here
        for start in range(end - 1, max(end - max_batch, 0) - 1, -1):
            size = end - start
            if size > 1 and size * width > budget:
                break
            candidate = cost[start] + size * width + per_batch
            if candidate < cost[end]:
                cost[end], previous[end] = candidate, start
    cuts, end = [], len(widths)
    while end > 0:
        cuts.append(end)
        end = previous[end]
    return cuts[::-1]


def _fast_mode(settings: Settings) -> str:
    # Not a Settings field yet: BARAZA_MODEL_FAST_MODE is proposed to the lead.
    return str(settings.model_fast_mode)


def set_threads(threads: int) -> None:
    """Use ``threads`` CPU threads for torch (0 keeps torch's default)."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
