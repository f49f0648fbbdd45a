"""HTTP views of the console's moderation tools: dead letters, policy preview, word-list test."""

from __future__ import annotations

from aiohttp import web

from server.auth import Role, require_principal, requires
from server.http import json_response, parse_id, parse_json, parse_query
from server.moderation.policy import preview, wordtest
from server.moderation.review import deadletters
from server.moderation.tool_docs import (
    DEAD_LETTER,
    DEAD_LETTERS,
    POLICY_APPLY,
    POLICY_PREVIEW,
    REPLAY,
    WORDLIST_TEST,
)
from server.moderation.tool_schemas import (
    ApplyRequest,
    DeadLetterQuery,
    PreviewRequest,
    ReplayRequest,
    WordTestRequest,
)
from server.openapi import document
from server.typedefs import EVENTS, JOBS, SESSIONMAKER

routes = web.RouteTableDef()
PREFIX = "/api/v1/moderation"
moderator = requires(Role.moderator)
admin = requires(Role.admin)


@routes.get(f"{PREFIX}/deadletters")
@document(DEAD_LETTERS)
@moderator
async def list_dead_letters(request: web.Request) -> web.Response:
    query = parse_query(request, DeadLetterQuery)
    page = await deadletters.list_dead_letters(sessionmaker=request.app[SESSIONMAKER], query=query)
    return json_response(page)


# Not ``replay``: that is the replay route's own (POST), so a GET on it answers 405.
@routes.get(f"{PREFIX}/deadletters/{{comment_id:(?!replay$)[^{{}}/]+}}")
@document(DEAD_LETTER)
@moderator
async def get_dead_letter(request: web.Request) -> web.Response:
    comment_id = parse_id(request.match_info["comment_id"], "comment id")
    letter = await deadletters.get_dead_letter(
        sessionmaker=request.app[SESSIONMAKER], comment_id=comment_id
    )
    return json_response(letter)


@routes.post(f"{PREFIX}/deadletters/replay")
@document(REPLAY)
@moderator
async def replay_dead_letters(request: web.Request) -> web.Response:
    payload = await parse_json(request, ReplayRequest)
    outcome = await deadletters.replay(
        events=request.app[EVENTS],
        jobs=request.app[JOBS],
        actor=require_principal(request).sub,
        comment_ids=payload.comment_ids,
    )
    return json_response(outcome)


@routes.post(f"{PREFIX}/policy/preview")
@document(POLICY_PREVIEW)
@admin
async def preview_policy(request: web.Request) -> web.Response:
    payload = await parse_json(request, PreviewRequest)
    outcome = await preview.preview(sessionmaker=request.app[SESSIONMAKER], request=payload)
    return json_response(outcome)


@routes.post(f"{PREFIX}/policy/apply")
@document(POLICY_APPLY)
@admin
async def apply_policy(request: web.Request) -> web.Response:
    payload = await parse_json(request, ApplyRequest)
    outcome = await preview.apply(
        events=request.app[EVENTS],
        principal=require_principal(request),
        request=payload,
    )
    return json_response(outcome)


@routes.post(f"{PREFIX}/wordlists/test")
@document(WORDLIST_TEST)
@admin
async def test_wordlists(request: web.Request) -> web.Response:
    payload = await parse_json(request, WordTestRequest)
    outcome = await wordtest.match_text(sessionmaker=request.app[SESSIONMAKER], request=payload)
    return json_response(outcome)
