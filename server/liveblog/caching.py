"""HTTP caching of live-blog reads: ETags made from the blog's revision, and who may cache.

A blog's revision changes with every write, so ``(revision, query)`` names a response
exactly; answering ``If-None-Match`` needs one indexed read of the blog row and no entries.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

# Bump when the JSON shape changes, so caches drop responses of the old shape.
FORMAT = "1"


def make_etag(article_id: str, revision: int, query: Mapping[str, object]) -> str:
    canonical = "&".join(f"{k}={query[k]}" for k in sorted(query))
    digest = hashlib.blake2s(f"{article_id}\n{canonical}".encode(), digest_size=6).hexdigest()
    # Weak: the same JSON may be sent compressed or not by a proxy.
    return f'W/"lb{FORMAT}-{revision}-{digest}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against any listed tag, or ``*``."""
    wanted = _opaque(etag)
    return any(
        candidate.strip() == "*" or _opaque(candidate) == wanted
        for candidate in if_none_match.split(",")
    )


def cache_headers(etag: str, *, anonymous: bool, max_age: int) -> dict[str, str]:
    """Anonymous reads are the same for everyone, so a CDN may keep them ``max_age`` seconds;
    anything read with a token stays private to the caller."""
    if anonymous:
        control = f"public, max-age={max_age}, stale-while-revalidate={max_age}"
    else:
        control = "private, no-cache"
    return {"ETag": etag, "Cache-Control": control, "Vary": "Authorization"}


@dataclass(frozen=True, slots=True)
class CachedRead:
    """A rendered anonymous read: status, JSON bytes and ETag (None for an error)."""

    status: int
    body: bytes
    etag: str | None


Key = tuple[str, str]
Loader = Callable[[], Awaitable[CachedRead]]


class PageCache:
    """Anonymous reads of this process, kept ``ttl`` seconds (a micro-cache in front of the
    database, like the CDN's ``max-age`` but shorter).

    One load per key at a time: when an entry expires under load, one request reads the
    database while the others are served the expired copy (or, with none, wait for the load)
    instead of stampeding. Writes through this
    process drop the article's entries at once; other processes' writes show within ``ttl``.
    """

    def __init__(self, ttl: float, max_entries: int = 2048) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[Key, tuple[float, CachedRead]] = OrderedDict()
        self._loading: dict[Key, asyncio.Future[CachedRead]] = {}
        self._generation: dict[str, int] = {}

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    @staticmethod
    def key(article_id: str, query: Mapping[str, object]) -> Key:
        return article_id, "&".join(f"{k}={query[k]}" for k in sorted(query))

    async def get(self, key: Key, load: Loader) -> CachedRead:
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            self._entries.move_to_end(key)
            return hit[1]
        pending = self._loading.get(key)
        if pending is None:
            return await self._load(key, load)
        # Someone is already refreshing this read: an expired copy is good enough meanwhile.
        return hit[1] if hit is not None else await asyncio.shield(pending)

    async def _load(self, key: Key, load: Loader) -> CachedRead:
        future: asyncio.Future[CachedRead] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        generation = self._generation.get(key[0], 0)
        try:
            read = await load()
        except Exception as exc:
            future.set_exception(exc)
            # Retrieved here so an exception no waiter asked for is not logged as lost.
            future.exception()
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._loading[key]
        future.set_result(read)
        if self._generation.get(key[0], 0) == generation:
            self._store(key, read)
        return read

    def _store(self, key: Key, read: CachedRead) -> None:
        self._entries[key] = (time.monotonic() + self._ttl, read)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def invalidate(self, article_id: str) -> None:
        """Forget the article's reads (after a write through this process)."""
        self._generation[article_id] = self._generation.get(article_id, 0) + 1
        for key in [k for k in self._entries if k[0] == article_id]:
            del self._entries[key]
