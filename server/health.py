"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from server.http import json_response
from server.typedefs import ENGINE, READINESS_CHECKS, REDIS, SETTINGS, ReadinessCheck

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def _check_database(app: web.Application) -> dict[str, Any]:
    async with app[ENGINE].connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"ok": True, "backend": app[ENGINE].dialect.name}


async def _check_redis(app: web.Application) -> dict[str, Any]:
    redis = app[REDIS]
    if redis is None:
        return {"ok": True, "backend": "in-process"}
    # Any: redis-py 7 types ping as sync-or-async, redis-py 8 as awaitable.
    pong: Any = redis.ping()
    await pong
    return {"ok": True, "backend": "redis-cluster" if app[SETTINGS].redis_cluster else "redis"}


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Every dependency answering within a second; 503 naming the ones that do not."""
    checks: dict[str, ReadinessCheck] = {"database": _check_database, "redis": _check_redis}
    extra: dict[str, ReadinessCheck] = request.app[READINESS_CHECKS]
    checks.update(extra)
    report: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        try:
            report[name] = await asyncio.wait_for(check(request.app), timeout=1.0)
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            report[name] = {"ok": False, "error": type(exc).__name__}
    ready = all(bool(entry.get("ok", True)) for entry in report.values())
    return json_response({"ready": ready, "checks": report}, status=200 if ready else 503)


@routes.get("/metrics")
async def metrics(_request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response
