"""The live endpoints: the WebSocket at ``/api/v1/live`` (and ``/live``), SSE per article."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSMsgType, web

from server.articles.service import check_article_id
from server.auth import Principal, Role, TokenVerifier, current_principal
from server.cors import check_origin
from server.errors import ApiError, BadRequest, Unauthorized
from server.live.base import (
    MODERATION_CHANNEL,
    article_channel,
    channel_owner,
    user_channel,
    valid_channel,
)
from server.live.connection import SseConnection, WsConnection
from server.live.hub import Hub
from server.live.protocol import (
    CLOSE_TOO_MANY_ERRORS,
    Auth,
    Authenticated,
    ErrorMessage,
    Frame,
    Ping,
    Pong,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    parse_client_op,
)
from server.openapi import Operation, Reply, document, error_reply
from server.ratelimit import client_ip
from server.typedefs import HUB, SETTINGS, TOKENS

log = logging.getLogger(__name__)

MAX_INBOUND = 64 * 1024
MAX_ERRORS = 50
_PONG = Frame(Pong())


async def _principal(request: web.Request) -> Principal | None:
    """The bearer-header principal, or the one in ``?token=`` (browsers cannot set headers)."""
    token = request.query.get("token")
    if token:
        return await request.app[TOKENS].verify(token)
    return current_principal(request)


def _check_access(conn: WsConnection | SseConnection, channel: str) -> None:
    if not valid_channel(channel):
        raise ProtocolError("invalid_channel",
                            "channel must be 'article:{id}', 'user:{sub}' or 'moderation'",
                            channel=channel)
    owner = channel_owner(channel)
    if owner is not None and (conn.principal is None or conn.principal.sub != owner):
        raise ProtocolError("forbidden", "only its owner may subscribe to a user's channel",
                            channel=channel)
    if channel == MODERATION_CHANNEL and (conn.principal is None
                                          or not conn.principal.has(Role.moderator)):
        raise ProtocolError("forbidden", "the moderation channel needs a moderator token",
                            channel=channel)


async def live_socket(request: web.Request) -> web.StreamResponse:
    hub, settings = request.app[HUB], request.app[SETTINGS]
    check_origin(request)
    principal = await _principal(request)
    ip = client_ip(request)
    hub.admit(ip)
    # autoping off: the hub pings (see WsConnection.heartbeat) and pongs come to ``_read``.
    ws = web.WebSocketResponse(max_msg_size=MAX_INBOUND, compress=False, autoping=False)
    if not ws.can_prepare(request).ok:
        raise BadRequest(
            "this endpoint speaks WebSocket: send an Upgrade request", code="websocket_required"
        )
    await ws.prepare(request)
    transport = request.transport
    if transport is None:
        return ws
    conn = WsConnection(ws, transport, ip=ip, principal=principal,
                        queue_size=settings.live_queue_size)
    hub.register(conn)
    try:
        await _read(ws, conn, hub, request.app[TOKENS])
    finally:
        await hub.unregister(conn)
        await conn.release()
    return ws


async def _read(
    ws: web.WebSocketResponse, conn: WsConnection, hub: Hub, tokens: TokenVerifier
) -> None:
    loop = asyncio.get_running_loop()
    async for message in ws:
        conn.seen(loop.time())
        if message.type is WSMsgType.PING:
            conn.pong(message.data)
            continue
        if message.type is WSMsgType.PONG:
            continue
        if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            break
        try:
            await _apply(parse_client_op(message.data), conn, hub, tokens)
        except ProtocolError as exc:
            conn.send(Frame(ErrorMessage(code=exc.code, message=exc.message, channel=exc.channel)))
            conn.errors += 1
            if conn.errors > MAX_ERRORS:
                await conn.close(CLOSE_TOO_MANY_ERRORS, "too many invalid messages")


async def _apply(
    op: Subscribe | Unsubscribe | Ping | Auth, conn: WsConnection, hub: Hub, tokens: TokenVerifier
) -> None:
    if isinstance(op, Ping):
        conn.send(_PONG)
    elif isinstance(op, Subscribe):
        _check_access(conn, op.channel)
        await hub.subscribe(conn, op.channel, op.since)
    elif isinstance(op, Unsubscribe):
        await hub.unsubscribe(conn, op.channel)
    else:
        try:
            principal = await tokens.verify(op.token)
        except ApiError as exc:
            raise ProtocolError(exc.code, exc.message) from exc
        await _drop_foreign_channels(conn, hub, principal)
        conn.principal = principal
        conn.send(Frame(Authenticated(user=conn.principal.sub,
                                      roles=sorted(conn.principal.roles))))


async def _drop_foreign_channels(conn: WsConnection, hub: Hub, principal: Principal) -> None:
    """Signing in as someone else ends the subscriptions the new identity may not hold."""
    for name in list(conn.channels):
        owner = channel_owner(name)
        foreign = owner is not None and owner != principal.sub
        if foreign or (name == MODERATION_CHANNEL and not principal.has(Role.moderator)):
            await hub.unsubscribe(conn, name)


def _since(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("since")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16:
        raise BadRequest("Last-Event-ID must be an event offset", code="invalid_since")
    return int(raw)


async def article_events(request: web.Request) -> web.StreamResponse:
    check_origin(request)
    channel = article_channel(check_article_id(request.match_info["article_id"]))
    return await _event_stream(request, channel, current_principal(request))


@document(Operation(
    summary="Server-Sent Events of the caller's own channel user:{sub} (Last-Event-ID resumes); "
    "the token may come in ?token= (EventSource cannot set headers; it is never logged)",
    tags=("live",),
    streaming=True,
    auth="required",
    headers={"Last-Event-ID": {"type": "string", "pattern": "^[0-9]{1,16}$"}},
    responses={
        200: Reply("An event stream.", schema={"type": "string"},
                   content_type="text/event-stream"),
        429: error_reply("Too many connections."),
    },
))
async def my_events(request: web.Request) -> web.StreamResponse:
    """The SSE fallback of the per-reader channel, for pages whose WebSockets are blocked."""
    check_origin(request)
    principal = await _principal(request)
    if principal is None:
        raise Unauthorized("this stream needs a signed-in user", code="unauthenticated")
    return await _event_stream(request, user_channel(principal.sub), principal)


async def _event_stream(
    request: web.Request, channel: str, principal: Principal | None
) -> web.StreamResponse:
    hub, settings = request.app[HUB], request.app[SETTINGS]
    since = _since(request)
    ip = client_ip(request)
    hub.admit(ip)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    })
    await response.prepare(request)
    conn = SseConnection(ip=ip, principal=principal, queue_size=settings.live_queue_size)
    hub.register(conn)
    try:
        await response.write(b"retry: 2000\n\n")
        try:
            await hub.subscribe(conn, channel, since)
        except ProtocolError as exc:
            await response.write(Frame(ErrorMessage(code=exc.code, message=exc.message)).sse)
            return response
        await conn.pump(response, settings.live_heartbeat_seconds)
    except ConnectionResetError:
        log.debug("SSE client from %s went away", ip)
    finally:
        await hub.unregister(conn)
    return response


async def _going_away(app: web.Application) -> None:
    await app[HUB].shutdown()


def setup(app: web.Application) -> None:
    """Add the live routes, and the shutdown hook that closes sockets with 1001."""
    app.router.add_get("/api/v1/live", live_socket)
    app.router.add_get("/live", live_socket)
    app.router.add_get("/api/v1/articles/{article_id}/events", article_events)
    app.router.add_get("/api/v1/me/events", my_events)
    app.on_shutdown.append(_going_away)
