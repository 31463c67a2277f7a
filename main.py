"""Kanal's command line and composition root: reads config, builds and starts everything."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import json
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import lapor.commands as lapor_commands
import settings as config_schema
from observability.logs import TEXT_FORMAT, configure_logging
from redaction import configured_secrets
from store import backup, migrate
from store.db import Database
from store.users import (
    UserError,
    add_user,
    check_username,
    create_token,
    disable_user,
    list_tokens,
    revoke_token,
)

# The service itself (web app, channels, triage, notifier) loads only in the commands that run
# it, so `user add`, `token create` and `db upgrade` start in a fraction of the time.
if TYPE_CHECKING:
    from runtime import Runtime

log = logging.getLogger("kanal")


def utc_now() -> datetime:
    return datetime.now(UTC)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format=TEXT_FORMAT)
    # Neither says anything an admin needs at INFO (every job run, every migration step).
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        # Only the commands that start channels need their secrets (the others count a
        # channel without them as off).
        settings = config_schema.load_settings(args.config, start_channels=args.starts_channels)
    except config_schema.ConfigError as exc:
        print(f"Kanal cannot start: {len(exc.problems)} problem(s) in the config", file=sys.stderr)
        print(exc, file=sys.stderr)
        return 2
    # Before anything runs: no token, app secret or password may reach a log line.
    configure_logging(settings.logging.format, configured_secrets(settings))
    base = args.config.resolve().parent
    return args.handler(args, settings, base)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Kanal complaint intake")
    parser.add_argument("--config", type=Path, default=Path("config.toml"), help="config.toml")
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default="INFO",
        help="how much to log (default INFO); configured secrets are masked at every level",
    )
    parser.set_defaults(starts_channels=False)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web app, webhooks, pollers and sweeps")
    serve.add_argument("--port", type=int, help="override [server] port")
    serve.add_argument("--host", help="override [server] host")
    serve.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="the event loop: uvloop (default) or the standard library's asyncio loop",
    )
    serve.set_defaults(handler=cmd_serve, starts_channels=True)

    check = commands.add_parser("check-config", help="validate and print the effective config")
    check.set_defaults(handler=cmd_check_config, starts_channels=True)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(handler=cmd_db_upgrade)

    user = commands.add_parser("user", help="staff accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a staff account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["operator", "supervisor", "admin", "opd"])
    add.add_argument("--opd", help="the OPD code, for --role opd")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=cmd_user_add)
    disable = user_commands.add_parser(
        "disable", help="disable an account: end its sessions, revoke its tokens"
    )
    disable.add_argument("name")
    disable.set_defaults(handler=cmd_user_disable)

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="print a new API token for a user")
    create.add_argument("name", help="the user the token acts as")
    create.set_defaults(handler=cmd_token_create)
    listing = token_commands.add_parser("list", help="list API tokens (never the tokens)")
    listing.set_defaults(handler=cmd_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke an API token by its id")
    revoke.add_argument("id", type=int, help="the id `token list` shows")
    revoke.set_defaults(handler=cmd_token_revoke)

    simulate = commands.add_parser("simulate", help="feed realistic sample reports through intake")
    simulate.add_argument("--count", type=int, default=40)
    simulate.add_argument("--seed", type=int, default=None)
    simulate.set_defaults(handler=cmd_simulate)

    digest = commands.add_parser("digest", help="print (or send) the supervisors' daily digest")
    digest.add_argument(
        "--date",
        type=date.fromisoformat,
        help="YYYY-MM-DD (default: today so far; with --send, yesterday, as the morning's mail)",
    )
    digest.add_argument("--format", choices=["text", "html", "json"], default="text")
    digest.add_argument("--send", action="store_true", help="send it to [[notifier.recipient]]")
    digest.set_defaults(handler=cmd_digest)

    lapor_commands.add_commands(commands, _database)  # `lapor import|export`, `triage evaluate`
    saved = commands.add_parser("backup", help="copy the database and media while Kanal runs")
    saved.add_argument("path", type=Path, help="a new or empty folder")
    saved.set_defaults(handler=cmd_backup)
    restored = commands.add_parser("restore", help="put a backup into an empty data_dir")
    restored.add_argument("path", type=Path, help="the folder `backup` wrote")
    restored.set_defaults(handler=cmd_restore)
    return parser


def cmd_backup(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    try:
        done = backup.backup(
            settings.database_url(base), settings.data_path(base), args.path, utc_now()
        )
    except backup.BackupError as exc:
        print(f"cannot back up: {exc}", file=sys.stderr)
        return 1
    if done.instructions:
        print(done.instructions)
    print(f"backup in {args.path}: {done.backend} database, {done.media_files} media files")
    return 0


def cmd_restore(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    try:
        done = backup.restore(args.path, settings.database_url(base), settings.data_path(base))
    except backup.BackupError as exc:
        print(f"cannot restore: {exc}", file=sys.stderr)
        return 1
    if done.instructions:
        print(done.instructions)
    print(f"restored from {args.path}: {done.backend} database, {done.media_files} media files")
    return 0


def _database(settings: config_schema.Settings, base: Path, *, migrate_sqlite: bool) -> Database:
    url = settings.database_url(base)
    db = Database(url)
    if migrate_sqlite and db.is_sqlite:
        if migrate.pending(db.engine):  # checked first: Alembic is loaded only to upgrade
            migrate.upgrade(url)
    elif migrate.pending(db.engine):
        raise SystemExit(
            "The database schema is not up to date: run `python main.py db upgrade` first."
        )
    return db


def cmd_serve(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    from aiohttp import web

    from runtime import build_runtime
    from serving import announced

    if args.port:
        settings.server.port = args.port
    if args.host:
        settings.server.host = args.host
    db = _database(settings, base, migrate_sqlite=True)
    runtime = build_runtime(settings, base, db)
    app = runtime.web_app()
    log.info(
        "Kanal for %s on http://%s:%d (database %s, channels: %s)",
        settings.region.name,
        settings.server.host,
        settings.server.port,
        db.dialect,
        ", ".join(runtime.channel_names()) or "none enabled",
    )
    # What start-up built (modules, the gazetteer, templates, settings) lives as long as the
    # process: moved out of the collector's generations, a full collection no longer walks it
    # again and again while requests wait.
    gc.collect()
    gc.freeze()
    with announced(runtime.data_dir, settings.server.host, settings.server.port):
        web.run_app(
            app,
            host=settings.server.host,
            port=settings.server.port,
            print=None,
            access_log=None,
            shutdown_timeout=10,
            loop=_event_loop(args.loop),
        )
    return 0


def _event_loop(name: str) -> asyncio.AbstractEventLoop:
    # uvloop keeps the sockets and the loop's own bookkeeping in C: every webhook delivery
    # costs the loop thread less than on the standard loop.
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def cmd_check_config(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    print(f"{args.config}: OK")
    print(json.dumps(config_schema.masked_dump(settings), indent=2, ensure_ascii=False))
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    url = settings.database_url(base)
    Database(url).dispose()  # creates the SQLite folder if needed
    migrate.upgrade(url)
    print("database schema is up to date")
    return 0


def cmd_user_add(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    try:
        check_username(args.name)  # before asking for a password
    except UserError as exc:
        print(f"cannot add user: {exc}", file=sys.stderr)
        return 1
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 1
    db = _database(settings, base, migrate_sqlite=True)
    try:
        with db.write() as session:
            add_user(session, args.name, password, args.role, opd=args.opd, now=utc_now())
    except UserError as exc:
        print(f"cannot add user: {exc}", file=sys.stderr)
        return 1
    print(f"user {args.name} added with role {args.role}")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    db = _database(settings, base, migrate_sqlite=True)
    try:
        with db.write() as session:
            token = create_token(session, args.name, now=utc_now())
    except UserError as exc:
        print(f"cannot create token: {exc}", file=sys.stderr)
        return 1
    print(token)
    return 0


def cmd_user_disable(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    db = _database(settings, base, migrate_sqlite=True)
    try:
        with db.write() as session:
            ended, revoked = disable_user(session, args.name, now=utc_now())
    except UserError as exc:
        print(f"cannot disable user: {exc}", file=sys.stderr)
        return 1
    print(f"user {args.name} disabled; {ended} session(s) ended, {revoked} token(s) revoked")
    return 0


def cmd_token_list(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    db = _database(settings, base, migrate_sqlite=True)
    with db.read() as session:
        tokens = list_tokens(session)
    print("id\tuser\tname\tcreated\tlast used\trevoked")
    for t in tokens:
        when = [
            d.isoformat(timespec="seconds") if d else "-"
            for d in (t.created_at, t.last_used_at, t.revoked_at)
        ]
        print("\t".join([str(t.id), t.username, t.name, *when]))
    return 0


def cmd_token_revoke(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    db = _database(settings, base, migrate_sqlite=True)
    with db.write() as session:
        found = revoke_token(session, args.id, now=utc_now())
    if not found:
        print(f"cannot revoke token: no token with id {args.id}", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked")
    return 0


def cmd_simulate(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    from channels.simulated.channel import NAME as SIMULATED
    from channels.simulated.reports import sample_reports
    from runtime import build_runtime
    from serving import browse_url, serving_urls

    if not getattr(settings.channels, SIMULATED).enabled:
        print(
            f"note: [channels.{SIMULATED}] is off, so replies to these reports wait unsent; "
            "set enabled = true there to see them delivered on /demo/outbox",
            file=sys.stderr,
        )
    db = _database(settings, base, migrate_sqlite=True)
    runtime = build_runtime(settings, base, db)

    async def feed() -> int:
        async with _running_intake(runtime):
            reports = sample_reports(
                args.count,
                now=runtime.clock(),
                seed=args.seed,
                data_dir=runtime.data_dir,
                channel=SIMULATED,
            )
            results = await asyncio.gather(*(runtime.intake.submit([r]) for r in reports))
            return sum(r.stored for r in results)

    stored = asyncio.run(feed())
    # The address `serve` really listens on (it may have been given --port), else the config's.
    urls = serving_urls(runtime.data_dir) or [
        browse_url(settings.server.host, settings.server.port)
    ]
    print(f"{stored} sample reports stored; open {' or '.join(urls)} to see them")
    return 0


def cmd_digest(args: argparse.Namespace, settings: config_schema.Settings, base: Path) -> int:
    from notifier.digest import default_day
    from runtime import build_runtime

    db = _database(settings, base, migrate_sqlite=True)
    notifier = build_runtime(settings, base, db).notifier
    assert notifier is not None
    now = utc_now()
    # A preview shows today so far (on day one, yesterday is empty); a sent digest is the
    # morning's, about yesterday, and is made once per day.
    day = args.date or (
        default_day(now, settings.region.tz) if args.send else _today(now, settings)
    )
    digest = notifier.build(day)
    if not digest.day_figures["received"]["total"]:
        print(f"no report was received on {day}; the month's figures follow", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(digest.as_json(), indent=2, ensure_ascii=False))
    else:
        subject, payload = notifier.digest_content(
            digest, settings.notifier.locale, inline_chart=True
        )
        print(payload["html"] if args.format == "html" else f"{subject}\n\n{payload['text']}")
    if not args.send:
        return 0
    queued = notifier.make_digest(day)
    if not queued:
        print(f"the digest of {day} was made before; sending what is still due", file=sys.stderr)

    async def deliver() -> int:
        try:
            return await notifier.deliverer.send_due()
        finally:
            await notifier.close()

    sent = asyncio.run(deliver())
    print(f"{queued} queued, {sent} sent", file=sys.stderr)
    return 0


def _today(now: datetime, settings: config_schema.Settings) -> date:
    return now.astimezone(settings.region.tz).date()


@contextlib.asynccontextmanager
async def _running_intake(runtime: Runtime) -> AsyncIterator[None]:
    await runtime.intake.start()
    try:
        yield
    finally:
        await runtime.intake.stop()


if __name__ == "__main__":
    sys.exit(main())
