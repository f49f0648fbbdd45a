"""The moderation policy: facts about a comment in, a decision with its reason out.

Pure: no I/O, no database, no clock. ``decide`` evaluates every rule, then the strongest one
that fired wins: any reject rule beats any hold rule, and within each group the order of
``REJECT_RULES`` and ``HOLD_RULES`` decides (the highest score breaks ties between labels).
Every rule that fired is kept in ``Decision.details["fired"]`` so moderators see all of them.

Default thresholds (score ≥ threshold fires; ``None`` means the label never triggers it):

=================  =====  ======
label              hold   reject
=================  =====  ======
toxicity           0.80   0.97
severe_toxicity    0.50   0.90
obscene            0.85   –
threat             0.60   0.95
insult             0.80   –
identity_attack    0.70   0.95
sexual_explicit    0.70   0.95
=================  =====  ======

Obscenity and insults alone are never auto-rejected: swearing is not abuse, and a machine
should not silence a reader without a person looking. New-author holds are off (K = 0);
three reports hold a comment (R = 3).

Threat and dehumanisation phrases (``phrases.py``), spam signals and languages the model does
not read (``signals.py``) only ever hold. A score reason ends in ``(de-obfuscated text)`` when
the score of the text's de-obfuscated reading is the one that crossed the threshold.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from server.articles.models import ModerationMode
from server.comments.models import CommentStatus
from server.moderation.policy.phrases import (
    PhraseKind,
    compile_rules,
    default_phrase_rules,
    find_phrases,
)
from server.moderation.policy.signals import (
    LanguageConfig,
    SpamConfig,
    SpamCounts,
    UnsupportedLanguage,
    spam_signals,
)
from server.users.models import UserStatus

LABELS: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
    "sexual_explicit",
)
# Which label is named when two fire with the same score: the more serious one.
_SEVERITY = ("severe_toxicity", "threat", "identity_attack", "sexual_explicit", "toxicity")
MAX_COUNT = 10_000
MAX_REASON_CHARS = 500
_MAX_WORDS_IN_REASON = 3


class Rule(enum.StrEnum):
    """Machine codes of the rules, stored with each decision."""

    banned_word = "banned_word"
    author_banned = "author_banned"
    score_reject = "score_reject"
    score_hold = "score_hold"
    suspect_word = "suspect_word"
    reports = "reports"
    author_suspended = "author_suspended"
    author_premod = "author_premod"
    article_premod = "article_premod"
    new_author = "new_author"
    unscored = "unscored"
    approved = "approved"
    threat_phrase = "threat_phrase"
    dehumanising_phrase = "dehumanising_phrase"
    spam_link = "spam_link"
    spam_duplicate = "spam_duplicate"
    spam_burst = "spam_burst"
    spam_commercial = "spam_commercial"
    unsupported_language = "unsupported_language"


# Strongest first within each outcome.
REJECT_RULES: tuple[Rule, ...] = (Rule.banned_word, Rule.author_banned, Rule.score_reject)
HOLD_RULES: tuple[Rule, ...] = (
    Rule.score_hold,
    Rule.suspect_word,
    Rule.threat_phrase,
    Rule.dehumanising_phrase,
    Rule.spam_duplicate,
    Rule.spam_commercial,
    Rule.spam_link,
    Rule.spam_burst,
    Rule.unsupported_language,
    Rule.reports,
    Rule.author_suspended,
    Rule.author_premod,
    Rule.article_premod,
    Rule.new_author,
    Rule.unscored,
)
_RANK = {rule: rank for rank, rule in enumerate(REJECT_RULES + HOLD_RULES)}


@dataclass(frozen=True, slots=True)
class LabelThresholds:
    """Scores at or above ``hold`` hold a comment, at or above ``reject`` reject it."""

    hold: float | None = None
    reject: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("hold", self.hold), ("reject", self.reject)):
            if value is not None and not (_is_number(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} threshold must be a number in [0, 1], got {value!r}")
        if self.hold is not None and self.reject is not None and self.hold > self.reject:
            raise ValueError(f"hold threshold {self.hold} is above reject threshold {self.reject}")

    def to_dict(self) -> dict[str, float | None]:
        """``{"hold": …, "reject": …}``, ``None`` where off."""
        return {"hold": self.hold, "reject": self.reject}

    @classmethod
    def from_dict(cls, data: object) -> LabelThresholds:
        """Parse ``{"hold": …, "reject": …}``; a missing key is off. Raises ValueError."""
        if not isinstance(data, Mapping):
            raise ValueError("thresholds must be an object with hold and reject")
        unknown = set(data) - {"hold", "reject"}
        if unknown:
            raise ValueError(f"unknown threshold keys: {', '.join(sorted(map(str, unknown)))}")
        return cls(hold=data.get("hold"), reject=data.get("reject"))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_OFF = LabelThresholds()
DEFAULT_THRESHOLDS: Mapping[str, LabelThresholds] = MappingProxyType(
    {
        "toxicity": LabelThresholds(hold=0.80, reject=0.97),
        "severe_toxicity": LabelThresholds(hold=0.50, reject=0.90),
        "obscene": LabelThresholds(hold=0.85, reject=None),
        "threat": LabelThresholds(hold=0.60, reject=0.95),
        "insult": LabelThresholds(hold=0.80, reject=None),
        "identity_attack": LabelThresholds(hold=0.70, reject=0.95),
        "sexual_explicit": LabelThresholds(hold=0.70, reject=0.95),
    }
)


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_COUNT}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """The editable part of the policy, stored in the database as JSON.

    ``thresholds`` maps labels to hold/reject thresholds; a label not given is off.

    ``new_author_hold_count`` K: hold an author's comments until K of them were approved
    (0 = off). ``report_hold_count`` R: hold a comment once it has R reports (0 = off).
    ``hold_unscored``: hold a comment that has no scores at all, instead of deciding on the
    other rules alone.

    ``phrase_rules``: threat and dehumanisation rule lines (``phrases.py``); ``None`` means the
    shipped default list. ``spam``: the spam thresholds. ``languages``: what happens to
    comments in a language the scorer does not read.
    """

    thresholds: Mapping[str, LabelThresholds] = field(default_factory=lambda: DEFAULT_THRESHOLDS)
    new_author_hold_count: int = 0
    report_hold_count: int = 3
    hold_unscored: bool = False
    phrase_rules: tuple[str, ...] | None = None
    spam: SpamConfig = field(default_factory=SpamConfig)
    languages: LanguageConfig = field(default_factory=LanguageConfig)

    def __post_init__(self) -> None:
        unknown = set(self.thresholds) - set(LABELS)
        if unknown:
            raise ValueError(
                f"unknown labels: {', '.join(sorted(unknown))} (known: {', '.join(LABELS)})"
            )
        for label, value in self.thresholds.items():
            if not isinstance(value, LabelThresholds):
                raise ValueError(f"thresholds for {label} must be LabelThresholds")
        _check_count("new_author_hold_count", self.new_author_hold_count)
        _check_count("report_hold_count", self.report_hold_count)
        if not isinstance(self.hold_unscored, bool):
            raise ValueError("hold_unscored must be true or false")
        if self.phrase_rules is not None:
            object.__setattr__(self, "phrase_rules", tuple(self.phrase_rules))
            compile_rules(self.phrase_rules)  # raises ValueError naming a bad line
        # Every label present (off where not given), so to_dict/from_dict round-trips exactly.
        ordered = {label: self.thresholds.get(label, _OFF) for label in LABELS}
        object.__setattr__(self, "thresholds", MappingProxyType(ordered))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``PolicyConfig.from_dict(config.to_dict()) == config``."""
        return {
            "thresholds": {label: value.to_dict() for label, value in self.thresholds.items()},
            "new_author_hold_count": self.new_author_hold_count,
            "report_hold_count": self.report_hold_count,
            "hold_unscored": self.hold_unscored,
            "phrase_rules": None if self.phrase_rules is None else list(self.phrase_rules),
            "spam": self.spam.to_dict(),
            "languages": self.languages.to_dict(),
        }

    def phrase_lines(self) -> tuple[str, ...]:
        """The phrase rules in force: the configured ones, or the shipped default list."""
        return default_phrase_rules() if self.phrase_rules is None else self.phrase_rules

    @classmethod
    def from_dict(cls, data: object) -> PolicyConfig:
        """Parse and validate a stored or submitted config. Raises ValueError.

        Keys left out keep their defaults; a label left out of ``thresholds`` keeps its default
        thresholds (send ``{"hold": null, "reject": null}`` to switch a label off).
        """
        if not isinstance(data, Mapping):
            raise ValueError("policy config must be a JSON object")
        unknown = set(data) - _CONFIG_KEYS
        if unknown:
            raise ValueError(f"unknown policy keys: {', '.join(sorted(map(str, unknown)))}")
        default = cls()
        return cls(
            thresholds=_parse_thresholds(data.get("thresholds", {})),
            new_author_hold_count=data.get("new_author_hold_count", default.new_author_hold_count),
            report_hold_count=data.get("report_hold_count", default.report_hold_count),
            hold_unscored=data.get("hold_unscored", default.hold_unscored),
            phrase_rules=_parse_phrase_rules(data.get("phrase_rules")),
            spam=SpamConfig.from_dict(data.get("spam") or {}),
            languages=LanguageConfig.from_dict(data.get("languages") or {}),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PolicyConfig):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))


_CONFIG_KEYS = frozenset(
    {
        "thresholds",
        "new_author_hold_count",
        "report_hold_count",
        "hold_unscored",
        "phrase_rules",
        "spam",
        "languages",
    }
)


def _parse_phrase_rules(data: object) -> tuple[str, ...] | None:
    if data is None:
        return None
    if not isinstance(data, list | tuple) or not all(isinstance(line, str) for line in data):
        raise ValueError("phrase_rules must be a list of strings, or null for the defaults")
    return tuple(data)


def _parse_thresholds(data: object) -> dict[str, LabelThresholds]:
    if not isinstance(data, Mapping):
        raise ValueError("thresholds must be an object keyed by label")
    parsed = dict(DEFAULT_THRESHOLDS)
    for label, value in data.items():
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r} (known: {', '.join(LABELS)})")
        try:
            parsed[label] = LabelThresholds.from_dict(value)
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
    return parsed


DEFAULT_CONFIG = PolicyConfig()


@dataclass(frozen=True, slots=True)
class CommentFacts:
    """What the policy knows about one comment.

    ``scores`` is ``None`` when there is no scorer result; a label missing or ``None`` in it
    was not scored (the ``original`` models have no ``sexual_explicit``).
    """

    scores: Mapping[str, float | None] | None = None
    banned_words: Sequence[str] = ()
    suspect_words: Sequence[str] = ()
    article_mode: ModerationMode = ModerationMode.post
    author_status: UserStatus = UserStatus.active
    author_approved_count: int = 0
    report_count: int = 0
    # Labels whose score came from the de-obfuscated reading of the text, not the text as written.
    deobfuscated_labels: Collection[str] = ()
    # The text itself, for the phrase and spam rules ("" when not known).
    text: str = ""
    spam_counts: SpamCounts = field(default_factory=SpamCounts)
    # The detected language, and whether the scorer's model reads it.
    language: str | None = None
    language_covered: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome: ``status``, the winning ``rule``, a human ``reason`` and the figures.

    ``details`` is JSON-ready: the winning rule's figures at the top level, ``fired`` listing
    every rule that fired (strongest first) and ``scores`` as given.
    """

    status: CommentStatus
    rule: Rule
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Fired:
    rule: Rule
    status: CommentStatus
    reason: str
    figures: Mapping[str, Any]
    strength: float = 0.0

    def as_detail(self) -> dict[str, Any]:
        return {"rule": self.rule.value, "reason": self.reason, **self.figures}


def decide(facts: CommentFacts, config: PolicyConfig = DEFAULT_CONFIG) -> Decision:
    """Apply the policy to one comment. Rejects beat holds; the strongest rule wins."""
    fired = sorted(_evaluate(facts, config), key=lambda f: (_RANK[f.rule], -f.strength))
    scores = _clean_scores(facts.scores)
    details: dict[str, Any] = {"scores": scores} if facts.scores is not None else {}
    if not fired:
        return Decision(CommentStatus.approved, Rule.approved, "approved", details)
    winner = fired[0]
    details.update(winner.figures)
    details["fired"] = [item.as_detail() for item in fired]
    return Decision(winner.status, winner.rule, winner.reason[:MAX_REASON_CHARS], details)


def _evaluate(facts: CommentFacts, config: PolicyConfig) -> list[_Fired]:
    fired: list[_Fired] = []
    fired.extend(_word_rules(facts))
    scores = facts.scores
    if _scores_ignored(facts, config):
        scores = None
    fired.extend(_score_rules(scores, config, facts.deobfuscated_labels))
    fired.extend(_phrase_rules(facts, config))
    fired.extend(_spam_rules(facts, config))
    fired.extend(_language_rules(facts, config))
    fired.extend(_author_rules(facts, config))
    fired.extend(_context_rules(facts, config))
    return fired


def _quote_words(words: Sequence[str]) -> str:
    unique = list(dict.fromkeys(words))
    shown = ", ".join(f'"{word}"' for word in unique[:_MAX_WORDS_IN_REASON])
    more = len(unique) - _MAX_WORDS_IN_REASON
    return f"{shown} (+{more} more)" if more > 0 else shown


def _word_rules(facts: CommentFacts) -> list[_Fired]:
    fired = []
    if facts.banned_words:
        words = list(dict.fromkeys(facts.banned_words))
        reason = f"rejected: banned_word {_quote_words(words)}"
        fired.append(_Fired(Rule.banned_word, CommentStatus.rejected, reason, {"words": words}))
    if facts.suspect_words:
        words = list(dict.fromkeys(facts.suspect_words))
        reason = f"held: suspect_word {_quote_words(words)}"
        fired.append(_Fired(Rule.suspect_word, CommentStatus.held, reason, {"words": words}))
    return fired


def _clean_scores(scores: Mapping[str, float | None] | None) -> dict[str, float]:
    """The usable scores: known labels with finite numbers."""
    if scores is None:
        return {}
    return {
        label: float(value)
        for label, value in scores.items()
        if label in LABELS and value is not None and _is_number(value)
    }


def _score_rules(
    scores: Mapping[str, float | None] | None,
    config: PolicyConfig,
    deobfuscated: Collection[str] = (),
) -> list[_Fired]:
    if scores is None:
        return []
    usable = _clean_scores(scores)
    fired: list[_Fired] = []
    for label, score in usable.items():
        limits = config.thresholds.get(label)
        if limits is None:
            continue
        read = label in deobfuscated
        if limits.reject is not None and score >= limits.reject:
            fired.append(_score_fired(Rule.score_reject, label, score, limits.reject, read))
        elif limits.hold is not None and score >= limits.hold:
            fired.append(_score_fired(Rule.score_hold, label, score, limits.hold, read))
    return fired


def _score_fired(
    rule: Rule, label: str, score: float, threshold: float, deobfuscated: bool = False
) -> _Fired:
    status = CommentStatus.rejected if rule is Rule.score_reject else CommentStatus.held
    shown_threshold, shown_score = _format_pair(threshold, score)
    reason = f"{status.value}: {label} {shown_score} ≥ {shown_threshold}"
    figures: dict[str, Any] = {"label": label, "score": score, "threshold": threshold}
    if deobfuscated:
        # The disguise is the finding: say the score is the de-obfuscated text's.
        reason += " (de-obfuscated text)"
        figures["deobfuscated"] = True
    # Ties on score go to the more serious label.
    severity = _SEVERITY.index(label) if label in _SEVERITY else len(_SEVERITY)
    return _Fired(rule, status, reason, figures, strength=score - severity * 1e-9)


def _format_pair(threshold: float, score: float) -> tuple[str, str]:
    """Threshold and score with the same decimals, the score rounded down so it never reads
    as crossing a threshold it did not (0.7999 is not shown as 0.80)."""
    decimals = 2
    while decimals < 6 and round(threshold, decimals) != threshold:
        decimals += 1
    factor = 10**decimals
    shown_score = math.floor(score * factor + 1e-9) / factor
    return f"{threshold:.{decimals}f}", f"{shown_score:.{decimals}f}"


_PHRASE_RULES = {
    PhraseKind.threat: Rule.threat_phrase,
    PhraseKind.dehumanising: Rule.dehumanising_phrase,
}


def _phrase_rules(facts: CommentFacts, config: PolicyConfig) -> list[_Fired]:
    fired: list[_Fired] = []
    hits = find_phrases(facts.text, compile_rules(config.phrase_lines()))
    for kind, rule in _PHRASE_RULES.items():
        matched = [hit.matched for hit in hits if hit.kind is kind]
        if matched:
            reason = f"held: {rule.value} {_quote_words(matched)}"
            fired.append(_Fired(rule, CommentStatus.held, reason, {"phrases": matched}))
    return fired


def _spam_rules(facts: CommentFacts, config: PolicyConfig) -> list[_Fired]:
    if not facts.text:
        return []
    signals = spam_signals(
        facts.text, facts.author_approved_count, facts.spam_counts, config.spam
    )
    return [
        _Fired(Rule(signal.rule), CommentStatus.held, signal.reason, dict(signal.figures))
        for signal in signals
    ]


def _scores_ignored(facts: CommentFacts, config: PolicyConfig) -> bool:
    return (
        not facts.language_covered
        and config.languages.unsupported is UnsupportedLanguage.words_only
    )


def _language_rules(facts: CommentFacts, config: PolicyConfig) -> list[_Fired]:
    if facts.language_covered or config.languages.unsupported is not UnsupportedLanguage.hold:
        return []
    language = facts.language or "unknown"
    reason = f"held: unsupported_language ({language} is not read by the model)"
    figures = {"language": facts.language}
    return [_Fired(Rule.unsupported_language, CommentStatus.held, reason, figures)]


def _author_rules(facts: CommentFacts, config: PolicyConfig) -> list[_Fired]:
    status = facts.author_status
    if status is UserStatus.banned:
        return [_Fired(Rule.author_banned, CommentStatus.rejected, "rejected: author banned", {})]
    if status is UserStatus.suspended:
        return [_Fired(Rule.author_suspended, CommentStatus.held, "held: author suspended", {})]
    if status is UserStatus.premod:
        reason = "held: author in pre-moderation"
        return [_Fired(Rule.author_premod, CommentStatus.held, reason, {})]
    wanted = config.new_author_hold_count
    if wanted and facts.author_approved_count < wanted:
        approved = facts.author_approved_count
        reason = f"held: new author ({approved} of {wanted} comments approved)"
        figures = {"approved_count": approved, "new_author_hold_count": wanted}
        return [_Fired(Rule.new_author, CommentStatus.held, reason, figures)]
    return []


def _context_rules(facts: CommentFacts, config: PolicyConfig) -> list[_Fired]:
    fired: list[_Fired] = []
    if facts.article_mode is ModerationMode.pre:
        reason = "held: article in pre-moderation"
        fired.append(_Fired(Rule.article_premod, CommentStatus.held, reason, {}))
    wanted = config.report_hold_count
    if wanted and facts.report_count >= wanted:
        reason = f"held: {facts.report_count} reports ≥ {wanted}"
        figures = {"report_count": facts.report_count, "report_hold_count": wanted}
        fired.append(_Fired(Rule.reports, CommentStatus.held, reason, figures))
    if facts.scores is None and config.hold_unscored:
        reason = "held: no toxicity scores"
        fired.append(_Fired(Rule.unscored, CommentStatus.held, reason, {}))
    return fired


def risk(scores: Mapping[str, float | None] | None) -> float | None:
    """The highest usable label score, for ordering review queues (``None`` if unscored)."""
    usable = _clean_scores(scores)
    return max(usable.values()) if usable else None
