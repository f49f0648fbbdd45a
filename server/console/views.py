"""The console's API: its sign-in configuration and the session check that refuses readers.

The page and its script are built files (``widget/src/console`` → ``server/static/console``)
served by ``server.assets`` at ``/console/``. Sign-in: a host site's page
(``BARAZA_CONSOLE_LOGIN_URL``) sends staff back to ``/console/#token=JWT``. A URL fragment is
never sent to a server, so the token stays out of requests and access logs; the script keeps it
in ``sessionStorage`` and asks ``GET /api/v1/console/session`` whether it holds a staff role.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from server.auth import Role, require_principal, requires
from server.http import json_response
from server.openapi import Operation, Reply, document
from server.typedefs import SETTINGS

routes = web.RouteTableDef()
TAGS = ("console",)
STAFF = (Role.moderator, Role.editor, Role.admin)


class ConsoleConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    login_url: str | None


class ConsoleSession(BaseModel):
    model_config = ConfigDict(frozen=True)

    sub: str
    name: str
    roles: list[Role]


CONFIG = Operation(
    summary="How the console signs in: the host site's login page, if any",
    description=(
        "With `login_url` the console sends a signed-out visitor there with "
        "`?return_to=<console URL>`; the host site answers with a redirect to "
        "`/console/#token=JWT`. Without it the console offers a paste-token form."
    ),
    tags=TAGS,
    responses={200: Reply("The sign-in configuration.", ConsoleConfig)},
)
SESSION = Operation(
    summary="Who the console is signed in as; refuses tokens without a staff role",
    tags=TAGS,
    responses={200: Reply("The signed-in staff member.", ConsoleSession)},
)


@routes.get("/api/v1/console/config")
@document(CONFIG)
async def console_config(request: web.Request) -> web.Response:
    return json_response(ConsoleConfig(login_url=request.app[SETTINGS].console_login_url))


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
