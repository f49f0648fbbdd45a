"""Status transitions of a comment, the counters that follow them, their audit record and event.

Every change of a comment's status, by its author, the scoring worker or a moderator, goes
through ``transition`` (or ``transition_many`` for a batch) so that reply counts, article counts,
user history and the audit log stay exact, and a ``CommentEvent`` lands in the transaction's
outbox (``server.lifecycle``), published after commit. Featuring goes through ``feature``.
Callers lock the comment rows first (``lock_comment``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Table,
    bindparam,
    column,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TextualSelect

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus
from server.comments.schemas import public_comment
from server.db import Base
from server.errors import NotFound
from server.lifecycle.audit import audit_row, audit_values
from server.lifecycle.events import (
    AUTOCOMMIT_KEY,
    STORED_BATCHES_KEY,
    CommentEvent,
    EventKind,
    kind_of,
    record,
)
from server.lifecycle.models import OutboxBatch
from server.moderation.models import ModerationAction
from server.users.models import User
from server.webhooks.models import Webhook, WebhookDelivery
from server.webhooks.outbox import posted_deliveries_sql, posted_delivery_params


async def lock_comment(session: AsyncSession, comment_id: int) -> Comment | None:
    """Load a comment for update (a row lock on PostgreSQL; SQLite serialises writers)."""
    result = await session.execute(
        select(Comment)
        .where(Comment.id == comment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def lock_found(session: AsyncSession, comment_id: int, *, visible: bool = False) -> Comment:
    """``lock_comment``, or a 404 when there is no such comment (or, with ``visible``, when
    readers cannot see it)."""
    comment = await lock_comment(session, comment_id)
    if comment is None or (visible and not comment.visible):
        raise NotFound("comment not found", code="comment_not_found")
    return comment


async def lock_comments(session: AsyncSession, comment_ids: Sequence[int]) -> list[Comment]:
    """Load several comments for update, in id order so concurrent lockers cannot deadlock."""
    result = await session.execute(
        select(Comment)
        .where(Comment.id.in_(comment_ids))
        .order_by(Comment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


DECISIONS = frozenset({CommentStatus.approved, CommentStatus.held, CommentStatus.rejected})


def _visible_after(comment: Comment, status: CommentStatus) -> bool:
    if status is CommentStatus.approved:
        return True
    if status is CommentStatus.deleted:
        # An author's deletion leaves a placeholder where a published comment stood.
        return comment.visible
    return False


def _move(
    comment: Comment, status: CommentStatus, now: dt.datetime, reason: str | None
) -> tuple[CommentStatus, bool]:
    """Set the comment's own columns for ``status``; return its status and visibility before."""
    before = CommentStatus(comment.status)
    was_visible = comment.visible
    comment.status = status.value
    comment.visible = _visible_after(comment, status)
    comment.updated_at = now
    if status is CommentStatus.approved and comment.published_at is None:
        comment.published_at = now
    if status in DECISIONS:
        comment.decision_reason = reason
        comment.decided_at = now
    return before, was_visible


def _record(
    comment: Comment,
    before: CommentStatus,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    reason: str | None,
    details: dict[str, Any] | None,
) -> ModerationAction:
    return audit_row(
        actor=actor,
        action=action,
        comment=comment,
        before=before.value,
        after=comment.status,
        reason=reason,
        details=details,
        now=now,
    )


def comment_event(
    comment: Comment,
    kind: EventKind,
    *,
    actor: str,
    action: str,
    before: CommentStatus,
    was_visible: bool,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> CommentEvent:
    """The event of ``comment`` as it stands now (its public JSON if it just appeared)."""
    appeared = comment.visible and not was_visible
    return CommentEvent(
        kind=kind,
        comment_id=comment.id,
        article_id=comment.article_id,
        author_id=comment.author_id,
        actor=actor,
        action=action,
        before=before,
        after=CommentStatus(comment.status),
        was_visible=was_visible,
        visible=comment.visible,
        featured=comment.featured,
        reason=reason,
        public=public_comment(comment, None, viewer=None) if appeared else None,
        data=data or {},
        parent_id=comment.parent_id,
    )


def _event(
    session: AsyncSession,
    comment: Comment,
    before: CommentStatus,
    was_visible: bool,
    *,
    actor: str,
    action: str,
    reason: str | None,
) -> CommentEvent:
    kind = kind_of(CommentStatus(comment.status), action)
    event = comment_event(
        comment, kind, actor=actor, action=action, before=before,
        was_visible=was_visible, reason=reason,
    )
    record(session, event)
    return event


async def post(
    session: AsyncSession,
    *,
    article_id: str,
    author_id: str,
    body: str,
    html: str,
    parent_id: int | None,
    root_id: int | None,
    depth: int,
    idempotency_key: str | None,
    now: dt.datetime,
    comment_id: int | None = None,
    ip_hash: str | None = None,
) -> Comment:
    """Store a new comment as ``pending`` and record its ``posted`` event.

    One INSERT of the row, no ORM unit of work: the returned ``Comment`` is a detached snapshot
    of what was stored (for the answer and the event), not in the session. A new pending
    comment moves no counter and has no audit row: its first decision does. In a unit of work
    of ``EventRelay.statements()`` (autocommit) the comment and its outbox batch are stored by
    one statement, so ``comment_id`` must have been allocated beforehand."""
    comment = Comment(
        article_id=article_id,
        parent_id=parent_id,
        root_id=root_id,
        depth=depth,
        author_id=author_id,
        body=body,
        html=html,
        status=CommentStatus.pending.value,
        visible=False,
        featured=False,
        reactions={},
        reaction_count=0,
        reply_count=0,
        report_count=0,
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
        edited_at=None,
        ip_hash=ip_hash,
    )
    values = {name: getattr(comment, name) for name in _POSTED_COLUMNS}
    if session.info.get(AUTOCOMMIT_KEY):
        if comment_id is None:
            raise ValueError("posting in autocommit needs the comment id allocated beforehand")
        comment.id = comment_id
        event = _posted(session, comment)
        params = {
            **values,
            "id": comment_id,
            "events": [event.to_json()],
            "outbox_at": now,
            # No unit of work to run the relay's in-transaction hooks in: the statement adds
            # the ``comment.posted`` webhook deliveries itself (``webhooks.outbox``).
            **posted_delivery_params(event, comment, now),
        }
        batch = (await session.execute(_post_with_outbox(), params)).scalar_one()
        session.info.setdefault(STORED_BATCHES_KEY, []).append(batch)
        return comment
    table = _table(Comment)
    if comment_id is not None:
        values["id"] = comment_id
    comment.id = (await session.execute(insert(table).returning(table.c.id), values)).scalar_one()
    _posted(session, comment)
    return comment


def _posted(session: AsyncSession, comment: Comment) -> CommentEvent:
    event = comment_event(
        comment, EventKind.posted, actor=comment.author_id, action="post",
        before=CommentStatus.pending, was_visible=False,
    )
    record(session, event)
    return event


@functools.cache
def _post_with_outbox() -> TextualSelect:
    """PostgreSQL: the comment and its outbox batch in one statement (atomic in autocommit)."""
    comments, outbox, articles = _table(Comment), _table(OutboxBatch), _table(Article)
    deliveries, webhooks = _table(WebhookDelivery), _table(Webhook)
    columns = ("id", *_POSTED_COLUMNS)
    # Only our own table and column names are interpolated; every value is a bound parameter.
    # The row's foreign keys share-lock its parent and root, the article and the author when
    # the statement ends; a decision locks comments, articles, then users (FOR UPDATE). So the
    # comments (by id) and the article are share-locked first, by the ``lc`` and ``la`` reads
    # RETURNING refers to (so they run, before the foreign-key checks): the post never holds
    # its author's row while it waits for a decision that will want it.
    sql = (
        f"WITH lc AS (SELECT id FROM {comments.name}"  # noqa: S608
        " WHERE id IN (:parent_id, :root_id) ORDER BY id FOR KEY SHARE),"
        f" la AS (SELECT id FROM {articles.name} WHERE id = :article_id FOR KEY SHARE),"
        f" c AS (INSERT INTO {comments.name} ({', '.join(columns)})"
        f" VALUES ({', '.join(':' + c for c in columns)})),"
        f" w AS ({posted_deliveries_sql(deliveries.name, webhooks.name)})"
        f" INSERT INTO {outbox.name} (events, created_at) VALUES (:events, :outbox_at)"
        " RETURNING id, (SELECT count(*) FROM lc) + (SELECT count(*) FROM la) AS locked"
    )
    return (
        text(sql)
        .bindparams(
            *(bindparam(c, type_=comments.c[c].type) for c in columns),
            bindparam("events", type_=outbox.c.events.type),
            bindparam("outbox_at", type_=outbox.c.created_at.type),
            bindparam("wh_type", type_=deliveries.c.event_type.type),
            bindparam("wh_payload", type_=deliveries.c.payload.type),
            bindparam("wh_wanted", type_=webhooks.c.events.type),
        )
        .columns(column("id", BigInteger()), column("locked", BigInteger()))
    )


_POSTED_COLUMNS = (
    "article_id",
    "parent_id",
    "root_id",
    "depth",
    "author_id",
    "body",
    "html",
    "status",
    "visible",
    "featured",
    "reactions",
    "reaction_count",
    "reply_count",
    "report_count",
    "idempotency_key",
    "created_at",
    "updated_at",
    "ip_hash",
)


def feature(
    session: AsyncSession,
    comment: Comment,
    *,
    on: bool,
    actor: str,
    now: dt.datetime,
    reason: str | None = None,
) -> CommentEvent:
    """Feature (or unfeature) a locked, published comment: the column, audit row and event."""
    comment.featured, comment.updated_at = on, now
    action = "feature" if on else "unfeature"
    status = CommentStatus(comment.status)
    details = {"featured": {"before": not on, "after": on}}
    row = _record(
        comment, status, actor=actor, action=action, now=now, reason=reason, details=details
    )
    session.add(row)
    kind = EventKind.featured if on else EventKind.unfeatured
    event = comment_event(
        comment, kind, actor=actor, action=action, before=status,
        was_visible=comment.visible, reason=reason,
    )
    record(session, event)
    return event


async def transition(
    session: AsyncSession,
    comment: Comment,
    status: CommentStatus,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> CommentEvent:
    """Move ``comment`` to ``status``, keep every counter exact, write the audit row, and record
    the event in the transaction's outbox (returned)."""
    before, was_visible = _move(comment, status, now, reason)
    await _adjust_counters(session, comment, before, status, was_visible)
    row = _record(
        comment, before, actor=actor, action=action, now=now, reason=reason, details=details
    )
    session.add(row)
    return _event(session, comment, before, was_visible, actor=actor, action=action, reason=reason)


@dataclass(frozen=True, slots=True)
class Move:
    """One comment of a ``transition_many``: where it goes, and why."""

    comment: Comment
    status: CommentStatus
    reason: str | None = None
    details: dict[str, Any] | None = None


@dataclass(slots=True)
class _Deltas:
    """Counter changes summed per row, applied with one statement per table."""

    replies: dict[int, int] = field(default_factory=dict)
    approved: dict[str, int] = field(default_factory=dict)
    user_approved: dict[str, int] = field(default_factory=dict)
    user_rejected: dict[str, int] = field(default_factory=dict)

    def add(
        self, comment: Comment, before: CommentStatus, after: CommentStatus, was_visible: bool
    ) -> None:
        visible = int(comment.visible) - int(was_visible)
        if visible and comment.parent_id is not None:
            _bump(self.replies, comment.parent_id, visible)
        approved = int(after is CommentStatus.approved) - int(before is CommentStatus.approved)
        rejected = int(after is CommentStatus.rejected) - int(before is CommentStatus.rejected)
        _bump(self.approved, comment.article_id, approved)
        _bump(self.user_approved, comment.author_id, approved)
        _bump(self.user_rejected, comment.author_id, rejected)

    async def apply(self, session: AsyncSession) -> None:
        """One executemany per table, rows in key order (the order concurrent lockers use)."""
        comments, articles, users = (_table(m) for m in (Comment, Article, User))
        replies = [{"k": k, "d": d} for k, d in sorted(self.replies.items()) if d]
        if replies:
            await session.execute(
                update(comments)
                .where(comments.c.id == bindparam("k"))
                .values(reply_count=comments.c.reply_count + bindparam("d")),
                replies,
            )
        counts = [{"k": k, "d": d} for k, d in sorted(self.approved.items()) if d]
        if counts:
            await session.execute(
                update(articles)
                .where(articles.c.id == bindparam("k"))
                .values(comment_count=articles.c.comment_count + bindparam("d")),
                counts,
            )
        history = [
            {"k": k, "a": self.user_approved.get(k, 0), "r": self.user_rejected.get(k, 0)}
            for k in sorted(self.user_approved.keys() | self.user_rejected.keys())
        ]
        history = [row for row in history if row["a"] or row["r"]]
        if history:
            await session.execute(
                update(users)
                .where(users.c.id == bindparam("k"))
                .values(
                    approved_count=users.c.approved_count + bindparam("a"),
                    rejected_count=users.c.rejected_count + bindparam("r"),
                ),
                history,
            )


def _table(model: type[Base]) -> Table:
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - every model here maps a Table
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def _bump(counts: dict[Any, int], key: Any, delta: int) -> None:
    if delta:
        counts[key] = counts.get(key, 0) + delta


# The columns a decision writes (the lifecycle's own, plus what a moderator's decision resets:
# its reports, its featured flag), written by ``transition_many`` in one statement.
_DECIDED_COLUMNS = (
    "status",
    "visible",
    "updated_at",
    "published_at",
    "decision_reason",
    "decided_at",
    "featured",
    "report_count",
)


async def transition_many(
    session: AsyncSession,
    moves: Sequence[Move],
    *,
    actor: str,
    action: str,
    now: dt.datetime,
) -> list[CommentEvent]:
    """``transition`` for many locked comments at once: the same columns, the same audit rows,
    the same events and exactly the same counters, as set-based statements — one UPDATE of the
    moved comments (``_DECIDED_COLUMNS``, taken from the objects, so a caller's own change to
    ``featured`` or ``report_count`` goes with it), one INSERT of their audit rows and one
    UPDATE per counter table, whatever the number of comments. No ORM flush is involved: the
    objects are left clean, holding what the database now holds.

    Callers lock every row these statements touch first (``lock_for_decisions``), so their
    order cannot deadlock. Counters are updated in the database only: Article and User objects
    already loaded in the session keep their old counts (load them with ``populate_existing``)."""
    if not moves:
        return []
    deltas = _Deltas()
    audit: list[dict[str, Any]] = []
    events = []
    moved = {move.comment.id: move.comment for move in moves}
    for move in moves:
        comment = move.comment
        before, was_visible = _move(comment, move.status, now, move.reason)
        deltas.add(comment, before, move.status, was_visible)
        events.append(
            _event(
                session, comment, before, was_visible,
                actor=actor, action=action, reason=move.reason,
            )
        )
        audit.append(
            audit_values(
                actor=actor,
                action=action,
                comment=comment,
                before=before.value,
                after=comment.status,
                reason=move.reason,
                details=move.details,
                now=now,
            )
        )
    for parent_id, delta in deltas.replies.items():
        parent = moved.get(parent_id)
        if parent is not None:  # keep a moved parent's loaded count true as well
            parent.reply_count += delta
    await _write_decided(session, sorted(moved.values(), key=lambda c: c.id))
    await session.execute(insert(_table(ModerationAction)), audit)
    await deltas.apply(session)
    return events


async def _write_decided(session: AsyncSession, comments: Sequence[Comment]) -> None:
    """One UPDATE (executed for every row in one pipelined batch) of the decided columns.

    The objects leave the session (they keep their values, which are now what the database
    holds), so the session will not flush them again, nor a moved parent's ``reply_count``
    that ``deltas.apply`` writes."""
    table = _table(Comment)
    rows = []
    for comment in comments:
        rows.append({"k": comment.id, **{f"v_{n}": getattr(comment, n) for n in _DECIDED_COLUMNS}})
        session.expunge(comment)
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("k"))
        .values({name: bindparam(f"v_{name}") for name in _DECIDED_COLUMNS}),
        rows,
    )


async def _adjust_counters(
    session: AsyncSession,
    comment: Comment,
    before: CommentStatus,
    after: CommentStatus,
    was_visible: bool,
) -> None:
    visible_delta = int(comment.visible) - int(was_visible)
    if visible_delta and comment.parent_id is not None:
        await session.execute(
            update(Comment)
            .where(Comment.id == comment.parent_id)
            .values(reply_count=Comment.reply_count + visible_delta)
        )
    approved_delta = int(after is CommentStatus.approved) - int(before is CommentStatus.approved)
    if approved_delta:
        await session.execute(
            update(Article)
            .where(Article.id == comment.article_id)
            .values(comment_count=Article.comment_count + approved_delta)
        )
    rejected_delta = int(after is CommentStatus.rejected) - int(before is CommentStatus.rejected)
    if approved_delta or rejected_delta:
        await session.execute(
            update(User)
            .where(User.id == comment.author_id)
            .values(
                approved_count=User.approved_count + approved_delta,
                rejected_count=User.rejected_count + rejected_delta,
            )
        )
