"""Logging: plain text for a terminal, JSON lines for a log pipeline (BARAZA_LOG_FORMAT=json)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys

import orjson

from server.settings import LogFormat, Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


# A token in a query string (``/api/v1/live?token=…``, as browsers cannot set headers on a
# WebSocket) must never reach a log line, whoever logs the URL (access logs, proxies' errors).
_TOKEN_IN_QUERY = re.compile(r"([?&;](?:access_)?token=)[^&\s\"']+", re.IGNORECASE)


class RedactTokens(logging.Filter):
    """Replace query-string tokens in the formatted message with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN_IN_QUERY.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactTokens())
    if settings.log_format is LogFormat.json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
