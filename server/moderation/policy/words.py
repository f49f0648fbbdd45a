"""Word-list matching that resists obfuscation without the Scunthorpe problem.

Text and list entries go through the same normalisation, then are compared word by word:

1. *Characters* (``normalize``): NFKC compatibility forms (fullwidth, mathematical and
   enclosed letters), case folding, look-alike letters from Cyrillic, Greek and other scripts
   mapped to Latin, accents and other combining marks removed, zero-width and invisible
   characters deleted (so they join the letters around them), all whitespace made a space.
2. *Words*: the text is cut into chunks at whitespace and each chunk into parts at punctuation.
   Leetspeak symbols inside a word (``sh!t``, ``@ss``, ``a$$``) stay part of it.
3. *Spellings*: a part with digits among its letters, or with leet symbols, is read as letters
   (``0``→o, ``1``→i or l, ``3``→e, ``4``→a, ``5``→s, ``7``→t, ``@``→a, ``$``→s …); all-digit
   numbers stay numbers. Repeated letters are tolerated: a letter single in the entry may appear
   once or three or more times (``fuuuck``), a doubled one twice or more; a letter doubled
   only once is left alone so ``coon`` does not become ``con``.
4. *Whole words*: an entry matches a whole part, never a piece of one, so ``Scunthorpe``,
   ``classic`` and ``Essex`` are safe. A chunk split by punctuation is also tried joined
   (``f.u.c.k``, ``mother-fucker``). Runs of three or more single characters (``f u c k``,
   ``f . u . c . k``) are joined and searched, because a run of lone letters is not how
   ordinary words are written; spaces inserted elsewhere (``fu ck``) are not joined, since that
   is exactly how innocent neighbouring words would run together. Multi-word entries match
   consecutive parts, or the same letters written as one word or one spaced-out run.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import groupby

MAX_ENTRY_CHARS = 100
MAX_ENTRIES = 10_000
MIN_SPACED_RUN = 3
# Bounds on the work of reading ambiguous symbols ("1" is i or l) and spaced-out runs, so a
# comment crafted to explode the readings ("1l1l1l…") costs bounded time. Real obfuscations
# take a few dozen steps; past the budget the rest of such readings are not tried.
MAX_STEPS_PER_WORD = 256
MAX_STEPS_PER_TEXT = 10_000
DEFAULT_SUSPECT_FILE = "default_suspect_words.txt"

# Look-alikes NFKC leaves alone, keyed by the character as written (capitals before case
# folding, small letters after). Pairs of equal-length strings: source letters, Latin targets.
_CONFUSABLE_PAIRS = (
    ("АВЕЅІЈКМНОРСТХУҮԚԜӀЬ", "abesijkmhopctxyyqwlb"),  # Cyrillic capitals
    ("авеѕіјкмнорстхуүԁԛԝӏһьії", "abesijkmhopctxyydqwlhbii"),  # Cyrillic small
    ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abezhikmnoptyx"),  # Greek capitals
    ("αβεικνορτυχωημγς", "abeikvoptuxwnuyc"),  # Greek small
    ("ıȷɑɡɩɪʀʏᴀʙᴄᴅᴇɢʜᴊᴋʟᴍɴᴏᴘǫꜱᴛᴜᴠᴡᴢøðđħłŧ", "ijagiiryabcdeghjklmnopqstuvwzoddhlt"),  # Latin
    ("օսհ", "ouh"),  # Armenian
)
# Regional indicators and negative circled/squared letters (emoji-style A-Z).
_LETTER_BLOCKS = (0x1F1E6, 0x1F150, 0x1F170)
# Fillers and blanks that render as nothing but are letters or symbols, not format characters.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cc", "Cs", "Co"})

# Leetspeak: what a symbol or digit inside a word may stand for (first = canonical reading).
_LEET: Mapping[str, str] = {
    "0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "6": "gb", "7": "t", "8": "b",
    "9": "g", "@": "a", "$": "s", "!": "i", "|": "il", "+": "t", "€": "e", "£": "l", "¡": "i",
}  # fmt: skip
_PART_RE = re.compile(r"[\w@$!|+€£¡]+")
_UNUSUAL_RE = re.compile(r"[^\x20-\x7e]+")
# Leet symbols that are punctuation when they open or close a word ("wow!", "c++").
_EDGE_SYMBOLS = "!|+€£¡"
_REPEATS_RE = re.compile(r"(.)\1+")


def _confusables() -> dict[str, str]:
    table: dict[str, str] = {}
    for source, target in _CONFUSABLE_PAIRS:
        table.update(zip(source, target, strict=True))
    for block in _LETTER_BLOCKS:
        table.update({chr(block + i): chr(ord("a") + i) for i in range(26)})
    return table


_CONFUSABLES = _confusables()


def _dropped(char: str) -> bool:
    return char in _INVISIBLE or unicodedata.category(char) in _DROPPED_CATEGORIES


def _map_char(char: str) -> str:
    """One character of input, normalised (may be empty or several characters)."""
    out: list[str] = []
    for compat in unicodedata.normalize("NFKC", char):
        if compat.isspace():
            out.append(" ")
            continue
        folded = _CONFUSABLES.get(compat, compat).casefold()
        for base in unicodedata.normalize("NFKD", folded):
            if not _dropped(base):
                out.append(_CONFUSABLES.get(base, base))
    return "".join(out)


class _CharTable(dict[int, str]):
    """A ``str.translate`` table filled lazily, so each code point is worked out once."""

    def __missing__(self, code_point: int) -> str:
        value = _map_char(chr(code_point))
        self[code_point] = value
        return value


_TABLE = _CharTable()


def _translate(match: re.Match[str]) -> str:
    return match.group().translate(_TABLE)


def normalize(text: str) -> str:
    """Case-folded, confusable-free, accent-free text without invisible characters.

    Underscores become hyphens so that they separate parts like any other punctuation.
    """
    # Printable ASCII only needs lowering; everything else goes through the table.
    return _UNUSUAL_RE.sub(_translate, text).lower().replace("_", "-")


def _chunk_parts(chunk: str) -> list[str]:
    if chunk.isalnum():
        return [chunk]
    parts = (part.strip(_EDGE_SYMBOLS) for part in _PART_RE.findall(chunk))
    return [part for part in parts if part]


def _split(normalized: str) -> tuple[list[str], list[tuple[int, int]]]:
    """All parts in order, and the (start, end) part ranges of chunks cut by punctuation."""
    parts: list[str] = []
    cut: list[tuple[int, int]] = []
    for chunk in normalized.split():
        chunk_parts = _chunk_parts(chunk)
        if len(chunk_parts) > 1:
            cut.append((len(parts), len(parts) + len(chunk_parts)))
        parts.extend(chunk_parts)
    return parts, cut


def _canonical(part: str) -> str:
    """The one reading of an entry's word: leet symbols as their first letter."""
    if part.isdigit():
        return part
    return "".join(_LEET.get(char, char)[0] for char in part)


def _first(match: re.Match[str]) -> str:
    return match.group(1)


def _collapse(word: str) -> str:
    """``word`` with each run of a repeated character cut to one."""
    return _REPEATS_RE.sub(_first, word) if _REPEATS_RE.search(word) else word


def _runs(word: str) -> tuple[int, ...]:
    return tuple(len(list(group)) for _, group in groupby(word))


def _runs_ok(text_runs: Sequence[int], entry_runs: Sequence[int]) -> bool:
    """Letter repeats in the text are an obfuscation of the entry, not another word."""
    return len(text_runs) == len(entry_runs) and all(
        seen == wanted or (seen > wanted and seen >= 3)
        for seen, wanted in zip(text_runs, entry_runs, strict=True)
    )


@dataclass(frozen=True, slots=True)
class _Form:
    """An entry (or one word of a phrase) as matched: collapsed letters and repeat counts."""

    entry: str
    key: str
    runs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Phrase:
    entry: str
    words: tuple[_Form, ...]


def _form(entry: str, word: str) -> _Form:
    return _Form(entry=entry, key=_collapse(word), runs=_runs(word))


def entry_words(entry: str) -> list[str]:
    """The words an entry is matched as (empty if it has no letters or digits)."""
    parts, _ = _split(normalize(entry))
    return [_canonical(part) for part in parts]


# One reading of a part: (raw letters, letters with repeats collapsed).
_Spelling = tuple[str, str]
_Hit = tuple[int, str]
_NO_READINGS: tuple[_Spelling, ...] = ()


class _Budget:
    """Steps left for one ``find`` call."""

    __slots__ = ("left",)

    def __init__(self, steps: int) -> None:
        self.left = steps

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _run_starts(letters: Sequence[str]) -> Iterator[int]:
    """Where a spaced-out word may begin: the first and last of each stretch of one letter.

    Starting inside "a a a a" again and again would find nothing new; starting at its last
    letter still finds "s s h i t".
    """
    for index, char in enumerate(letters):
        first = index == 0 or letters[index - 1] != char
        last = index + 1 == len(letters) or letters[index + 1] != char
        if first or last:
            yield index


class WordMatcher:
    """A compiled word list. Build with ``compile_wordlist``; ``find`` is safe across threads."""

    __slots__ = ("_index", "_max_span", "_phrase_words", "_phrases", "_prefixes", "entries")

    def __init__(self, entries: Sequence[str]) -> None:
        self.entries: tuple[str, ...] = tuple(entries)
        index: dict[str, list[_Form]] = {}
        phrases: dict[str, list[_Phrase]] = {}
        for entry in self.entries:
            words = entry_words(entry)
            if not words:
                continue
            whole = _form(entry, "".join(words))
            index.setdefault(whole.key, []).append(whole)
            if len(words) > 1:
                phrase = _Phrase(entry, tuple(_form(entry, word) for word in words))
                phrases.setdefault(phrase.words[0].key, []).append(phrase)
        self._index: Mapping[str, tuple[_Form, ...]] = {k: tuple(v) for k, v in index.items()}
        self._phrases: Mapping[str, tuple[_Phrase, ...]] = {k: tuple(v) for k, v in phrases.items()}
        self._phrase_words = frozenset(
            form.key for group in phrases.values() for phrase in group for form in phrase.words
        )
        keys = set(self._index) | self._phrase_words
        self._prefixes = frozenset(key[:n] for key in keys for n in range(1, len(key) + 1))
        # The longest stretch of spaced-out characters read as one word: room for repeats.
        self._max_span = 4 * max(map(len, keys), default=0)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"WordMatcher({len(self.entries)} entries)"

    def find(self, text: str) -> list[str]:
        """The listed entries found in ``text``, each once, in order of first appearance."""
        if not self._prefixes or not text:
            return []
        parts, cut = _split(normalize(text))
        budget = _Budget(MAX_STEPS_PER_TEXT)
        known = {part: self._readings(part, budget) for part in set(parts)}
        readings = [known[part] for part in parts]
        hits: list[_Hit] = []
        self._whole_parts(readings, hits)
        self._joined_chunks(parts, cut, budget, hits)
        self._spaced_runs(parts, budget, hits)
        if self._phrases:
            self._phrase_hits(readings, hits)
        hits.sort(key=lambda hit: hit[0])
        return list(dict.fromkeys(entry for _, entry in hits))

    def _readings(self, part: str, budget: _Budget) -> tuple[_Spelling, ...]:
        """Readings of one part that could still be (part of) a listed word."""
        if part.isalpha() or part.isdigit():
            key = _collapse(part)
            return ((part, key),) if key in self._prefixes else _NO_READINGS
        # A run of one symbol is read as one letter repeated ("$$" is "ss", never "sz").
        runs = [(_LEET.get(char, char), len(list(group))) for char, group in groupby(part)]
        return tuple(self._expand(runs, budget))

    def _expand(self, runs: Sequence[tuple[str, int]], budget: _Budget) -> Iterator[_Spelling]:
        """Full readings of a word whose collapsed letters stay on a listed prefix."""
        stack: list[tuple[int, str, str]] = [(0, "", "")]
        steps = 0
        while stack and steps < MAX_STEPS_PER_WORD and budget.spend():
            steps += 1
            index, raw, key = stack.pop()
            if index == len(runs):
                yield raw, key
                continue
            options, count = runs[index]
            for char in options:
                next_key = key if key.endswith(char) else key + char
                if next_key in self._prefixes:
                    stack.append((index + 1, raw + char * count, next_key))

    def _match(self, spelling: _Spelling, position: int, hits: list[_Hit]) -> None:
        forms = self._index.get(spelling[1])
        if forms:
            runs = _runs(spelling[0])
            hits.extend((position, form.entry) for form in forms if _runs_ok(runs, form.runs))

    def _whole_parts(self, readings: Sequence[tuple[_Spelling, ...]], hits: list[_Hit]) -> None:
        for position, spellings in enumerate(readings):
            for spelling in spellings:
                self._match(spelling, position, hits)

    def _joined_chunks(
        self,
        parts: Sequence[str],
        cut: Sequence[tuple[int, int]],
        budget: _Budget,
        hits: list[_Hit],
    ) -> None:
        """Chunks cut by punctuation ("f.u.c.k", "mother-fucker") read as one word."""
        for start, end in cut:
            for spelling in self._readings("".join(parts[start:end]), budget):
                self._match(spelling, start, hits)

    def _spaced_runs(self, parts: Sequence[str], budget: _Budget, hits: list[_Hit]) -> None:
        """Listed words spelled out in runs of single characters ("f u c k")."""
        start = 0
        for position, part in enumerate(parts):
            if len(part) == 1:
                continue
            if position - start >= MIN_SPACED_RUN:
                self._search_run(parts[start:position], start, budget, hits)
            start = position + 1
        if len(parts) - start >= MIN_SPACED_RUN:
            self._search_run(parts[start:], start, budget, hits)

    def _search_run(
        self, letters: Sequence[str], offset: int, budget: _Budget, hits: list[_Hit]
    ) -> None:
        options = [char + _LEET.get(char, "") if char.isdigit() else _LEET.get(char, char)
                   for char in letters]  # fmt: skip
        plain = all(len(option) == 1 for option in options)
        for begin in _run_starts(letters):
            if plain:
                walk = self._walk_plain(letters, begin, budget)
            else:
                walk = self._walk(options, begin, budget)
            for spelling in walk:
                self._match(spelling, offset + begin, hits)

    def _walk_plain(
        self, letters: Sequence[str], begin: int, budget: _Budget
    ) -> Iterator[_Spelling]:
        """``_walk`` for a run with one reading per character (the common case)."""
        key = ""
        for end in range(begin, min(len(letters), begin + self._max_span)):
            char = letters[end]
            if not key.endswith(char):
                key += char
                if key not in self._prefixes or not budget.spend():
                    return
            if key in self._index:
                yield "".join(letters[begin : end + 1]), key

    def _walk(self, options: Sequence[str], begin: int, budget: _Budget) -> Iterator[_Spelling]:
        """Readings of ``options[begin:end]`` for every end, pruned by the listed prefixes.

        Digits keep their own reading too, so "1 4 8 8" is still a number, but a stretch of
        nothing but digits is never read as letters ("4 5 5" is not "ass").
        """
        stack: list[tuple[int, str, str, bool]] = [(begin, "", "", False)]
        end = min(len(options), begin + self._max_span)
        steps = 0
        while stack and steps < MAX_STEPS_PER_WORD and budget.spend():
            steps += 1
            index, raw, key, lettered = stack.pop()
            if key in self._index and (lettered or raw.isdigit()):
                yield raw, key
            if index == end:
                continue
            source_is_letter = not options[index][0].isdigit()
            for char in options[index]:
                next_key = key if key.endswith(char) else key + char
                if next_key in self._prefixes:
                    stack.append((index + 1, raw + char, next_key, lettered or source_is_letter))

    def _phrase_hits(self, readings: Sequence[tuple[_Spelling, ...]], hits: list[_Hit]) -> None:
        for position, spellings in enumerate(readings):
            for _, key in spellings:
                for phrase in self._phrases.get(key, ()):
                    if _phrase_at(phrase, readings, position):
                        hits.append((position, phrase.entry))


def _phrase_at(phrase: _Phrase, readings: Sequence[tuple[_Spelling, ...]], position: int) -> bool:
    """Whether the words of ``phrase`` are read at consecutive parts from ``position``."""
    if position + len(phrase.words) > len(readings):
        return False
    return all(
        any(
            key == form.key and _runs_ok(_runs(raw), form.runs)
            for raw, key in readings[position + offset]
        )
        for offset, form in enumerate(phrase.words)
    )


@functools.lru_cache(maxsize=64)
def _compile(entries: tuple[str, ...]) -> WordMatcher:
    return WordMatcher(entries)


def compile_wordlist(words: Iterable[str]) -> WordMatcher:
    """A matcher for ``words``; compiling the same list again returns the cached matcher."""
    return _compile(tuple(words))


def clean_wordlist(words: Iterable[str]) -> list[str]:
    """Entries as stored: trimmed, inner whitespace single, blanks and duplicates dropped.

    Raises ValueError for an entry that is too long or has no letters or digits to match,
    or for a list longer than ``MAX_ENTRIES``.
    """
    cleaned: dict[str, None] = {}
    for word in words:
        if not isinstance(word, str):
            raise ValueError(f"word list entries must be strings, got {type(word).__name__}")
        entry = " ".join(word.split())
        if not entry:
            continue
        if len(entry) > MAX_ENTRY_CHARS:
            raise ValueError(f"word list entry longer than {MAX_ENTRY_CHARS} characters")
        if not entry_words(entry):
            raise ValueError(f"word list entry {entry!r} has no letters or digits to match")
        cleaned[entry] = None
    if len(cleaned) > MAX_ENTRIES:
        raise ValueError(f"a word list holds at most {MAX_ENTRIES} entries")
    return list(cleaned)


@functools.lru_cache(maxsize=1)
def default_suspect_words() -> tuple[str, ...]:
    """The shipped default suspect list (one entry a line, ``#`` starts a comment)."""
    text = resources.files(__package__).joinpath(DEFAULT_SUSPECT_FILE).read_text("utf-8")
    lines = (line.split("#", 1)[0] for line in text.splitlines())
    return tuple(clean_wordlist(lines))


_SPLIT_LETTERS_RE = re.compile(r"(.)\1{2,}")


def _reading(part: str) -> str:
    """One part as a reader would read it: leet symbols as letters, 3+ repeats as one."""
    if not part.isdigit() and not part.isalpha():
        part = _canonical(part)
    return _SPLIT_LETTERS_RE.sub(_first, part)


def deobfuscate(text: str) -> str:
    """The words of ``text`` as the word matcher reads them, for a model to score.

    The matcher's normalisation (look-alikes, NFKC, case, zero-width characters), then per
    word: leet symbols read as letters (``1d10t`` → ``idiot``), letters repeated three times
    or more cut to one (``stuuupid``), a chunk cut by punctuation into single letters joined
    (``f.u.c.k``), and runs of three or more single letters joined (``i d i o t``). Words are
    separated by single spaces; other punctuation is dropped.
    """
    words: list[str] = []
    singles: list[str] = []

    def flush() -> None:
        if len(singles) >= MIN_SPACED_RUN:
            words.append("".join(singles))
        else:
            words.extend(singles)
        singles.clear()

    for chunk in normalize(text).split():
        parts = [_reading(part) for part in _chunk_parts(chunk)]
        if len(parts) > 1 and all(len(part) == 1 for part in parts):
            parts = ["".join(parts)]
        for part in parts:
            if len(part) == 1:
                singles.append(part)
                continue
            flush()
            words.append(part)
    flush()
    return " ".join(words)


def plain_words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (letters and digits), nothing undone."""
    return re.findall(r"\w+", text.lower())
