"""``enqueue``: the one call that turns a domain event into webhook deliveries.

Services call it inside the unit of work that makes the change, so a delivery row exists
exactly when the change committed; the dispatcher sends it later, never on the request path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import Comment
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


def comment_data(comment: Comment) -> dict[str, Any]:
    """A comment as webhooks carry it: ids, text and state (the author by id only)."""
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


async def comment_decided(
    session: AsyncSession,
    comment: Comment,
    *,
    before: str,
    action: str,
    actor: str,
    reason: str | None,
    now: dt.datetime,
) -> None:
    """``comment.decided`` for a comment whose status a person or the system just set."""
    data = {
        "comment": comment_data(comment),
        "action": action,
        "before": before,
        "after": comment.status,
        "actor_id": actor,
        "reason": reason,
    }
    await enqueue(
        session, EventType.comment_decided, data, now=now, subject_user_id=comment.author_id
    )
