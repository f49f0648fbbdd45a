"""The OpenAPI 3.1 document of the whole API, built from the routes the app really has.

How a route gets documented: decorate its handler with ``@document(Operation(...))`` next to
``@routes.get(...)`` (above or below ``@requires``; the roles it declares become the
operation's security and its 401/403 answers). Request bodies, query strings and responses
are pydantic models, turned into JSON Schema with ``model_json_schema``. Routes whose views
cannot carry the decorator are described in ``server.api_docs.CATALOG`` by (method, path).

``build_document(app)`` walks ``app.router``; ``undocumented(app)`` lists what it could not
describe, and a test keeps that list empty.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel

from server.ids import ARTICLE_ID_PATTERN

OPENAPI_PATH = "/api/v1/openapi.json"
_ATTRIBUTE = "openapi_operation"
_REF = "#/components/schemas/{model}"

H = TypeVar("H", bound=Callable[..., Any])

# Path parameters that recur; anything else is a plain string.
ID_SCHEMA: Mapping[str, Any] = {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
ARTICLE_ID_SCHEMA: Mapping[str, Any] = {
    "type": "string",
    "pattern": ARTICLE_ID_PATTERN,
}
USER_ID_SCHEMA: Mapping[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 128,
    "pattern": "^[^\\x00]+$",
}
PATH_PARAMETERS: Mapping[str, Mapping[str, Any]] = {
    "article_id": ARTICLE_ID_SCHEMA,
    "comment_id": ID_SCHEMA,
    "post_id": ID_SCHEMA,
    "user_id": USER_ID_SCHEMA,
}


@dataclass(frozen=True, slots=True)
class Reply:
    """One documented response: a model, a raw JSON Schema, or no body."""

    description: str
    model: type[BaseModel] | None = None
    schema: Mapping[str, Any] | None = None
    content_type: str = "application/json"
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Operation:
    """What a route does and what it takes and returns."""

    summary: str
    tags: tuple[str, ...]
    responses: Mapping[int, Reply]
    description: str | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    # Narrower schemas for some query parameters than their model says (e.g. length limits
    # the HTTP layer imposes first: a request line is at most 8190 bytes).
    query_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Path parameter schemas beyond PATH_PARAMETERS, e.g. {"queue": {"enum": [...]}}.
    path: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # "none": no token needed; "optional": a token changes the answer; "required".
    auth: str = "none"
    # WebSocket and Server-Sent Events routes: documented, but not fuzzed (they stream).
    streaming: bool = False


def document(operation: Operation) -> Callable[[H], H]:
    """Attach ``operation`` to a handler (kept by ``functools.wraps`` in ``@requires``)."""

    def attach(handler: H) -> H:
        handler.__dict__[_ATTRIBUTE] = operation
        return handler

    return attach


def operation_of(handler: Any, method: str, path: str) -> Operation | None:
    found = getattr(handler, "__dict__", {}).get(_ATTRIBUTE)
    if isinstance(found, Operation):
        return found
    from server.api_docs import CATALOG

    return CATALOG.get((method, path))


def _routes(app: web.Application) -> Iterator[tuple[str, str, Any]]:
    for route in app.router.routes():
        # aiohttp adds HEAD for every GET, and server.cors an OPTIONS preflight for every API
        # route; neither needs separate documentation.
        if route.method in ("HEAD", "OPTIONS", "*") or route.resource is None:
            continue
        yield route.method, route.resource.canonical, route.handler


def undocumented(app: web.Application) -> list[str]:
    """Every ``METHOD /path`` of ``app`` without an Operation."""
    return [
        f"{method} {path}"
        for method, path, handler in _routes(app)
        if operation_of(handler, method, path) is None
    ]


class _Components:
    """Collects the JSON Schemas of the models the document refers to."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self._owners: dict[str, type[BaseModel]] = {}

    def ref(self, model: type[BaseModel], mode: str = "serialization") -> dict[str, str]:
        schema = model.model_json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, sub)
        self._claim(model)
        self.schemas[model.__name__] = schema
        return {"$ref": _REF.format(model=model.__name__)}

    def _claim(self, model: type[BaseModel]) -> None:
        owner = self._owners.setdefault(model.__name__, model)
        if owner is not model:
            raise ValueError(
                f"two models are named {model.__name__}: {owner.__module__} and {model.__module__}"
            )

    def inline(self, model: type[BaseModel]) -> dict[str, Any]:
        """A model's own schema (for query strings), its nested models added as components."""
        schema = model.model_json_schema(ref_template=_REF, mode="validation")
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, sub)
        return schema


ERROR_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}

_ERRORS = {
    400: "Malformed request: bad JSON, query string, id or cursor.",
    401: "Missing, malformed, expired or invalid bearer token.",
    403: "The caller lacks the role or standing this needs.",
    404: "No such resource.",
    409: "The resource's state does not allow this.",
    413: "Request body too large.",
    422: "The request is well-formed but invalid.",
    429: "Rate limited; see Retry-After.",
    503: "A backing service is unavailable; retry shortly.",
}


def error_reply(description: str) -> Reply:
    """A documented error answer in the API's error format."""
    return Reply(description, schema={"$ref": "#/components/schemas/Error"})


def _error(status: int) -> dict[str, Any]:
    return {
        "description": _ERRORS.get(status, "Error."),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _reply(reply: Reply, components: _Components) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    schema: Any = None
    if reply.model is not None:
        schema = components.ref(reply.model)
    elif reply.schema is not None:
        schema = dict(reply.schema)
    if schema is not None:
        out["content"] = {reply.content_type: {"schema": schema}}
    if reply.headers:
        out["headers"] = {k: {"schema": dict(v)} for k, v in reply.headers.items()}
    return out


def _path_names(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def _parameters(op: Operation, path: str, components: _Components) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(op.path.get(name) or PATH_PARAMETERS.get(name) or {"type": "string"}),
        }
        for name in _path_names(path)
    ]
    if op.query is not None:
        schema = components.inline(op.query)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = {**prop, **op.query_overrides.get(name, {})}
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    for name, header in op.headers.items():
        params.append({"name": name, "in": "header", "required": False, "schema": dict(header)})
    return params


def _security(op: Operation, roles: tuple[str, ...]) -> list[dict[str, list[str]]] | None:
    if op.auth == "required" or roles:
        return [{"bearer": []}]
    if op.auth == "optional":
        return [{}, {"bearer": []}]
    return None


def _error_statuses(op: Operation, path: str, roles: tuple[str, ...]) -> set[int]:
    # Any request may carry a bad token (401), meet a dead dependency (503) or a bad id (400).
    statuses = {400, 401, 503}
    if roles or op.auth == "required":
        statuses.add(403)
    if _path_names(path):
        statuses.add(404)
    if op.body is not None:
        statuses |= {413, 422}
    return statuses


def _operation(
    op: Operation, method: str, path: str, roles: tuple[str, ...], components: _Components
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": f"{method.lower()}_{_slug(path)}",
        "summary": op.summary,
        "tags": list(op.tags),
        "parameters": _parameters(op, path, components),
        "responses": {str(code): _reply(r, components) for code, r in sorted(op.responses.items())},
    }
    if op.description:
        out["description"] = op.description
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": components.ref(op.body, "validation")}},
        }
    for status in sorted(_error_statuses(op, path, roles)):
        out["responses"].setdefault(str(status), _error(status))
    security = _security(op, roles)
    if security is not None:
        out["security"] = security
    if roles:
        out["x-required-roles"] = list(roles)
    if op.streaming:
        out["x-streaming"] = True
    return out


def _slug(path: str) -> str:
    cleaned = path.removeprefix("/api/v1/").strip("/")
    for char in "{}":
        cleaned = cleaned.replace(char, "")
    return cleaned.replace("/", "_").replace(".", "_").replace("-", "_") or "root"


def build_document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``; routes without an Operation are left out."""
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in _routes(app):
        op = operation_of(handler, method, path)
        if op is None:
            continue
        roles = tuple(str(r) for r in getattr(handler, "__dict__", {}).get("required_roles", ()))
        paths.setdefault(path, {})[method.lower()] = _operation(op, method, path, roles, components)
    components.schemas["Error"] = {**ERROR_SCHEMA}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Baraza",
            "version": "1",
            "description": "Reader comments, moderation and live updates for news sites.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


# The router is frozen once the app runs, so each app's document is built once.
_DOCUMENTS: weakref.WeakKeyDictionary[web.Application, bytes] = weakref.WeakKeyDictionary()

routes = web.RouteTableDef()


@routes.get(OPENAPI_PATH)
@document(
    Operation(
        summary="This document (OpenAPI 3.1)",
        tags=("ops",),
        responses={200: Reply("The OpenAPI document.", schema={"type": "object"})},
    )
)
async def openapi_json(request: web.Request) -> web.Response:
    body = _DOCUMENTS.get(request.app)
    if body is None:
        body = orjson.dumps(build_document(request.app))
        _DOCUMENTS[request.app] = body
    return web.Response(body=body, content_type="application/json")
