"""The ``baraza worker`` process.

``run_worker`` opens its own engine, Redis client and scorer (loaded once, at startup), runs
the consumers and the sweeper until SIGTERM or SIGINT, lets each consumer finish the batch in
hand, and closes everything. ``server.scoring`` runs the very same service inside
``baraza serve`` when ``settings.run_embedded_worker`` (the embedded default).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Any

from server.db import create_engine, create_sessionmaker
from server.eventloop import new_event_loop
from server.jobs.redis import RedisJobQueue
from server.live.coalesce import CoalescingChannels
from server.live.redis import RedisChannelBroker
from server.live.runtime import publisher
from server.notifications.runtime import mailing
from server.redis_client import AnyRedis, connect_redis
from server.settings import Settings
from server.webhooks.runtime import dispatching
from workers.service import ScoringService

if TYPE_CHECKING:
    from workers.language import LanguageDetector
    from workers.scorer import Scorer

log = logging.getLogger(__name__)


def run_worker(settings: Settings, concurrency: int | None = None) -> int:
    """Run ``baraza worker`` until SIGTERM/SIGINT; return the process exit code."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(_worker(settings, concurrency or settings.worker_concurrency))


async def _worker(settings: Settings, concurrency: int) -> int:
    if settings.redis_url is None:
        log.error("baraza worker needs BARAZA_REDIS_URL; the embedded default scores in-process")
        return 2
    stopping = asyncio.Event()
    _on_signals(stopping)
    log.info("loading the scoring model")
    scorer = await load_scorer_in_thread(settings)
    language = await load_language(settings)
    metrics_server = _start_metrics(settings.worker_metrics_port)
    engine = create_engine(settings)
    redis = connect_redis(settings)
    if redis is None:
        return 2
    channels = _worker_channels(settings, redis)
    sessionmaker = create_sessionmaker(engine)
    try:
        service = ScoringService(
            settings=settings, sessionmaker=sessionmaker,
            jobs=RedisJobQueue(redis, settings.redis_prefix),
            channels=channels, redis=redis,
            scorer=scorer, concurrency=concurrency, language=language,
        )
        service.start()
        # The same process sends webhooks and reply e-mails (docs/integrations.md).
        async with dispatching(settings, sessionmaker), mailing(settings, sessionmaker):
            stop_waiter = asyncio.create_task(_relay(stopping, service.stopping))
            try:
                await service.wait()
            finally:
                stop_waiter.cancel()
                await asyncio.gather(stop_waiter, return_exceptions=True)
                log.info("stopping: finishing the batches in hand")
                await service.stop(settings.worker_shutdown_seconds)
    finally:
        await channels.aclose()
        await redis.aclose()
        await engine.dispose()
        if metrics_server is not None:
            metrics_server.shutdown()
    log.info("worker stopped")
    return 0


async def load_scorer_in_thread(settings: Settings) -> Scorer:
    """Load the model once, in a thread (it takes seconds and must not block the loop)."""
    from workers.scorer import load_scorer

    scorer: Scorer = await asyncio.to_thread(load_scorer, settings)
    return scorer


async def load_language(settings: Settings) -> LanguageDetector | None:
    """The language detector, in a thread; without it comments get no language (logged)."""
    from workers.language import LanguageDetector

    try:
        return await asyncio.to_thread(LanguageDetector.load, settings.language_candidates)
    except Exception:
        log.warning("no language detector: comments are scored without a language", exc_info=True)
        return None


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


def _on_signals(stopping: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)


def _start_metrics(port: int) -> Any:
    if not port:
        return None
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port)
    log.info("metrics on :%d/metrics", port)
    return server


def _worker_channels(settings: Settings, redis: AnyRedis) -> CoalescingChannels:
    """The broker that reaches every server process (publishing needs no hub)."""
    return publisher(RedisChannelBroker(
        redis, settings.redis_prefix,
        history_size=settings.live_history_size, history_ttl=settings.live_history_ttl_seconds,
    ))
