"""Scoring inside the server process (the embedded default), and the scorer readiness check.

``scoring_ctx`` runs the workers' ``ScoringService`` in ``baraza serve`` when
``settings.run_embedded_worker`` (SQLite and the in-process queue), with the app's event relay;
otherwise it only reports on the separate ``baraza worker`` processes (their heartbeats).
The workers package knows nothing of the aiohttp app: this module is the glue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.typedefs import (
    CHANNELS,
    EVENTS,
    JOBS,
    READINESS_CHECKS,
    REDIS,
    SESSIONMAKER,
    SETTINGS,
)
from workers.heartbeat import live_entries
from workers.main import load_language, load_scorer_in_thread
from workers.service import ScoringService

if TYPE_CHECKING:
    from workers.scorer import Scorer

log = logging.getLogger(__name__)


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
            self._scorer = await load_scorer_in_thread(settings)
        except Exception as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            log.exception("no scorer could be loaded; comments stay pending")
            return
        self._service = ScoringService(
            settings=settings, sessionmaker=app[SESSIONMAKER], jobs=app[JOBS],
            channels=app[CHANNELS], redis=app[REDIS], scorer=self._scorer,
            concurrency=settings.worker_concurrency, events=app[EVENTS],
            language=await load_language(settings),
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


async def remote_scorer_check(app: web.Application) -> dict[str, Any]:
    """Readiness of scoring done by separate ``baraza worker`` processes.

    Informational: comments wait safely in the queue while no worker runs, so a server
    is ready without workers; the report names the live workers' models.
    """
    redis = app[REDIS]
    if redis is None:
        return {"ok": True, "mode": "external", "workers": 0, "models": []}
    live, _expired = await live_entries(redis, app[SETTINGS].redis_prefix, time.time())
    models = sorted({str(entry.get("model")) for entry in live.values()})
    return {"ok": True, "mode": "workers", "workers": len(live), "models": models}
