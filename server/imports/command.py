"""``baraza import disqus|wordpress|isso FILE``: parse, store, print progress and a summary."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from redis.asyncio import Redis

from server.db import create_engine, create_sessionmaker
from server.imports import disqus, isso, wordpress
from server.imports.isso import BadDatabase
from server.imports.progress import Progress, Summary
from server.imports.records import Item, Source
from server.imports.writer import Importer
from server.imports.xmlstream import BadXml, UnsafeXml
from server.jobs.redis import RedisJobQueue
from server.settings import Settings

PARSERS: dict[Source, Callable[[Path], Iterator[Item]]] = {
    Source.disqus: disqus.parse,
    Source.wordpress: wordpress.parse,
    Source.isso: isso.parse,
}


class ImportRefused(Exception):
    """The file cannot be imported (unsafe, malformed, missing); the message says why."""


async def import_file(
    settings: Settings,
    source: Source,
    path: Path,
    *,
    rescore: bool = False,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> Summary:
    """Import ``path``; raise ImportRefused (after committing earlier batches) on a bad file."""
    engine = create_engine(settings)
    # --rescore queues the comments for the scorers; without Redis, the server's sweeper does.
    redis = Redis.from_url(settings.redis_url) if rescore and settings.redis_url else None
    jobs = RedisJobQueue(redis, settings.redis_prefix) if redis is not None else None
    try:
        importer = Importer(
            sessionmaker=create_sessionmaker(engine),
            source=source,
            max_depth=settings.max_depth,
            rescore=rescore,
            jobs=jobs,
            batch_size=batch_size,
            progress=progress,
        )
        try:
            return await importer.run(PARSERS[source](path))
        except (UnsafeXml, BadXml, BadDatabase) as exc:
            raise ImportRefused(str(exc)) from exc
    finally:
        await engine.dispose()
        if redis is not None:
            await redis.aclose()


def run(settings: Settings, source: str, path: str, *, rescore: bool, batch_size: int) -> int:
    import asyncio

    if not Path(path).is_file():
        print(f"baraza import: {path}: no such file", file=sys.stderr)
        return 2
    if batch_size < 1:
        print("baraza import: --batch-size must be at least 1", file=sys.stderr)
        return 2
    progress = Progress(source)
    try:
        asyncio.run(
            import_file(
                settings,
                Source(source),
                Path(path),
                rescore=rescore,
                batch_size=batch_size,
                progress=progress,
            )
        )
    except ImportRefused as exc:
        print(f"baraza import: {exc}", file=sys.stderr)
        return 2
    return 0
