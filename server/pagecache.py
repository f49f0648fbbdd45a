"""A per-process micro-cache of anonymous reads, in front of the database.

Hot article pages are read by thousands of anonymous readers at once; for a second or two
they all see the same bytes, so one request per process renders them and the rest are
served from memory (like a CDN's ``max-age``, but shorter and invalidated by local writes).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from server.clock import SYSTEM_CLOCK, Clock
from server.live.base import Event


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

    def __init__(
        self,
        ttl: float,
        max_entries: int = 2048,
        *,
        name: str = "threads",
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.name = name  # which ``pages.changed`` events are about this cache
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[Key, tuple[float, CachedRead]] = OrderedDict()
        self._loading: dict[Key, asyncio.Future[CachedRead]] = {}
        self._generation: dict[str, int] = {}
        self._epoch = 0  # bumped by ``forget_all``

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    @staticmethod
    def key(article_id: str, query: Mapping[str, object]) -> Key:
        return article_id, "&".join(f"{k}={query[k]}" for k in sorted(query))

    async def get(self, key: Key, load: Loader) -> CachedRead:
        hit = self._entries.get(key)
        if hit is not None and hit[0] > self._clock.monotonic():
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
        generation = (self._epoch, self._generation.get(key[0], 0))
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
        if (self._epoch, self._generation.get(key[0], 0)) == generation:
            self._store(key, read)
        return read

    def _store(self, key: Key, read: CachedRead) -> None:
        self._entries[key] = (self._clock.monotonic() + self._ttl, read)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def forget(self, event: Event) -> None:
        """A ``pages.changed`` event from any process: forget the articles it names."""
        if event.data.get("pages", "threads") != self.name:
            return
        for article_id in event.data.get("article_ids", ()):
            self.invalidate(str(article_id))

    def forget_all(self) -> None:
        """``pages.changed`` events may have been lost (a reconnect, a failover): forget every
        read, and store none of the loads under way."""
        self._epoch += 1
        self._entries.clear()

    def invalidate(self, article_id: str) -> None:
        """Forget the article's reads (after a write through this process)."""
        self._generation[article_id] = self._generation.get(article_id, 0) + 1
        for key in [k for k in self._entries if k[0] == article_id]:
            del self._entries[key]
