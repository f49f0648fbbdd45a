"""The readers' comment operations. Each opens its own unit of work on the sessionmaker."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    bindparam,
    column,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article
from server.articles.service import check_open, get_or_create_article, new_article_fields
from server.auth import Principal
from server.comments import reads
from server.comments.models import Comment, CommentStatus, Reaction, Report, ReportReason
from server.comments.nudges import NUDGED_REVISIONS, use_nudge
from server.comments.reads import Sort
from server.comments.schemas import Cursor, ReactionCounts, ReportCreated, public_comment
from server.comments.text import normalise_body, render_html
from server.db import Sessionmaker, UTCDateTime, autocommit, utcnow
from server.dialect import insert_for
from server.errors import Conflict, Forbidden, NotFound, Unavailable, Unprocessable
from server.jobs.base import JobQueue
from server.lifecycle.events import AUTOCOMMIT_KEY, EventKind, record
from server.lifecycle.relay import EventRelay
from server.lifecycle.transitions import comment_event, lock_found, post, transition
from server.moderation.policy.signals import address_hash
from server.moderation.policy.store import get_policy_config
from server.moderation.review.locking import retry_deadlocks, retrying_deadlocks
from server.settings import Settings
from server.users.models import User
from server.users.service import check_may_write, ensure_user

log = logging.getLogger(__name__)

NONE: frozenset[str] = frozenset()
READ_REACTION_COUNT = 12  # position of reaction_count in reads' rows


@dataclass(frozen=True, slots=True)
class Posted:
    comment: dict[str, Any]
    replayed: bool


def clean_body(raw: str, settings: Settings) -> str:
    body = normalise_body(raw)
    if not body:
        raise Unprocessable("body must not be empty", code="body_empty")
    if len(body) > settings.body_max_chars:
        raise Unprocessable(
            f"body must be at most {settings.body_max_chars} characters", code="body_too_long"
        )
    return body


# Seconds a client is asked to wait when the in-process scorer is behind.
BACKLOG_RETRY_AFTER = 2


def _window(settings: Settings) -> dt.timedelta:
    """How long after posting its author may edit a comment (``editable_until``)."""
    return dt.timedelta(seconds=settings.edit_window_seconds)


async def check_backlog(jobs: JobQueue, settings: Settings) -> None:
    """Push back (503, Retry-After) while the in-process scorer is ``scoring_backlog_max``
    comments behind. Only the in-process queue is bounded so: with Redis, separate worker
    processes scale out and the stream holds the backlog (and counting it costs a round trip)."""
    if settings.redis_url is not None or not settings.scoring_backlog_max:
        return
    if await jobs.pending_count() >= settings.scoring_backlog_max:
        raise Unavailable(
            "comments are arriving faster than they can be checked; retry shortly",
            code="scoring_backlog",
            headers={"Retry-After": str(BACKLOG_RETRY_AFTER)},
        )


async def enqueue_scoring(jobs: JobQueue, comment_ids: Sequence[int]) -> None:
    """Hand comments to the scorers. The rows are committed: if this fails the sweeper retries."""
    try:
        await jobs.enqueue(comment_ids)
    except Exception:
        log.warning(
            "could not enqueue %s for scoring; the sweeper will", comment_ids, exc_info=True
        )


@dataclass(frozen=True, slots=True)
class _Parent:
    """What a reply needs to know of the comment it answers."""

    id: int
    article_id: str
    status: str
    depth: int
    parent_id: int | None
    root_id: int | None


@dataclass(frozen=True, slots=True)
class _Facts:
    """Everything a post is checked against, read in the post's transaction."""

    user: User
    article: Article
    parent: _Parent | None
    existing_id: int | None  # an earlier comment by the caller with the same Idempotency-Key
    new_id: int | None = None  # the id the new comment will take (PostgreSQL)


def _attach_point(
    parent: _Parent | None, parent_id: int, article_id: str, max_depth: int
) -> tuple[int, int, int]:
    """(parent_id, root_id, depth) for a reply; past the cap it joins the deepest level."""
    if parent is None:
        raise NotFound("parent comment not found", code="parent_not_found")
    if parent.article_id != article_id:
        raise Unprocessable("parent comment belongs to another article", code="invalid_parent")
    if parent.status != CommentStatus.approved:
        raise Unprocessable(
            "replies are only possible to published comments", code="invalid_parent"
        )
    root = parent.root_id if parent.root_id is not None else parent.id
    if parent.depth >= max_depth and parent.parent_id is not None:
        return parent.parent_id, root, parent.depth
    return parent.id, root, parent.depth + 1


# PostgreSQL: the caller upserted (the host site owns names), the article read or created with
# the default settings, the parent and an earlier comment with the same Idempotency-Key, all in
# one round trip. (A concurrent creation of the same article leaves ``comments`` NULL: the
# article is then read again by ``get_or_create_article``.)
_PREPARE_POST = (
    text(
        """
WITH u AS (
  INSERT INTO users (id, name, status, approved_count, rejected_count, reported_count,
                     created_at, last_seen_at)
  VALUES (:uid, :name, 'active', 0, 0, 0, :now, :now)
  ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at
  RETURNING id, name, status, suspended_until
), created AS (
  INSERT INTO articles (id, comments, moderation, comment_count, title, url, created_at,
                        updated_at)
  SELECT :aid, 'open', 'post', 0, :title, :url, :now, :now
  WHERE NOT EXISTS (SELECT 1 FROM articles WHERE id = :aid)
  ON CONFLICT (id) DO NOTHING
  RETURNING comments, moderation, closes_at
), article AS (
  SELECT comments, moderation, closes_at FROM created
  UNION ALL
  SELECT comments, moderation, closes_at FROM articles WHERE id = :aid
  LIMIT 1
)
SELECT u.name, u.status, u.suspended_until, a.comments, a.moderation, a.closes_at,
       p.id, p.article_id, p.status, p.depth, p.parent_id, p.root_id, e.id,
       nextval(pg_get_serial_sequence('comments', 'id'))
FROM u
LEFT JOIN article a ON true
LEFT JOIN comments p ON p.id = :pid
LEFT JOIN comments e ON e.author_id = :uid AND e.idempotency_key = :key
"""
    )
    .bindparams(
        bindparam("now", type_=UTCDateTime()),
        bindparam("uid", type_=String()),
        bindparam("name", type_=String()),
        bindparam("aid", type_=String()),
        bindparam("pid", type_=BigInteger()),
        bindparam("key", type_=String()),
        bindparam("title", type_=String()),
        bindparam("url", type_=String()),
    )
    .columns(
        column("name", String()),
        column("status", String()),
        column("suspended_until", UTCDateTime()),
        column("comments", String()),
        column("moderation", String()),
        column("closes_at", UTCDateTime()),
        column("p_id", BigInteger()),
        column("p_article_id", String()),
        column("p_status", String()),
        column("p_depth", Integer()),
        column("p_parent_id", BigInteger()),
        column("p_root_id", BigInteger()),
        column("e_id", BigInteger()),
        column("new_id", BigInteger()),
    )
)


async def _prepare(
    session: AsyncSession,
    principal: Principal,
    article_id: str,
    parent_id: int | None,
    key: str | None,
    now: dt.datetime,
    created: tuple[str | None, str | None] = (None, None),
) -> _Facts:
    """``created`` is the title and URL of the article if this post creates it."""
    if session.bind.dialect.name != "postgresql":
        return await _prepare_orm(session, principal, article_id, parent_id, key, now, created)
    params = {
        "title": created[0],
        "url": created[1],
        "uid": principal.sub,
        "name": principal.name,
        "now": now,
        "aid": article_id,
        "pid": parent_id,
        "key": key,
    }
    row = (await session.execute(_PREPARE_POST, params)).one()
    user = User(id=principal.sub, name=row[0], status=row[1], suspended_until=row[2])
    if row[3] is None:
        article = await get_or_create_article(session, article_id)
    else:
        article = Article(id=article_id, comments=row[3], moderation=row[4], closes_at=row[5])
    parent = _Parent(*row[6:12]) if row[6] is not None else None
    return _Facts(user, article, parent, row[12], row[13])


async def _prepare_orm(
    session: AsyncSession,
    principal: Principal,
    article_id: str,
    parent_id: int | None,
    key: str | None,
    now: dt.datetime,
    created: tuple[str | None, str | None] = (None, None),
) -> _Facts:
    """The same facts, one statement each (SQLite: no INSERT inside a WITH)."""
    user = await ensure_user(session, principal, now)
    existing_id = None
    if key is not None:
        mine = (Comment.author_id == principal.sub, Comment.idempotency_key == key)
        existing_id = await session.scalar(select(Comment.id).where(*mine))
    article = await get_or_create_article(session, article_id, title=created[0], url=created[1])
    parent = None
    if parent_id is not None:
        found = await session.get(Comment, parent_id)
        if found is not None:
            parent = _Parent(
                found.id, found.article_id, found.status, found.depth, found.parent_id,
                found.root_id,
            )
    return _Facts(user, article, parent, existing_id)


async def _replay(
    session: AsyncSession,
    author: str,
    key: str,
    article_id: str,
    body: str,
    parent_id: int | None,
) -> Comment | None:
    existing = (
        await session.execute(
            select(Comment).where(Comment.author_id == author, Comment.idempotency_key == key)
        )
    ).scalar_one_or_none()
    if existing is None:
        return None
    same = existing.article_id == article_id and existing.body == body
    if not same or (
        parent_id is not None and existing.parent_id != parent_id and existing.depth == 0
    ):
        raise Unprocessable(
            "this Idempotency-Key was used for a different comment", code="idempotency_key_reused"
        )
    return existing


async def post_comment(
    *,
    sessionmaker: Sessionmaker,
    events: EventRelay,
    jobs: JobQueue,
    settings: Settings,
    principal: Principal,
    article_id: str,
    body: str,
    parent_id: int | None,
    idempotency_key: str | None,
    address: str | None = None,
    article_title: str | None = None,
    article_url: str | None = None,
) -> Posted:
    """Store a comment as ``pending`` and enqueue it for scoring once committed.

    ``address`` (the poster's IP) is kept only as a keyed hash, for the spam burst rule.
    ``article_title`` and ``article_url`` name an article this post creates (never an existing
    one; the URL only on an embedding site: ``new_article_fields``).
    """
    body = clean_body(body, settings)
    await check_backlog(jobs, settings)
    window = _window(settings)
    now = utcnow()

    async def store() -> Posted:
        # Each statement commits by itself: the first only upserts the caller and the article
        # (harmless if the post is then refused), the second stores the comment.
        async with events.statements() as session:
            if not session.info.get(AUTOCOMMIT_KEY) and _on_postgresql(session):
                # One transaction (through PgBouncer): the first statement's upsert holds the
                # author's row until the commit, so what the decisions lock before authors is
                # share-locked first (in autocommit, transitions.post's statement does it).
                await _lock_like_decisions(session, article_id, parent_id)
            created = new_article_fields(article_title, article_url, settings.cors_origins)
            facts = await _prepare(
                session, principal, article_id, parent_id, idempotency_key, now, created
            )
            user = facts.user
            if idempotency_key is not None and facts.existing_id is not None:
                existing = await _replay(
                    session, principal.sub, idempotency_key, article_id, body, parent_id
                )
                if existing is not None:
                    mine = public_comment(existing, user.name, viewer=user.id, edit_window=window)
                    return Posted(mine, True)
            check_may_write(user, now)
            check_open(facts.article, now)
            parent, root, depth = None, None, 0
            if parent_id is not None:
                parent, root, depth = _attach_point(
                    facts.parent, parent_id, article_id, settings.max_depth
                )
            comment = await post(
                session,
                article_id=article_id,
                author_id=user.id,
                body=body,
                html=render_html(body),
                parent_id=parent,
                root_id=root,
                depth=depth,
                idempotency_key=idempotency_key,
                now=now,
                comment_id=facts.new_id,
                ip_hash=address_hash(address, settings.jwt_secret) if address else None,
            )
            out = public_comment(comment, user.name, viewer=user.id, edit_window=window)
            return Posted(out, False)

    try:
        # Locks are taken in the decisions' order (transitions.post), so a deadlock victim
        # here is rare, but one must be retried, not answered with a 500: nothing of it was
        # committed but the first statement's upserts, which run again harmlessly.
        posted = await retry_deadlocks(store)
    except IntegrityError:
        if idempotency_key is None:
            raise
        # A concurrent retry with the same key won the race: answer with its comment.
        async with sessionmaker.begin() as session:
            existing = await _replay(
                session, principal.sub, idempotency_key, article_id, body, parent_id
            )
            if existing is None:
                raise
            return Posted(public_comment(
                existing, principal.name, viewer=principal.sub, edit_window=_window(settings)
            ), True)
    if not posted.replayed:
        await enqueue_scoring(jobs, [posted.comment["id"]])
    return posted



def _on_postgresql(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"


async def _lock_like_decisions(
    session: AsyncSession, article_id: str, parent_id: int | None
) -> None:
    """Share-lock what the new row's foreign keys will point at before the author's row.

    Decisions lock comments, then articles, then users (``moderation.review.locking``); the
    INSERT's foreign-key checks share-lock the parent (or, past the depth cap, its parent) and
    the article anyway. ``FOR KEY SHARE`` waits only for ``FOR UPDATE`` holders (decisions)."""
    if parent_id is not None:
        grandparent = select(Comment.parent_id).where(Comment.id == parent_id).scalar_subquery()
        await session.execute(
            select(Comment.id)
            .where((Comment.id == parent_id) | (Comment.id == grandparent))
            .order_by(Comment.id)
            .with_for_update(read=True, key_share=True)
        )
    await session.execute(
        select(Article.id)
        .where(Article.id == article_id)
        .with_for_update(read=True, key_share=True)
    )


async def _my_reactions(
    session: AsyncSession, viewer: str | None, comment_ids: Sequence[int]
) -> dict[int, frozenset[str]]:
    if viewer is None or not comment_ids:
        return {}
    rows = await session.execute(
        select(Reaction.comment_id, Reaction.kind).where(
            Reaction.user_id == viewer, Reaction.comment_id.in_(comment_ids)
        )
    )
    mine: dict[int, set[str]] = {}
    for comment_id, kind in rows:
        mine.setdefault(comment_id, set()).add(kind)
    return {k: frozenset(v) for k, v in mine.items()}


def _next_cursor(sort: Sort, page: Sequence[tuple[Any, ...]], limit: int, more: bool) -> str | None:
    if not more or not page:
        return None
    last = page[min(limit, len(page)) - 1]
    rc = last[READ_REACTION_COUNT] if sort is Sort.top else None
    return Cursor(s=sort.value, id=last[0], rc=rc).encode()


async def list_thread(
    *,
    sessionmaker: Sessionmaker,
    settings: Settings,
    article_id: str,
    sort: Sort,
    cursor: str | None,
    limit: int | None,
    viewer: str | None,
) -> dict[str, Any]:
    """A page of published top-level comments with their first replies.

    The first page also carries the viewer's own comments still awaiting review.
    """
    size = limit or settings.page_size
    position = Cursor.decode(cursor, sort.value) if cursor else None
    after = reads.Position(position.id, position.rc) if position else None
    async with autocommit(sessionmaker)() as session:  # reads only: no BEGIN, no ROLLBACK
        thread = await reads.thread_page(
            session, article_id, sort, after, size + 1, settings.first_replies
        )
        if thread is None:
            rows = await reads.top_level_page(session, article_id, sort, after, size + 1)
            replies = await reads.first_replies(
                session, [row[0] for row in rows[:size]], settings.first_replies
            )
            count = await _article_count(session, article_id)
        else:
            rows, replies, count = thread.page, thread.replies, thread.count
        page = rows[:size]
        parents = [row[0] for row in page]
        awaiting = [] if position else await reads.awaiting_review(session, article_id, viewer)
        ids = parents + [r[0] for p in parents for r in replies.get(p, ())]
        mine = await _my_reactions(session, viewer, ids)
    window = _window(settings)
    items = []
    for row in page:
        item = reads.render(
            row, viewer=viewer, my_reactions=mine.get(row[0], NONE), edit_window=window
        )
        item["replies"] = [
            reads.render(
                r, viewer=viewer, my_reactions=mine.get(r[0], NONE), edit_window=window
            )
            for r in replies.get(row[0], [])
        ]
        items.append(item)
    return {
        "article_id": article_id,
        "sort": sort.value,
        "comment_count": count,
        "items": items,
        "awaiting_review": [
            reads.render(r, viewer=viewer, edit_window=window) for r in awaiting
        ],
        "next_cursor": _next_cursor(sort, rows, size, len(rows) > size),
    }


async def _article_count(session: AsyncSession, article_id: str) -> int:
    from server.articles.models import Article

    count = await session.scalar(select(Article.comment_count).where(Article.id == article_id))
    return int(count or 0)


async def list_replies(
    *,
    sessionmaker: Sessionmaker,
    settings: Settings,
    comment_id: int,
    cursor: str | None,
    limit: int | None,
    viewer: str | None,
) -> dict[str, Any]:
    """Published direct replies of a published comment, oldest first."""
    size = limit or settings.page_size
    position = Cursor.decode(cursor, "replies") if cursor else None
    async with sessionmaker() as session:
        parent = await session.get(Comment, comment_id)
        if parent is None or not parent.visible:
            raise NotFound("comment not found", code="comment_not_found")
        rows = await reads.replies_page(
            session, comment_id, position.id if position else None, size + 1
        )
        page = rows[:size]
        mine = await _my_reactions(session, viewer, [row[0] for row in page])
    more = len(rows) > size and page
    window = _window(settings)
    return {
        "parent_id": comment_id,
        "items": [
            reads.render(
                row, viewer=viewer, my_reactions=mine.get(row[0], NONE), edit_window=window
            )
            for row in page
        ],
        "next_cursor": Cursor(s="replies", id=page[-1][0]).encode() if more else None,
    }


async def _own_comment(session: AsyncSession, comment_id: int, principal: Principal) -> Comment:
    comment = await lock_found(session, comment_id)
    if comment.author_id != principal.sub:
        if comment.visible:
            raise Forbidden("only the author may change this comment", code="not_author")
        raise NotFound("comment not found", code="comment_not_found")
    if comment.status == CommentStatus.deleted:
        raise Conflict("this comment was deleted", code="comment_deleted")
    return comment


@retrying_deadlocks
async def edit_comment(
    *,
    events: EventRelay,
    jobs: JobQueue,
    settings: Settings,
    principal: Principal,
    comment_id: int,
    body: str,
) -> dict[str, Any]:
    """Change a comment's text within the edit window; it re-enters moderation."""
    body = clean_body(body, settings)
    now = utcnow()
    async with events.transaction() as session:
        user = await ensure_user(session, principal, now)
        check_may_write(user, now)
        comment = await _own_comment(session, comment_id, principal)
        if comment.status == CommentStatus.rejected:
            raise Conflict("a rejected comment cannot be edited", code="comment_rejected")
        if now - comment.created_at > dt.timedelta(seconds=settings.edit_window_seconds):
            raise Forbidden(
                "the edit window for this comment has closed", code="edit_window_closed"
            )
        if body == comment.body:
            return public_comment(
                comment, user.name, viewer=user.id, edit_window=_window(settings)
            )
        revising = use_nudge(comment)
        comment.body, comment.html, comment.edited_at = body, render_html(body), now
        comment.scores = comment.risk = comment.model = comment.decision_reason = None
        await transition(
            session,
            comment,
            CommentStatus.pending,
            actor=user.id,
            action="edit",
            now=now,
            reason="edited by its author; awaiting moderation",
            details={"nudge": "revised"} if revising else None,
        )
        out = public_comment(comment, user.name, viewer=user.id, edit_window=_window(settings))
    if revising:
        NUDGED_REVISIONS.inc()
    await enqueue_scoring(jobs, [comment_id])
    return out


@retrying_deadlocks
async def delete_comment(
    *,
    events: EventRelay,
    principal: Principal,
    comment_id: int,
) -> str:
    """The author removes a comment (a published one leaves a placeholder in its thread).

    Returns the comment's article id.
    """
    now = utcnow()
    async with events.transaction() as session:
        await ensure_user(session, principal, now)
        comment = await _own_comment(session, comment_id, principal)
        await transition(
            session,
            comment,
            CommentStatus.deleted,
            actor=principal.sub,
            action="delete",
            now=now,
            reason="deleted by its author",
        )
        article_id = comment.article_id
    return article_id


async def _published_for_update(session: AsyncSession, comment_id: int) -> Comment:
    comment = await lock_found(session, comment_id, visible=True)
    if comment.status != CommentStatus.approved:
        raise Conflict("this comment no longer takes reactions", code="comment_deleted")
    return comment


@retrying_deadlocks
async def react(
    *,
    events: EventRelay,
    principal: Principal,
    comment_id: int,
    kind: str,
    on: bool,
) -> ReactionCounts:
    """Add or remove the caller's reaction (idempotent); counts stay exact under concurrency."""
    now = utcnow()
    async with events.transaction() as session:
        user = await ensure_user(session, principal, now)
        check_may_write(user, now)
        # The row lock serialises reactors of one comment, so the recount below is exact.
        comment = await _published_for_update(session, comment_id)
        if on:
            stmt = insert_for(session, Reaction).values(
                comment_id=comment_id, user_id=user.id, kind=kind, created_at=now
            )
            result = await session.execute(stmt.on_conflict_do_nothing())
        else:
            result = await session.execute(
                delete(Reaction).where(
                    Reaction.comment_id == comment_id,
                    Reaction.user_id == user.id,
                    Reaction.kind == kind,
                )
            )
        changed = bool(getattr(result, "rowcount", 0))
        if changed:
            rows = await session.execute(
                select(Reaction.kind, func.count())
                .where(Reaction.comment_id == comment_id)
                .group_by(Reaction.kind)
            )
            comment.reactions = {k: int(n) for k, n in rows.tuples()}
            comment.reaction_count = sum(comment.reactions.values())
            status = CommentStatus(comment.status)
            record(
                session,
                comment_event(
                    comment, EventKind.reacted, actor=user.id, action="react", before=status,
                    was_visible=comment.visible, data={"reactions": dict(comment.reactions)},
                ),
            )
        article_id, reactions = comment.article_id, dict(comment.reactions)
    return ReactionCounts(
        id=comment_id,
        article_id=article_id,
        reactions=reactions,
        reaction_count=sum(reactions.values()),
    )


@retrying_deadlocks
async def report(
    *,
    events: EventRelay,
    principal: Principal,
    comment_id: int,
    reason: ReportReason,
    note: str | None,
) -> ReportCreated:
    """Record one report per user per comment; the policy's ``report_hold_count`` reports send
    it back to a human."""
    now = utcnow()
    async with events.transaction() as session:
        user = await ensure_user(session, principal, now)
        check_may_write(user, now)
        comment = await _published_for_update(session, comment_id)
        if comment.author_id == user.id:
            raise Unprocessable("you cannot report your own comment", code="own_comment")
        stmt = insert_for(session, Report).values(
            comment_id=comment_id,
            user_id=user.id,
            reason=reason,
            note=note,
            resolved=False,
            created_at=now,
        )
        result = await session.execute(stmt.on_conflict_do_nothing())
        if not getattr(result, "rowcount", 0):
            raise Conflict("you have already reported this comment", code="already_reported")
        comment.report_count += 1
        await session.execute(
            update(User)
            .where(User.id == comment.author_id)
            .values(reported_count=User.reported_count + 1)
        )
        status = CommentStatus(comment.status)
        record(
            session,
            comment_event(
                comment, EventKind.reported, actor=user.id, action="report", before=status,
                was_visible=comment.visible, data={"reason": reason},
            ),
        )
        hold_after = (await get_policy_config(session)).config.report_hold_count
        if hold_after > 0 and comment.report_count >= hold_after:
            await transition(
                session,
                comment,
                CommentStatus.held,
                actor="system",
                action="reports",
                now=now,
                reason=f"held: {comment.report_count} reports ≥ {hold_after}",
                details={"rule": "reports", "reports": comment.report_count},
            )
        article_id = comment.article_id
    return ReportCreated(
        comment_id=comment_id, article_id=article_id, reason=reason, created_at=now
    )


async def article_counts(*, sessionmaker: Sessionmaker, ids: Sequence[str]) -> dict[str, int]:
    from server.articles.service import approved_counts

    async with sessionmaker() as session:
        return await approved_counts(session, ids)


__all__ = [
    "article_counts",
    "delete_comment",
    "edit_comment",
    "list_replies",
    "list_thread",
    "post_comment",
    "react",
    "report",
]
