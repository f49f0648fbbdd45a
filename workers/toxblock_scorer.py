"""The offline fallback: tox-block 0.1.2's bidirectional LSTM, run with numpy (no TensorFlow).

tox-block (PyPI, MIT, Pascal Bliem 2020) ships a Keras model trained on the Jigsaw 2018 toxic
comment data, the data of Detoxify's ``original`` model, with its six labels. Its package needs
TensorFlow; this module reads the same files instead:

- the weights from ``lstm_model_0.1.2.h5`` with ``h5py``;
- the vocabulary from the pickled ``TokenSequencer`` (``encoder_0.1.2.pkl``) through an
  unpickler that only builds the five classes the file uses, as inert attribute holders:
  nothing in the file can run code.

The forward pass is Keras 2's: Embedding 20000×50 → Bidirectional LSTM (50 units each way,
whole sequence, ``hard_sigmoid`` = clip(0.2x + 0.5, 0, 1) on the gates, ``tanh`` on the cell,
gate order i, f, c, o) → max over time → Dense 100→50 relu → Dense 50→6 sigmoid. Texts become
100 word ids as the Keras tokenizer does it (lower-case, filter characters to spaces, split on
spaces, unknown words and ids ≥ 20000 dropped), zero-padded and truncated at the front, the
padding fed through the LSTM as the package does. Each label is then min-max rescaled with the
package's constants, as ``make_predictions`` does by default, and clipped to [0, 1].

The files are found in an installed ``tox-block`` distribution (``pip install --no-deps
tox-block==0.1.2``: nothing is imported from it) or in a directory given to :meth:`load`.
"""

from __future__ import annotations

import collections
import importlib.metadata
import io
import logging
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from workers.scorer import ScoreResult, ScorerUnavailable, Scores, score_isolated

log = logging.getLogger(__name__)

DISTRIBUTION = "tox-block"
VERSION = "0.1.2"
WEIGHTS_FILE = f"lstm_model_{VERSION}.h5"
ENCODER_FILE = f"encoder_{VERSION}.pkl"
MAX_FEATURES = 20_000
MAX_SEQUENCE_LENGTH = 100
UNITS = 50
# tox-block's labels, in the model's output order, and the Detoxify names they are stored as.
PACKAGE_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
DETOXIFY_NAMES: Mapping[str, str] = {
    "toxic": "toxicity",
    "severe_toxic": "severe_toxicity",
    "obscene": "obscene",
    "threat": "threat",
    "insult": "insult",
    "identity_hate": "identity_attack",
}
LABELS = tuple(DETOXIFY_NAMES[label] for label in PACKAGE_LABELS)
# tox_block.config.RESCALE_PROBA: (min, max) per label, applied as |(p - min) / (max - min)|.
RESCALE: Mapping[str, tuple[float, float]] = {
    "toxic": (0.002116, 0.999858),
    "severe_toxic": (0.000011, 0.648682),
    "obscene": (0.000347, 0.997533),
    "threat": (0.000040, 0.918887),
    "insult": (0.000373, 0.986303),
    "identity_hate": (0.000074, 0.901117),
}
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

Array = npt.NDArray[np.float32]


class _Attributes:
    """An inert stand-in for a pickled object: it only keeps the attributes it is given."""

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__dict__.update(state)


class _TokenSequencer(_Attributes):
    pass


class _Tokenizer(_Attributes):
    pass


_ALLOWED: Mapping[tuple[str, str], Any] = {
    ("tox_block.data_processing.preprocessors", "TokenSequencer"): _TokenSequencer,
    ("keras_preprocessing.text", "Tokenizer"): _Tokenizer,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "defaultdict"): collections.defaultdict,
    ("builtins", "int"): int,
}


class _EncoderUnpickler(pickle.Unpickler):
    """Builds only the classes tox-block's encoder file uses; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


@dataclass(frozen=True, slots=True)
class KerasTokenizer:
    """The parts of a fitted ``keras_preprocessing.text.Tokenizer`` that encode a text."""

    word_index: Mapping[str, int]
    filters: str = KERAS_FILTERS
    lower: bool = True
    split: str = " "
    table: Mapping[int, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", str.maketrans(dict.fromkeys(self.filters, self.split)))

    def words(self, text: str) -> list[str]:
        """``text_to_word_sequence``: lower-case, filters to the split character, split."""
        if self.lower:
            text = text.lower()
        text = text.translate(self.table)
        return [word for word in text.split(self.split) if word]

    def ids(self, text: str) -> list[int]:
        """``texts_to_sequences`` with ``num_words=20000`` and no OOV token."""
        index = self.word_index
        return [index[word] for word in self.words(text) if word in index]


def load_tokenizer(data: bytes) -> KerasTokenizer:
    """The tokenizer inside tox-block's pickled encoder, read with the restricted unpickler."""
    encoder = _EncoderUnpickler(io.BytesIO(data)).load()
    tokenizer = getattr(encoder, "tokenizer", None)
    if not isinstance(encoder, _TokenSequencer) or not isinstance(tokenizer, _Tokenizer):
        raise ScorerUnavailable("the encoder file does not hold a TokenSequencer with a Tokenizer")
    state = tokenizer.__dict__
    if state.get("char_level") or state.get("oov_token") is not None:
        raise ScorerUnavailable("unexpected tokenizer settings (char_level or oov_token)")
    if state.get("num_words") != MAX_FEATURES:
        raise ScorerUnavailable(f"tokenizer num_words is {state.get('num_words')}, not 20000")
    # Ids ≥ num_words are dropped when encoding, so only the first 20,000 are kept.
    index = {str(word): int(i) for word, i in state["word_index"].items() if int(i) < MAX_FEATURES}
    return KerasTokenizer(
        word_index=index,
        filters=str(state.get("filters", KERAS_FILTERS)),
        lower=bool(state.get("lower", True)),
        split=str(state.get("split", " ")),
    )


@dataclass(frozen=True, slots=True)
class _Lstm:
    kernel: Array  # (50, 200)
    recurrent: Array  # (50, 200)
    bias: Array  # (200,)


@dataclass(frozen=True, slots=True)
class LstmWeights:
    """The model's weights, as stored in the ``.h5`` file."""

    embeddings: Array  # (20000, 50)
    forward: _Lstm
    backward: _Lstm
    dense: tuple[Array, Array]  # (100, 50), (50,)
    output: tuple[Array, Array]  # (50, 6), (6,)

    @classmethod
    def from_h5(cls, path: Path) -> LstmWeights:
        """Read the Keras 2 ``.h5`` file with ``h5py`` (no TensorFlow)."""
        import h5py

        with h5py.File(path, "r") as h5:
            weights = h5["model_weights"]

            def get(name: str) -> Array:
                return np.asarray(weights[name], dtype=np.float32)

            def lstm(direction: str) -> _Lstm:
                base = f"bidirectional/bidirectional/{direction}_lstm"
                kernel, recurrent = get(f"{base}/kernel:0"), get(f"{base}/recurrent_kernel:0")
                return _Lstm(kernel, recurrent, get(f"{base}/bias:0"))

            loaded = cls(
                embeddings=get("embedding/embedding/embeddings:0"),
                forward=lstm("forward"),
                backward=lstm("backward"),
                dense=(get("dense/dense/kernel:0"), get("dense/dense/bias:0")),
                output=(get("dense_1/dense_1/kernel:0"), get("dense_1/dense_1/bias:0")),
            )
        loaded.check()
        return loaded

    def check(self) -> None:
        """Raise ScorerUnavailable if a shape is not the architecture this module runs."""
        shapes = {
            "embeddings": (self.embeddings.shape, (MAX_FEATURES, UNITS)),
            "forward kernel": (self.forward.kernel.shape, (UNITS, 4 * UNITS)),
            "backward kernel": (self.backward.kernel.shape, (UNITS, 4 * UNITS)),
            "dense": (self.dense[0].shape, (2 * UNITS, 50)),
            "output": (self.output[0].shape, (50, len(PACKAGE_LABELS))),
        }
        for name, (seen, wanted) in shapes.items():
            if seen != wanted:
                raise ScorerUnavailable(f"tox-block {name} has shape {seen}, expected {wanted}")


def _hard_sigmoid(x: Array) -> Array:
    """Keras 2's ``hard_sigmoid``: clip(0.2x + 0.5, 0, 1)."""
    clipped: Array = np.clip(x * np.float32(0.2) + np.float32(0.5), 0.0, 1.0)
    return clipped


def _run_lstm(inputs: Array, lstm: _Lstm) -> Array:
    """Every step's hidden state of one LSTM direction over ``inputs`` (batch, time, 50)."""
    batch, steps, _ = inputs.shape
    projected = (inputs.reshape(batch * steps, -1) @ lstm.kernel + lstm.bias).reshape(
        batch, steps, 4 * UNITS
    )
    h = np.zeros((batch, UNITS), dtype=np.float32)
    c = np.zeros((batch, UNITS), dtype=np.float32)
    out = np.empty((batch, steps, UNITS), dtype=np.float32)
    for t in range(steps):
        z = projected[:, t] + h @ lstm.recurrent
        i = _hard_sigmoid(z[:, :UNITS])
        f = _hard_sigmoid(z[:, UNITS : 2 * UNITS])
        candidate = np.tanh(z[:, 2 * UNITS : 3 * UNITS])
        o = _hard_sigmoid(z[:, 3 * UNITS :])
        c = f * c + i * candidate
        h = o * np.tanh(c)
        out[:, t] = h
    return out


def pad_front(sequences: Sequence[Sequence[int]], length: int = MAX_SEQUENCE_LENGTH) -> Any:
    """``pad_sequences`` with its defaults: keep the last ``length`` ids, zeros in front."""
    padded = np.zeros((len(sequences), length), dtype=np.int64)
    for row, ids in enumerate(sequences):
        kept = list(ids)[-length:]
        if kept:
            padded[row, length - len(kept) :] = kept
    return padded


class ToxBlockModel:
    """tox-block's network and tokenizer; ``predict`` returns the package's own numbers."""

    def __init__(self, weights: LstmWeights, tokenizer: KerasTokenizer) -> None:
        self.weights = weights
        self.tokenizer = tokenizer
        lows = np.array([RESCALE[label][0] for label in PACKAGE_LABELS], dtype=np.float64)
        highs = np.array([RESCALE[label][1] for label in PACKAGE_LABELS], dtype=np.float64)
        self._low, self._span = lows, highs - lows

    def encode(self, texts: Sequence[str]) -> Any:
        """Word ids, (len(texts), 100), as the package's ``TokenSequencer.transform``."""
        return pad_front([self.tokenizer.ids(text) for text in texts])

    def probabilities(self, ids: Any) -> Any:
        """The network's sigmoid outputs for padded ids, (batch, 6)."""
        w = self.weights
        embedded = w.embeddings[ids]
        forward = _run_lstm(embedded, w.forward)
        # The backward LSTM reads the sequence from the end; the max over time needs no
        # re-ordering of its outputs.
        backward = _run_lstm(embedded[:, ::-1], w.backward)
        pooled = np.concatenate([forward.max(axis=1), backward.max(axis=1)], axis=1)
        hidden = np.maximum(pooled @ w.dense[0] + w.dense[1], 0.0)
        logits = hidden @ w.output[0] + w.output[1]
        return 1.0 / (1.0 + np.exp(-logits))

    def predict(self, texts: Sequence[str], *, rescale: bool = True) -> Any:
        """``tox_block.prediction.make_predictions`` as an array, labels in package order."""
        probabilities = self.probabilities(self.encode(texts)).astype(np.float64)
        if not rescale:
            return probabilities
        return np.abs((probabilities - self._low) / self._span)


def package_dir() -> Path:
    """The ``trained_models`` folder of the installed tox-block distribution (not imported)."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ScorerUnavailable(
            "tox-block is not installed (pip install --no-deps tox-block==0.1.2)"
        ) from None
    if dist.version != VERSION:
        raise ScorerUnavailable(f"tox-block {dist.version} is installed; {VERSION} is needed")
    return Path(str(dist.locate_file("tox_block/trained_models")))


class ToxBlockScorer:
    """The Scorer over :class:`ToxBlockModel`, with Detoxify's label names."""

    labels: tuple[str, ...] = LABELS

    def __init__(self, model: ToxBlockModel, *, batch_size: int = 64) -> None:
        self.model = model
        self.batch_size = batch_size
        self.name = f"tox-block-bilstm@{VERSION} (fallback: offline LSTM via numpy, not Detoxify)"

    @classmethod
    def load(cls, directory: Path | None = None) -> ToxBlockScorer:
        """Read the weights and vocabulary from ``directory`` or the installed package."""
        folder = directory if directory is not None else package_dir()
        weights_path, encoder_path = folder / WEIGHTS_FILE, folder / ENCODER_FILE
        for path in (weights_path, encoder_path):
            if not path.is_file():
                raise ScorerUnavailable(f"tox-block file missing: {path}")
        model = ToxBlockModel(
            LstmWeights.from_h5(weights_path), load_tokenizer(encoder_path.read_bytes())
        )
        log.info("loaded %s from %s", cls.__name__, folder)
        return cls(model)

    def score(self, texts: Sequence[str]) -> list[ScoreResult]:
        """One dict per text, Detoxify's label names, every score clipped to [0, 1]."""
        results: list[ScoreResult] = []
        for start in range(0, len(texts), self.batch_size):
            results.extend(score_isolated(self._batch, texts[start : start + self.batch_size]))
        return results

    def _batch(self, texts: list[str]) -> list[Scores]:
        if not texts:
            return []
        rescaled = np.clip(self.model.predict(texts), 0.0, 1.0)
        return [dict(zip(LABELS, map(float, row), strict=True)) for row in rescaled]
