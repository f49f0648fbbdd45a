"""Phrase rules: threats aimed at people and dehumanising generalisations about groups.

Pure. A rule list is lines of the small language documented at the top of
``default_phrase_rules.txt`` (slots, alternatives, optional words, short gaps, sentence
starts). Each rule compiles to one regular expression over a comment's sentences as the word
matcher reads them (``words.deobfuscate``), so disguises do not hide a phrase. A gap never
skips a negation ("Somalis are not animals" is not a match).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from server.moderation.policy.words import deobfuscate

DEFAULT_PHRASE_FILE = "default_phrase_rules.txt"
MAX_RULES = 2_000
MAX_LINE_CHARS = 2_000
GAP_WORDS = 3
_SENTENCE_END_RE = re.compile(r"[.!?;]+(?=\s|$)|[\n\r]+")
_SLOT_RE = re.compile(r"^@([a-z][a-z0-9_]*)\s*=\s*(.+)$")
_RULE_RE = re.compile(r"^([a-z]+)\s*:\s*(.+)$")
_WORD_RE = re.compile(r"^[a-z0-9_']+$")
# What a gap may not skip: a negation turns a rule's claim around.
_GAP = rf"(?: (?!(?:not|never|no|nothing|aren|isn|don|t|si|sio|siyo)\b)[a-z0-9]+){{0,{GAP_WORDS}}}"


_NEGATIONS = frozenset({"not", "never", "no", "si", "sio", "siyo"})


class PhraseKind(enum.StrEnum):
    threat = "threat"
    dehumanising = "dehumanising"


@dataclass(frozen=True, slots=True)
class PhraseRule:
    kind: PhraseKind
    source: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """One rule that matched: its kind, its source line and the words that matched."""

    kind: PhraseKind
    rule: str
    matched: str


def _alternatives(token: str, slots: Mapping[str, list[str]], line: str) -> list[str]:
    words: list[str] = []
    for choice in token.split("|"):
        if choice.startswith("@"):
            name = choice[1:]
            if name not in slots:
                raise ValueError(f"unknown slot @{name} in {line!r}")
            words.extend(slots[name])
        elif choice and _WORD_RE.match(choice):
            words.append(choice.replace("_", " ").replace("'", " "))
        else:
            raise ValueError(f"bad word {choice!r} in {line!r}")
    return words


_SPECIAL = {"...": _GAP, "^": r"(?<=\|)"}


def _token_regex(part: str, slots: Mapping[str, list[str]], line: str) -> str:
    if part in _SPECIAL:
        return _SPECIAL[part]
    optional = part.endswith("?")
    words = _alternatives(part.rstrip("?"), slots, line)
    # Longest first, so "a disease" is preferred over "a".
    choice = "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))
    group = f"(?: (?:{choice}))"
    return f"{group}?" if optional else group


def parse_rules(lines: Iterable[str]) -> tuple[PhraseRule, ...]:
    """Compile rule lines (slots first, then rules). Raises ValueError naming the bad line."""
    slots: dict[str, list[str]] = {}
    rules: list[PhraseRule] = []
    for raw in lines:
        if not isinstance(raw, str):
            raise ValueError("phrase rules must be strings")
        if len(raw) > MAX_LINE_CHARS:
            raise ValueError(f"a phrase rule line is longer than {MAX_LINE_CHARS} characters")
        line = " ".join(raw.split("#", 1)[0].split()).lower()
        if not line:
            continue
        slot = _SLOT_RE.match(line)
        if slot:
            slots[slot.group(1)] = _alternatives(slot.group(2).replace(" ", ""), slots, line)
            continue
        rule = _RULE_RE.match(line)
        if not rule:
            raise ValueError(f"not a slot or a rule: {line!r}")
        try:
            kind = PhraseKind(rule.group(1))
        except ValueError:
            known = ", ".join(kind.value for kind in PhraseKind)
            raise ValueError(f"unknown phrase kind {rule.group(1)!r} (known: {known})") from None
        body = "".join(_token_regex(token, slots, line) for token in rule.group(2).split())
        rules.append(PhraseRule(kind, line, re.compile(body + r"(?= |$)")))
    if len(rules) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} phrase rules")
    return tuple(rules)


def reading(text: str) -> str:
    """The text as the rules see it: sentences de-obfuscated, each opened by ``|``."""
    sentences = (deobfuscate(part) for part in _SENTENCE_END_RE.split(text))
    return "".join(f"| {sentence} " for sentence in sentences if sentence).rstrip()


@functools.lru_cache(maxsize=16)
def compile_rules(lines: tuple[str, ...]) -> tuple[PhraseRule, ...]:
    """``parse_rules``, cached per list (the policy hands the same tuple to every comment)."""
    return parse_rules(lines)


def find_phrases(text: str, rules: Sequence[PhraseRule]) -> list[PhraseHit]:
    """Every rule that matches ``text``, in rule order, each once."""
    if not rules or not text:
        return []
    seen = reading(text)
    hits: list[PhraseHit] = []
    for rule in rules:
        for found in rule.pattern.finditer(seen):
            if not _negated(seen, found.start()):
                hits.append(PhraseHit(rule.kind, rule.source, found.group().strip()))
                break
    return hits


def _negated(seen: str, start: int) -> bool:
    """Whether the word just before a match negates it ("not all Muslims are …")."""
    before = seen[:start].rsplit(" ", 2)
    return len(before) > 1 and before[-1] in _NEGATIONS


@functools.lru_cache(maxsize=1)
def default_phrase_rules() -> tuple[str, ...]:
    """The shipped default rule lines (comments and blank lines dropped)."""
    text = resources.files(__package__).joinpath(DEFAULT_PHRASE_FILE).read_text("utf-8")
    lines = (" ".join(line.split("#", 1)[0].split()) for line in text.splitlines())
    return tuple(line for line in lines if line)
