"""Reading the review queues: counts, filtered pages ordered by risk or time, single items.

A queue is a predicate over comments: ``pending``, ``held``, ``rejected`` and ``approved`` are
statuses; ``reported`` is published comments with reports no moderator has dealt with yet
(``report_count`` is reset when a moderator decides the comment).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus, Report
from server.db import Sessionmaker, autocommit, iso_time
from server.errors import NotFound
from server.moderation.models import ModerationAction
from server.moderation.schemas import (
    Queue,
    QueueCounts,
    QueueCursor,
    QueueItem,
    QueueOrder,
    QueueQuery,
    ReportSummary,
)
from server.users.models import User

EXCERPT_CHARS = 200
NOTES_PER_COMMENT = 3
# Audit actions that do not decide a comment's status, so carry no rule.
_NOT_DECISIONS = ("feature", "unfeature")


def membership(queue: Queue) -> list[ColumnElement[bool]]:
    """The predicate that puts a comment in ``queue``."""
    if queue is Queue.reported:
        return [Comment.status == CommentStatus.approved.value, Comment.report_count > 0]
    return [Comment.status == queue.value]


def in_queue(comment: Comment, queue: Queue) -> bool:
    """The same predicate, for a loaded row."""
    if queue is Queue.reported:
        return comment.status == CommentStatus.approved and comment.report_count > 0
    return comment.status == queue.value


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Page statements are built once per shape (queue, order, filters used, cursor kind) with bound
# parameters, so a request neither rebuilds nor re-keys a 30-column SELECT.
_FILTERS: dict[str, Any] = {
    "article_id": lambda: Comment.article_id == bindparam("article_id"),
    "author_id": lambda: Comment.author_id == bindparam("author_id"),
    "since": lambda: Comment.created_at >= bindparam("since"),
    "until": lambda: Comment.created_at < bindparam("until"),
    "reason": lambda: Comment.decision_reason.ilike(bindparam("reason"), escape="\\"),
}


def _params(query: QueueQuery, cursor: QueueCursor | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": query.limit + 1}
    for name in _FILTERS:
        value = getattr(query, name)
        if value is not None:
            params[name] = _like(value) if name == "reason" else value
    if cursor is not None:
        params["c_id"] = cursor.id
        if cursor.r is not None:
            params["c_risk"] = cursor.r
    return params


def _cursor_kind(order: QueueOrder, cursor: QueueCursor | None) -> str | None:
    if cursor is None:
        return None
    if order is not QueueOrder.risk:
        return "id"
    return "risk" if cursor.r is not None else "unscored"


def _order(order: QueueOrder, cursor_kind: str | None) -> tuple[list[Any], list[Any]]:
    """ORDER BY and the keyset condition after the cursor.

    By risk, highest first; unscored comments (risk NULL) come first, as PostgreSQL orders a
    descending index scan, so ``ix_comments_status_risk`` serves the page without sorting.
    """
    c_id = bindparam("c_id", type_=Comment.id.type)
    if order is QueueOrder.newest:
        return [Comment.id.desc()], [Comment.id < c_id] if cursor_kind else []
    if order is QueueOrder.oldest:
        return [Comment.id.asc()], [Comment.id > c_id] if cursor_kind else []
    by_risk = [Comment.risk.desc().nulls_first(), Comment.id.desc()]
    if cursor_kind is None:
        return by_risk, []
    if cursor_kind == "unscored":
        return by_risk, [
            or_(and_(Comment.risk.is_(None), Comment.id < c_id), Comment.risk.is_not(None))
        ]
    position = tuple_(bindparam("c_risk", type_=Comment.risk.type), c_id)
    return by_risk, [Comment.risk.is_not(None), tuple_(Comment.risk, Comment.id) < position]


@functools.lru_cache(maxsize=512)
def _page_statement(
    queue: Queue, order: QueueOrder, filters: tuple[str, ...], cursor_kind: str | None
) -> Select[Any]:
    order_by, after = _order(order, cursor_kind)
    return (
        _rows()
        .where(*membership(queue), *(_FILTERS[name]() for name in filters), *after)
        .order_by(*order_by)
        .limit(bindparam("limit", type_=Integer))
    )


_parent = aliased(Comment, name="parent")


def _rule() -> ScalarSelect[Any]:
    """The rule recorded with the comment's latest decision (a correlated lookup)."""
    return (
        select(ModerationAction.details["rule"].as_string())
        .where(
            ModerationAction.comment_id == Comment.id,
            ModerationAction.action.not_in(_NOT_DECISIONS),
        )
        .order_by(ModerationAction.id.desc())
        .limit(1)
        .correlate(Comment)
        .scalar_subquery()
    )


def _rows() -> Select[Any]:
    """One row per item with its article, author, parent excerpt and rule: plain columns,
    no ORM objects, so a page costs one query and little Python."""
    return (
        select(
            Comment.id,
            Comment.status,
            Comment.body,
            Comment.html,
            Comment.featured,
            Comment.depth,
            Comment.root_id,
            Comment.parent_id,
            Comment.created_at,
            Comment.edited_at,
            Comment.published_at,
            Comment.decided_at,
            Comment.scores,
            Comment.risk,
            Comment.model,
            Comment.decision_reason,
            Comment.report_count,
            Article.id.label("article_id"),
            Article.title.label("article_title"),
            Article.url.label("article_url"),
            Article.comments.label("article_comments"),
            Article.moderation.label("article_moderation"),
            User.id.label("author_id"),
            User.name.label("author_name"),
            User.status.label("author_status"),
            User.suspended_until.label("author_suspended_until"),
            User.approved_count.label("author_approved"),
            User.rejected_count.label("author_rejected"),
            User.reported_count.label("author_reported"),
            _parent.author_id.label("parent_author_id"),
            _parent.status.label("parent_status"),
            func.substr(_parent.body, 1, EXCERPT_CHARS + 1).label("parent_body"),
            _rule().label("rule"),
        )
        .join(User, User.id == Comment.author_id)
        .join(Article, Article.id == Comment.article_id)
        .outerjoin(_parent, _parent.id == Comment.parent_id)
    )


async def list_queue(
    *, sessionmaker: Sessionmaker, queue: Queue, query: QueueQuery
) -> dict[str, Any]:
    """One page of ``queue`` with everything a moderator needs to decide each item
    (the JSON of ``QueuePage``)."""
    cursor = QueueCursor.decode(query.cursor, queue, query.order) if query.cursor else None
    params = _params(query, cursor)
    filters = tuple(name for name in _FILTERS if name in params)
    stmt = _page_statement(queue, query.order, filters, _cursor_kind(query.order, cursor))
    async with autocommit(sessionmaker)() as session:  # reads only: no BEGIN, no ROLLBACK
        rows = list((await session.execute(stmt, params)).all())
        page = rows[: query.limit]
        items = await build_items(session, page)
    next_cursor = None
    if len(rows) > query.limit and page:
        last = page[-1]
        next_cursor = QueueCursor(
            q=queue.value,
            o=query.order.value,
            id=last.id,
            r=last.risk if query.order is QueueOrder.risk else None,
        ).encode()
    return {
        "queue": queue.value,
        "order": query.order.value,
        "items": items,
        "next_cursor": next_cursor,
    }


_ITEM = _rows()


def item_rows() -> Select[Any]:
    """The statement behind queue items; ``build_items`` turns its rows into items."""
    return _rows()


def latest_rule() -> ScalarSelect[Any]:
    """The rule of a comment's latest decision, as a correlated subquery on ``Comment``."""
    return _rule()


async def get_item(*, sessionmaker: Sessionmaker, comment_id: int) -> QueueItem:
    """One comment as a queue item."""
    async with sessionmaker() as session:
        row = (
            await session.execute(_ITEM.where(Comment.id == bindparam("id")), {"id": comment_id})
        ).first()
        if row is None:
            raise NotFound("comment not found", code="comment_not_found")
        return QueueItem.model_validate((await build_items(session, [row]))[0])


async def queue_counts(*, sessionmaker: Sessionmaker, article_id: str | None) -> QueueCounts:
    """The size of every queue, in one round of queries."""
    scope = [Comment.article_id == article_id] if article_id is not None else []
    async with sessionmaker() as session:
        counts = await count_queues(session, scope)
    return QueueCounts(article_id=article_id, counts=counts)


async def count_queues(
    session: AsyncSession, scope: Sequence[ColumnElement[bool]] = ()
) -> dict[Queue, int]:
    rows = await session.execute(
        select(Comment.status, func.count()).where(*scope).group_by(Comment.status)
    )
    by_status = dict(rows.tuples().all())
    reported = await session.scalar(
        select(func.count()).select_from(Comment).where(*membership(Queue.reported), *scope)
    )
    counts: dict[Queue, int] = {
        q: int(by_status.get(q.value, 0)) for q in Queue if q is not Queue.reported
    }
    counts[Queue.reported] = int(reported or 0)
    return counts


# The queues that wait for a person; their sizes are what a console shows live.
WAITING = (Queue.pending, Queue.held, Queue.reported)


async def waiting_counts(sessionmaker: Sessionmaker) -> dict[str, int]:
    """Sizes of the queues waiting for a person (``queue.counts`` events)."""
    async with autocommit(sessionmaker)() as session:
        counts = await count_queues(session)
    return {queue.value: counts[queue] for queue in WAITING}


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    return body if len(body) <= limit else body[: limit - 1].rstrip() + "…"


async def build_items(session: AsyncSession, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """Queue items for ``rows``; open reports are fetched only for items that have some.

    Plain dicts in the shape of ``QueueItem`` (a page is on every moderator's hot path; the
    schemathesis run checks the shape against the model)."""
    reports = await _reports(session, [row.id for row in rows if row.report_count])
    return [_item(row, reports.get(row.id)) for row in rows]



_NO_REPORTS: dict[str, Any] = {"count": 0, "reasons": {}, "notes": []}


def _item(row: Row[Any], reports: ReportSummary | None) -> dict[str, Any]:
    parent = None
    if row.parent_id is not None and row.parent_status is not None:
        parent = {
            "id": row.parent_id,
            "author_id": row.parent_author_id,
            "status": row.parent_status,
            "excerpt": excerpt(row.parent_body),
        }
    return {
        "id": row.id,
        "status": row.status,
        "body": row.body,
        "html": row.html,
        "featured": row.featured,
        "depth": row.depth,
        "root_id": row.root_id,
        "created_at": iso_time(row.created_at),
        "edited_at": iso_time(row.edited_at),
        "published_at": iso_time(row.published_at),
        "decided_at": iso_time(row.decided_at),
        "article": {
            "id": row.article_id,
            "title": row.article_title,
            "url": row.article_url,
            "comments": row.article_comments,
            "moderation": row.article_moderation,
        },
        "author": {
            "id": row.author_id,
            "name": row.author_name,
            "status": row.author_status,
            "suspended_until": iso_time(row.author_suspended_until),
            "approved_count": row.author_approved,
            "rejected_count": row.author_rejected,
            "reported_count": row.author_reported,
        },
        "parent": parent,
        "scores": row.scores,
        "risk": row.risk,
        "model": row.model,
        "decision_reason": row.decision_reason,
        "rule": row.rule,
        "reports": reports.model_dump() if reports else dict(_NO_REPORTS),
    }


async def _reports(session: AsyncSession, ids: Sequence[int]) -> dict[int, ReportSummary]:
    """Open reports per comment: counts by reason and the latest notes."""
    if not ids:
        return {}
    open_reports = [Report.comment_id.in_(ids), Report.resolved.is_(False)]
    counts = await session.execute(
        select(Report.comment_id, Report.reason, func.count())
        .where(*open_reports)
        .group_by(Report.comment_id, Report.reason)
    )
    reasons: dict[int, dict[str, int]] = {}
    for comment_id, reason, n in counts.tuples():
        reasons.setdefault(comment_id, {})[reason] = int(n)
    if not reasons:
        return {}
    ranked = (
        select(
            Report.comment_id.label("cid"),
            Report.note.label("note"),
            func.row_number()
            .over(partition_by=Report.comment_id, order_by=Report.id.desc())
            .label("rank"),
        )
        .where(*open_reports, Report.note.is_not(None))
        .subquery()
    )
    notes: dict[int, list[str]] = {}
    for cid, note in (
        await session.execute(
            select(ranked.c.cid, ranked.c.note).where(ranked.c.rank <= NOTES_PER_COMMENT)
        )
    ).tuples():
        notes.setdefault(cid, []).append(note)
    return {
        cid: ReportSummary(count=sum(r.values()), reasons=r, notes=notes.get(cid, []))
        for cid, r in reasons.items()
    }
