"""Threat and dehumanisation phrase rules: what they hold, what news talk they leave alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.comments.models import CommentStatus
from server.moderation.policy.phrases import (
    PhraseKind,
    compile_rules,
    default_phrase_rules,
    find_phrases,
    parse_rules,
)
from server.moderation.policy.rules import LABELS, CommentFacts, PolicyConfig, Rule, decide

RULES = compile_rules(default_phrase_rules())
LOW = {label: 0.01 for label in LABELS}
BENCHMARK = Path(__file__).parents[1] / "data" / "benchmark"


def kinds(text: str) -> set[PhraseKind]:
    return {hit.kind for hit in find_phrases(text, RULES)}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I know where you live.", PhraseKind.threat),
        ("Watch your back, journalist.", PhraseKind.threat),
        ("Someone should shoot the minister", PhraseKind.threat),
        ("I'll find you", PhraseKind.threat),
        ("Kill them all.", PhraseKind.threat),
        ("I kn0w wh3re y0u l1ve", PhraseKind.threat),
        ("Somalis are animals", PhraseKind.dehumanising),
        ("s0m4lis are 4n1mals", PhraseKind.dehumanising),
        ("Refugees should be deported", PhraseKind.dehumanising),
        ("These people are vermin who breed like rats", PhraseKind.dehumanising),
        ("Deport all the refugees!", PhraseKind.dehumanising),
        ("All Muslims are terrorists", PhraseKind.dehumanising),
    ],
)
def test_threats_and_dehumanisation_match(text: str, kind: PhraseKind) -> None:
    assert kind in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "The attack in Mogadishu killed 12 people.",
        "Al-Shabaab claimed the bomb attack; Somali and Muslim refugees fled.",
        "Police said the gunmen tried to kill him.",
        "We will bury them at the polls.",
        "Somalis are not animals, they are people.",
        "Not all Muslims are terrorists.",
        "Kenya plans to deport Somali refugees.",
        "The minister should be sacked.",
        "Muslim, Somali, refugee, attack, killed, bomb, Al-Shabaab.",
    ],
)
def test_news_talk_and_negations_do_not_match(text: str) -> None:
    assert kinds(text) == set()


def test_policy_holds_never_rejects_and_names_the_phrase() -> None:
    decision = decide(CommentFacts(scores=LOW, text="I know where you live, watch your back."))
    assert decision.status is CommentStatus.held and decision.rule is Rule.threat_phrase
    assert decision.reason == 'held: threat_phrase "i know where you live", "watch your back"'
    both = decide(CommentFacts(scores=LOW, text="Somalis are vermin. I know where you live."))
    assert both.status is CommentStatus.held
    assert {item["rule"] for item in both.details["fired"]} == {
        "threat_phrase", "dehumanising_phrase"
    }


def test_operators_edit_the_rules_in_the_policy_config() -> None:
    config = PolicyConfig.from_dict(
        {"phrase_rules": ["@who = editors|reporters", "dehumanising: @who are goblins"]}
    )
    assert decide(CommentFacts(scores=LOW, text="Editors are goblins"), config).rule is (
        Rule.dehumanising_phrase
    )
    # The defaults are replaced, not extended.
    assert decide(CommentFacts(scores=LOW, text="I know where you live"), config).rule is (
        Rule.approved
    )
    assert PolicyConfig.from_dict(config.to_dict()) == config
    assert PolicyConfig().to_dict()["phrase_rules"] is None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["threat: @nobody dies"], "unknown slot @nobody"),
        (["insult: you fool"], "unknown phrase kind"),
        (["just some words"], "not a slot or a rule"),
        (["threat: you (die)"], "bad word"),
    ],
)
def test_bad_rules_are_refused_with_the_line(lines: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rules(lines)
    with pytest.raises(ValueError, match=message):
        PolicyConfig.from_dict({"phrase_rules": lines})


def test_benchmark_clean_comments_are_never_matched_and_most_abuse_is() -> None:
    clean = (BENCHMARK / "clean.txt").read_text("utf-8").splitlines()
    threats = (BENCHMARK / "threat.txt").read_text("utf-8").splitlines()
    identity = (BENCHMARK / "identity.txt").read_text("utf-8").splitlines()
    assert [text for text in clean if kinds(text)] == []
    assert sum(PhraseKind.threat in kinds(text) for text in threats) >= len(threats) // 2
    assert sum(PhraseKind.dehumanising in kinds(text) for text in identity) >= len(identity) // 2


def test_seed_article_matches_nothing() -> None:
    # The repository's own copy of the seed article page (seeds/article.txt).
    seed = Path(__file__).resolve().parents[2] / "seeds" / "article.txt"
    assert find_phrases(seed.read_text("utf-8"), RULES) == []
