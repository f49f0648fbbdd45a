"""Spam counts for the policy: near-duplicate texts and bursts, within configured windows.

Near-duplicates: a 64-bit SimHash over word 3-shingles of the text as the word matcher reads
it (``deobfuscate``), so case, punctuation, look-alike letters and small edits do not make a
copy look new. Two texts are near-duplicates within ``MAX_DISTANCE`` differing bits; the hash
is stored under its four 16-bit bands, and two hashes that close share at least one band, so a
lookup reads four small sets. Only copies on *another article or by another account* count:
an author repeating themselves under one story is not a campaign. Texts of fewer than
``MIN_WORDS`` words are ignored ("Well said!" is posted by many readers).

Bursts: how many comments the author, and the address (a hash of the IP), posted in the window.

Two stores with one interface: Redis (sorted sets scored by time, trimmed to the window and
expiring with it) for workers, and an in-process one for the embedded default and tests.
Observing is idempotent per comment id, so a redelivered job is not counted twice.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from server.moderation.policy.signals import SpamConfig, SpamCounts
from server.moderation.policy.words import deobfuscate
from server.redis_client import AnyRedis

SHINGLE = 3
MIN_WORDS = 6
MAX_DISTANCE = 3
BANDS = 4
_BAND_BITS = 64 // BANDS
_MASK = (1 << 64) - 1

Clock = Callable[[], float]


def simhash(text: str) -> int | None:
    """The 64-bit SimHash of ``text``'s word shingles, or ``None`` for a text too short."""
    words = deobfuscate(text).split()
    if len(words) < MIN_WORDS:
        return None
    weights = [0] * 64
    for start in range(len(words) - SHINGLE + 1):
        shingle = " ".join(words[start : start + SHINGLE]).encode()
        value = int.from_bytes(hashlib.blake2b(shingle, digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit, weight in enumerate(weights) if weight > 0)


def bands(value: int) -> list[int]:
    """The four 16-bit pieces of a hash."""
    return [(value >> (band * _BAND_BITS)) & 0xFFFF for band in range(BANDS)]


def distance(a: int, b: int) -> int:
    return ((a ^ b) & _MASK).bit_count()


@dataclass(frozen=True, slots=True)
class SpamItem:
    """One comment as the spam counters see it."""

    comment_id: int
    author_id: str
    article_id: str
    text: str
    ip_hash: str | None = None


def _member(item: SpamItem, value: int) -> str:
    return f"{item.comment_id}|{value:016x}|{item.article_id}|{item.author_id}"


def _other_copies(item: SpamItem, value: int, members: Iterable[str]) -> int:
    """Distinct other comments that are near-duplicates on another article or account."""
    seen: set[str] = set()
    for member in members:
        comment_id, hashed, article_id, author_id = member.split("|", 3)
        if comment_id == str(item.comment_id) or comment_id in seen:
            continue
        elsewhere = article_id != item.article_id or author_id != item.author_id
        if elsewhere and distance(int(hashed, 16), value) <= MAX_DISTANCE:
            seen.add(comment_id)
    return len(seen)


class SpamTracker(Protocol):
    async def observe(self, item: SpamItem, config: SpamConfig) -> SpamCounts:
        """Record ``item`` and count its near-duplicates and its author's / address's burst."""
        ...


class MemorySpamTracker:
    """In-process counters (embedded default, tests). Memory is bounded by the windows."""

    def __init__(self, *, clock: Clock = time.time) -> None:
        self._clock = clock
        self._bands: defaultdict[str, dict[str, float]] = defaultdict(dict)
        self._bursts: defaultdict[str, dict[str, float]] = defaultdict(dict)

    async def observe(self, item: SpamItem, config: SpamConfig) -> SpamCounts:
        now = self._clock()
        duplicates = 0
        value = simhash(item.text)
        if value is not None:
            member = _member(item, value)
            keys = [f"{band}:{piece}" for band, piece in enumerate(bands(value))]
            since = now - config.duplicate_window_seconds
            found: list[str] = []
            for key in keys:
                entries = self._bands[key]
                self._trim(entries, since)
                found.extend(entries)
                entries.setdefault(member, now)
            duplicates = _other_copies(item, value, found)
        since = now - config.burst_window_seconds
        author = self._count(f"a:{item.author_id}", str(item.comment_id), now, since)
        ip = 0
        if item.ip_hash:
            ip = self._count(f"i:{item.ip_hash}", str(item.comment_id), now, since)
        return SpamCounts(duplicates=duplicates, author_recent=author, ip_recent=ip)

    def _count(self, key: str, member: str, now: float, since: float) -> int:
        entries = self._bursts[key]
        self._trim(entries, since)
        entries.setdefault(member, now)
        return len(entries)

    @staticmethod
    def _trim(entries: dict[str, float], since: float) -> None:
        for member in [member for member, at in entries.items() if at < since]:
            del entries[member]


class RedisSpamTracker:
    """The same counters in Redis, shared by every worker process."""

    def __init__(self, redis: AnyRedis, prefix: str, *, clock: Clock = time.time) -> None:
        self._redis = redis
        self._prefix = f"{prefix}spam:"
        self._clock = clock

    async def observe(self, item: SpamItem, config: SpamConfig) -> SpamCounts:
        now = self._clock()
        value = simhash(item.text)
        duplicates = 0
        if value is not None:
            member = _member(item, value)
            window = config.duplicate_window_seconds
            pieces = enumerate(bands(value))
            keys = [f"{self._prefix}dup:{band}:{piece:04x}" for band, piece in pieces]
            found = await self._window(keys, member, now, window)
            duplicates = _other_copies(item, value, found)
        window = config.burst_window_seconds
        author_key = f"{self._prefix}burst:a:{item.author_id}"
        author = len(await self._window([author_key], str(item.comment_id), now, window))
        ip = 0
        if item.ip_hash:
            ip_key = f"{self._prefix}burst:i:{item.ip_hash}"
            ip = len(await self._window([ip_key], str(item.comment_id), now, window))
        return SpamCounts(duplicates=duplicates, author_recent=author, ip_recent=ip)

    async def _window(self, keys: list[str], member: str, now: float, window: int) -> list[str]:
        """Trim each key to the window, add ``member`` (first sighting kept), read it back."""
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.zremrangebyscore(key, "-inf", now - window)
            pipe.zadd(key, {member: now}, nx=True)
            pipe.expire(key, window + 60)
            pipe.zrange(key, 0, -1)
        replies = await pipe.execute()
        members: list[str] = []
        for reply in replies[3::4]:
            members.extend(m.decode() if isinstance(m, bytes) else str(m) for m in reply)
        return members
