"""aiohttp's own answers to requests it cannot parse, in the API's error format.

A request line or header over aiohttp's limits, a malformed request, a bad method: aiohttp
answers these itself (before any route or middleware), as plain text. ``ApiRunner`` serves the
app with a request handler that answers them as ``{"error": {"code", "message"}}`` instead.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from server.errors import error_response

_CODES = {400: "bad_request", 413: "payload_too_large", 431: "headers_too_large"}


def protocol_error(
    status: int, message: str | None, exc: BaseException | None = None
) -> web.Response:
    """The JSON answer for a request aiohttp could not parse (a 500: nothing internal shown)."""
    if status >= 500:
        reply = error_response(status, "internal", "internal error; it has been logged")
    else:
        if isinstance(exc, LineTooLong):
            # aiohttp's text echoes the first bytes of the line back; the limit is what matters.
            message = f"request line or a header is too long (limit {exc.args[1]} bytes)"
        text = (message or HTTPStatus(status).phrase).splitlines()[0][:200]
        reply = error_response(status, _CODES.get(status, "bad_request"), text)
    reply.force_close()
    return reply


class _JsonErrorHandler(RequestHandler):
    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        super().handle_error(request, status, exc, message)  # logs; refuses once output began
        return protocol_error(status, message, exc)


class _JsonErrorServer(Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """An ``AppRunner`` whose connections answer protocol errors in the API's format."""

    async def _make_server(self) -> Server:
        plain = await super()._make_server()
        # The same handler, request factory and options; only the per-connection class differs.
        return _JsonErrorServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )
