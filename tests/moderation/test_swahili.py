"""The starter Swahili suspect list and phrase rules on our own Swahili and mixed comments."""

from __future__ import annotations

from pathlib import Path

from server.moderation.policy.phrases import compile_rules, default_phrase_rules, find_phrases
from server.moderation.policy.words import compile_wordlist, default_suspect_words

DATA = Path(__file__).parents[1] / "data" / "swahili"
SUSPECT = compile_wordlist(default_suspect_words())
RULES = compile_rules(default_phrase_rules())


def _lines(name: str) -> list[str]:
    return [line for line in (DATA / f"{name}.txt").read_text("utf-8").splitlines() if line]


def _flagged(text: str) -> bool:
    return bool(SUSPECT.find(text) or find_phrases(text, RULES))


def test_clean_swahili_and_mixed_comments_are_not_flagged() -> None:
    flagged = [text for name in ("clean", "mixed_clean") for text in _lines(name) if _flagged(text)]
    assert flagged == []


def test_most_swahili_abuse_is_flagged() -> None:
    abusive = _lines("abusive") + _lines("mixed_abusive")
    assert len(abusive) >= 30
    assert sum(_flagged(text) for text in abusive) >= 0.8 * len(abusive)


def test_ordinary_swahili_words_are_not_on_the_list() -> None:
    ordinary = "mbwa nguruwe mende kwekwe shoga mwizi fisi punda takataka wageni"
    assert SUSPECT.find(ordinary) == []
    assert SUSPECT.find("Mbwa wewe!") == ["mbwa wewe"]
