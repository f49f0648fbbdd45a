"""Moderation quality on our own labelled news comments, and the fallback's speed and memory.

The test set is ``tests/data/benchmark/<kind>.txt``: one comment a line, written for this
benchmark by the Baraza developers in the register of the seed article (clean news talk and
harsh criticism, and abuse of six kinds). It was written by the people who wrote the phrase
rules, so the rule figures are optimistic: they are a regression check, not an estimate of
quality on real traffic.

Every comment is posted by its own account on its own article, in file order (so repeated
spam campaigns meet the near-duplicate counter); authors have ``i % 7`` approved comments,
spam accounts none. Bursts are not exercised here (tests/workers/test_spam.py does).

"Caught" means held or rejected. Rows: each scorer alone (default thresholds), with the
de-obfuscated reading, each rule family alone, and everything together.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.moderation_quality
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from server.comments.models import CommentStatus
from server.moderation.policy.phrases import (
    PhraseKind,
    compile_rules,
    default_phrase_rules,
    find_phrases,
)
from server.moderation.policy.rules import DEFAULT_CONFIG, CommentFacts, PolicyConfig, decide
from server.moderation.policy.signals import SpamConfig, SpamCounts, spam_signals
from server.moderation.policy.words import compile_wordlist, default_suspect_words
from workers.analysis import merge_scores, reading_to_score
from workers.scorer import ScoreError, Scorer, ScoreResult
from workers.spam import MemorySpamTracker, SpamItem

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "benchmark"
KINDS = ("clean", "insult", "obscene", "threat", "identity", "obfuscated", "spam")
ABUSE = KINDS[1:]
CAUGHT = {CommentStatus.held, CommentStatus.rejected}


@dataclass(frozen=True, slots=True)
class Sample:
    index: int
    kind: str
    text: str

    @property
    def approved(self) -> int:
        return 0 if self.kind == "spam" else self.index % 7


def load_samples() -> list[Sample]:
    samples: list[Sample] = []
    for kind in KINDS:
        for line in (DATA / f"{kind}.txt").read_text("utf-8").splitlines():
            if line.strip():
                samples.append(Sample(len(samples), kind, line.strip()))
    return samples


def _scores(scorer: Scorer, texts: Sequence[str]) -> list[dict[str, float]]:
    results: list[ScoreResult] = scorer.score(list(texts))
    out: list[dict[str, float]] = []
    for result in results:
        if isinstance(result, ScoreError):
            raise RuntimeError(result.error)
        out.append(result)
    return out


def scored(scorer: Scorer, samples: Sequence[Sample]) -> tuple[list[dict[str, float]], list[dict[str, float]], list[tuple[str, ...]]]:  # noqa: E501
    """Scores as written, and merged with the de-obfuscated reading (with the raised labels)."""
    written = _scores(scorer, [sample.text for sample in samples])
    readings = [reading_to_score(sample.text) for sample in samples]
    extra = _scores(scorer, [reading for reading in readings if reading is not None])
    merged: list[dict[str, float]] = []
    raised: list[tuple[str, ...]] = []
    read_iter = iter(extra)
    for scores, reading in zip(written, readings, strict=True):
        combined, labels = merge_scores(scores, next(read_iter) if reading else None)
        merged.append(combined)
        raised.append(labels)
    return written, merged, raised


async def spam_counts(samples: Sequence[Sample], config: SpamConfig) -> list[SpamCounts]:
    tracker = MemorySpamTracker(clock=lambda: 1_000_000.0)
    return [
        await tracker.observe(
            SpamItem(sample.index, f"u{sample.index}", f"a{sample.index}", sample.text), config
        )
        for sample in samples
    ]


Judge = Callable[[Sample], bool]


def _rate(part: int, whole: int, form: str = ".0%") -> str:
    return f"{part}/{whole} ({part / whole:{form}})"


def table(rows: Mapping[str, Judge], samples: Sequence[Sample]) -> list[str]:
    header = (
        "| configuration | " + " | ".join(ABUSE) + " | all abuse | clean false holds | precision |"
    )
    lines = [header, "|" + " --- |" * (len(ABUSE) + 4)]
    by_kind = {kind: [s for s in samples if s.kind == kind] for kind in KINDS}
    for name, judge in rows.items():
        caught = {kind: sum(judge(s) for s in items) for kind, items in by_kind.items()}
        abuse = sum(caught[kind] for kind in ABUSE)
        abuse_total = sum(len(by_kind[kind]) for kind in ABUSE)
        held = abuse + caught["clean"]
        cells = [_rate(caught[kind], len(by_kind[kind])) for kind in ABUSE]
        clean = _rate(caught["clean"], len(by_kind["clean"]), ".1%")
        precision = f"{abuse / held:.0%}" if held else "–"
        lines.append(
            f"| {name} | " + " | ".join(cells)
            + f" | {abuse / abuse_total:.0%} | {clean} | {precision} |"
        )
    return lines


def rule_table(samples: Sequence[Sample], counts: Sequence[SpamCounts]) -> list[str]:
    """Precision and recall of each rule family against the kind it is meant for."""
    rules = compile_rules(default_phrase_rules())
    config = SpamConfig()
    families: dict[str, tuple[set[str], Judge]] = {
        "threat phrases": ({"threat"}, lambda s: any(
            h.kind is PhraseKind.threat for h in find_phrases(s.text, rules))),
        "dehumanising phrases": ({"identity"}, lambda s: any(
            h.kind is PhraseKind.dehumanising for h in find_phrases(s.text, rules))),
        "spam rules": ({"spam"}, lambda s: bool(
            spam_signals(s.text, s.approved, counts[s.index], config))),
    }
    lines = ["| rule family | meant for | fired | precision | recall | fired on clean |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, (kinds, judge) in families.items():
        fired = [s for s in samples if judge(s)]
        right = sum(s.kind in kinds for s in fired)
        total = sum(s.kind in kinds for s in samples)
        clean = sum(s.kind == "clean" for s in fired)
        precision = f"{right / len(fired):.0%}" if fired else "–"
        lines.append(f"| {name} | {', '.join(sorted(kinds))} | {len(fired)} | {precision} | "
                     f"{right}/{total} ({right / total:.0%}) | {clean} |")
    return lines


def _status(facts: CommentFacts) -> bool:
    return decide(facts, DEFAULT_CONFIG).status in CAUGHT


def quality(samples: list[Sample]) -> None:
    from workers.fallback_scorer import FallbackScorer
    from workers.toxblock_scorer import ToxBlockScorer

    profanity, toxblock = FallbackScorer.load(), ToxBlockScorer.load()
    p_written, p_merged, _ = scored(profanity, samples)
    t_written, t_merged, t_raised = scored(toxblock, samples)
    suspect = compile_wordlist(default_suspect_words())
    rules = compile_rules(default_phrase_rules())
    counts = asyncio.run(spam_counts(samples, SpamConfig()))
    spam_config = SpamConfig()

    def everything(s: Sample, scores: Mapping[str, float], raised: Sequence[str]) -> bool:
        return _status(CommentFacts(
            scores=scores, deobfuscated_labels=raised, suspect_words=suspect.find(s.text),
            text=s.text, spam_counts=counts[s.index], author_approved_count=s.approved,
        ))

    def max_scores(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
        return {label: max(a.get(label, 0.0), b.get(label, 0.0)) for label in {*a, *b}}

    rows: dict[str, Judge] = {
        "profanity-check alone": lambda s: _status(CommentFacts(scores=p_written[s.index])),
        "profanity-check + de-obfuscated reading": lambda s: _status(
            CommentFacts(scores=p_merged[s.index])),
        "tox-block fallback alone": lambda s: _status(CommentFacts(scores=t_written[s.index])),
        "tox-block + de-obfuscated reading": lambda s: _status(
            CommentFacts(scores=t_merged[s.index])),
        "default suspect word list alone": lambda s: bool(suspect.find(s.text)),
        "phrase rules alone (threat + dehumanising)": lambda s: bool(find_phrases(s.text, rules)),
        "spam rules alone": lambda s: bool(
            spam_signals(s.text, s.approved, counts[s.index], spam_config)),
        "all together (tox-block + reading + words + phrases + spam)": lambda s: everything(
            s, t_merged[s.index], t_raised[s.index]),
        "all together + profanity-check (max per label)": lambda s: everything(
            s, max_scores(t_merged[s.index], p_merged[s.index]), t_raised[s.index]),
    }
    print(f"{len(samples)} comments: " + ", ".join(
        f"{kind} {sum(s.kind == kind for s in samples)}" for kind in KINDS))
    print("\n".join(table(rows, samples)))
    print()
    print("\n".join(rule_table(samples, counts)))
    all_in = rows["all together (tox-block + reading + words + phrases + spam)"]
    with_p = rows["all together + profanity-check (max per label)"]
    added = [s for s in samples if with_p(s) and not all_in(s)]
    print(f"\nprofanity-check on top of everything: +{sum(s.kind != 'clean' for s in added)} "
          f"abusive, +{sum(s.kind == 'clean' for s in added)} clean")
    missed = [s for s in samples if s.kind != "clean" and not all_in(s)]
    false = [s for s in samples if s.kind == "clean" and all_in(s)]
    print("\nclean comments held by everything together:")
    for s in false:
        print(f"  - {s.text}")
    print(f"abusive comments missed by everything together: {len(missed)}")
    for s in missed:
        print(f"  - [{s.kind}] {s.text}")


def speed(samples: list[Sample], rounds: int) -> None:
    from workers.toxblock_scorer import ToxBlockScorer

    texts = [s.text for s in samples]
    started = time.perf_counter()
    scorer = ToxBlockScorer.load()
    load_seconds = time.perf_counter() - started
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        scorer.score(texts)
        best = min(best, time.perf_counter() - started)
    print(f"tox-block load: {load_seconds:.2f} s; scoring {len(texts)} comments in batches of "
          f"{scorer.batch_size}: best of {rounds} rounds {best:.3f} s = "
          f"{len(texts) / best:.0f} comments/s (threads: OMP={os.environ.get('OMP_NUM_THREADS')}, "
          f"OPENBLAS={os.environ.get('OPENBLAS_NUM_THREADS')})")


def memory() -> None:
    """In a fresh process: RSS after imports, after loading, and at peak after scoring."""
    code = (
        "import resource, numpy, h5py\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS'): return int(line.split()[1]) // 1024\n"
        "base = rss()\n"
        "from workers.toxblock_scorer import ToxBlockScorer\n"
        "s = ToxBlockScorer.load(); loaded = rss()\n"
        "s.score(['a comment of a few words about the news'] * 256)\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "print(f'RSS after numpy+h5py import {base} MB, after loading {loaded} MB, '\n"
        "      f'peak {peak} MB')\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)
    print(result.stdout.strip())


SWAHILI = Path(__file__).resolve().parents[1] / "tests" / "data" / "swahili"


def swahili() -> None:
    """Language detection and holds on our Swahili and mixed comments, per language policy."""
    from workers.fallback_scorer import FallbackScorer
    from workers.language import LanguageDetector
    from workers.scorer import MaxOfScorers
    from workers.toxblock_scorer import ToxBlockScorer

    groups = {
        name: [line for line in (SWAHILI / f"{name}.txt").read_text("utf-8").splitlines() if line]
        for name in ("clean", "abusive", "mixed_clean", "mixed_abusive")
    }
    everyone = LanguageDetector.load()
    kenyan = LanguageDetector.load(["en", "sw", "so", "ar"])
    print("\n| group | n | detected, all 142 languages | detected, en/sw/so/ar |")
    print("| --- | ---: | --- | --- |")
    for name, texts in groups.items():
        counts = [_language_counts(detector, texts) for detector in (everyone, kenyan)]
        print(f"| {name} | {len(texts)} | {counts[0]} | {counts[1]} |")
    scorer = MaxOfScorers([ToxBlockScorer.load(), FallbackScorer.load()], "fallback")
    suspect = compile_wordlist(default_suspect_words())
    no_sw = compile_wordlist(
        [w for w in default_suspect_words() if not _swahili_entry(w)]
    )
    print("\n| group | policy `score`, no Swahili list | `score` | `words_only` | `hold` |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, texts in groups.items():
        scores = _scores(scorer, texts)
        cells = []
        for policy, words in (("score", no_sw), ("score", suspect), ("words_only", suspect),
                              ("hold", suspect)):
            config = PolicyConfig.from_dict({"languages": {"unsupported": policy}})
            held = 0
            for text, score in zip(texts, scores, strict=True):
                language = kenyan.detect(text).language
                facts = CommentFacts(
                    scores=score, suspect_words=words.find(text), text=text,
                    author_approved_count=5, language=language,
                    language_covered=language in (None, "en"),
                )
                held += decide(facts, config).status in CAUGHT
            cells.append(f"{held}/{len(texts)}")
        print(f"| {name} | " + " | ".join(cells) + " |")


_SWAHILI_ENTRIES: set[str] = set()


def _swahili_entry(entry: str) -> bool:
    if not _SWAHILI_ENTRIES:
        text = Path(__file__).resolve().parents[1].joinpath(
            "server", "moderation", "default_suspect_words.txt").read_text("utf-8")
        section = text.split("# Swahili and Sheng (Kenya)", 1)[1].split("\n# Somali", 1)[0]
        for line in section.splitlines():
            word = " ".join(line.split("#", 1)[0].split())
            if word:
                _SWAHILI_ENTRIES.add(word)
    return entry in _SWAHILI_ENTRIES


def _language_counts(detector: object, texts: Sequence[str]) -> str:
    from collections import Counter

    from workers.language import LanguageDetector

    assert isinstance(detector, LanguageDetector)
    found = Counter(detector.detect(text).language or "none" for text in texts)
    return ", ".join(f"{language} {count}" for language, count in found.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    samples = load_samples()
    quality(samples)
    print()
    speed(samples, args.rounds)
    memory()
    swahili()


if __name__ == "__main__":
    main()
