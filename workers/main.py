"""Entry points of scoring: the ``baraza worker`` process, and the embedded mode inside the server.

``run_worker`` opens its own engine, Redis client and scorer (loaded once, at startup), runs
the consumers and the sweeper until SIGTERM or SIGINT, lets each consumer finish the batch in
hand, and closes everything. ``scoring_ctx`` runs the very same service inside ``baraza serve``
when ``settings.run_embedded_worker`` (the embedded default: SQLite and the in-process queue).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.db import create_engine, create_sessionmaker
from server.jobs.redis import RedisJobQueue
from server.live.coalesce import CoalescingChannels
from server.live.redis import RedisChannelBroker
from server.live.runtime import publisher
from server.redis_client import AnyRedis, connect_redis
from server.settings import Settings
from server.typedefs import CHANNELS, JOBS, READINESS_CHECKS, REDIS, SESSIONMAKER, SETTINGS
from workers.heartbeat import remote_scorer_check
from workers.service import ScoringService

if TYPE_CHECKING:
    from workers.scorer import Scorer

log = logging.getLogger(__name__)


def run_worker(settings: Settings, concurrency: int | None = None) -> int:
    """Run ``baraza worker`` until SIGTERM/SIGINT; return the process exit code."""
    from server.cli import new_event_loop

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(_worker(settings, concurrency or settings.worker_concurrency))


async def _worker(settings: Settings, concurrency: int) -> int:
    if settings.redis_url is None:
        log.error("baraza worker needs BARAZA_REDIS_URL; the embedded default scores in-process")
        return 2
    stopping = asyncio.Event()
    _on_signals(stopping)
    log.info("loading the scoring model")
    scorer = await _load_scorer(settings)
    metrics_server = _start_metrics(settings.worker_metrics_port)
    engine = create_engine(settings)
    redis = connect_redis(settings)
    if redis is None:
        return 2
    channels = _worker_channels(settings, redis)
    try:
        service = ScoringService(
            settings=settings, sessionmaker=create_sessionmaker(engine),
            jobs=RedisJobQueue(redis, settings.redis_prefix),
            channels=channels, redis=redis,
            scorer=scorer, concurrency=concurrency,
        )
        service.start()
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


async def _load_scorer(settings: Settings) -> Scorer:
    """Load the model once, in a thread (it takes seconds and must not block the loop)."""
    from workers.scorer import load_scorer

    scorer: Scorer = await asyncio.to_thread(load_scorer, settings)
    return scorer


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


class _Embedded:
    """The scoring service inside the server process, started once the model has loaded."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._scorer: Scorer | None = None
        self._error: str | None = None
        self._service: ScoringService | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._load_and_run(), name="scoring:embedded")

    async def _load_and_run(self) -> None:
        app, settings = self._app, self._app[SETTINGS]
        try:
            self._scorer = await _load_scorer(settings)
        except Exception as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            log.exception("no scorer could be loaded; comments stay pending")
            return
        self._service = ScoringService(
            settings=settings, sessionmaker=app[SESSIONMAKER], jobs=app[JOBS],
            channels=app[CHANNELS], redis=app[REDIS], scorer=self._scorer,
            concurrency=settings.worker_concurrency,
        )
        self._service.start()

    async def check(self, _app: web.Application) -> dict[str, Any]:
        """Readiness: the model in use, or why there is none yet."""
        if self._scorer is not None:
            return {"ok": True, "mode": "embedded", "model": self._scorer.name}
        if self._error is not None:
            return {"ok": False, "mode": "embedded", "error": self._error}
        return {"ok": False, "mode": "embedded", "loading": True}

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._service is not None:
            await self._service.stop(self._app[SETTINGS].worker_shutdown_seconds)


async def scoring_ctx(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: score in-process when ``run_embedded_worker``, and register
    the ``scorer`` readiness check either way."""
    if not app[SETTINGS].run_embedded_worker:
        app[READINESS_CHECKS]["scorer"] = remote_scorer_check
        yield
        return
    embedded = _Embedded(app)
    app[READINESS_CHECKS]["scorer"] = embedded.check
    embedded.start()
    try:
        yield
    finally:
        await embedded.stop()
