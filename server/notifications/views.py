"""One-click unsubscribe (RFC 8058): POST unsubscribes; GET shows a button that POSTs, so a
mail scanner following links unsubscribes nobody."""

from __future__ import annotations

import html

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update

from server.errors import BadRequest
from server.http import json_response, parse_query
from server.notifications import unsubscribe
from server.openapi import Operation, Reply, document
from server.readers.models import ReaderSettings
from server.typedefs import SESSIONMAKER, SETTINGS

routes = web.RouteTableDef()
PATH = "/api/v1/email/unsubscribe"


class TokenQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field(min_length=3, max_length=600, pattern=r"^[A-Za-z0-9_.-]+$")


class Unsubscribed(BaseModel):
    unsubscribed: bool


def _user(request: web.Request) -> str:
    query = parse_query(request, TokenQuery)
    user_id = unsubscribe.verify(query.token, request.app[SETTINGS].jwt_secret)
    if user_id is None:
        raise BadRequest("this unsubscribe link is not valid", code="invalid_token")
    return user_id


@routes.get(PATH)
@document(
    Operation(
        summary="The unsubscribe page of a reply e-mail's link",
        tags=("readers",),
        query=TokenQuery,
        responses={
            200: Reply(
                "A page with a one-click button.",
                schema={"type": "string"},
                content_type="text/html",
            )
        },
    )
)
async def unsubscribe_page(request: web.Request) -> web.Response:
    _user(request)
    action = html.escape(str(request.rel_url), quote=True)
    page = (
        "<!doctype html><meta charset=utf-8><title>Unsubscribe</title>"
        f'<form method=post action="{action}">'
        "<p>Stop e-mails about replies to your comments?</p>"
        '<input type=hidden name="List-Unsubscribe" value="One-Click">'
        "<button>Unsubscribe</button></form>"
    )
    return web.Response(text=page, content_type="text/html")


@routes.post(PATH)
@document(
    Operation(
        summary="Unsubscribe from reply e-mails (RFC 8058 one-click)",
        tags=("readers",),
        query=TokenQuery,
        responses={200: Reply("Done (also when already unsubscribed).", Unsubscribed)},
    )
)
async def unsubscribe_now(request: web.Request) -> web.Response:
    user_id = _user(request)
    async with request.app[SESSIONMAKER].begin() as session:
        await session.execute(
            update(ReaderSettings)
            .where(ReaderSettings.user_id == user_id)
            .values(reply_emails=False, email=None)
        )
    return json_response(Unsubscribed(unsubscribed=True))
