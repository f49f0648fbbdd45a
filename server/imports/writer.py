"""Storing parsed comments: batches of inserts, idempotent, threads rebuilt from source ids.

Each batch is one transaction: source ids already imported are dropped, authors and articles
are created on sight (existing ones are left as they are), replies are inserted after their
parents (a reply whose parent comes later in the file waits for it; one whose parent never
comes is skipped and reported), and each new comment's source id is stored with it. Counters
(article counts, reply counts, authors' history) are incremented batch by batch.
Imported comments keep the source's verdict and are not scored, unless ``rescore``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus
from server.comments.text import normalise_body, render_html
from server.db import Sessionmaker, utcnow
from server.dialect import insert_for
from server.imports.models import ImportedComment
from server.imports.progress import Progress, Summary
from server.imports.records import Item, Skipped, Source, SourceComment, SourceStatus
from server.jobs.base import JobQueue
from server.users.models import User

CHUNK = 500
ORPHAN = "reply to a comment missing from the export"


@dataclass(frozen=True, slots=True)
class _Placed:
    """Where a stored comment sits in its thread (what a reply to it needs)."""

    id: int
    parent_id: int | None
    root_id: int
    depth: int


@dataclass(slots=True)
class _Taken:
    batch: list[SourceComment] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    read: int = 0


def _status(status: SourceStatus, rescore: bool) -> tuple[CommentStatus, bool]:
    """Baraza's status and visibility for the source's state."""
    if status is SourceStatus.deleted:
        return CommentStatus.deleted, True  # a placeholder keeps the thread whole
    if status is SourceStatus.spam:
        return CommentStatus.rejected, False
    if rescore:
        return CommentStatus.pending, False
    if status is SourceStatus.pending:
        return CommentStatus.held, False  # awaiting a moderator there, and here
    return CommentStatus.approved, True


class Importer:
    def __init__(
        self,
        *,
        sessionmaker: Sessionmaker,
        source: Source,
        max_depth: int,
        rescore: bool = False,
        jobs: JobQueue | None = None,
        batch_size: int = 1000,
        progress: Progress | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._source = source
        self._max_depth = max_depth
        self._rescore = rescore
        self._jobs = jobs
        self._batch_size = batch_size
        self._progress = progress
        self.summary = Summary()
        self._waiting: dict[str, list[SourceComment]] = {}

    async def run(self, items: Iterable[Item]) -> Summary:
        """Import every item; return what was done and what was skipped, and why.

        The next batch is parsed in a thread while the current one is written."""
        source = iter(items)
        upcoming = asyncio.create_task(asyncio.to_thread(self._take, source))
        try:
            while True:
                taken = await upcoming
                # Counted here, in the loop's thread, never by the parsing thread.
                self.summary.read += taken.read
                for skipped in taken.skipped:
                    self.summary.skip(skipped.source_id, skipped.reason)
                if not taken.batch:
                    break
                upcoming = asyncio.create_task(asyncio.to_thread(self._take, source))
                await self._flush(taken.batch)
        finally:
            upcoming.cancel()
            await asyncio.gather(upcoming, return_exceptions=True)
        for children in self._waiting.values():
            for child in children:
                self.summary.skip(child.source_id, ORPHAN)
        self._waiting.clear()
        if self._progress is not None:
            self._progress.done(self.summary)
        return self.summary

    def _take(self, items: Iterator[Item]) -> _Taken:
        """The next batch of comments and what was skipped on the way; empty at the end."""
        taken = _Taken()
        for item in items:
            taken.read += 1
            if isinstance(item, Skipped):
                taken.skipped.append(item)
                continue
            taken.batch.append(item)
            if len(taken.batch) >= self._batch_size:
                break
        return taken

    async def _flush(self, batch: list[SourceComment]) -> None:
        async with self._sessionmaker.begin() as session:
            fresh = await self._fresh(session, batch)
            placed = await self._store(session, fresh) if fresh else {}
        if self._rescore and self._jobs is not None and placed:
            await self._jobs.enqueue([p.id for p in placed.values()])
        if self._progress is not None:
            self._progress.update(self.summary)
        # Replies that came before their parents can go in now.
        ready = [c for key in placed for c in self._waiting.pop(key, [])]
        if ready:
            await self._flush(ready)

    async def _imported(self, session: AsyncSession, ids: list[str]) -> set[str]:
        """Which of ``ids`` an earlier batch or run imported."""
        if session.bind.dialect.name == "postgresql":
            # One array parameter: a single prepared statement whatever the batch size.
            rows = await session.execute(_IMPORTED_ANY, {"source": self._source.value, "ids": ids})
            return {str(r) for r in rows.scalars()}
        done: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            done.update(
                (
                    await session.scalars(
                        select(ImportedComment.source_id).where(
                            ImportedComment.source == self._source.value,
                            ImportedComment.source_id.in_(ids[start : start + CHUNK]),
                        )
                    )
                ).all()
            )
        return done

    async def _fresh(
        self, session: AsyncSession, batch: Sequence[SourceComment]
    ) -> list[SourceComment]:
        """Drop what an earlier run imported, duplicates and empty comments."""
        done = await self._imported(session, [c.source_id for c in batch])
        fresh, seen = [], set()
        for comment in batch:
            if comment.source_id in done:
                self.summary.already += 1
            elif comment.source_id in seen:
                self.summary.skip(comment.source_id, "the same id appears twice in the export")
            elif not normalise_body(comment.body) and comment.status is not SourceStatus.deleted:
                self.summary.skip(comment.source_id, "empty body")
            else:
                seen.add(comment.source_id)
                fresh.append(comment)
        return fresh

    async def _store(self, session: AsyncSession, batch: list[SourceComment]) -> dict[str, _Placed]:
        await self._ensure_authors_and_articles(session, batch)
        known = await self._parents(session, batch)
        # Ids first (a gap is harmless), so replies can name parents of the same statement.
        ids = iter(await _allocate_ids(session, len(batch)))
        # Parents before replies (a reply may come first in the file), sorted out in memory.
        placed: dict[str, _Placed] = {}
        ordered: list[SourceComment] = []
        todo = batch
        while todo:
            later = []
            for comment in todo:
                parent = comment.parent_source_id
                if parent is None or parent in known:
                    spot = self._place(comment, known, next(ids))
                    known[comment.source_id] = placed[comment.source_id] = spot
                    ordered.append(comment)
                else:
                    later.append(comment)
            if len(later) == len(todo):
                break
            todo = later
        for comment in todo:
            self._waiting.setdefault(comment.parent_source_id or "", []).append(comment)
        if ordered:
            await self._insert(session, ordered, placed)
        return placed

    def _place(self, comment: SourceComment, known: dict[str, _Placed], new_id: int) -> _Placed:
        """Where a comment goes in its thread; past the depth cap it joins the deepest level."""
        if comment.parent_source_id is None:
            return _Placed(new_id, None, new_id, 0)
        parent = known[comment.parent_source_id]
        if parent.depth >= self._max_depth and parent.parent_id is not None:
            return _Placed(new_id, parent.parent_id, parent.root_id, parent.depth)
        return _Placed(new_id, parent.id, parent.root_id, parent.depth + 1)

    async def _ensure_authors_and_articles(
        self, session: AsyncSession, batch: Sequence[SourceComment]
    ) -> None:
        now = utcnow()
        users = {c.author_key: c.author_name for c in batch}
        await session.execute(
            insert_for(session, User).on_conflict_do_nothing(),
            [
                {
                    "id": key,
                    "name": name,
                    "status": "active",
                    "approved_count": 0,
                    "rejected_count": 0,
                    "reported_count": 0,
                    "created_at": now,
                    "last_seen_at": now,
                }
                for key, name in users.items()
            ],
        )
        articles = {c.article_id: c for c in batch}
        await session.execute(
            insert_for(session, Article).on_conflict_do_nothing(),
            [
                {
                    "id": key,
                    "title": (c.article_title or None) and c.article_title[:500],
                    "url": (c.article_url or None) and c.article_url[:2000],
                    "comments": "open",
                    "moderation": "post",
                    "comment_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for key, c in articles.items()
            ],
        )

    async def _parents(
        self, session: AsyncSession, batch: Sequence[SourceComment]
    ) -> dict[str, _Placed]:
        """Parents stored by earlier batches or runs, by source id."""
        inside = {c.source_id for c in batch}
        wanted = sorted({c.parent_source_id for c in batch if c.parent_source_id} - inside)
        known: dict[str, _Placed] = {}
        for start in range(0, len(wanted), CHUNK):
            rows = await session.execute(
                select(
                    ImportedComment.source_id,
                    Comment.id,
                    Comment.parent_id,
                    Comment.root_id,
                    Comment.depth,
                )
                .join(Comment, Comment.id == ImportedComment.comment_id)
                .where(
                    ImportedComment.source == self._source.value,
                    ImportedComment.source_id.in_(wanted[start : start + CHUNK]),
                )
            )
            for source_id, cid, parent_id, root_id, depth in rows.tuples():
                known[source_id] = _Placed(cid, parent_id, root_id or cid, depth)
        return known

    def _row(self, comment: SourceComment, spot: _Placed) -> dict[str, object]:
        status, visible = _status(comment.status, self._rescore)
        body = normalise_body(comment.body)
        decided = status is not CommentStatus.pending
        return {
            "id": spot.id,
            "article_id": comment.article_id,
            "parent_id": spot.parent_id,
            "root_id": None if spot.parent_id is None else spot.root_id,
            "depth": spot.depth,
            "author_id": comment.author_key,
            "body": body,
            "html": render_html(body),
            "status": status.value,
            "visible": visible,
            "published_at": comment.created_at if visible else None,
            "featured": False,
            "decision_reason": (
                f"imported from {self._source.value} ({comment.status.value})" if decided else None
            ),
            "decided_at": comment.created_at if decided else None,
            "reaction_count": 0,
            "reactions": {},
            "reply_count": 0,
            "report_count": 0,
            "created_at": comment.created_at,
            "updated_at": comment.created_at,
        }

    async def _insert(
        self, session: AsyncSession, ordered: Sequence[SourceComment], placed: dict[str, _Placed]
    ) -> None:
        """The comments (parents first), their source ids and counters: COPY on PostgreSQL
        (several times the rate of INSERTs), executemany elsewhere."""
        rows = [self._row(c, placed[c.source_id]) for c in ordered]
        now = utcnow()
        sources = [
            {
                "source": self._source.value,
                "source_id": c.source_id,
                "comment_id": placed[c.source_id].id,
                "imported_at": now,
            }
            for c in ordered
        ]
        if session.bind.dialect.name == "postgresql":
            await _copy(session, "comments", rows)
            await _copy(session, "imported_comments", sources)
        else:
            await session.execute(insert(Comment), rows)
            await session.execute(insert(ImportedComment), sources)
        await self._count(session, ordered, rows)
        self.summary.imported += len(ordered)

    async def _count(
        self,
        session: AsyncSession,
        ordered: Sequence[SourceComment],
        rows: Sequence[dict[str, Any]],
    ) -> None:
        """Counters for the new rows, as increments in key order (the order lockers use):
        visible replies on their parents, approved comments on articles, authors' history."""
        replies: Counter[int] = Counter()
        approved: Counter[str] = Counter()
        history: dict[str, list[int]] = {}
        for comment, row in zip(ordered, rows, strict=True):
            if row["visible"] and row["parent_id"] is not None:
                replies[int(row["parent_id"])] += 1
            counts = history.setdefault(comment.author_key, [0, 0])
            if row["status"] == CommentStatus.approved.value:
                approved[comment.article_id] += 1
                counts[0] += 1
            elif row["status"] == CommentStatus.rejected.value:
                counts[1] += 1
        comments, articles, users = (cast(Table, m.__table__) for m in (Comment, Article, User))
        if replies:
            await session.execute(
                update(comments)
                .where(comments.c.id == bindparam("k"))
                .values(reply_count=comments.c.reply_count + bindparam("d")),
                [{"k": k, "d": d} for k, d in sorted(replies.items())],
            )
        if approved:
            await session.execute(
                update(articles)
                .where(articles.c.id == bindparam("k"))
                .values(comment_count=articles.c.comment_count + bindparam("d")),
                [{"k": k, "d": d} for k, d in sorted(approved.items())],
            )
        changed = [(k, a, r) for k, (a, r) in sorted(history.items()) if a or r]
        if changed:
            await session.execute(
                update(users)
                .where(users.c.id == bindparam("k"))
                .values(
                    approved_count=users.c.approved_count + bindparam("a"),
                    rejected_count=users.c.rejected_count + bindparam("r"),
                ),
                [{"k": k, "a": a, "r": r} for k, a, r in changed],
            )


async def _copy(session: AsyncSession, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """COPY ``rows`` into ``table`` on the session's own connection (its transaction)."""
    columns = list(rows[0])
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    records = [
        tuple(orjson.dumps(v).decode() if isinstance(v, dict) else v for v in row.values())
        for row in rows
    ]
    await driver.copy_records_to_table(table, records=records, columns=columns)


async def _allocate_ids(session: AsyncSession, count: int) -> list[int]:
    """Ids for ``count`` new comments, so replies can name parents of the same statement."""
    if session.bind.dialect.name == "postgresql":
        rows = await session.execute(_NEXT_IDS, {"n": count})
        return [int(i) for i in rows.scalars()]
    # SQLite: one writer at a time, and this transaction is it.
    top = await session.scalar(select(func.max(Comment.id)))
    first = int(top or 0) + 1
    return list(range(first, first + count))


_IMPORTED_ANY = text(
    "SELECT source_id FROM imported_comments WHERE source = :source AND source_id = ANY(:ids)"
)
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('comments', 'id')) FROM generate_series(1, :n)"
)
__all__ = ["Importer"]
