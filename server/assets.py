"""The built front end (``widget/`` → ``server/static/``): the reader widget and the console.

Every file a build lists in its ``manifest.json`` is read once at startup with its gzip sibling
and served from memory: an ETag from its SHA-256, ``304`` on ``If-None-Match``, gzip when the
client accepts it. A URL carrying ``?v=<sha256 prefix>`` of the current file is immutable for a
year; the stable names (``/embed/v1/baraza.js``, the contract) are cached for a few minutes and
revalidated cheaply.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiohttp import web

from server.errors import NotFound
from server.openapi import Operation, Reply, document, error_reply
from server.typedefs import ASSETS

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# URL prefixes served from the directory of the same name under ``server/static/``.
MOUNTS = ("/embed/v1/", "/console/")
STABLE_MAX_AGE = 300
IMMUTABLE = "public, max-age=31536000, immutable"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
_GZIP = re.compile(r"(?:^|,)\s*gzip\s*(?:;\s*q\s*=\s*(?P<q>[0-9.]+))?\s*(?:,|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    sha256: str
    content_type: str

    @property
    def etag(self) -> str:
        return f'"{self.sha256[:32]}"'

    @property
    def version(self) -> str:
        """What a ``?v=`` query must carry for the immutable policy."""
        return self.sha256[:12]


def load_assets(root: Path = STATIC_DIR) -> dict[str, Asset]:
    """URL path → Asset for every file listed in a ``manifest.json`` under ``root``."""
    assets: dict[str, Asset] = {}
    for manifest in sorted(root.rglob("manifest.json")):
        listed = orjson.loads(manifest.read_bytes())
        base = "/" + manifest.parent.relative_to(root).as_posix() + "/"
        for name, meta in listed.items():
            body = (manifest.parent / name).read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            if digest != meta["sha256"]:
                raise RuntimeError(f"{manifest.parent / name} does not match its manifest")
            gz = manifest.parent / f"{name}.gz"
            asset = Asset(
                body=body,
                gzipped=gz.read_bytes() if gz.exists() else None,
                sha256=digest,
                content_type=_TYPES.get(Path(name).suffix, "application/octet-stream"),
            )
            assets[base + name] = asset
            if name == "index.html":
                assets[base] = asset
    return assets


def accepts_gzip(header: str) -> bool:
    match = _GZIP.search(header)
    if match is None:
        return False
    q = match.group("q")
    try:
        return q is None or float(q) > 0
    except ValueError:
        return False


def _cache_control(request: web.Request, asset: Asset) -> str:
    if request.query.get("v") == asset.version:
        return IMMUTABLE
    if asset.content_type.startswith("text/html"):
        return "no-cache"
    return f"public, max-age={STABLE_MAX_AGE}"


@document(Operation(
    summary="The built front end: the reader widget (/embed/v1/baraza.js) and the console",
    tags=("front end",),
    responses={
        200: Reply("The file (gzip when accepted).", schema={"type": "string"},
                   content_type="text/javascript"),
        304: Reply("Not modified (If-None-Match)."),
        404: error_reply("No such file."),
    },
))
async def serve_asset(request: web.Request) -> web.StreamResponse:
    asset = request.app[ASSETS].get(request.path)
    if asset is None:
        raise NotFound("no such file", code="not_found")
    headers = {
        "ETag": asset.etag,
        "Cache-Control": _cache_control(request, asset),
        "Vary": "Accept-Encoding",
        # A widget is loaded by other origins' pages; it must be usable as a cross-origin script.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and accepts_gzip(request.headers.get("Accept-Encoding", "")):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    response = web.Response(body=body, headers=headers, content_type=None)
    response.headers["Content-Type"] = asset.content_type
    return response


async def assets_ctx(app: web.Application) -> AsyncIterator[None]:
    app[ASSETS] = await asyncio.to_thread(load_assets)
    if not any(path.startswith(MOUNTS[0]) for path in app[ASSETS]):
        log.warning("the reader widget is not built: run `npm --prefix widget run build`")
    yield


def setup(app: web.Application) -> None:
    """Serve the built front end under :data:`MOUNTS`."""
    app.cleanup_ctx.append(assets_ctx)
    for mount in MOUNTS:
        app.router.add_get(mount + "{tail:.*}", serve_asset, allow_head=True)
