"""Schemathesis against a live server: no 5xx, and every answer matches the document.

The server runs in a thread with its own event loop (as ``baraza serve`` would), on the test
session's PostgreSQL database and Redis prefix. Every operation is fuzzed with an admin's
token, so the role checks pass and the handlers themselves meet the generated input; the
permission matrix is tested elsewhere. Streaming operations (WebSocket, SSE) are left out.
"""

from __future__ import annotations

import asyncio
import copy
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from server.app import create_app
from server.auth import mint_token
from server.openapi import build_document
from server.settings import Settings
from tests.conftest import JWT_SECRET, REDIS_URL

# Refusals of schema-valid requests that no JSON Schema can express, each documented with its
# operation. Anything else a schema-valid request gets refused with is a mismatch to fix.
BEYOND_SCHEMA = {
    # A cursor is a position the server handed out; no schema can generate one, and starting
    # again at page one for a made-up cursor would loop a client forever.
    (400, "invalid_cursor"),
    # The parent exists but is not published, or belongs to another article (state).
    (422, "invalid_parent"),
    # The fuzzing admin wrote the comment it reports (state).
    (422, "own_comment"),
    # The fuzzer sent one Idempotency-Key with two different comments (state).
    (422, "idempotency_key_reused"),
    # GET …/liveblog: `since` and `cursor`/`key_events` exclude each other, a rule between
    # parameters that OpenAPI cannot state (the operation's description does).
    (400, "invalid_query"),
    # 'until' must be in the future: depends on the clock.
    (422, "until_in_past"),
    # A label's hold threshold above its reject threshold (a relation between two values).
    (422, "invalid_policy"),
    # A word-list entry without letters or digits (Unicode classes the document's regex dialect
    # cannot name).
    (422, "invalid_wordlist"),
}


def _beyond_schema(response: Any) -> bool:
    if response.status_code not in (400, 422):
        return False
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return False
    return (response.status_code, code) in BEYOND_SCHEMA


@schemathesis.check
def rejects_negative_data(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """``negative_data_rejection``, counting a 413 (body over ``max_request_bytes``) a refusal."""
    if response.status_code == 413:
        return None
    return negative_data_rejection(ctx, response, case)


@schemathesis.check
def accepts_positive_data(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """``positive_data_acceptance``, but for the refusals listed in ``BEYOND_SCHEMA``."""
    if _beyond_schema(response):
        return None
    return positive_data_acceptance(ctx, response, case)


# Everything ``st run --checks all`` checks (``positive_data_acceptance`` through the wrapper).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    rejects_negative_data,
    accepts_positive_data,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    use_after_free,
    ensure_resource_availability,
    ignored_auth,
]
EXAMPLES = int(os.environ.get("BARAZA_FUZZ_EXAMPLES", "25"))
# The gate replays the same inputs every run (a failure there is a regression, never luck);
# BARAZA_FUZZ_RANDOM=1 explores new inputs on a developer's machine.
DERANDOMIZE = not os.environ.get("BARAZA_FUZZ_RANDOM")


def _document() -> dict[str, Any]:
    """The app's document without its streaming operations (fuzzing them would hang)."""
    document = copy.deepcopy(build_document(create_app(Settings(jwt_secret=JWT_SECRET))))
    for path, operations in list(document["paths"].items()):
        for method in [m for m, op in operations.items() if op.get("x-streaming")]:
            del operations[method]
        if not operations:
            del document["paths"][path]
    return document


schema = schemathesis.openapi.from_dict(_document())


class LiveServer:
    """An app served on a free port by its own event loop in a thread."""

    def __init__(self, app_settings: Settings) -> None:
        self._settings = app_settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)

    async def _start(self) -> None:
        self._runner = web.AppRunner(create_app(self._settings), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


@pytest.fixture(scope="module")
def live_server(database_url: str, redis_prefix: str) -> Iterator[tuple[str, str]]:
    app_settings = Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        jwt_secret=JWT_SECRET,
        database_pool_size=5,
        rate_limit_enabled=False,
        embedded_worker=False,
    )
    server = LiveServer(app_settings)
    server.start()
    token = mint_token(app_settings, sub="fuzz-admin", name="Fuzz", roles=["admin"])
    try:
        yield server.url, token
    finally:
        server.stop()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=DERANDOMIZE,
)
def test_api_conforms_to_its_document(case: schemathesis.Case, live_server) -> None:
    url, token = live_server
    case.call_and_validate(
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        checks=CHECKS,
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
        timeout=10,
    )
