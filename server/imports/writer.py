"""Storing parsed comments: batches of inserts, idempotent, threads rebuilt from source ids.

Each batch is one transaction: source ids already imported are dropped, authors and articles
are created on sight (existing ones are left as they are), replies are inserted after their
parents (a reply whose parent comes later in the file waits for it; one whose parent never
comes is skipped and reported), and each new comment's source id is stored with it. Counters
(article counts, reply counts, authors' history) are recomputed for what was touched at the end.
Imported comments keep the source's verdict and are not scored, unless ``rescore``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, text
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
        self._articles: set[str] = set()
        self._authors: set[str] = set()

    async def run(self, items: Iterable[Item]) -> Summary:
        """Import every item; return what was done and what was skipped, and why."""
        batch: list[SourceComment] = []
        for item in items:
            self.summary.read += 1
            if isinstance(item, Skipped):
                self.summary.skip(item.source_id, item.reason)
                continue
            batch.append(item)
            if len(batch) >= self._batch_size:
                await self._flush(batch)
                batch = []
        if batch:
            await self._flush(batch)
        for children in self._waiting.values():
            for child in children:
                self.summary.skip(child.source_id, ORPHAN)
        self._waiting.clear()
        await self._recount()
        if self._progress is not None:
            self._progress.done(self.summary)
        return self.summary

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

    async def _fresh(
        self, session: AsyncSession, batch: Sequence[SourceComment]
    ) -> list[SourceComment]:
        """Drop what an earlier run imported, duplicates and empty comments."""
        ids = [c.source_id for c in batch]
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
        placed: dict[str, _Placed] = {}
        todo = batch
        while todo:
            ready = [c for c in todo if c.parent_source_id is None or c.parent_source_id in known]
            if not ready:
                break
            new = await self._insert(session, ready, known)
            known.update(new)
            placed.update(new)
            todo = [c for c in todo if c.source_id not in new]
        for comment in todo:
            self._waiting.setdefault(comment.parent_source_id or "", []).append(comment)
        return placed

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
        self._authors.update(users)
        self._articles.update(articles)

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

    def _row(self, comment: SourceComment, known: dict[str, _Placed]) -> dict[str, object]:
        status, visible = _status(comment.status, self._rescore)
        parent_id, root_id, depth = None, None, 0
        if comment.parent_source_id is not None:
            parent = known[comment.parent_source_id]
            if parent.depth >= self._max_depth and parent.parent_id is not None:
                parent_id, root_id, depth = parent.parent_id, parent.root_id, parent.depth
            else:
                parent_id, root_id, depth = parent.id, parent.root_id, parent.depth + 1
        body = normalise_body(comment.body)
        decided = status is not CommentStatus.pending
        return {
            "article_id": comment.article_id,
            "parent_id": parent_id,
            "root_id": root_id,
            "depth": depth,
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
        self, session: AsyncSession, ready: Sequence[SourceComment], known: dict[str, _Placed]
    ) -> dict[str, _Placed]:
        rows = [self._row(c, known) for c in ready]
        result = await session.execute(
            insert(Comment).returning(Comment.id, sort_by_parameter_order=True), rows
        )
        ids = list(result.scalars())
        now = utcnow()
        await session.execute(
            insert(ImportedComment),
            [
                {
                    "source": self._source.value,
                    "source_id": c.source_id,
                    "comment_id": cid,
                    "imported_at": now,
                }
                for c, cid in zip(ready, ids, strict=True)
            ],
        )
        self.summary.imported += len(ids)
        placed = {}
        for comment, row, cid in zip(ready, rows, ids, strict=True):
            root = row["root_id"]
            placed[comment.source_id] = _Placed(
                cid,
                row["parent_id"],  # type: ignore[arg-type]
                root if isinstance(root, int) else cid,
                int(row["depth"]),  # type: ignore[call-overload]
            )
        return placed

    async def _recount(self) -> None:
        """Counters of everything touched, from the rows (exact whatever ran before)."""
        articles, authors = sorted(self._articles), sorted(self._authors)
        for start in range(0, len(articles), CHUNK):
            chunk = articles[start : start + CHUNK]
            async with self._sessionmaker.begin() as session:
                await session.execute(_RECOUNT_REPLIES, {"ids": chunk})
                await session.execute(_RECOUNT_ARTICLES, {"ids": chunk})
        for start in range(0, len(authors), CHUNK):
            async with self._sessionmaker.begin() as session:
                await session.execute(_RECOUNT_USERS, {"ids": authors[start : start + CHUNK]})


_RECOUNT_REPLIES = text(
    "UPDATE comments SET reply_count = (SELECT count(*) FROM comments AS r"
    " WHERE r.parent_id = comments.id AND r.visible) WHERE article_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_RECOUNT_ARTICLES = text(
    "UPDATE articles SET comment_count = (SELECT count(*) FROM comments AS c"
    " WHERE c.article_id = articles.id AND c.status = 'approved') WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_RECOUNT_USERS = text(
    "UPDATE users SET approved_count = (SELECT count(*) FROM comments AS c"
    " WHERE c.author_id = users.id AND c.status = 'approved'),"
    " rejected_count = (SELECT count(*) FROM comments AS c"
    " WHERE c.author_id = users.id AND c.status = 'rejected') WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))

__all__ = ["Importer"]
