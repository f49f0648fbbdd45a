"""Spam rules: links from new authors, near-duplicates, bursts, commercial patterns."""

from __future__ import annotations

import pytest

from server.comments.models import CommentStatus
from server.moderation.policy.rules import LABELS, CommentFacts, PolicyConfig, Rule, decide
from server.moderation.policy.signals import SpamConfig, SpamCounts, links

LOW = {label: 0.01 for label in LABELS}


def rules(text: str, approved: int = 10, counts: SpamCounts | None = None,
          config: PolicyConfig | None = None) -> list[str]:
    facts = CommentFacts(scores=LOW, text=text, author_approved_count=approved,
                         spam_counts=counts or SpamCounts())
    decision = decide(facts, config or PolicyConfig())
    return [item["rule"] for item in decision.details.get("fired", [])]


def test_links_are_found() -> None:
    assert links("see https://example.com/x and www.nation.africa or cheap.shop") == [
        "https://example.com/x", "www.nation.africa", "cheap.shop"
    ]
    assert links("The U.S. and Kenya met. e.g. nothing here") == []


def test_link_from_a_new_author_is_held_with_the_threshold() -> None:
    facts = CommentFacts(scores=LOW, text="Read www.mod.go.ke", author_approved_count=1)
    decision = decide(facts)
    assert decision.status is CommentStatus.held and decision.rule is Rule.spam_link
    assert decision.reason == "held: spam_link (link from an author with 1 approved comments < 3)"
    assert rules("Read www.mod.go.ke", approved=3) == []
    off = PolicyConfig.from_dict({"spam": {"link_min_approved": 0}})
    assert rules("Read www.mod.go.ke", approved=0, config=off) == []


def test_duplicates_and_bursts_fire_at_their_thresholds() -> None:
    assert rules("same words", counts=SpamCounts(duplicates=1)) == []
    assert rules("same words", counts=SpamCounts(duplicates=2)) == ["spam_duplicate"]
    assert rules("hello", counts=SpamCounts(author_recent=8)) == ["spam_burst"]
    assert rules("hello", counts=SpamCounts(ip_recent=19)) == []
    assert rules("hello", counts=SpamCounts(ip_recent=20)) == ["spam_burst"]


@pytest.mark.parametrize(
    "text",
    [
        "Make KSH 5000 per day from home! Visit www.easy-cash-kenya.com",
        "Need a loan? WhatsApp 0712 345 678",
        "CASINO BONUS 200% TODAY ONLY",
    ],
)
def test_commercial_patterns(text: str) -> None:
    assert "spam_commercial" in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "The deal is worth $500 million, the Pentagon said.",
        "FREE speech matters.",
        "Call the police on 999 if you see anything.",
    ],
)
def test_news_with_money_or_caps_is_not_commercial(text: str) -> None:
    assert rules(text) == []


def test_spam_config_round_trips_and_refuses_bad_values() -> None:
    config = PolicyConfig.from_dict({"spam": {"duplicate_count": 5, "commercial": False}})
    assert config.spam == SpamConfig(duplicate_count=5, commercial=False)
    assert PolicyConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown spam keys: nope"):
        PolicyConfig.from_dict({"spam": {"nope": 1}})
    with pytest.raises(ValueError, match="burst_window_seconds must be at least 1"):
        PolicyConfig.from_dict({"spam": {"burst_window_seconds": 0}})
