"""The console's page, its built assets and the session check its sign-in calls.

The page is the same for everyone; the token never reaches it. A host site's sign-in page
(``BARAZA_CONSOLE_LOGIN_URL``) sends staff back to ``/console/#token=JWT``: a URL fragment is
not sent to servers, so the token stays out of requests and access logs. The script keeps it
in ``sessionStorage`` and asks ``GET /api/v1/console/session`` whether it holds a staff role.
"""

from __future__ import annotations

import functools
import hashlib
import html
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from server.auth import Role, require_principal, requires
from server.errors import BadRequest, NotFound
from server.http import json_response
from server.openapi import Operation, Reply, document
from server.typedefs import SETTINGS

routes = web.RouteTableDef()
ASSETS = Path(__file__).resolve().parent.parent / "static" / "console"
# Built by `npm run build` in widget/ (see widget/README.md); the page names them with a hash.
ASSET_TYPES = {"console.js": "text/javascript", "console.css": "text/css"}
QUERY_TOKENS = ("token", "access_token", "jwt")
TAGS = ("console",)
STAFF = (Role.moderator, Role.editor, Role.admin)


class ConsoleSession(BaseModel):
    model_config = ConfigDict(frozen=True)

    sub: str
    name: str
    roles: list[Role]


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    etag: str
    content_type: str


@functools.cache
def _asset(name: str) -> Asset | None:
    path = ASSETS / name
    if name not in ASSET_TYPES or not path.is_file():
        return None
    body = path.read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:20]
    return Asset(body, f'"{etag}"', ASSET_TYPES[name])


def _page(login_url: str | None) -> str:
    version = {name: (a.etag.strip('"') if (a := _asset(name)) else "0") for name in ASSET_TYPES}
    login = html.escape(login_url or "", quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="baraza-login-url" content="{login}">
<title>Baraza console</title>
<link rel="stylesheet" href="/console/console.css?v={version['console.css']}">
</head>
<body>
<div id="baraza-console"><noscript>The Baraza console needs JavaScript.</noscript></div>
<script src="/console/console.js?v={version['console.js']}" defer></script>
</body>
</html>
"""


PAGE = Operation(
    summary="The newsroom console (an HTML page; sign-in with a staff token in the fragment)",
    description=(
        "Served to anyone: the page holds no data. The host site's sign-in page "
        "(`BARAZA_CONSOLE_LOGIN_URL`) returns staff to `/console/#token=JWT`; a token in the "
        "query string is refused, so it never reaches a log."
    ),
    tags=TAGS,
    responses={
        200: Reply("The console page.", schema={"type": "string"}, content_type="text/html")
    },
)
ASSET = Operation(
    summary="A built asset of the console (script or style sheet)",
    tags=TAGS,
    path={"name": {"type": "string", "enum": list(ASSET_TYPES)}},
    responses={
        200: Reply("The asset.", schema={"type": "string"}, content_type="text/javascript"),
        304: Reply("Not modified (ETag)."),
    },
)
SESSION = Operation(
    summary="Who the console is signed in as; refuses tokens without a staff role",
    tags=TAGS,
    responses={200: Reply("The signed-in staff member.", ConsoleSession)},
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


REDIRECT = Operation(
    summary="Redirects to /console/",
    tags=TAGS,
    responses={308: Reply("To the console page.")},
)


@routes.get("/console")
@document(REDIRECT)
async def console_redirect(request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect("/console/")


@routes.get("/console/")
@document(PAGE)
async def console_page(request: web.Request) -> web.Response:
    if any(name in request.query for name in QUERY_TOKENS):
        raise BadRequest(
            "a token belongs in the URL fragment (/console/#token=...), never in the query",
            code="token_in_query",
        )
    body = _page(request.app[SETTINGS].console_login_url)
    headers = {"Cache-Control": "no-store", **_SECURITY_HEADERS}
    return web.Response(text=body, content_type="text/html", headers=headers)


@routes.get("/console/{name}")
@document(ASSET)
async def console_asset(request: web.Request) -> web.Response:
    asset = _asset(request.match_info["name"])
    if asset is None:
        raise NotFound("no such console asset", code="not_found")
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=31536000, immutable"
        if "v" in request.query
        else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("If-None-Match") == asset.etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, content_type=asset.content_type, headers=headers)


@routes.get("/api/v1/console/session")
@document(SESSION)
@requires(*STAFF)
async def console_session(request: web.Request) -> web.Response:
    principal = require_principal(request)
    roles = sorted(principal.roles, key=list(Role).index)
    return json_response(
        ConsoleSession(sub=principal.sub, name=principal.name, roles=roles),
        headers={"Cache-Control": "private, no-store"},
    )


def console_link(base_url: str, token: str) -> str:
    """The link ``baraza token --console`` prints: the token in the fragment only."""
    return f"{base_url.rstrip('/')}/console/#token={token}"
