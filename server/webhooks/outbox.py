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

from server.comments.models import Comment, CommentStatus
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
    status = event.after if event is not None else CommentStatus(comment.status)
    return {
        "id": comment.id,
        "article_id": comment.article_id,
        "parent_id": comment.parent_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "status": status.value,
        "featured": event.featured if event is not None else comment.featured,
        "created_at": comment.created_at.isoformat(),
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
    if not await _subscriptions(session):
        return
    now = utcnow()
    for event in events:
        if event.kind not in _WEBHOOK_KINDS:
            continue
        # Loaded and locked by the transaction already: the identity map answers.
        comment = await session.get(Comment, event.comment_id)
        if comment is None:
            continue
        if event.kind is EventKind.posted:
            await enqueue(
                session,
                EventType.comment_posted,
                {"comment": comment_data(comment, event)},
                now=now,
                subject_user_id=event.author_id,
            )
        elif event.kind in _DECIDED:
            await enqueue(
                session,
                EventType.comment_decided,
                {
                    "comment": comment_data(comment, event),
                    "action": event.action,
                    "before": event.before.value,
                    "after": event.after.value,
                    "actor_id": event.actor,
                    "reason": event.reason,
                },
                now=now,
                subject_user_id=event.author_id,
            )
        elif event.kind is EventKind.reported:
            await enqueue(
                session,
                EventType.comment_reported,
                {
                    "comment": comment_data(comment, event),
                    "report": {"reason": event.data.get("reason"), "reporter_id": event.actor},
                    "report_count": comment.report_count,
                },
                now=now,
                subject_user_id=event.author_id,
            )
