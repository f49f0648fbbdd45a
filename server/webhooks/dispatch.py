"""The dispatcher: sends due deliveries, records each attempt, retries with backoff and
jitter, and marks a delivery dead after its last try.

Any number of dispatchers (worker processes) may run: each claims due rows with
``FOR UPDATE SKIP LOCKED`` and leases them (moves ``next_attempt_at`` past the send timeout)
before sending outside the transaction, so a dispatcher that dies mid-send only delays a
delivery. Delivery is at least once; receivers deduplicate on ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import aiohttp
from sqlalchemy import Table, bindparam, select, update

from server.db import Sessionmaker, UTCDateTime, utcnow
from server.settings import Settings
from server.webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from server.webhooks.signing import signed_headers
from server.webhooks.ssrf import GuardedResolver, TargetRefused, check_literal

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
ERROR_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one HTTP attempt came to: a status code, or an error before any answer."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: str) -> Outcome: ...


class HttpSender:
    """POSTs over aiohttp through the SSRF-guarded resolver; never follows redirects."""

    def __init__(self, settings: Settings) -> None:
        self._allow_private = settings.webhook_allow_private
        self._timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._limit = settings.webhook_concurrency

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(allow_private=self._allow_private),
                limit=self._limit,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, trust_env=False
            )
        return self._session

    async def send(self, url: str, headers: dict[str, str], body: str) -> Outcome:
        started = time.perf_counter()
        try:
            check_literal(url, allow_private=self._allow_private)
            async with self._client().post(
                url, data=body.encode(), headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                status: int | None = response.status
                error = None if 200 <= response.status < 300 else f"HTTP {response.status}"
        except TargetRefused as exc:
            status, error = None, f"refused: {exc}"
        except aiohttp.ClientConnectorError as exc:
            refused = exc.os_error if isinstance(exc.os_error, TargetRefused) else None
            status = None
            error = f"refused: {refused}" if refused else f"connection failed: {exc}"
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        elapsed = int((time.perf_counter() - started) * 1000)
        return Outcome(status, None if error is None else error[:ERROR_CHARS], elapsed)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def retry_delay(attempts: int, settings: Settings, rng: random.Random) -> float:
    """Seconds before try ``attempts + 1``: exponential, capped, with jitter in [½, 1]×."""
    exponent = min(attempts - 1, 60)
    ceiling = min(
        settings.webhook_backoff_max_seconds,
        settings.webhook_backoff_base_seconds * 2.0**exponent,
    )
    return float(ceiling * (0.5 + rng.random() / 2))


@dataclass(frozen=True, slots=True)
class _Claimed:
    delivery_id: int
    message_id: str
    payload: str
    url: str
    secret: str
    attempt_count: int


@dataclass(frozen=True, slots=True)
class _Sent:
    item: _Claimed
    outcome: Outcome
    sent_at: dt.datetime


class Dispatcher:
    """Sends what is due; ``run_once`` is one pass (tests drive it with their own clock)."""

    def __init__(
        self,
        *,
        sessionmaker: Sessionmaker,
        settings: Settings,
        sender: Sender,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._sender = sender
        self._clock = clock
        self._rng = rng or random.Random()
        self._lease = dt.timedelta(seconds=settings.webhook_timeout_seconds * 2 + 30)

    async def run_once(self) -> int:
        """Send every delivery due now (up to a batch); return how many were tried."""
        claimed = await self._claim()
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self._settings.webhook_concurrency)

        async def one(item: _Claimed) -> _Sent:
            async with gate:
                return await self._deliver(item)

        sent = await asyncio.gather(*(one(item) for item in claimed))
        await self._record(sent)
        return len(claimed)

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until ``stopping`` is set; a pass that found nothing waits a poll interval."""
        while not stopping.is_set():
            try:
                tried = await self.run_once()
            except Exception:
                log.exception("webhook dispatch pass failed; retrying")
                tried = 0
            if tried == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self._settings.webhook_poll_seconds)

    async def _claim(self) -> Sequence[_Claimed]:
        now = self._clock()
        async with self._sessionmaker.begin() as session:
            rows = (
                await session.execute(
                    select(WebhookDelivery, Webhook.url, Webhook.secret)
                    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                    .where(
                        WebhookDelivery.status == DeliveryStatus.pending.value,
                        WebhookDelivery.next_attempt_at <= now,
                    )
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                    .limit(self._settings.webhook_batch_size)
                    .with_for_update(skip_locked=True, of=WebhookDelivery)
                )
            ).all()
            claimed = [
                _Claimed(d.id, d.message_id, d.payload, url, secret, d.attempt_count)
                for d, url, secret in rows
            ]
            if claimed:
                await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_([c.delivery_id for c in claimed]))
                    .values(next_attempt_at=now + self._lease)
                    .execution_options(synchronize_session=False)
                )
        return claimed

    async def _deliver(self, item: _Claimed) -> _Sent:
        sent_at = self._clock()
        headers = signed_headers(item.secret, item.message_id, sent_at, item.payload)
        outcome = await self._sender.send(item.url, headers, item.payload)
        return _Sent(item, outcome, sent_at)

    def _next(self, sent: _Sent, now: dt.datetime) -> dict[str, object]:
        """The delivery's columns after this attempt."""
        attempts = sent.item.attempt_count + 1
        row: dict[str, object] = {
            "k": sent.item.delivery_id,
            "n": attempts,
            "error": sent.outcome.error,
            "status": DeliveryStatus.pending.value,
            "due": None,
            "done": None,
        }
        if sent.outcome.ok:
            row.update(status=DeliveryStatus.delivered.value, done=now)
        elif attempts >= self._settings.webhook_max_attempts:
            row["status"] = DeliveryStatus.dead.value
        else:
            delay = retry_delay(attempts, self._settings, self._rng)
            row["due"] = now + dt.timedelta(seconds=delay)
        return row

    async def _record(self, batch: Sequence[_Sent]) -> None:
        """Every attempt of a pass and the deliveries' new state, in one transaction."""
        now = self._clock()
        deliveries = cast(Table, WebhookDelivery.__table__)
        async with self._sessionmaker.begin() as session:
            session.add_all(
                WebhookAttempt(
                    delivery_id=sent.item.delivery_id,
                    number=sent.item.attempt_count + 1,
                    attempted_at=sent.sent_at,
                    status_code=sent.outcome.status_code,
                    error=sent.outcome.error,
                    duration_ms=sent.outcome.duration_ms,
                )
                for sent in batch
            )
            await session.execute(
                update(deliveries)
                .where(deliveries.c.id == bindparam("k"))
                .values(
                    attempt_count=bindparam("n"),
                    last_error=bindparam("error"),
                    status=bindparam("status"),
                    next_attempt_at=bindparam("due", type_=UTCDateTime()),
                    delivered_at=bindparam("done", type_=UTCDateTime()),
                ),
                sorted((self._next(sent, now) for sent in batch), key=lambda r: str(r["k"])),
            )
