"""Cross-origin access for pages embedding the widget: an allow-list of exact origins.

``aiohttp-cors`` answers the preflights (``OPTIONS``) of every ``/api/v1`` route and adds
``Access-Control-Allow-Origin`` to answers for listed origins only; an unlisted origin gets no
CORS header (its preflight is refused with 403). ``Vary: Origin`` is added to every API answer
so a shared cache never hands one origin's answer to another. The WebSocket and SSE endpoints
are not protected by CORS at all (a cross-site page can open them), so they check ``Origin``
against the same list themselves (:func:`check_origin`): cross-site WebSocket hijacking.
"""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from server.errors import Forbidden
from server.typedefs import SETTINGS

API_PREFIX = "/api/v1/"
ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-None-Match",
                 "Last-Event-ID")
EXPOSE_HEADERS = ("ETag", "Retry-After", "Idempotent-Replayed", "Location")
PREFLIGHT_MAX_AGE = 600


def _options() -> aiohttp_cors.ResourceOptions:
    # No cookies: the widget authenticates with the host's bearer token, never credentials.
    return aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=False,
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        max_age=PREFLIGHT_MAX_AGE,
    )


async def _vary_origin(request: web.Request, response: web.StreamResponse) -> None:
    if not request.path.startswith(API_PREFIX):
        return
    vary = response.headers.get("Vary", "")
    if "origin" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"


def setup(app: web.Application) -> None:
    """Call after every route is added: each ``/api/v1`` route gets its preflight."""
    origins = app[SETTINGS].cors_origins
    cors = aiohttp_cors.setup(app, defaults={origin: _options() for origin in origins})
    for route in list(app.router.routes()):
        info = route.resource.get_info() if route.resource is not None else {}
        path = str(info.get("path") or info.get("formatter") or "")
        if path.startswith(API_PREFIX) and route.method != "HEAD":
            cors.add(route)
    app.on_response_prepare.append(_vary_origin)


def check_origin(request: web.Request) -> None:
    """Refuse a browser connection from an origin not on the list (when the list is set).

    No ``Origin`` (a server-side client) and the server's own origin (the demo page, the
    console) are always allowed.
    """
    origins = request.app[SETTINGS].cors_origins
    origin = request.headers.get("Origin")
    if not origins or origin is None or origin in origins:
        return
    own = f"{request.scheme}://{request.host}"
    if origin.lower() == own.lower():
        return
    raise Forbidden("this origin may not open live connections", code="origin_not_allowed")
