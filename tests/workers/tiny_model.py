"""Write Detoxify-format checkpoints with random weights, for tests and benchmarks.

Detoxify's published ``.ckpt`` files (made by its ``convert_weights.py``) are a ``torch.save``d
dict with two keys: ``config`` (the training JSON config: ``arch.args`` holds ``model_type``,
``model_name``, ``tokenizer_name`` and ``num_classes``; ``dataset.args.classes`` the label
names) and ``state_dict`` (the ``transformers`` model's own keys, ``model.`` prefix removed).
The ``original`` model's config keeps the Jigsaw column names (``toxic``, ``severe_toxic``,
``identity_hate``), which Detoxify renames when it loads them; we write the same names so
that renaming is exercised too.

Next to the checkpoint we write a Hugging Face config directory (``config.json``, ``vocab.txt``,
``tokenizer_config.json`` with ``model_max_length``), the kind of folder an operator downloads
once and points ``BARAZA_MODEL_CONFIG_DIR`` at.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

if TYPE_CHECKING:
    from workers.detoxify_scorer import DetoxifyScorer

# The label names in the published ``original`` checkpoint, before Detoxify renames them.
ORIGINAL_CLASSES = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
# What Detoxify (and so the scorer) reports for them.
ORIGINAL_LABELS = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
)

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_WORDS = """
the a an and or but of to in on for with at by from is are was were be been it this
that he she they we you i not no yes my your our their his her its who what why how
when where kenya nairobi somalia al shabaab muslim somali attack bomb killed police
security government gas explosion peace terrorism people news story comment article
report minister president good bad stupid idiot hate love think know say said should
would could will can must just very more most many much all some any every one two
three first last new old time year day country world region war army law court vote
election money tax price fuel food water
"""


def _vocabulary() -> list[str]:
    """A tiny WordPiece vocabulary: specials, common words, single characters, suffix pieces."""
    chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    pieces = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    vocab = _SPECIAL + _WORDS.split() + chars + pieces
    return list(dict.fromkeys(vocab))  # keep order, drop duplicates


def write_config_dir(
    config_dir: Path,
    *,
    hidden: int,
    layers: int,
    heads: int,
    intermediate: int,
    vocab: list[str],
    num_labels: int,
    initializer_range: float = 0.02,
) -> None:
    """Write a local Hugging Face BERT config + tokenizer folder (no network needed to read it)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer_config = {
        "do_lower_case": True,
        "model_max_length": 512,
        "tokenizer_class": "BertTokenizer",
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    (config_dir / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))
    config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "vocab_size": len(vocab),
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": initializer_range,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "num_labels": num_labels,
    }
    (config_dir / "config.json").write_text(json.dumps(config, indent=2))


def detoxify_training_config(classes: tuple[str, ...]) -> dict[str, object]:
    """The ``config`` entry of a published Detoxify ``original`` checkpoint."""
    return {
        "name": "Jigsaw_BERT",
        "n_gpu": 1,
        "batch_size": 10,
        "accumulate_grad_batches": 3,
        "loss": "binary_cross_entropy",
        "arch": {
            "type": "BERT",
            "args": {
                "num_classes": len(classes),
                # A Hub name, as in the real file: offline loading must rewrite it.
                "model_type": "bert-base-uncased",
                "model_name": "BertForSequenceClassification",
                "tokenizer_name": "BertTokenizer",
            },
        },
        "dataset": {
            "type": "JigsawDataOriginal",
            "args": {
                "train_csv_file": "jigsaw_data/train.csv",
                "test_csv_file": "jigsaw_data/val.csv",
                "add_test_labels": False,
                "classes": list(classes),
            },
        },
        "optimizer": {"type": "Adam", "args": {"lr": 3e-5, "weight_decay": 3e-6, "amsgrad": True}},
    }


def build_checkpoint(
    directory: Path,
    *,
    hidden: int,
    layers: int,
    heads: int,
    intermediate: int,
    vocab: list[str] | None = None,
    initializer_range: float = 0.02,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write ``directory/model.ckpt`` and ``directory/hf-config/``; return (checkpoint, config dir).

    Weights are random (seeded): good for speed and equivalence checks, meaningless as scores.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    words = vocab if vocab is not None else _vocabulary()
    config_dir = directory / "hf-config"
    write_config_dir(
        config_dir,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=words,
        num_labels=len(ORIGINAL_CLASSES),
        initializer_range=initializer_range,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(BertConfig.from_pretrained(config_dir))
    state_dict = OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
    checkpoint = directory / "model.ckpt"
    torch.save(
        {"config": detoxify_training_config(ORIGINAL_CLASSES), "state_dict": state_dict},
        checkpoint,
    )
    return checkpoint, config_dir


def build_tiny_checkpoint(dir: Path) -> tuple[Path, Path]:
    """A 2-layer BERT, hidden 32, tiny vocabulary: returns (checkpoint path, config dir).

    Initialised wider than BERT's 0.02 so that scores differ visibly from text to text.
    """
    return build_checkpoint(
        dir, hidden=32, layers=2, heads=2, intermediate=64, initializer_range=0.2
    )


@contextlib.contextmanager
def block_network() -> Iterator[None]:
    """Fail any connection or name lookup that is not local (loopback or a Unix socket)."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family == socket.AF_UNIX or _is_local(address):
            return real_connect(self, address)
        raise OSError(f"a test tried to reach the network: {address!r}")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is None or _is_local((host,)):
            return real_getaddrinfo(host, *args, **kwargs)
        raise OSError(f"a test tried to resolve {host!r}")

    with (
        mock.patch.object(socket.socket, "connect", connect),
        mock.patch.object(socket, "getaddrinfo", getaddrinfo),
    ):
        yield


def _is_local(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class TinyDetoxify:
    """The ``tiny_detoxify`` fixture: files on disk and the scorer loaded from them."""

    checkpoint: Path
    config_dir: Path
    scorer: DetoxifyScorer

    def settings_overrides(self) -> dict[str, Any]:
        """Settings fields that make ``load_scorer`` load this model offline."""
        return tiny_overrides(self.checkpoint, self.config_dir)


def tiny_overrides(checkpoint: Path, config_dir: Path) -> dict[str, Any]:
    """Settings fields that make ``load_scorer`` load a checkpoint offline, on one thread."""
    return {
        "scorer": "detoxify",
        "model": "original",
        "model_checkpoint": checkpoint,
        "model_config_dir": config_dir,
        "model_threads": 1,
    }
