"""The policy's newer inputs, pure: phrase rules, spam signals and languages.

``SpamConfig`` and ``LanguageConfig`` are parts of ``PolicyConfig`` (stored as JSON under
``spam`` and ``languages``); the functions here read a comment's text (links, commercial
patterns) and the counts the workers gather (near-duplicates, bursts), and say which hold
rules fire, with their reasons. None of these rules ever rejects: they ask a person to look.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

MAX_THRESHOLD = 1_000_000
_LINK_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9][a-z0-9-]*\.(?:com|net|org|info|biz|io|ly|xyz|top|shop|site|online|club|co\.ke"
    r"|ke|me|link|win|bet|app)\b(?:/\S*)?",
    re.IGNORECASE,
)
_MONEY_RE = re.compile(
    r"(?:\b(?:ksh|kes|usd|sh)\.?\s?\d|[$€£]\s?\d|\b\d[\d,.]*\s?(?:k\b|bob\b|shillings?\b|dollars?\b"
    r"|/=|per (?:day|week|month|hour)))",
    re.IGNORECASE,
)
_OFFER_WORDS = frozenset(
    {"FREE", "WIN", "WINNER", "OFFER", "DISCOUNT", "CASH", "LOAN", "LOANS", "BONUS", "CLICK",
     "BUY", "SALE", "PROMO", "EARN", "INVEST", "PROFIT", "CRYPTO", "BITCOIN", "JACKPOT", "BET",
     "VIAGRA", "CASINO", "DEAL", "DEALS", "CHEAP", "GUARANTEED", "WHATSAPP", "INBOX", "DM",
     "HIRING", "JOBS", "SPELLS", "SPELL", "DOCTOR"}
)  # fmt: skip
_CAPS_WORD_RE = re.compile(r"\b[A-Z]{2,}\b")
_CONTACT_RE = re.compile(
    r"(?:whats\s?app|telegram|call|text|sms|dm|inbox)\D{0,20}(?:\+?254|0)\s?7\d{2}[\s-]?\d{3}"
    r"[\s-]?\d{3}",
    re.IGNORECASE,
)


def address_hash(address: str, secret: str) -> str:
    """A keyed hash of a poster's address, for counting bursts without storing the address."""
    digest = hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


class UnsupportedLanguage(enum.StrEnum):
    """What happens to a comment in a language the scorer's model does not read."""

    score = "score"  # use the scores anyway (the word lists and other rules apply too)
    hold = "hold"  # hold it for a person
    words_only = "words_only"  # ignore the scores; word lists, phrases and the rest decide


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_THRESHOLD:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_THRESHOLD}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class SpamConfig:
    """Spam thresholds; 0 switches a rule off.

    ``link_min_approved``: a comment with a link is held if its author has fewer approved
    comments. ``duplicate_count``: held when this many near-duplicates of the text (other
    articles or other accounts) were seen within ``duplicate_window_seconds``.
    ``burst_author_count`` / ``burst_ip_count``: held when an author / an IP address posted
    this many comments within ``burst_window_seconds``. ``commercial``: hold money amounts
    next to links, phone numbers offered for contact, and all-caps offers.
    """

    link_min_approved: int = 3
    duplicate_count: int = 2
    duplicate_window_seconds: int = 86_400
    burst_author_count: int = 8
    burst_ip_count: int = 20
    burst_window_seconds: int = 300
    commercial: bool = True

    def __post_init__(self) -> None:
        for item in fields(self):
            if item.name != "commercial":
                _count(f"spam.{item.name}", getattr(self, item.name))
        if not isinstance(self.commercial, bool):
            raise ValueError("spam.commercial must be true or false")
        for name in ("duplicate_window_seconds", "burst_window_seconds"):
            if getattr(self, name) < 1:
                raise ValueError(f"spam.{name} must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}

    @classmethod
    def from_dict(cls, data: object) -> SpamConfig:
        if not isinstance(data, Mapping):
            raise ValueError("spam must be an object")
        known = {item.name for item in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown spam keys: {', '.join(sorted(map(str, unknown)))}")
        return cls(**{str(key): value for key, value in data.items()})


@dataclass(frozen=True, slots=True)
class LanguageConfig:
    """``unsupported``: what to do with a comment in a language the scorer does not read."""

    unsupported: UnsupportedLanguage = UnsupportedLanguage.score

    def to_dict(self) -> dict[str, Any]:
        return {"unsupported": self.unsupported.value}

    @classmethod
    def from_dict(cls, data: object) -> LanguageConfig:
        if not isinstance(data, Mapping):
            raise ValueError("languages must be an object")
        unknown = set(data) - {"unsupported"}
        if unknown:
            raise ValueError(f"unknown languages keys: {', '.join(sorted(map(str, unknown)))}")
        value = data.get("unsupported", UnsupportedLanguage.score.value)
        try:
            return cls(UnsupportedLanguage(value))
        except ValueError:
            choices = ", ".join(choice.value for choice in UnsupportedLanguage)
            raise ValueError(f"languages.unsupported must be one of {choices}") from None


@dataclass(frozen=True, slots=True)
class SpamCounts:
    """What the workers counted for one comment, within the configured windows."""

    duplicates: int = 0
    author_recent: int = 0
    ip_recent: int = 0


@dataclass(frozen=True, slots=True)
class Signal:
    """A spam rule that fired: the rule code, the reason and its figures."""

    rule: str
    reason: str
    figures: Mapping[str, Any]


def links(text: str) -> list[str]:
    """The links (URLs, www. names, bare domains) in ``text``."""
    return _LINK_RE.findall(text)


def commercial_pattern(text: str, link_count: int) -> str | None:
    """Which commercial pattern ``text`` shows, if any."""
    if link_count and _MONEY_RE.search(text):
        return "money amount with a link"
    if _CONTACT_RE.search(text):
        return "phone number for contact"
    offers = [word for word in _CAPS_WORD_RE.findall(text) if word in _OFFER_WORDS]
    if len(offers) >= 2 or (offers and link_count):
        return "all-caps offer"
    return None


def spam_signals(
    text: str, author_approved: int, counts: SpamCounts, config: SpamConfig
) -> list[Signal]:
    """The spam rules that fire for one comment, strongest first."""
    fired: list[Signal] = []
    found = links(text)
    if found and config.link_min_approved and author_approved < config.link_min_approved:
        reason = (
            f"held: spam_link (link from an author with {author_approved} approved comments "
            f"< {config.link_min_approved})"
        )
        figures = {"links": found[:5], "author_approved": author_approved}
        fired.append(Signal("spam_link", reason, figures))
    if config.duplicate_count and counts.duplicates >= config.duplicate_count:
        reason = (
            f"held: spam_duplicate ({counts.duplicates} near-duplicates on other articles or "
            f"accounts ≥ {config.duplicate_count})"
        )
        fired.append(Signal("spam_duplicate", reason, {"duplicates": counts.duplicates}))
    if config.burst_author_count and counts.author_recent >= config.burst_author_count:
        reason = (
            f"held: spam_burst ({counts.author_recent} comments by the author in "
            f"{config.burst_window_seconds} s ≥ {config.burst_author_count})"
        )
        fired.append(Signal("spam_burst", reason, {"author_recent": counts.author_recent}))
    elif config.burst_ip_count and counts.ip_recent >= config.burst_ip_count:
        reason = (
            f"held: spam_burst ({counts.ip_recent} comments from the address in "
            f"{config.burst_window_seconds} s ≥ {config.burst_ip_count})"
        )
        fired.append(Signal("spam_burst", reason, {"ip_recent": counts.ip_recent}))
    pattern = commercial_pattern(text, len(found)) if config.commercial else None
    if pattern:
        reason = f"held: spam_commercial ({pattern})"
        fired.append(Signal("spam_commercial", reason, {"pattern": pattern}))
    return fired
