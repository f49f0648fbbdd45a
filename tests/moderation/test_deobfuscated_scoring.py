"""Scoring what the reader meant: the de-obfuscated reading, merged per label, named in reasons."""

from __future__ import annotations

import pytest

from server.comments.models import CommentStatus
from server.moderation.policy.rules import LABELS, CommentFacts, Rule, decide
from server.moderation.policy.words import compile_wordlist, deobfuscate
from tests.workers.pipeline_support import StubScorer
from workers.analysis import Analysis, WordLists, analyse, merge_scores, reading_to_score

NO_WORDS = WordLists(banned=compile_wordlist([]), suspect=compile_wordlist([]))


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("You are an 1d10t", "you are an idiot"),
        ("f.u.c.k you", "fuck you"),
        ("what an i d i o t", "what an idiot"),
        ("stuuuupid m0r0n!!", "stupid moron"),
        ("Ｙｏｕ ａｒｅ ａ ｍｏｒｏｎ", "you are a moron"),
        ("you are a m\u200boron", "you are a moron"),
        ("\u0455tupid", "stupid"),  # Cyrillic dze
        ("sh!t", "shit"),
    ],
)
def test_deobfuscate_reads_disguises(text: str, reading: str) -> None:
    assert deobfuscate(text) == reading


@pytest.mark.parametrize(
    "text",
    [
        "The attack in Mogadishu killed 12 people on 3 May.",
        "Good point! Fuel prices rose 4% in 2024.",
        "Al-Shabaab claimed the bombing, police said.",
    ],
)
def test_plain_text_is_not_scored_twice(text: str) -> None:
    assert reading_to_score(text) is None


def test_merge_takes_the_higher_score_per_label() -> None:
    merged, raised = merge_scores(
        {"toxicity": 0.2, "insult": 0.5}, {"toxicity": 0.9, "insult": 0.1}
    )
    assert merged == {"toxicity": 0.9, "insult": 0.5}
    assert raised == ("toxicity",)
    assert merge_scores({"toxicity": 0.2}, None) == ({"toxicity": 0.2}, ())


def test_analyse_scores_both_readings_in_one_call() -> None:
    scorer = StubScorer()
    results = analyse(scorer, NO_WORDS, ["You are an 1d10t", "A fair point.", "idiot"])
    assert scorer.calls == [4]  # three texts + one reading
    disguised, plain, open_insult = results
    assert isinstance(disguised, Analysis) and isinstance(open_insult, Analysis)
    assert disguised.scores["toxicity"] == 0.9 and disguised.deobfuscated == ("toxicity",)
    assert open_insult.scores["toxicity"] == 0.9 and open_insult.deobfuscated == ()
    assert isinstance(plain, Analysis) and plain.scores["toxicity"] == 0.01


def test_a_reading_that_fails_leaves_the_text_scores() -> None:
    scorer = StubScorer(poison="poison")
    [result] = analyse(scorer, NO_WORDS, ["P.O.I.S.O.N here"])
    assert isinstance(result, Analysis) and result.deobfuscated == ()


def test_reason_says_the_deobfuscated_text_decided() -> None:
    scores = {label: 0.01 for label in LABELS} | {"insult": 0.93}
    read = decide(CommentFacts(scores=scores, deobfuscated_labels=("insult",)))
    plain = decide(CommentFacts(scores=scores))
    assert read.status is CommentStatus.held and read.rule is Rule.score_hold
    assert read.reason == "held: insult 0.93 ≥ 0.80 (de-obfuscated text)"
    assert read.details["deobfuscated"] is True
    assert plain.reason == "held: insult 0.93 ≥ 0.80" and "deobfuscated" not in plain.details
