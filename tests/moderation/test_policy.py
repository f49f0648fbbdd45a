"""The pure moderation policy: every rule, precedence, reasons, and the stored config."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.articles.models import ModerationMode
from server.comments.models import CommentStatus
from server.moderation.policy.rules import (
    DEFAULT_CONFIG,
    DEFAULT_THRESHOLDS,
    HOLD_RULES,
    LABELS,
    REJECT_RULES,
    CommentFacts,
    LabelThresholds,
    PolicyConfig,
    Rule,
    decide,
    risk,
)
from server.moderation.policy.words import compile_wordlist, default_suspect_words
from server.users.models import UserStatus

APPROVED, HELD, REJECTED = CommentStatus.approved, CommentStatus.held, CommentStatus.rejected
LOW = {label: 0.01 for label in LABELS}


def low(**scores: float) -> dict[str, float]:
    return {**LOW, **scores}


# (facts, config overrides, status, rule, reason)
CASES = [
    pytest.param(CommentFacts(scores=LOW), {}, APPROVED, Rule.approved, "approved", id="clean"),
    pytest.param(CommentFacts(scores=None), {}, APPROVED, Rule.approved, "approved", id="unscored"),
    pytest.param(
        CommentFacts(scores=None),
        {"hold_unscored": True},
        HELD,
        Rule.unscored,
        "held: no toxicity scores",
        id="unscored-held",
    ),
    pytest.param(
        CommentFacts(scores=LOW, banned_words=["scum"]),
        {},
        REJECTED,
        Rule.banned_word,
        'rejected: banned_word "scum"',
        id="banned-word",
    ),
    pytest.param(
        CommentFacts(scores=LOW, banned_words=["a", "b", "c", "d", "e"]),
        {},
        REJECTED,
        Rule.banned_word,
        'rejected: banned_word "a", "b", "c" (+2 more)',
        id="banned-words-many",
    ),
    pytest.param(
        CommentFacts(scores=LOW, suspect_words=["twat", "twat"]),
        {},
        HELD,
        Rule.suspect_word,
        'held: suspect_word "twat"',
        id="suspect-word",
    ),
    pytest.param(
        CommentFacts(scores=low(toxicity=0.91)),
        {},
        HELD,
        Rule.score_hold,
        "held: toxicity 0.91 ≥ 0.80",
        id="toxicity-hold",
    ),
    pytest.param(
        CommentFacts(scores=low(toxicity=0.98)),
        {},
        REJECTED,
        Rule.score_reject,
        "rejected: toxicity 0.98 ≥ 0.97",
        id="toxicity-reject",
    ),
    pytest.param(
        CommentFacts(scores=low(severe_toxicity=0.55)),
        {},
        HELD,
        Rule.score_hold,
        "held: severe_toxicity 0.55 ≥ 0.50",
        id="severe-hold",
    ),
    pytest.param(
        CommentFacts(scores=low(obscene=0.999)),
        {},
        HELD,
        Rule.score_hold,
        "held: obscene 0.99 ≥ 0.85",
        id="obscene-never-rejected-by-default",
    ),
    pytest.param(
        CommentFacts(scores=low(identity_attack=0.7)),
        {},
        HELD,
        Rule.score_hold,
        "held: identity_attack 0.70 ≥ 0.70",
        id="identity-attack-at-threshold",
    ),
    pytest.param(
        CommentFacts(scores=low(toxicity=0.7999)),
        {},
        APPROVED,
        Rule.approved,
        "approved",
        id="just-below-threshold",
    ),
    pytest.param(
        CommentFacts(scores=LOW, article_mode=ModerationMode.pre),
        {},
        HELD,
        Rule.article_premod,
        "held: article in pre-moderation",
        id="article-premod",
    ),
    pytest.param(
        CommentFacts(scores=LOW, author_status=UserStatus.premod),
        {},
        HELD,
        Rule.author_premod,
        "held: author in pre-moderation",
        id="author-premod",
    ),
    pytest.param(
        CommentFacts(scores=LOW, author_status=UserStatus.suspended),
        {},
        HELD,
        Rule.author_suspended,
        "held: author suspended",
        id="author-suspended",
    ),
    pytest.param(
        CommentFacts(scores=LOW, author_status=UserStatus.banned),
        {},
        REJECTED,
        Rule.author_banned,
        "rejected: author banned",
        id="author-banned",
    ),
    pytest.param(
        CommentFacts(scores=LOW, author_approved_count=0),
        {},
        APPROVED,
        Rule.approved,
        "approved",
        id="new-author-off-by-default",
    ),
    pytest.param(
        CommentFacts(scores=LOW, author_approved_count=1),
        {"new_author_hold_count": 2},
        HELD,
        Rule.new_author,
        "held: new author (1 of 2 comments approved)",
        id="new-author",
    ),
    pytest.param(
        CommentFacts(scores=LOW, author_approved_count=2),
        {"new_author_hold_count": 2},
        APPROVED,
        Rule.approved,
        "approved",
        id="new-author-graduated",
    ),
    pytest.param(
        CommentFacts(scores=LOW, report_count=2),
        {},
        APPROVED,
        Rule.approved,
        "approved",
        id="reports-below",
    ),
    pytest.param(
        CommentFacts(scores=LOW, report_count=3),
        {},
        HELD,
        Rule.reports,
        "held: 3 reports ≥ 3",
        id="reports",
    ),
    pytest.param(
        CommentFacts(scores=LOW, report_count=50),
        {"report_hold_count": 0},
        APPROVED,
        Rule.approved,
        "approved",
        id="reports-off",
    ),
    # Precedence: any reject beats any hold; the strongest of each group wins.
    pytest.param(
        CommentFacts(
            scores=low(toxicity=0.99),
            banned_words=["scum"],
            suspect_words=["twat"],
            article_mode=ModerationMode.pre,
        ),
        {},
        REJECTED,
        Rule.banned_word,
        'rejected: banned_word "scum"',
        id="banned-beats-everything",
    ),
    pytest.param(
        CommentFacts(scores=low(threat=0.96), suspect_words=["twat"], report_count=9),
        {},
        REJECTED,
        Rule.score_reject,
        "rejected: threat 0.96 ≥ 0.95",
        id="score-reject-beats-holds",
    ),
    pytest.param(
        CommentFacts(scores=low(insult=0.85), author_status=UserStatus.banned),
        {},
        REJECTED,
        Rule.author_banned,
        "rejected: author banned",
        id="banned-author-beats-score-hold",
    ),
    pytest.param(
        CommentFacts(scores=low(toxicity=0.99, threat=0.97)),
        {},
        REJECTED,
        Rule.score_reject,
        "rejected: toxicity 0.99 ≥ 0.97",
        id="highest-score-wins",
    ),
    pytest.param(
        CommentFacts(scores=low(toxicity=0.92, threat=0.92)),
        {},
        HELD,
        Rule.score_hold,
        "held: threat 0.92 ≥ 0.60",
        id="tie-goes-to-the-more-serious-label",
    ),
    pytest.param(
        CommentFacts(
            scores=low(insult=0.81),
            suspect_words=["twat"],
            article_mode=ModerationMode.pre,
            author_status=UserStatus.premod,
            report_count=3,
        ),
        {},
        HELD,
        Rule.score_hold,
        "held: insult 0.81 ≥ 0.80",
        id="score-hold-beats-other-holds",
    ),
    pytest.param(
        CommentFacts(scores=LOW, suspect_words=["twat"], article_mode=ModerationMode.pre),
        {},
        HELD,
        Rule.suspect_word,
        'held: suspect_word "twat"',
        id="suspect-beats-article-premod",
    ),
    pytest.param(
        CommentFacts(scores=LOW, report_count=4, author_status=UserStatus.premod),
        {},
        HELD,
        Rule.reports,
        "held: 4 reports ≥ 3",
        id="reports-beat-author-premod",
    ),
    # Scores the policy cannot use are ignored, never fatal.
    pytest.param(
        CommentFacts(scores={"toxicity": None, "sexual_explicit": math.nan, "male": 0.99}),
        {},
        APPROVED,
        Rule.approved,
        "approved",
        id="missing-nan-and-unknown-labels",
    ),
    pytest.param(
        CommentFacts(scores=low(toxicity=0.999)),
        {"thresholds": {"toxicity": {"hold": None, "reject": None}}},
        APPROVED,
        Rule.approved,
        "approved",
        id="label-switched-off",
    ),
    pytest.param(
        CommentFacts(scores=low(toxicity=0.9751)),
        {"thresholds": {"toxicity": {"hold": 0.5, "reject": 0.975}}},
        REJECTED,
        Rule.score_reject,
        "rejected: toxicity 0.975 ≥ 0.975",
        id="three-decimal-threshold",
    ),
]


@pytest.mark.parametrize(("facts", "overrides", "status", "rule", "reason"), CASES)
def test_decide(facts, overrides, status, rule, reason):
    decision = decide(facts, PolicyConfig.from_dict(overrides))
    assert (decision.status, decision.rule, decision.reason) == (status, rule, reason)
    json.dumps(decision.details)  # stored as JSON in the audit log


def test_details_carry_figures_and_every_rule_that_fired():
    decision = decide(
        CommentFacts(
            scores=low(toxicity=0.91, insult=0.85),
            suspect_words=["twat"],
            article_mode=ModerationMode.pre,
        )
    )
    assert decision.details["label"] == "toxicity"
    assert decision.details["score"] == 0.91
    assert decision.details["threshold"] == 0.80
    assert decision.details["scores"]["insult"] == 0.85
    assert [item["rule"] for item in decision.details["fired"]] == [
        "score_hold",
        "score_hold",
        "suspect_word",
        "article_premod",
    ]
    assert decision.details["fired"][1]["reason"] == "held: insult 0.85 ≥ 0.80"


def test_approved_details_keep_the_scores():
    decision = decide(CommentFacts(scores={"toxicity": 0.2}))
    assert decision.details == {"scores": {"toxicity": 0.2}}


def test_every_rule_is_ranked_once():
    ranked = REJECT_RULES + HOLD_RULES
    assert len(set(ranked)) == len(ranked)
    assert set(ranked) | {Rule.approved} == set(Rule)


def test_identity_and_news_words_alone_never_hold():
    suspect = compile_wordlist(default_suspect_words())
    text = "As a Somali Muslim I condemn the Al-Shabaab bomb attack that killed 12 Christians."
    facts = CommentFacts(scores=low(toxicity=0.3), suspect_words=suspect.find(text))
    assert decide(facts).status is APPROVED


def test_reason_fits_the_column():
    words = [f"word{i}" * 20 for i in range(50)]
    decision = decide(CommentFacts(banned_words=words))
    assert len(decision.reason) <= 500
    assert decision.details["words"] == words


def test_risk():
    assert risk(None) is None
    assert risk({"toxicity": None}) is None
    assert risk({"toxicity": 0.2, "threat": 0.7, "other": 0.99}) == 0.7


# --- config -------------------------------------------------------------------------------


def test_default_config():
    assert PolicyConfig() == DEFAULT_CONFIG
    assert DEFAULT_CONFIG.new_author_hold_count == 0
    assert DEFAULT_CONFIG.report_hold_count == 3
    assert set(DEFAULT_CONFIG.thresholds) == set(LABELS)
    assert DEFAULT_CONFIG.thresholds["toxicity"] == LabelThresholds(hold=0.80, reject=0.97)
    assert DEFAULT_CONFIG.thresholds["severe_toxicity"] == LabelThresholds(hold=0.5, reject=0.9)
    assert DEFAULT_CONFIG.thresholds["identity_attack"].hold == 0.7


def test_config_round_trips_through_json():
    config = PolicyConfig(
        thresholds={**DEFAULT_THRESHOLDS, "insult": LabelThresholds(hold=0.6, reject=0.99)},
        new_author_hold_count=2,
        report_hold_count=5,
        hold_unscored=True,
    )
    restored = PolicyConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config
    assert hash(restored) == hash(config)
    assert PolicyConfig.from_dict(PolicyConfig().to_dict()) == PolicyConfig()


def test_partial_config_keeps_defaults():
    config = PolicyConfig.from_dict({"thresholds": {"toxicity": {"hold": 0.7}}})
    assert config.thresholds["toxicity"] == LabelThresholds(hold=0.7, reject=None)
    assert config.thresholds["threat"] == DEFAULT_THRESHOLDS["threat"]
    assert config.report_hold_count == 3
    assert PolicyConfig.from_dict({}) == PolicyConfig()


def test_config_is_immutable():
    config = PolicyConfig()
    with pytest.raises(TypeError):
        config.thresholds["toxicity"] = LabelThresholds()  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"thresholds": {"toxicity": {"hold": 1.5}}}, r"toxicity: hold threshold .*\[0, 1\]"),
        ({"thresholds": {"toxicity": {"reject": -0.1}}}, r"reject threshold .*\[0, 1\]"),
        ({"thresholds": {"toxicity": {"hold": "0.8"}}}, r"must be a number"),
        ({"thresholds": {"toxicity": {"hold": True}}}, r"must be a number"),
        ({"thresholds": {"toxicity": {"hold": math.nan}}}, r"must be a number"),
        ({"thresholds": {"toxicity": {"hold": 0.9, "reject": 0.8}}}, r"hold .* above reject"),
        ({"thresholds": {"toxcity": {"hold": 0.9}}}, r"unknown label 'toxcity'"),
        ({"thresholds": {"toxicity": {"warn": 0.5}}}, r"unknown threshold keys: warn"),
        ({"thresholds": {"toxicity": 0.8}}, r"must be an object"),
        ({"thresholds": [0.8]}, r"keyed by label"),
        ({"report_hold": 3}, r"unknown policy keys: report_hold"),
        ({"report_hold_count": -1}, r"report_hold_count must be a whole number"),
        ({"new_author_hold_count": 2.5}, r"new_author_hold_count must be a whole number"),
        ({"new_author_hold_count": True}, r"new_author_hold_count must be a whole number"),
        ({"hold_unscored": "yes"}, r"hold_unscored must be true or false"),
        ([], r"must be a JSON object"),
    ],
)
def test_invalid_config_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        PolicyConfig.from_dict(data)


def test_labels_not_given_to_the_constructor_are_off():
    config = PolicyConfig(thresholds={"toxicity": LabelThresholds(hold=0.5)})
    assert config.thresholds["threat"] == LabelThresholds(hold=None, reject=None)
    assert decide(CommentFacts(scores={"threat": 1.0}), config).status is APPROVED


def test_unknown_label_refused_in_constructor():
    with pytest.raises(ValueError, match="unknown labels: spam"):
        PolicyConfig(thresholds={"spam": LabelThresholds(hold=0.5)})


thresholds = st.one_of(st.none(), st.floats(min_value=0, max_value=1))


@st.composite
def label_thresholds(draw: st.DrawFn) -> LabelThresholds:
    hold, reject = draw(thresholds), draw(thresholds)
    if hold is not None and reject is not None and hold > reject:
        hold, reject = reject, hold
    return LabelThresholds(hold=hold, reject=reject)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.sampled_from(LABELS), label_thresholds()),
    st.integers(0, 100),
    st.integers(0, 100),
    st.booleans(),
)
def test_any_valid_config_round_trips(labels, new_authors, reports, hold_unscored):
    config = PolicyConfig(
        thresholds=labels,
        new_author_hold_count=new_authors,
        report_hold_count=reports,
        hold_unscored=hold_unscored,
    )
    assert PolicyConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(LABELS), st.floats(0, 1)), st.integers(0, 5))
def test_decision_is_always_well_formed(scores, reports):
    decision = decide(CommentFacts(scores=scores, report_count=reports))
    assert decision.status in (APPROVED, HELD, REJECTED)
    assert decision.reason.startswith(decision.status.value)
    rejected_by_score = any(
        (limit := DEFAULT_THRESHOLDS[label].reject) is not None and score >= limit
        for label, score in scores.items()
    )
    assert (decision.status is REJECTED) == rejected_by_score
