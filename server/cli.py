"""The ``baraza`` command: serve, worker, migrate, token."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from server.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from aiohttp import web


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from server.app import create_app
    from server.eventloop import new_event_loop
    from server.protocol_errors import ApiRunner

    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    if settings.demo:
        print(f"Baraza demo: http://{host}:{port}/demo/", file=sys.stderr, flush=True)
    # run_app's loop, with a runner that answers unparseable requests in the error format.
    runner = ApiRunner(
        create_app(settings), access_log=None, shutdown_timeout=5.0, handle_signals=True
    )
    loop = new_event_loop()
    try:
        loop.run_until_complete(_start(runner, host, port))
        loop.run_forever()
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        loop.run_until_complete(runner.cleanup())
        loop.close()
    return 0


async def _start(runner: web.AppRunner, host: str, port: int) -> None:
    from aiohttp import web

    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"======== Running on http://{host}:{port} ========", flush=True)


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
    token = mint_token(
        settings, sub=args.sub, name=args.name, roles=roles, ttl_seconds=args.ttl,
        email=args.email,
    )
    if args.console:
        from server.console.views import console_link

        base = args.base_url or f"http://{settings.host}:{settings.port}"
        print(console_link(base, token))
    else:
        print(token)
    return 0


def _deadletters(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from server.moderation.review.deadletters_cli import run

    status: int = asyncio.run(run(settings, args))
    return status


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from server.imports.command import run

    return run(
        settings, args.source, args.file, rescore=args.rescore, batch_size=args.batch_size
    )


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from server.readers.archive import run

    return run(settings, args.article_id, args.output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baraza", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP/WebSocket server")
    serve.add_argument("--host", default=None, help="address to bind (default BARAZA_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default BARAZA_PORT)")
    serve.add_argument("--demo", action="store_true",
                       help="also serve /demo/, the seed article with the widget and a demo "
                       "sign-in (embedded default only)")
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
    token.add_argument("--email", default=None, help="an 'email' claim (reply e-mails)")
    token.add_argument(
        "--console", action="store_true", help="print a ready /console/ link (token in fragment)"
    )
    token.add_argument("--base-url", default=None, help="console origin (default host:port)")
    token.set_defaults(run=_token)

    dead = commands.add_parser("deadletters", help="list or replay comments whose scoring failed")
    dead_commands = dead.add_subparsers(dest="deadletters_command", required=True)
    dead_list = dead_commands.add_parser("list", help="print dead letters, newest first")
    dead_list.add_argument("--limit", type=int, default=50)
    dead_replay = dead_commands.add_parser("replay", help="send dead letters back to scoring")
    dead_replay.add_argument("comment_ids", nargs="*", type=int, metavar="COMMENT_ID")
    dead_replay.add_argument("--all", action="store_true", help="replay every dead letter")
    dead.set_defaults(run=_deadletters)

    imports = commands.add_parser("import", help="import comments from another system")
    imports.add_argument("source", choices=["disqus", "wordpress", "isso"])
    imports.add_argument("file", help="Disqus or WordPress (WXR) XML export, or Isso database")
    imports.add_argument("--rescore", action="store_true", help="score them as new comments")
    imports.add_argument("--batch-size", type=int, default=2000)
    imports.set_defaults(run=_import)

    export = commands.add_parser("export", help="write an article's comments as JSON")
    export_what = export.add_subparsers(dest="what", required=True)
    article = export_what.add_parser("article", help="one article and all its comments")
    article.add_argument("article_id")
    article.add_argument("--output", "-o", default=None, help="file (default: stdout)")
    article.set_defaults(run=_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(**({"demo": True} if getattr(args, "demo", False) else {}))
    except SettingsError as exc:
        print(f"baraza: {exc}", file=sys.stderr)
        return 2
    from server.logs import configure_logging

    configure_logging(settings)
    return int(args.run(settings, args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
