"""Running the mailer next to the webhook dispatcher (``baraza worker``, or the server on the
embedded default), when ``BARAZA_SMTP_HOST`` is set."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from server.db import Sessionmaker
from server.settings import Settings
from server.typedefs import SESSIONMAKER, SETTINGS
from server.webhooks.runtime import deliver_in_server


@contextlib.asynccontextmanager
async def mailing(settings: Settings, sessionmaker: Sessionmaker) -> AsyncIterator[None]:
    if settings.smtp_host is None:
        yield
        return
    from server.notifications.mailer import Mailer, SmtpTransport

    mailer = Mailer(sessionmaker=sessionmaker, settings=settings, transport=SmtpTransport(settings))
    stopping = asyncio.Event()
    task = asyncio.create_task(mailer.run(stopping), name="reply-emails")
    try:
        yield
    finally:
        stopping.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def mailing_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not deliver_in_server(settings):
        yield
        return
    async with mailing(settings, app[SESSIONMAKER]):
        yield
