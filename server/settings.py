"""One typed Settings object, read from ``BARAZA_*`` environment variables.

Nothing here runs at import time: callers build ``Settings()`` (or ``Settings(**overrides)``)
where they need one, and pass it down.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from server.proxies import parse_trusted_proxies

DEFAULT_JWT_SECRET = "baraza-insecure-development-secret-change-me"  # noqa: S105 - refused outside the embedded default
EMBEDDED_DATABASE_URL = "sqlite+aiosqlite:///./baraza.db"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class LogFormat(enum.StrEnum):
    text = "text"
    json = "json"


class SettingsError(Exception):
    """The environment does not describe a runnable configuration."""


PositiveInt = Annotated[int, Field(gt=0)]


class Settings(BaseSettings):
    """Every knob Baraza reads. Each field is ``BARAZA_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="BARAZA_", extra="forbid", frozen=True, env_ignore_empty=True
    )

    # Storage and transport
    database_url: str = EMBEDDED_DATABASE_URL
    redis_url: str | None = None
    redis_prefix: str = "baraza:"
    database_pool_size: PositiveInt = 20
    # Connections beyond the pool, closed again as soon as they are returned: under a load
    # above the pool's size that is a connection opened (TLS attempt, authentication, a new
    # PostgreSQL backend) per request. 0 makes requests wait for a pooled one instead.
    database_pool_overflow: Annotated[int, Field(ge=0)] = 0
    database_echo: bool = False
    # Scale-out (docs/deploy.md): BARAZA_REDIS_URL names one startup node of a Redis Cluster;
    # PgBouncer in transaction pooling in front of database_url; migrations on the direct URL;
    # anonymous thread reads and counts on a replica.
    redis_cluster: bool = False
    database_pooler: Literal["none", "pgbouncer"] = "none"
    database_direct_url: str | None = None
    database_read_url: str | None = None

    # HTTP
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    max_request_bytes: PositiveInt = 64 * 1024
    # Off, `true` (one proxy), a hop count, or the proxies' networks (server/proxies.py).
    trusted_proxies: str = ""
    # Pages allowed to call the API and open live connections: exact origins, comma-separated
    # (e.g. "https://news.example,https://www.news.example").
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Auth
    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_leeway_seconds: Annotated[int, Field(ge=0, le=600)] = 30
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    # An OpenID Connect provider's key set: RS256/ES256 tokens verified against it (HS256 too).
    jwt_jwks_url: str | None = None
    jwt_jwks_cache_seconds: Annotated[float, Field(gt=0)] = 300.0
    # Least time between fetches prompted by unknown key ids (rotation, or forged kids).
    jwt_jwks_refresh_seconds: Annotated[float, Field(ge=0)] = 30.0

    # Comments
    body_max_chars: PositiveInt = 5000
    edit_window_seconds: Annotated[int, Field(ge=0)] = 15 * 60
    max_depth: Annotated[int, Field(ge=0, le=20)] = 3
    page_size: PositiveInt = 20
    max_page_size: PositiveInt = 100
    first_replies: Annotated[int, Field(ge=0, le=50)] = 3
    idempotency_key_max: PositiveInt = 200
    # Anonymous thread pages are served from a per-process cache this long (0 turns it off);
    # every process drops an article's pages when a ``pages.changed`` event reaches it.
    thread_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0

    # Events of a comment whose process died between commit and relay are relayed again by a
    # server process once they are this old (server/lifecycle/relay.py).
    outbox_relay_after_seconds: Annotated[float, Field(gt=0)] = 30.0

    # Rate limits (limits' notation, e.g. "10/minute;100/hour")
    rate_limit_comments_user: str = "10/minute;200/day"
    rate_limit_comments_ip: str = "30/minute"
    rate_limit_actions_user: str = "120/minute"
    rate_limit_actions_ip: str = "600/minute"
    rate_limit_enabled: bool = True

    # Scoring
    model: str = "original"
    model_checkpoint: Path | None = None
    model_config_dir: Path | None = None
    model_device: str = "cpu"
    model_threads: Annotated[int, Field(ge=0)] = 0
    model_fast: bool = False
    # With model_fast: auto | bf16 | onnx-fp32 | onnx-int8 | torch-int8 (docs/scoring.md).
    model_fast_mode: Literal["auto", "bf16", "onnx-fp32", "onnx-int8", "torch-int8"] = "auto"
    scorer: str = "auto"
    # Languages the detector chooses between (ISO 639-1, e.g. ["en", "sw"]); empty: all 142.
    language_candidates: list[str] = Field(default_factory=list)
    worker_batch_size: PositiveInt = 32
    worker_batch_wait_ms: Annotated[int, Field(ge=0)] = 20
    worker_concurrency: PositiveInt = 1
    worker_claim_idle_ms: PositiveInt = 60_000
    worker_max_deliveries: PositiveInt = 5
    sweeper_interval_seconds: Annotated[float, Field(gt=0)] = 30.0
    sweeper_pending_after_seconds: Annotated[float, Field(gt=0)] = 120.0
    # How often each worker checks that the jobs stream and its group still exist; when Redis
    # has come back empty, pending comments are re-enqueued at once (docs/workers.md).
    sweeper_lost_check_seconds: Annotated[float, Field(gt=0)] = 5.0
    embedded_worker: bool | None = None
    # With the in-process job queue (no Redis: the embedded default), POSTs are refused with
    # 503 and Retry-After while this many comments wait for the in-process scorer (0: never),
    # so a burst cannot pile up a backlog without bound.
    scoring_backlog_max: Annotated[int, Field(ge=0)] = 500
    # `baraza worker` serves Prometheus metrics on this port (0: off).
    worker_metrics_port: Annotated[int, Field(ge=0, le=65535)] = 0
    worker_shutdown_seconds: Annotated[float, Field(gt=0)] = 30.0

    # Live updates
    live_history_size: PositiveInt = 1000
    live_history_ttl_seconds: PositiveInt = 24 * 3600
    live_queue_size: PositiveInt = 256
    live_max_connections: PositiveInt = 50_000
    live_max_connections_per_ip: PositiveInt = 200
    live_max_subscriptions: PositiveInt = 32
    live_heartbeat_seconds: Annotated[float, Field(gt=0)] = 25.0
    presence_interval_seconds: Annotated[float, Field(gt=0)] = 3.0

    # `baraza serve --demo`: /demo/ with a sign-in that mints tokens (embedded default only).
    demo: bool = False

    # Ops
    log_format: LogFormat = LogFormat.text
    log_level: str = "INFO"

    # Live blog
    liveblog_page_size: PositiveInt = 20
    liveblog_max_page_size: PositiveInt = 100
    liveblog_body_max_chars: PositiveInt = 20_000
    # Cache-Control max-age of anonymous reads: how stale a CDN may serve a page or a poll.
    liveblog_cache_seconds: Annotated[int, Field(ge=0, le=300)] = 5
    # Each process keeps anonymous reads this long (0: off); writes drop them on every
    # process through ``pages.changed`` events (this process's own at once).
    liveblog_page_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0

    # Webhooks (docs/integrations.md)
    webhook_allow_private: bool = False
    webhook_max_attempts: PositiveInt = 8
    webhook_backoff_base_seconds: Annotated[float, Field(gt=0)] = 10.0
    webhook_backoff_max_seconds: Annotated[float, Field(gt=0)] = 6 * 3600.0
    webhook_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    webhook_batch_size: PositiveInt = 50
    webhook_concurrency: PositiveInt = 16
    webhook_poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    # Deliver from inside `baraza serve` (default: on the embedded default only).
    webhook_deliver_in_server: bool | None = None

    # Reply e-mails (docs/integrations.md); off while smtp_host is unset.
    public_url: str | None = None
    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    email_from: str = "Baraza <no-reply@localhost>"
    # Notifications wait this long for company: two or more become one digest.
    reply_email_delay_seconds: Annotated[float, Field(ge=0)] = 300.0

    # Console: the host site's sign-in page; it sends staff back to /console/#token=JWT.
    console_login_url: Annotated[str, Field(pattern=r"^https?://[^\s#]+$")] | None = None

    @property
    def embedded(self) -> bool:
        """True when running on SQLite: the single-process default."""
        return self.database_url.startswith("sqlite")

    @property
    def base_url(self) -> str:
        """Where readers reach this server (links in e-mails)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def run_embedded_worker(self) -> bool:
        """Whether ``baraza serve`` also runs the scoring consumer in-process."""
        if self.embedded_worker is not None:
            return self.embedded_worker
        return self.redis_url is None

    @property
    def migration_url(self) -> str:
        """Where migrations run: the direct database (never through a transaction pooler)."""
        return self.database_direct_url or self.database_url

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return items
        origins = []
        for item in items:
            origin = str(item).strip().rstrip("/")
            if not origin:
                continue
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], no path, no wildcard"
                )
            origins.append(origin.lower())
        return origins

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        if self.redis_url is not None and not self.redis_url.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        if not self.embedded and self.jwt_secret == DEFAULT_JWT_SECRET:
            raise ValueError(
                "BARAZA_JWT_SECRET must be set to the host site's secret when a "
                "non-embedded database is configured"
            )
        if len(self.jwt_secret.encode()) < 32:
            # RFC 7518 §3.2: an HS256 key must be at least 256 bits.
            raise ValueError("BARAZA_JWT_SECRET must be at least 32 bytes")
        parse_trusted_proxies(self.trusted_proxies)
        if self.demo and not (self.embedded and self.redis_url is None):
            raise ValueError(
                "the demo (BARAZA_DEMO, serve --demo) runs only on the embedded default: its "
                "sign-in hands a token to anyone; unset BARAZA_DATABASE_URL and BARAZA_REDIS_URL"
            )
        if self.jwt_jwks_url is not None and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError(
                "BARAZA_JWT_JWKS_URL needs BARAZA_JWT_ISSUER and BARAZA_JWT_AUDIENCE: a "
                "provider's tokens are accepted only for this issuer and audience"
            )
        if self.page_size > self.max_page_size:
            raise ValueError("page_size must not exceed max_page_size")
        if self.model_device not in ("cpu", "cuda") and not self.model_device.startswith("cuda:"):
            raise ValueError("model_device must be cpu, cuda or cuda:N")
        return self

    @model_validator(mode="after")
    def _check_scale(self) -> Settings:
        for url in (self.database_direct_url, self.database_read_url):
            if url is not None and not url.startswith("postgresql+asyncpg://"):
                raise ValueError("database_direct_url and database_read_url must start with "
                                 "postgresql+asyncpg://")
        if self.redis_cluster and self.redis_url is None:
            raise ValueError("BARAZA_REDIS_CLUSTER needs BARAZA_REDIS_URL (one startup node)")
        return self


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, raising SettingsError with a readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"]) or "settings"
            name = f"BARAZA_{where.upper()}" if err["loc"] else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from exc
