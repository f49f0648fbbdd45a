"""HTTP views of the webhook API (admins): parse, call one service, answer."""

from __future__ import annotations

from aiohttp import web

from server.auth import Role, require_principal, requires
from server.http import json_response, parse_id, parse_json, parse_query
from server.openapi import Operation, Reply, document
from server.typedefs import SESSIONMAKER, SETTINGS
from server.webhooks import service
from server.webhooks.schemas import (
    DeliveriesQuery,
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
)

routes = web.RouteTableDef()
admin = requires(Role.admin)
TAGS = ("webhooks",)
ID_PATH = {
    "webhook_id": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
    "delivery_id": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
}


@routes.post("/api/v1/webhooks")
@document(
    Operation(
        summary="Register a webhook endpoint",
        description="The answer carries the `whsec_` signing secret, shown only once.",
        tags=TAGS,
        body=WebhookCreate,
        responses={201: Reply("The endpoint, with its secret.", WebhookCreated)},
    )
)
@admin
async def create_webhook(request: web.Request) -> web.Response:
    body = await parse_json(request, WebhookCreate)
    created = await service.create_webhook(
        sessionmaker=request.app[SESSIONMAKER],
        settings=request.app[SETTINGS],
        principal=require_principal(request),
        body=body,
    )
    return json_response(created, status=201)


@routes.get("/api/v1/webhooks")
@document(
    Operation(
        summary="Every webhook endpoint",
        tags=TAGS,
        responses={200: Reply("Endpoints (without secrets).", WebhookList)},
    )
)
@admin
async def list_webhooks(request: web.Request) -> web.Response:
    return json_response(await service.list_webhooks(sessionmaker=request.app[SESSIONMAKER]))


@routes.get("/api/v1/webhooks/{webhook_id}/deliveries")
@document(
    Operation(
        summary="Deliveries of an endpoint, newest first, with their attempts",
        tags=TAGS,
        query=DeliveriesQuery,
        path=ID_PATH,
        responses={200: Reply("A page of deliveries.", DeliveryPage)},
    )
)
@admin
async def list_deliveries(request: web.Request) -> web.Response:
    webhook_id = parse_id(request.match_info["webhook_id"], "webhook id")
    query = parse_query(request, DeliveriesQuery)
    page = await service.list_deliveries(
        sessionmaker=request.app[SESSIONMAKER], webhook_id=webhook_id, query=query
    )
    return json_response(page)


@routes.post("/api/v1/webhooks/deliveries/{delivery_id}/replay")
@document(
    Operation(
        summary="Send a delivery again (same webhook-id and body)",
        tags=TAGS,
        path=ID_PATH,
        responses={202: Reply("The new, pending delivery.", DeliveryOut)},
    )
)
@admin
async def replay(request: web.Request) -> web.Response:
    delivery_id = parse_id(request.match_info["delivery_id"], "delivery id")
    out = await service.replay(sessionmaker=request.app[SESSIONMAKER], delivery_id=delivery_id)
    return json_response(out, status=202)
