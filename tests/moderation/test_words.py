"""Word-list matching: every obfuscation technique, innocent near-misses, the default list
against ordinary news talk, phrases, and a performance sanity check."""

from __future__ import annotations

import random
import string
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from server.moderation.policy.words import (
    MAX_ENTRY_CHARS,
    clean_wordlist,
    compile_wordlist,
    default_suspect_words,
    normalize,
)

SEED_ARTICLE = Path(__file__).resolve().parents[2] / "seeds" / "article.txt"

# A test list with short entries hidden inside many innocent words (the Scunthorpe problem).
LIST = [
    "fuck",
    "shit",
    "ass",
    "cunt",
    "cock",
    "sex",
    "rapist",
    "kill",
    "hell",
    "bitch",
    "con",
    "son of a bitch",
    "kill yourself",
]


@pytest.fixture(scope="module")
def matcher():
    return compile_wordlist(LIST)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # case
        ("FUCK this", ["fuck"]),
        ("ShIt happens", ["shit"]),
        # Unicode confusables: Cyrillic с and к, Greek Β Ι Τ Η, Armenian օ
        ("fu\u0441\u043a", ["fuck"]),
        ("\u0392\u0399\u03a4CH", ["bitch"]),
        ("c\u0585ck", ["cock"]),
        # compatibility forms (NFKC): fullwidth, mathematical bold, circled
        ("\uff26\uff35\uff23\uff2b", ["fuck"]),
        ("\U0001d41f\U0001d42e\U0001d41c\U0001d424", ["fuck"]),
        ("\u24e2\u24d7\u24d8\u24e3", ["shit"]),
        # zero-width and invisible characters
        ("f\u200bu\u200cc\u200dk", ["fuck"]),
        ("sh\u00adi\u2060t", ["shit"]),
        ("c\ufeffu\u180en\u3164t", ["cunt"]),
        # accents and combining marks (including zalgo)
        ("f\u00fcck", ["fuck"]),
        ("s\u0336h\u0335i\u0337t\u0334", ["shit"]),
        # leetspeak
        ("sh1t", ["shit"]),
        ("$h!t", ["shit"]),
        ("5h17", ["shit"]),
        ("@ss", ["ass"]),
        ("a$$", ["ass"]),
        ("c0ck", ["cock"]),
        ("b1+ch", ["bitch"]),
        ("h3|l yeah", ["hell"]),
        # inserted punctuation
        ("f.u.c.k", ["fuck"]),
        ("f-u-c-k", ["fuck"]),
        ("f_u_c_k", ["fuck"]),
        ("f*u*c*k off", ["fuck"]),
        ("(s/h/i/t)", ["shit"]),
        ("fu.ck", ["fuck"]),
        # inserted spaces: runs of single characters
        ("f u c k", ["fuck"]),
        ("f . u . c . k", ["fuck"]),
        ("you are a f u c k i n g idiot", ["fuck"]),
        ("s h 1 t", ["shit"]),
        # letter repeats
        ("fuuuuuck", ["fuck"]),
        ("shiiiiit", ["shit"]),
        ("asssss", ["ass"]),
        ("cooon", ["con"]),
        # several techniques at once
        ("F\u200bU\u0421\u041a!!!", ["fuck"]),
        ("\uff53h\u00a1\u00a1\u00a1t", ["shit"]),
    ],
)
def test_obfuscations_match(matcher, text, expected):
    assert matcher.find(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe United won",
        "a classic assassin story",
        "Essex, Sussex and Middlesex",
        "my therapist said so",
        "the pilot left the cockpit",
        "skills and killer apps",
        "Hello shell, hellish Othello",
        "a cocktail at Hancock's",
        "passage, assessment, bass, grass",
        "Dickens and Shakespeare",
        "the consul's conscience",
        "coon",  # a doubled letter is a different word, not a repeat of "con"
        "as",  # "ass" needs its double s
        "cocks",  # whole words only: plurals are their own entries
        "sexton sextet",
        "shitake? no: shiitake mushrooms",
        "U.S. and U.K. officials",
        "Lloyd J. Austin, e.g. here",
        "4 5 5 votes",  # a run of digits is not read as letters
    ],
)
def test_innocent_near_misses(matcher, text):
    assert matcher.find(text) == []


def test_spaces_between_real_words_are_not_joined(matcher):
    # Only runs of single characters are joined; ordinary words keep their boundaries.
    assert matcher.find("fu ck") == []
    assert matcher.find("as s") == []
    assert matcher.find("the rapist") == ["rapist"]
    assert matcher.find("the rapists") == []


@pytest.mark.parametrize(
    "text",
    [
        "son of a bitch",
        "Son Of A BITCH",
        "son of\na bitch",
        "son-of-a-bitch",
        "sonofabitch",
        "s o n o f a b i t c h",
        "son 0f a b1tch",
    ],
)
def test_phrases(text):
    found = compile_wordlist(["son of a bitch"]).find(text)
    assert found == ["son of a bitch"]


def test_phrase_needs_all_its_words():
    only_phrase = compile_wordlist(["son of a bitch", "kill yourself"])
    assert only_phrase.find("son of a gun") == []
    assert only_phrase.find("a bitch") == []
    assert only_phrase.find("they kill. yourself? no") == ["kill yourself"]
    assert only_phrase.find("kill yourselves") == []


def test_found_once_each_in_order_of_appearance(matcher):
    assert matcher.find("ass, then cunt, then a$$ and c.u.n.t") == ["ass", "cunt"]
    assert matcher.find("kill yourself, son of a bitch") == [
        "kill",
        "kill yourself",
        "son of a bitch",
        "bitch",
    ]


def test_entries_are_normalised_like_text():
    for entry in ["FUCK", "\uff46\uff55\uff43\uff4b", "fu\u0441k", "f.u.c.k", " fuck  "]:
        assert compile_wordlist([entry]).find("oh fuck") == [entry]
    assert compile_wordlist(["1488"]).find("1488 and 1 4 8 8") == ["1488"]


def test_empty_list_and_text():
    assert compile_wordlist([]).find("anything at all") == []
    assert compile_wordlist(["fuck"]).find("") == []


def test_compilation_is_cached():
    assert compile_wordlist(["a", "b"]) is compile_wordlist(iter(["a", "b"]))


def test_normalize():
    assert normalize("Ｈé\u200bllo\tＷ\u043erld_x") == "hello world-x"


def test_clean_wordlist():
    assert clean_wordlist(["  son   of a  bitch ", "", "x", "x", "  "]) == ["son of a bitch", "x"]
    with pytest.raises(ValueError, match="no letters or digits"):
        clean_wordlist(["!!!"])
    with pytest.raises(ValueError, match="longer than"):
        clean_wordlist(["a" * (MAX_ENTRY_CHARS + 1)])
    with pytest.raises(ValueError, match="must be strings"):
        clean_wordlist([3])  # type: ignore[list-item]


# --- the default suspect list against news talk ------------------------------------------

NEWS_AND_IDENTITY = """
Muslim Muslims Islam Islamic mosque imam jihad Christian Christians church Catholic Jew Jewish
Hindu Somali Somalis Somalia Kenyan Kenyans Kenya Ethiopian Eritrean Sudanese Ugandan Tanzanian
Arab Arabs Asian African Black white gay lesbian transgender refugee refugees migrants asylum
Al-Shabaab al-Shabaab Shabaab ISIS militants terrorist terrorists terrorism extremist extremism
attack attacks attacked attacker bomb bombs bombing bomber killed kill killing killer murdered
explosion exploded blast grenade gunmen shooting shot dead deaths victims hostage kidnapped
massacre genocide war soldiers troops police army KDF AMISOM ATMIS raid Garissa Westgate Dusit
Mandera Lamu Eastleigh Dadaab Kakuma Nairobi Mombasa Kisumu Mogadishu Kikuyu Luo Kalenjin Luhya
Kamba Maasai Somali-Kenyan Borana Oromo Nigeria Nigerian Niger Pakistan Pakistani Punjabi
Dickens Hancock Cockburn Scunthorpe Essex Sussex classic assassin therapist cockpit skills
habari asante sana Mungu wakenya wasomali kumaliza malaika mwanamke serikali polisi shambulio
"""

ORDINARY_COMMENTS = [
    "I'm a Somali Muslim and Al-Shabaab killed my cousin in the Garissa attack.",
    "The bomb attack was carried out by terrorists, not by Muslims or Somalis.",
    "Christian and Muslim leaders met after the explosion killed 12 people.",
    "Kenyan refugees from the Dadaab camp deserve better than this government.",
    "Al-Shabaab terrorists must be defeated; the KDF did well in the raid.",
    "Serikali lazima ikomeshe mashambulizi ya Al-Shabaab, wakenya wamechoka.",
]


@pytest.fixture(scope="module")
def default_matcher():
    return compile_wordlist(default_suspect_words())


def test_default_list_loads():
    words = default_suspect_words()
    assert 30 <= len(words) <= 500
    assert all(word == word.strip() and "#" not in word for word in words)
    assert len(set(words)) == len(words)


def test_default_list_has_no_news_or_identity_words(default_matcher):
    lowered = {word.lower() for word in default_suspect_words()}
    for word in NEWS_AND_IDENTITY.split():
        assert word.lower() not in lowered
    assert default_matcher.find(NEWS_AND_IDENTITY) == []


def test_default_list_never_matches_the_seed_article(default_matcher):
    assert default_matcher.find(SEED_ARTICLE.read_text("utf-8")) == []


@pytest.mark.parametrize("comment", ORDINARY_COMMENTS)
def test_default_list_lets_news_talk_through(default_matcher, comment):
    assert default_matcher.find(comment) == []


def test_default_list_catches_abuse(default_matcher):
    assert default_matcher.find("you stupid c.u.n.t") == ["cunt"]
    assert default_matcher.find("go back home, r@ghead") == ["raghead"]
    assert default_matcher.find("k y s") == ["kys"]
    assert default_matcher.find("wewe ni MALAYA") == ["malaya"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(NEWS_AND_IDENTITY.split()), min_size=1, max_size=40))
def test_news_vocabulary_in_any_order_never_matches(words):
    matcher = compile_wordlist(default_suspect_words())
    assert matcher.find(" ".join(words)) == []


# --- properties: obfuscating a listed word never hides it --------------------------------

SINGLE_WORDS = [entry for entry in default_suspect_words() if " " not in entry]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u034f"]
PUNCTUATION = [".", "-", "_", "*", ",", "'", "/", "~", ":", ";", "..", "-_-"]
LEET = {"o": "0", "i": "1", "e": "3", "a": "4", "s": "5", "t": "7"}


def _interleave(word: str, gaps: list[str]) -> str:
    return word[0] + "".join(gap + char for gap, char in zip(gaps, word[1:], strict=False))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SINGLE_WORDS), st.data())
def test_inserted_invisibles_and_punctuation_still_match(word, data):
    separators = st.sampled_from(["", *INVISIBLE, *PUNCTUATION])
    gaps = data.draw(st.lists(separators, min_size=len(word) - 1, max_size=len(word) - 1))
    text = f"well, {_interleave(word, gaps)} indeed"
    assert word in compile_wordlist(default_suspect_words()).find(text)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SINGLE_WORDS), st.data())
def test_spaced_out_letters_still_match(word, data):
    separators = st.sampled_from([" ", "  ", " . ", " - ", ". ", "\n"])
    gaps = data.draw(st.lists(separators, min_size=len(word) - 1, max_size=len(word) - 1))
    text = f"you {_interleave(word, gaps)} ok"
    assert word in compile_wordlist(default_suspect_words()).find(text)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SINGLE_WORDS), st.data())
def test_case_leet_and_repeats_still_match(word, data):
    out = []
    for char in word:
        if char in LEET and data.draw(st.booleans()):
            char = LEET[char]
        elif data.draw(st.booleans()):
            char = char.upper()
        out.append(char * data.draw(st.sampled_from([1, 1, 1, 3, 5])))
    assume(any(char.isalpha() for char in out))  # all digits is a number, not a word
    text = f"so {''.join(out)}!"
    assert word in compile_wordlist(default_suspect_words()).find(text)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["ass", "cock", "sex", "kill", "hell", "con"]),
    st.text(alphabet=string.ascii_lowercase, max_size=4),
    st.text(alphabet=string.ascii_lowercase, max_size=4),
)
def test_a_listed_word_inside_a_longer_word_never_matches(entry, prefix, suffix):
    # Whole-word semantics: "classic", "Essex", "skills"... (the Scunthorpe problem).
    assume(prefix or suffix)
    assume(not prefix or prefix[-1] != entry[0])  # "a" + "ass" would only be a repeat
    assume(not suffix or suffix[0] != entry[-1])
    assert compile_wordlist([entry]).find(f"a {prefix}{entry}{suffix} b") == []


# --- performance -------------------------------------------------------------------------


def test_performance_sanity():
    rng = random.Random(7)
    words = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 10)))
        for _ in range(480)
    ]
    words += list(default_suspect_words())[:20]
    started = time.perf_counter()
    matcher = compile_wordlist(words)
    compile_ms = (time.perf_counter() - started) * 1000
    text = (SEED_ARTICLE.read_text("utf-8") * 3)[:5000]
    best = min(_timed(matcher.find, text) for _ in range(5))
    # Typically ~1-2 ms here; the bounds leave room for a loaded CI machine.
    assert best < 25, f"find took {best:.1f} ms"
    assert compile_ms < 500


@pytest.mark.parametrize(
    "text",
    [
        "1" * 5000,
        "1" * 4999 + "x",
        "1l" * 2500,
        "a " * 2500,
        "a." * 2500,
        "1 l " * 1250,
        "1.l." * 1250,
        "$!|1" * 1250,
        ("f\u200b" * 2500),
    ],
    ids=["digits", "ones", "alternating", "spaced", "dotted", "spaced-leet", "dotted-leet",
         "symbols", "zero-width"],
)  # fmt: skip
def test_crafted_input_costs_bounded_time(text):
    matcher = compile_wordlist(["lil", "ilil", "lili", "illicit", "a", "aa", "ass", "fuck"])
    # Each takes well under 0.1 s when the machine is idle; the bound is for a busy CI.
    assert _timed(matcher.find, text) < 2000


def _timed(find, text):
    started = time.perf_counter()
    find(text)
    return (time.perf_counter() - started) * 1000
