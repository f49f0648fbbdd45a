"""``enqueue``: the one call that turns a domain event into webhook deliveries.

It runs inside the unit of work that makes the change, so a delivery row exists exactly when
the change committed; the dispatcher sends it later, never on the request path. A comment's
events reach it from the lifecycle (``comment_deliveries``, which every relay built by
``build_relay`` runs on a transaction's outbox just before its commit); a sanction and a live-blog
post call ``enqueue`` themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import Comment
from server.db import utcnow
from server.lifecycle.events import CommentEvent, EventKind
from server.webhooks.models import DeliveryStatus, EventType, Webhook, WebhookDelivery
from server.webhooks.signing import new_message_id

_CACHE = "webhooks.subscriptions"


async def _subscriptions(session: AsyncSession) -> list[tuple[int, list[str]]]:
    # Read once per transaction: a bulk decision enqueues hundreds of events.
    cached: list[tuple[int, list[str]]] | None = session.info.get(_CACHE)
    if cached is None:
        rows = await session.execute(select(Webhook.id, Webhook.events).where(Webhook.active))
        cached = [(hook_id, list(events)) for hook_id, events in rows.tuples()]
        session.info[_CACHE] = cached
    return cached


def event_body(event_type: EventType, data: dict[str, Any], now: dt.datetime) -> str:
    """The body every endpoint receives: ``{type, timestamp, data}``."""
    return orjson.dumps(
        {"type": event_type.value, "timestamp": now.isoformat(), "data": data}
    ).decode()


async def enqueue(
    session: AsyncSession,
    event_type: EventType,
    data: dict[str, Any],
    *,
    now: dt.datetime,
    subject_user_id: str | None = None,
) -> int:
    """Add a delivery of the event for every active endpoint that wants it; return how many."""
    targets = [hook for hook, events in await _subscriptions(session) if event_type in events]
    if not targets:
        return 0
    body = event_body(event_type, data, now)
    session.add_all(
        WebhookDelivery(
            webhook_id=hook,
            message_id=new_message_id(),
            event_type=event_type.value,
            payload=body,
            subject_user_id=subject_user_id,
            status=DeliveryStatus.pending.value,
            attempt_count=0,
            next_attempt_at=now,
            created_at=now,
        )
        for hook in targets
    )
    return len(targets)


def comment_data(comment: Comment, event: CommentEvent | None = None) -> dict[str, Any]:
    """A comment as webhooks carry it: ids, text and state (the author by id only); its
    status and feature as they were right after ``event`` (later steps of the same
    transaction, e.g. a report's hold, have their own event)."""
    if event is not None:
        return _comment_json(event, comment.body, comment.created_at)
    return {
        "id": comment.id,
        "article_id": comment.article_id,
        "parent_id": comment.parent_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "status": comment.status,
        "featured": comment.featured,
        "created_at": comment.created_at.isoformat(),
    }


def _comment_json(event: CommentEvent, body: str, created_at: dt.datetime) -> dict[str, Any]:
    return {
        "id": event.comment_id,
        "article_id": event.article_id,
        "parent_id": event.parent_id,
        "author_id": event.author_id,
        "body": body,
        "status": event.after.value,
        "featured": event.featured,
        "created_at": created_at.isoformat(),
    }


# The comment events that are webhook events (a decision: any way a comment got its verdict).
_DECIDED = frozenset({EventKind.approved, EventKind.held, EventKind.rejected})
_WEBHOOK_KINDS = _DECIDED | {EventKind.posted, EventKind.reported}


async def comment_deliveries(session: AsyncSession, events: Sequence[CommentEvent]) -> None:
    """Deliveries for a transaction's comment events, added in that same transaction.

    ``posted`` is ``comment.posted``; ``approved``, ``held`` and ``rejected`` (by the scorer,
    a moderator, readers' reports or a sanction's cascade) are ``comment.decided``;
    ``reported`` is ``comment.reported``. The relay calls this once per transaction, before
    the commit: a delivery exists exactly when its change does, and the outbox's re-relay
    (at-least-once) never repeats it.
    """
    wanted = [e for e in events if e.kind in _WEBHOOK_KINDS]
    if not wanted or not await _subscriptions(session):
        return
    # One read of what the events do not carry (the objects may have left the session:
    # ``transition_many`` writes set-based and expunges them).
    rows = await session.execute(
        select(Comment.id, Comment.body, Comment.created_at, Comment.report_count).where(
            Comment.id.in_(sorted({e.comment_id for e in wanted}))
        )
    )
    found = {row.id: row for row in rows}
    now = utcnow()
    for event in wanted:
        row = found.get(event.comment_id)
        if row is None:
            continue
        comment = _comment_json(event, row.body, row.created_at)
        if event.kind is EventKind.posted:
            await enqueue(
                session,
                EventType.comment_posted,
                {"comment": comment},
                now=now,
                subject_user_id=event.author_id,
            )
        elif event.kind in _DECIDED:
            await enqueue(
                session,
                EventType.comment_decided,
                {
                    "comment": comment,
                    "action": event.action,
                    "before": event.before.value,
                    "after": event.after.value,
                    "actor_id": event.actor,
                    "reason": event.reason,
                },
                now=now,
                subject_user_id=event.author_id,
            )
        else:
            await enqueue(
                session,
                EventType.comment_reported,
                {
                    "comment": comment,
                    "report": {"reason": event.data.get("reason"), "reporter_id": event.actor},
                    "report_count": row.report_count,
                },
                now=now,
                subject_user_id=event.author_id,
            )


def posted_deliveries_sql(deliveries: str, webhooks: str) -> str:
    """PostgreSQL, for the one-statement POST (``transitions.post`` in autocommit): a CTE
    that adds a ``comment.posted`` delivery for every active endpoint that wants it, in the
    statement that stores the comment. Binds ``:wh_type`` (the event type), ``:wh_wanted``
    (``[type]`` as JSONB), ``:wh_payload``, ``:author_id`` and ``:outbox_at``."""
    # Only our own table names are interpolated; every value is a bound parameter.
    return (
        f"INSERT INTO {deliveries} (webhook_id, message_id, event_type, payload,"  # noqa: S608
        " subject_user_id, status, attempt_count, next_attempt_at, created_at)"
        " SELECT id, 'msg_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 24),"
        f" :wh_type, :wh_payload, :author_id, '{DeliveryStatus.pending.value}', 0,"
        f" :outbox_at, :outbox_at FROM {webhooks} WHERE active AND events @> :wh_wanted"
    )


def posted_delivery_params(
    event: CommentEvent, comment: Comment, now: dt.datetime
) -> dict[str, Any]:
    """The values ``posted_deliveries_sql`` binds (besides ``author_id`` and ``outbox_at``)."""
    kind = EventType.comment_posted
    return {
        "wh_type": kind.value,
        "wh_wanted": [kind.value],
        "wh_payload": event_body(kind, {"comment": comment_data(comment, event)}, now),
    }
