"""Running the dispatcher: inside ``baraza worker``, or inside ``baraza serve`` on the
embedded default (``BARAZA_WEBHOOK_DELIVER_IN_SERVER`` decides)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from server.db import Sessionmaker
from server.settings import Settings
from server.typedefs import SESSIONMAKER, SETTINGS
from server.webhooks.dispatch import Dispatcher, HttpSender


@contextlib.asynccontextmanager
async def dispatching(settings: Settings, sessionmaker: Sessionmaker) -> AsyncIterator[None]:
    """Deliver webhooks in the background for the duration of the block."""
    sender = HttpSender(settings)
    dispatcher = Dispatcher(sessionmaker=sessionmaker, settings=settings, sender=sender)
    stopping = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stopping), name="webhooks:dispatch")
    try:
        yield
    finally:
        stopping.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sender.aclose()


def deliver_in_server(settings: Settings) -> bool:
    if settings.webhook_deliver_in_server is not None:
        return settings.webhook_deliver_in_server
    return settings.embedded


async def delivery_ctx(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: deliver from the server process when configured to."""
    settings = app[SETTINGS]
    if not deliver_in_server(settings):
        yield
        return
    async with dispatching(settings, app[SESSIONMAKER]):
        yield
