"""HTTP views of the review API under /api/v1/moderation: parse, call one service, answer."""

from __future__ import annotations

from aiohttp import web

from server.auth import Role, require_principal, requires
from server.errors import BadRequest, NotFound
from server.http import json_response, parse_id, parse_json, parse_query
from server.moderation.docs import (
    COMMENT,
    COMMENT_HISTORY,
    COUNTS,
    DECISIONS,
    POLICY_GET,
    POLICY_PUT,
    QUEUE,
    REEVALUATE,
    USER,
    USER_HISTORY,
    USER_STATUS,
    WORDLIST_GET,
    WORDLIST_PUT,
)
from server.moderation.policy import configuration
from server.moderation.policy.store import WordlistKind
from server.moderation.review import audit, decisions, queues, sanctions
from server.moderation.schemas import (
    DecisionRequest,
    PageQuery,
    PolicyBody,
    Queue,
    QueueCountsQuery,
    QueueQuery,
    ReevaluateRequest,
    UserStatusChange,
    WordlistBody,
)
from server.openapi import document
from server.typedefs import EVENTS, JOBS, SESSIONMAKER

routes = web.RouteTableDef()
PREFIX = "/api/v1/moderation"
moderator = requires(Role.moderator)
admin = requires(Role.admin)


def _queue(request: web.Request) -> Queue:
    name = request.match_info["queue"]
    if name not in Queue.__members__:
        raise NotFound(
            f"unknown queue; use one of {', '.join(q.value for q in Queue)}", code="unknown_queue"
        )
    return Queue(name)


def _user_id(request: web.Request) -> str:
    user_id = request.match_info["user_id"]
    if not 0 < len(user_id) <= 128 or "\x00" in user_id:
        raise BadRequest("user id must be 1-128 characters, without NUL", code="invalid_id")
    return user_id


# Not ``test``: that is the word-list test box's own route (POST), so other methods on it
# answer 405, not "unknown word list".
WORDLIST = f"{PREFIX}/wordlists/{{kind:(?!test$)[^{{}}/]+}}"


def _wordlist_kind(request: web.Request) -> WordlistKind:
    kind = request.match_info["kind"]
    if kind not in WordlistKind.__members__:
        raise NotFound("unknown word list; use banned or suspect", code="unknown_wordlist")
    return WordlistKind(kind)


@routes.get(f"{PREFIX}/queues")
@document(COUNTS)
@moderator
async def queue_counts(request: web.Request) -> web.Response:
    query = parse_query(request, QueueCountsQuery)
    counts = await queues.queue_counts(
        sessionmaker=request.app[SESSIONMAKER], article_id=query.article_id
    )
    return json_response(counts)


@routes.get(f"{PREFIX}/queues/{{queue}}")
@document(QUEUE)
@moderator
async def list_queue(request: web.Request) -> web.Response:
    queue = _queue(request)
    query = parse_query(request, QueueQuery)
    page = await queues.list_queue(sessionmaker=request.app[SESSIONMAKER], queue=queue, query=query)
    return json_response(page)


@routes.post(f"{PREFIX}/decisions")
@document(DECISIONS)
@moderator
async def post_decisions(request: web.Request) -> web.Response:
    payload = await parse_json(request, DecisionRequest)
    outcome = await decisions.apply_decisions(
        events=request.app[EVENTS],
        principal=require_principal(request),
        request=payload,
    )
    return json_response(outcome)


@routes.post(f"{PREFIX}/reevaluate")
@document(REEVALUATE)
@moderator
async def reevaluate(request: web.Request) -> web.Response:
    payload = await parse_json(request, ReevaluateRequest)
    outcome = await decisions.reevaluate(
        events=request.app[EVENTS],
        jobs=request.app[JOBS],
        principal=require_principal(request),
        request=payload,
    )
    return json_response(outcome)


@routes.get(f"{PREFIX}/comments/{{comment_id}}")
@document(COMMENT)
@moderator
async def get_comment(request: web.Request) -> web.Response:
    comment_id = parse_id(request.match_info["comment_id"], "comment id")
    item = await queues.get_item(sessionmaker=request.app[SESSIONMAKER], comment_id=comment_id)
    return json_response(item)


@routes.get(f"{PREFIX}/comments/{{comment_id}}/history")
@document(COMMENT_HISTORY)
@moderator
async def comment_history(request: web.Request) -> web.Response:
    comment_id = parse_id(request.match_info["comment_id"], "comment id")
    query = parse_query(request, PageQuery)
    page = await audit.comment_history(
        sessionmaker=request.app[SESSIONMAKER], comment_id=comment_id, query=query
    )
    return json_response(page)


@routes.get(f"{PREFIX}/users/{{user_id}}")
@document(USER)
@moderator
async def get_user(request: web.Request) -> web.Response:
    page = await sanctions.user_page(
        sessionmaker=request.app[SESSIONMAKER], user_id=_user_id(request)
    )
    return json_response(page)


@routes.get(f"{PREFIX}/users/{{user_id}}/history")
@document(USER_HISTORY)
@moderator
async def user_history(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    query = parse_query(request, PageQuery)
    page = await audit.user_history(
        sessionmaker=request.app[SESSIONMAKER], user_id=user_id, query=query
    )
    return json_response(page)


@routes.post(f"{PREFIX}/users/{{user_id}}/status")
@document(USER_STATUS)
@moderator
async def set_user_status(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    payload = await parse_json(request, UserStatusChange)
    outcome = await sanctions.set_status(
        events=request.app[EVENTS],
        principal=require_principal(request),
        user_id=user_id,
        change=payload,
    )
    return json_response(outcome)


@routes.get(f"{PREFIX}/policy")
@document(POLICY_GET)
@admin
async def get_policy(request: web.Request) -> web.Response:
    policy = await configuration.read_policy(sessionmaker=request.app[SESSIONMAKER])
    return json_response(policy)


@routes.put(f"{PREFIX}/policy")
@document(POLICY_PUT)
@admin
async def put_policy(request: web.Request) -> web.Response:
    payload = await parse_json(request, PolicyBody)
    policy = await configuration.write_policy(
        sessionmaker=request.app[SESSIONMAKER],
        principal=require_principal(request),
        body=payload,
    )
    return json_response(policy)


@routes.get(WORDLIST)
@document(WORDLIST_GET)
@admin
async def get_wordlist(request: web.Request) -> web.Response:
    wordlist = await configuration.read_wordlist(
        sessionmaker=request.app[SESSIONMAKER], kind=_wordlist_kind(request)
    )
    return json_response(wordlist)


@routes.put(WORDLIST)
@document(WORDLIST_PUT)
@admin
async def put_wordlist(request: web.Request) -> web.Response:
    kind = _wordlist_kind(request)
    payload = await parse_json(request, WordlistBody)
    wordlist = await configuration.write_wordlist(
        sessionmaker=request.app[SESSIONMAKER],
        principal=require_principal(request),
        kind=kind,
        body=payload,
    )
    return json_response(wordlist)
