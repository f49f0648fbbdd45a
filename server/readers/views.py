"""HTTP views of a reader's own data, and the admins' erasure: parse, call one service, answer."""

from __future__ import annotations

from aiohttp import web

from server.auth import Role, authenticated, require_principal, requires
from server.errors import BadRequest
from server.http import json_response, parse_json
from server.openapi import Operation, Reply, document
from server.readers import erasure, service
from server.readers.schemas import Erased, EraseRequest, Export, SettingsOut, SettingsUpdate
from server.typedefs import EVENTS, SESSIONMAKER

routes = web.RouteTableDef()
TAGS = ("readers",)


@routes.get("/api/v1/me/export")
@document(
    Operation(
        summary="Everything Baraza holds about the caller, as JSON",
        tags=TAGS,
        auth="required",
        responses={200: Reply("Comments, reactions, reports and settings.", Export)},
    )
)
@authenticated
async def export(request: web.Request) -> web.Response:
    out = await service.export(
        sessionmaker=request.app[SESSIONMAKER], principal=require_principal(request)
    )
    return json_response(out, headers={"Cache-Control": "private, no-store"})


@routes.get("/api/v1/me/settings")
@document(
    Operation(
        summary="The caller's settings",
        tags=TAGS,
        auth="required",
        responses={200: Reply("Settings.", SettingsOut)},
    )
)
@authenticated
async def get_settings(request: web.Request) -> web.Response:
    out = await service.get_settings(
        sessionmaker=request.app[SESSIONMAKER], principal=require_principal(request)
    )
    return json_response(out)


@routes.put("/api/v1/me/settings")
@document(
    Operation(
        summary="Opt in to or out of reply e-mails",
        description="Opting in stores the token's `email` claim; opting out forgets it.",
        tags=TAGS,
        auth="required",
        body=SettingsUpdate,
        responses={200: Reply("Settings.", SettingsOut)},
    )
)
@authenticated
async def put_settings(request: web.Request) -> web.Response:
    body = await parse_json(request, SettingsUpdate)
    out = await service.put_settings(
        sessionmaker=request.app[SESSIONMAKER],
        principal=require_principal(request),
        reply_emails=body.reply_emails,
    )
    return json_response(out)


@routes.delete("/api/v1/me")
@document(
    Operation(
        summary="Erase the caller's personal data",
        description="Comments become placeholders (threads stay whole); name and e-mail are "
        "removed; the audit log keeps ids, marked erased.",
        tags=TAGS,
        auth="required",
        responses={200: Reply("What was erased.", Erased)},
    )
)
@authenticated
async def erase_me(request: web.Request) -> web.Response:
    principal = require_principal(request)
    erased = await erasure.erase_user(
        events=request.app[EVENTS],
        user_id=principal.sub,
        actor=principal.sub,
        missing_ok=True,
    )
    return json_response(erased)


@routes.post("/api/v1/moderation/users/{user_id}/erase")
@document(
    Operation(
        summary="Erase a user's personal data (admin)",
        tags=("moderation",),
        body=EraseRequest,
        responses={200: Reply("What was erased.", Erased)},
    )
)
@requires(Role.admin)
async def erase_user(request: web.Request) -> web.Response:
    user_id = request.match_info["user_id"]
    if not 0 < len(user_id) <= 128 or "\x00" in user_id:
        raise BadRequest("user id must be 1-128 characters, without NUL", code="invalid_id")
    body = await parse_json(request, EraseRequest) if request.can_read_body else EraseRequest()
    erased = await erasure.erase_user(
        events=request.app[EVENTS],
        user_id=user_id,
        actor=require_principal(request).sub,
        reason=body.reason,
    )
    return json_response(erased)
