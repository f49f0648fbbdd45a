"""The ``baraza`` command: serve, worker, migrate, token."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from server.settings import Settings, SettingsError, load_settings


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from server.app import create_app
    from server.eventloop import new_event_loop

    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    web.run_app(
        create_app(settings),
        host=host,
        port=port,
        access_log=None,
        shutdown_timeout=5.0,
        loop=new_event_loop(),
    )
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from workers.main import run_worker

    return run_worker(settings, concurrency=args.concurrency)


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from server.db import downgrade, upgrade

    if args.downgrade:
        downgrade(settings.migration_url, args.downgrade)
    else:
        upgrade(settings.migration_url, args.revision)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from server.auth import Role, mint_token

    roles = args.role or []
    unknown = [r for r in roles if r not in Role.__members__]
    if unknown:
        print(
            f"unknown role(s): {', '.join(unknown)}; use moderator, editor or admin",
            file=sys.stderr,
        )
        return 2
    print(mint_token(settings, sub=args.sub, name=args.name, roles=roles, ttl_seconds=args.ttl))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baraza", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP/WebSocket server")
    serve.add_argument("--host", default=None, help="address to bind (default BARAZA_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default BARAZA_PORT)")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run scoring workers against Redis")
    worker.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="consumers in this process (default BARAZA_WORKER_CONCURRENCY)",
    )
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("--revision", default="head")
    migrate.add_argument("--downgrade", metavar="REVISION", default=None)
    migrate.set_defaults(run=_migrate)

    token = commands.add_parser("token", help="print a signed JWT for local use")
    token.add_argument("--sub", required=True)
    token.add_argument("--name", required=True)
    token.add_argument("--role", action="append", choices=["moderator", "editor", "admin"])
    token.add_argument("--ttl", type=int, default=24 * 3600, help="lifetime in seconds")
    token.set_defaults(run=_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"baraza: {exc}", file=sys.stderr)
        return 2
    from server.logs import configure_logging

    configure_logging(settings)
    return int(args.run(settings, args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
