"""Scoring throughput: stock Detoxify against the worker's paths, in one run, side by side.

A bert-base-sized BERT (12 layers, hidden 768, vocabulary 30,522) in Detoxify's checkpoint
format, with RANDOM weights: the figures measure speed and numerical divergence, never score
quality. Comments are 20-60-word news comments generated from a word list in the register of
``seeds/article.txt`` (in this repository); the vocabulary splits about one word in six into pieces.

Paths, each over the same comments, interleaved over ``--rounds`` (best round kept: the
machine is shared, and the fastest round is the one least disturbed by others):

- ``stock 1x1``: ``Detoxify.predict(text)``, one comment per call;
- ``stock batched``: ``Detoxify.predict(list)``, the worker's batches of ``--batch`` comments;
- ``worker default``: ``DetoxifyScorer.score`` (length-sorted micro-batches, fp32);
- fast paths: ONNX Runtime fp32, ONNX Runtime int8, and bf16 where the CPU has it.

Also measured: the fp32 matmul rate (torch, the cores this process uses) turned into the
comments/s a perfect bert-base could reach, and the resident memory of a separate process
running only the default path.

    flock /tmp/baraza-bench.lock .venv/bin/python -m bench.scoring
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED_TEXT = Path(
    os.environ.get("BARAZA_SEED_ARTICLE")
    or Path(__file__).resolve().parents[1] / "seeds" / "article.txt"
)
WORKDIR = Path(os.environ.get("BARAZA_BENCH_DIR", "/tmp/baraza-bench-scoring"))
BERT_BASE = {"hidden": 768, "layers": 12, "heads": 12, "intermediate": 3072}
VOCAB_SIZE = 30_522
COMMENT_TEXT = """
i think this government must explain why the police did nothing when people were killed
we need peace and security not more excuses from politicians who never listen to ordinary
citizens my family lives near the border and we are tired of these attacks every year
thank you for the report but you forgot the victims of the gas explosion in nairobi
shame on those leaders they only care about money and elections while the youth suffer
the americans help kenya because they want bases not because they love us honestly
al-shabaab will not be defeated by meetings in washington it needs jobs for young men
muslims and christians lived together here for centuries stop dividing us with lies
this is the worst article i have read this week where are the facts and the numbers
somalia needs a real army and a government that pays soldiers on time every month
who will pay for the damage the families lost everything and nobody has visited them
good news at last well done to the officers who stopped the bomb before it exploded
stupid idea again the minister should resign today and let someone competent lead
why is fuel so expensive when the budget says prices will fall by the end of december
"""
# Comment words left out of the vocabulary, so they split into WordPiece fragments as rarer
# words do with a real vocabulary.
SPLIT_EVERY = 6


@dataclass
class ScoringPath:
    """One scoring path: its name, a call scoring a list of comments, and its scores."""

    name: str
    run: Callable[[Sequence[str]], list[dict[str, float]]]
    comments: int
    best: float = float("inf")
    scores: list[dict[str, float]] | None = None

    @property
    def rate(self) -> float:
        return self.comments / self.best


def article_words() -> list[str]:
    """Lower-case words of the seed article (the register our readers comment in)."""
    return re.findall(r"[a-z][a-z'-]*", SEED_TEXT.read_text(encoding="utf-8").lower())


def word_list() -> list[str]:
    """Comment vocabulary: article words and typical comment phrasing, weighted by frequency."""
    return article_words() + COMMENT_TEXT.split() * 3


def make_comments(count: int, seed: int = 7) -> list[str]:
    """``count`` comments of 20-60 words in sentences of 5-15 words, with punctuation."""
    rng = random.Random(seed)
    words = word_list()
    comments = []
    for _ in range(count):
        target, sentences, total = rng.randint(20, 60), [], 0
        while total < target:
            length = min(rng.randint(5, 15), target - total)
            sentence = " ".join(rng.choice(words) for _ in range(length))
            sentences.append(sentence.capitalize() + rng.choice(".!?.,"))
            total += length
        comments.append(" ".join(sentences))
    return comments


def bench_vocabulary() -> list[str]:
    """30,522 tokens like bert-base-uncased's: specials, pieces, most comment words, fillers."""
    from tests.workers.tiny_model import _vocabulary

    distinct = sorted(set(word_list()) | {p for w in word_list() for p in re.split(r"[-']", w)})
    whole = [w for i, w in enumerate(distinct) if i % SPLIT_EVERY]
    pieces = [w[:3] for w in distinct] + ["##" + w[i:i + 2] for w in distinct for i in range(0, 12)]
    vocab = list(dict.fromkeys(_vocabulary() + whole + pieces))
    vocab += [f"[unused{i}]" for i in range(VOCAB_SIZE - len(vocab))]
    return vocab[:VOCAB_SIZE]


def build_model(workdir: Path) -> tuple[Path, Path]:
    """The bert-base checkpoint in Detoxify's format (written once, reused by later runs)."""
    from tests.workers.tiny_model import build_checkpoint

    checkpoint, config_dir = workdir / "model.ckpt", workdir / "hf-config"
    if checkpoint.exists() and (config_dir / "config.json").exists():
        return checkpoint, config_dir
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = build_checkpoint(workdir, vocab=bench_vocabulary(), **BERT_BASE)
    print(f"built random-weight bert-base checkpoint in {time.perf_counter() - started:.0f}s")
    return result


def stock_detoxify(checkpoint: Path, config_dir: Path, device: str) -> Any:
    """``detoxify.Detoxify`` itself, on a copy of the checkpoint whose ``model_type`` names the
    local config folder (the rewrite the worker does in memory; stock needs it on disk)."""
    import torch
    from detoxify import Detoxify

    stock_path = checkpoint.with_name("stock.ckpt")
    if not stock_path.exists():
        loaded = torch.load(checkpoint, weights_only=False, mmap=True)
        loaded["config"]["arch"]["args"]["model_type"] = str(config_dir)
        torch.save(loaded, stock_path)
    return Detoxify(
        "original", checkpoint=str(stock_path), device=device,
        huggingface_config_path=str(config_dir),
    )


def matmul_gflops(seconds: float = 1.0, rounds: int = 3) -> float:
    """Best fp32 GFLOP/s of a bert-base-shaped matmul (45-token comments x 32, FFN layer)."""
    import torch

    a, b = torch.randn(32 * 45, 768), torch.randn(768, 3072)
    best = 0.0
    for _ in range(rounds):
        a @ b
        started, runs = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            a @ b
            runs += 1
        best = max(best, 2 * a.shape[0] * 768 * 3072 * runs / (time.perf_counter() - started))
    return best / 1e9


def bf16_gflops() -> float:
    """A smaller matmul in bfloat16 (emulated bf16 is ~100x slower: keep it short)."""
    import torch

    a, b = torch.randn(128, 768).bfloat16(), torch.randn(768, 768).bfloat16()
    started, runs = time.perf_counter(), 0
    while time.perf_counter() - started < 0.5 or runs == 0:
        a @ b
        runs += 1
    return 2 * 128 * 768 * 768 * runs / (time.perf_counter() - started) / 1e9


def flops_per_comment(tokens: int, hidden: int = 768, layers: int = 12) -> float:
    """Multiply-adds x 2 of a BERT encoder over ``tokens``: 12 h^2 per token per layer for the
    projections and feed-forward, 2 t h for attention scores and mixing."""
    return 2.0 * layers * tokens * (12 * hidden * hidden + 2 * tokens * hidden)


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def stock_path(stock: Any, comments: Sequence[str], batch: int) -> ScoringPath:
    def run(texts: Sequence[str]) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for chunk in chunks(texts, batch):
            predicted = stock.predict(list(chunk)) if batch > 1 else stock.predict(chunk[0])
            values = {k: v if isinstance(v, list) else [v] for k, v in predicted.items()}
            out += [{k: values[k][i] for k in values} for i in range(len(chunk))]
        return out

    name = "stock Detoxify.predict, 1 comment/call" if batch == 1 else (
        f"stock Detoxify.predict, {batch}/call")
    return ScoringPath(name, run, len(comments))


def scorer_path(name: str, scorer: Any, comments: Sequence[str], batch: int) -> ScoringPath:
    def run(texts: Sequence[str]) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for chunk in chunks(texts, batch):
            out += scorer.score(list(chunk))
        return out

    return ScoringPath(name, run, len(comments))


def divergence(a: Sequence[dict[str, float]], b: Sequence[dict[str, float]]) -> float:
    """Largest absolute difference of any label of any comment."""
    return max(abs(x[k] - y[k]) for x, y in zip(a, b, strict=False) for k in x)


def rss_child(checkpoint: Path, config_dir: Path, threads: int, batch: int) -> None:
    """Run in a separate process: load the default path, score, print RSS as JSON."""
    from server.settings import Settings
    from workers.scorer import load_scorer

    settings = Settings(
        scorer="detoxify", model_checkpoint=checkpoint, model_config_dir=config_dir,
        model_threads=threads,
    )
    scorer = load_scorer(settings)
    loaded_kb = _status_kb("VmRSS")
    for chunk in chunks(make_comments(4 * batch, seed=11), batch):
        scorer.score(list(chunk))
    print(json.dumps({
        "name": scorer.name, "rss_loaded_mb": loaded_kb / 1024,
        "rss_mb": _status_kb("VmRSS") / 1024, "peak_mb": _status_kb("VmHWM") / 1024,
        "anon_mb": _status_kb("RssAnon") / 1024, "file_mb": _status_kb("RssFile") / 1024,
    }))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure_rss(checkpoint: Path, config_dir: Path, threads: int, batch: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.scoring", "--rss-child", "--threads", str(threads),
               "--batch", str(batch), "--checkpoint", str(checkpoint),
               "--config-dir", str(config_dir)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def build_paths(args: argparse.Namespace, checkpoint: Path, config_dir: Path,
                comments: list[str]) -> tuple[list[ScoringPath], dict[str, float]]:
    """Load every path; returns them and how long each fast path took to prepare."""
    from workers.detoxify_scorer import DetoxifyScorer, load_detoxify_model
    from workers.fast_scorer import cpu_has_native_bf16

    stock = stock_detoxify(checkpoint, config_dir, "cpu")
    loaded = load_detoxify_model("original", checkpoint=checkpoint, config_dir=config_dir)
    default = DetoxifyScorer.from_loaded(loaded, name="default")
    paths = [
        stock_path(stock, comments[: args.single], 1),
        stock_path(stock, comments, args.batch),
        scorer_path("worker default (sorted micro-batches, fp32)", default, comments, args.batch),
    ]
    prepare: dict[str, float] = {}
    modes = ["onnx-fp32", "onnx-int8", "torch-int8"] + (["bf16"] if cpu_has_native_bf16() else [])
    for mode in modes:
        started = time.perf_counter()
        fast = DetoxifyScorer.fast(loaded, name=mode, mode=mode)
        prepare[mode] = time.perf_counter() - started
        paths.append(scorer_path(f"fast: {mode}", fast, comments, args.batch))
    return paths, prepare


def run_rounds(paths: list[ScoringPath], comments: list[str], rounds: int) -> None:
    """Each path once per round, interleaved, keeping each path's best time."""
    for path in paths:  # warm-up (allocator, thread pool, lazy init)
        path.run(comments[:2])
    for _ in range(rounds):
        for path in paths:
            texts = comments[: path.comments]
            started = time.perf_counter()
            scores = path.run(texts)
            path.best = min(path.best, time.perf_counter() - started)
            path.scores = scores


def report(paths: list[ScoringPath], bound: dict[str, float], rss: dict[str, Any],
           prepare: dict[str, float], args: argparse.Namespace) -> None:
    stock_single, stock_batched = paths[0], paths[1]
    reference = stock_batched.scores or []
    print("\nRANDOM WEIGHTS: speed and divergence only, not score quality.")
    print(f"{'path':46} {'comments/s':>10} {'x 1x1':>6} {'% bound':>8} {'max |diff|':>11}")
    for path in paths:
        diff = divergence(path.scores or [], reference)
        print(f"{path.name:46} {path.rate:10.2f} {path.rate / stock_single.rate:6.2f} "
              f"{100 * path.rate / bound['corpus']:7.0f}% {diff:11.1e}")
    print(f"\nfp32 matmul: {bound['gflops']:.1f} GFLOP/s (torch, {args.threads} threads) -> "
          f"bound {bound['corpus']:.2f} comments/s at this corpus' {bound['tokens']:.1f} "
          f"tokens/comment, {bound['at45']:.2f} comments/s at 45 tokens")
    print(f"bf16 matmul: {bound['bf16']:.1f} GFLOP/s "
          f"({'native' if bound['bf16'] > bound['gflops'] else 'emulated: bf16 path skipped'})")
    print("fast path preparation (export/quantise): "
          + ", ".join(f"{k} {v:.0f}s" for k, v in prepare.items()))
    print(f"worker RSS (default path, separate process): {rss['rss_mb']:.0f} MB after scoring "
          f"= {rss['anon_mb']:.0f} MB private + {rss['file_mb']:.0f} MB file-backed (weights "
          f"memory-mapped from the checkpoint, shared between workers); "
          f"{rss['rss_loaded_mb']:.0f} MB after load, peak {rss['peak_mb']:.0f} MB")
    print(f"comments: {len(paths[1].scores or [])} batched / {paths[0].comments} one at a time, "
          f"batches of {args.batch}, best of {args.rounds} rounds")


def corpus_bound(tokenizer: Any, comments: list[str], gflops: float) -> dict[str, float]:
    lengths = [len(ids) for ids in tokenizer(comments, truncation=True)["input_ids"]]
    flops = sum(flops_per_comment(n) for n in lengths) / len(lengths)
    return {
        "gflops": gflops, "tokens": sum(lengths) / len(lengths),
        "corpus": gflops * 1e9 / flops, "at45": gflops * 1e9 / flops_per_comment(45),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=64, help="comments for batched paths")
    parser.add_argument("--single", type=int, default=16, help="comments for stock 1x1")
    parser.add_argument("--batch", type=int, default=32, help="comments per worker batch")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.rss_child:
        rss_child(args.checkpoint, args.config_dir, args.threads, args.batch)
        return 0

    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    checkpoint, config_dir = build_model(args.workdir)
    comments = make_comments(args.comments)
    gflops = matmul_gflops()
    paths, prepare = build_paths(args, checkpoint, config_dir, comments)
    run_rounds(paths, comments, args.rounds)
    gflops = max(gflops, matmul_gflops())  # measured before and after the paths: best of both
    bound = corpus_bound(_tokenizer(config_dir), comments, gflops)
    bound["bf16"] = bf16_gflops()
    rss = measure_rss(checkpoint, config_dir, args.threads, args.batch)
    report(paths, bound, rss, prepare, args)
    print(f"total bench time {time.perf_counter() - started:.0f}s")
    return 0


def _tokenizer(config_dir: Path) -> Any:
    from transformers import BertTokenizer

    return BertTokenizer.from_pretrained(config_dir)


if __name__ == "__main__":
    raise SystemExit(main())
