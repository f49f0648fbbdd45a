"""Registering endpoints, listing deliveries with their attempts, and replaying one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from server.auth import Principal
from server.db import Sessionmaker, utcnow
from server.errors import NotFound, Unprocessable
from server.settings import Settings
from server.webhooks.models import (
    DeliveryStatus,
    EventType,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from server.webhooks.schemas import (
    AttemptOut,
    DeliveriesQuery,
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookOut,
)
from server.webhooks.signing import new_secret
from server.webhooks.ssrf import TargetRefused, check_target


def _out(hook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=[EventType(e) for e in hook.events],
        description=hook.description,
        active=hook.active,
        created_by=hook.created_by,
        created_at=hook.created_at,
    )


async def create_webhook(
    *, sessionmaker: Sessionmaker, settings: Settings, principal: Principal, body: WebhookCreate
) -> WebhookCreated:
    """Register an endpoint after checking its URL is a public address (or private is allowed)."""
    try:
        await check_target(body.url, allow_private=settings.webhook_allow_private)
    except TargetRefused as exc:
        raise Unprocessable(str(exc), code="url_not_allowed") from exc
    events = list(dict.fromkeys(e.value for e in body.events))
    async with sessionmaker.begin() as session:
        hook = Webhook(
            url=body.url,
            events=events,
            secret=new_secret(),
            description=body.description,
            active=True,
            created_by=principal.sub,
            created_at=utcnow(),
        )
        session.add(hook)
        await session.flush()
        return WebhookCreated(**_out(hook).model_dump(), secret=hook.secret)


async def list_webhooks(*, sessionmaker: Sessionmaker) -> WebhookList:
    async with sessionmaker() as session:
        hooks = (await session.scalars(select(Webhook).order_by(Webhook.id))).all()
    return WebhookList(items=[_out(h) for h in hooks])


def _delivery(delivery: WebhookDelivery, attempts: Sequence[WebhookAttempt]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        status=DeliveryStatus(delivery.status),
        attempt_count=delivery.attempt_count,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        replay_of=delivery.replay_of,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        payload=delivery.payload,
        attempts=[
            AttemptOut(
                number=a.number,
                attempted_at=a.attempted_at,
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
            )
            for a in attempts
        ],
    )


async def list_deliveries(
    *, sessionmaker: Sessionmaker, webhook_id: int, query: DeliveriesQuery
) -> DeliveryPage:
    """Newest first, each with its attempts in order."""
    async with sessionmaker() as session:
        if await session.get(Webhook, webhook_id) is None:
            raise NotFound("webhook not found", code="webhook_not_found")
        stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        if query.status is not None:
            stmt = stmt.where(WebhookDelivery.status == query.status.value)
        if query.cursor is not None:
            stmt = stmt.where(WebhookDelivery.id < int(query.cursor))
        rows = (
            await session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(query.limit + 1))
        ).all()
        page = rows[: query.limit]
        attempts: dict[int, list[WebhookAttempt]] = {d.id: [] for d in page}
        if page:
            found = await session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(list(attempts)))
                .order_by(WebhookAttempt.id)
            )
            for attempt in found:
                attempts[attempt.delivery_id].append(attempt)
    more = len(rows) > query.limit and page
    return DeliveryPage(
        items=[_delivery(d, attempts[d.id]) for d in page],
        next_cursor=str(page[-1].id) if more else None,
    )


async def replay(*, sessionmaker: Sessionmaker, delivery_id: int) -> DeliveryOut:
    """Queue the same message (same ``webhook-id``, same body) again, as a new delivery."""
    now = utcnow()
    async with sessionmaker.begin() as session:
        original = await session.get(WebhookDelivery, delivery_id)
        if original is None:
            raise NotFound("delivery not found", code="delivery_not_found")
        copy = WebhookDelivery(
            webhook_id=original.webhook_id,
            message_id=original.message_id,
            event_type=original.event_type,
            payload=original.payload,
            subject_user_id=original.subject_user_id,
            status=DeliveryStatus.pending.value,
            attempt_count=0,
            next_attempt_at=now,
            replay_of=original.id,
            created_at=now,
        )
        session.add(copy)
        await session.flush()
        return _delivery(copy, [])
