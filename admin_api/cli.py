"""`pupilguard admin …`: serve the admin service, migrate its database, create users and proxy tokens."""
from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.table import Table

# The settings each command takes as flags (those declared with one in admin_api/settings.py).
COMMON_SETTINGS = ("env_file", "data_dir", "database_url")
SERVE_SETTINGS = ("listen",)


def register_admin(subparsers: Any) -> None:
    from detectors.service_settings import add_flags

    from .settings import Settings

    admin = subparsers.add_parser("admin", help="the DPO's admin service: serve, migrate, users, proxy tokens")
    admin.set_defaults(handler=lambda args: (admin.print_help(), 2)[1])
    # the settings' flags, made from their declarations: where to find the database on every command that opens it
    common = argparse.ArgumentParser(add_help=False)
    add_flags(common, Settings, COMMON_SETTINGS)
    sub = admin.add_subparsers(dest="admin_command", metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the admin web UI and API",
                           description="Run the admin web UI and API. Every setting can also come from its "
                                       "environment variable [shown in brackets] or an env file: flag > "
                                       "environment > env file > default (README: Settings).")
    add_flags(serve, Settings, SERVE_SETTINGS)
    serve.set_defaults(handler=_serve)

    migrate = sub.add_parser("migrate", parents=[common], help="bring the database schema up to date")
    migrate.set_defaults(handler=_migrate)

    user = sub.add_parser("create-user", parents=[common], help="add a DPO, IT or viewer account")
    user.add_argument("username")
    user.add_argument("--role", required=True, choices=["dpo", "dsl", "it", "viewer"])
    user.add_argument("--email", help="email address (maps Entra ID / Google sign-ins to this account)")
    user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user.set_defaults(handler=_create_user)

    contacts = sub.add_parser(
        "contacts", parents=[common],
        help="set the DSL's and DPO's alert contacts (required at set-up); each gets a test message to confirm")
    from .permissions import ROLE_LABELS

    for role, title in ((r, ROLE_LABELS[r]) for r in ("dsl", "dpo")):
        contacts.add_argument(f"--{role}-name", metavar="NAME", help=f"the {title}'s name")
        contacts.add_argument(f"--{role}-email", metavar="EMAIL", help=f"the {title}'s e-mail address")
    contacts.set_defaults(handler=_contacts)

    roster = sub.add_parser("roster", help="the pupil roster the proxies and 'find a pupil' use")
    roster.set_defaults(handler=lambda args: (roster.print_help(), 2)[1])
    roster_sub = roster.add_subparsers(dest="roster_command", metavar="COMMAND")
    roster_import = roster_sub.add_parser(
        "import", parents=[common],
        help="hash an MIS export (SIMS, Arbor, Bromcom, Wonde/Xporter CSV) with the roster key and publish it")
    roster_import.add_argument("export", metavar="EXPORT.csv")
    roster_import.set_defaults(handler=_roster_import)

    tokens = sub.add_parser("proxy-token", help="tokens proxies use to send events and fetch config")
    tokens.set_defaults(handler=lambda args: (tokens.print_help(), 2)[1])
    token_sub = tokens.add_subparsers(dest="token_command", metavar="COMMAND")
    create = token_sub.add_parser("create", parents=[common], help="create a token (printed once)")
    create.add_argument("name")
    create.set_defaults(handler=_token_create)
    listing = token_sub.add_parser("list", parents=[common], help="list proxies and their last-seen health")
    listing.set_defaults(handler=_token_list)
    revoke = token_sub.add_parser("revoke", parents=[common], help="revoke a proxy's token")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_token_revoke)


def _fail(message: str) -> int:
    print(f"pupilguard admin: {message}", file=sys.stderr)
    return 1


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The admin settings from this command's flags, the environment and the env file."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from detectors.service_settings import describe_error, flag_name

    from .settings import Settings

    # only settings' own flags: a command's other arguments (`contacts --dsl-name`) are not settings
    flags = {name: value for name, value in vars(args).items()
             if name in Settings.model_fields and flag_name(Settings, name)}
    try:
        return Settings.load(flags)
    except ValidationError as exc:
        raise SystemExit(_fail(f"bad settings: {describe_error(Settings, exc)}")) from None
    except (SettingsError, ValueError, OSError) as exc:
        raise SystemExit(_fail(f"bad settings: {exc}")) from None


def _database(settings: Any):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import SQLAlchemyError

    from .db import Database, migrate

    try:
        db = Database(settings.database_url or "")
        migrate(db.engine)
    except (SQLAlchemyError, ValueError) as exc:
        raise SystemExit(_fail(f"cannot open the database: {str(exc).splitlines()[0]}")) from None
    return db


@contextlib.contextmanager
def _session(settings: Any) -> Iterator[Any]:
    """A session on the migrated database; a CLI command uses the engine once, so it is disposed afterwards."""
    db = _database(settings)
    try:
        with db.session() as session:
            yield session
    finally:
        db.dispose()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from detectors.logs import setup_logging

    from .app import create_app

    setup_logging()
    settings = _settings(args)
    host, sep, port = settings.listen.rpartition(":")
    if not sep or not port.isdigit():
        return _fail(f"--listen must be ADDR:PORT, not {settings.listen!r}")
    try:
        app = create_app(settings)
    except (SQLAlchemyError, ValueError, OSError) as exc:
        return _fail(f"cannot start: {str(exc).splitlines()[0]}")
    from .alerts import missing_contacts

    with app.state.db.session() as session:
        missing = missing_contacts(session)
    if missing:
        print(f"pupilguard admin: alerts are not confirmed for: {', '.join(m.upper() for m in missing)} "
              "(run `pupilguard admin contacts`, or set them on the Alerts page)", file=sys.stderr)
    # the proxy's JSON lines (detectors.logs) for uvicorn's loggers too, rather than uvicorn's own text format
    uvicorn.run(app, host=host.strip("[]"), port=int(port), log_level="info", server_header=False, log_config=None)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    _database(_settings(args)).dispose()
    print("database schema is up to date")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    from . import accounts, audit

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            return _fail("passwords do not match")
    with _session(_settings(args)) as session:
        try:
            user = accounts.create_user(session, args.username, password, args.role, email=args.email)
        except accounts.AuthError as exc:
            return _fail(str(exc))
        audit.record(session, "cli", "user.create", user.username, {"role": user.role})
        session.commit()
    print(f"created {args.role} user {args.username}")
    return 0


def _contacts(args: argparse.Namespace) -> int:
    from . import alerts

    settings = _settings(args)
    given = [role for role in alerts.CONTACT_ROLES if getattr(args, f"{role}_email")]
    db = _database(settings)
    try:
        with db.session() as session:
            for role in given:
                try:
                    alerts.set_contact(session, role, getattr(args, f"{role}_name") or alerts.CONTACT_ROLES[role],
                                       getattr(args, f"{role}_email"), actor="cli")
                except alerts.ContactError as exc:
                    return _fail(f"{role}: {exc}")
            session.commit()
            sent = alerts.Dispatcher(db, alerts.Channels.from_settings(settings)).deliver_due() if given else 0
            config = alerts.load_config(session)
        for role, title in alerts.CONTACT_ROLES.items():
            contact = config["contacts"].get(role)
            state = "not set" if contact is None else (
                f"{contact['name']} <{contact['email']}>, " + ("confirmed" if contact["confirmed_at"]
                                                               else "waiting for confirmation"))
            print(f"{title}: {state}")
        if given:
            print(f"{sent} test message(s) sent; the rest are queued and retried by the admin service"
                  if sent < len(given) else "test messages sent: each contact confirms with the link in it")
        missing = [r.upper() for r in alerts.CONTACT_ROLES if r not in config["contacts"]]
        return _fail(f"set-up needs contacts for: {', '.join(missing)}") if missing else 0
    finally:
        db.dispose()


def _roster_import(args: argparse.Namespace) -> int:
    from detectors.mis_import import MisImportError
    from detectors.roster import RosterError

    from . import config_store

    try:
        data = open(args.export, "rb").read()  # noqa: SIM115 - read whole; never written anywhere else
    except OSError as exc:
        return _fail(f"cannot read {args.export}: {exc.strerror}")
    settings = _settings(args)
    try:
        with _session(settings) as session:
            result = config_store.store_roster_upload(session, data, config_store.roster_key(settings), "cli")
            session.commit()
    except (MisImportError, RosterError) as exc:
        return _fail(str(exc))
    report = result.report
    print(f"imported {report.pupils} pupils ({report.name_forms} name forms, {report.identifiers} identifiers) "
          f"from a {report.style or 'CSV'} export; {report.skipped_rows} rows skipped")
    for reason, rows in report.skipped.items():
        print(f"  skipped {len(rows)} rows: {reason}")
    print(f"roster {result.upload.etag} is now served to proxies")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from . import audit, proxies

    with _session(_settings(args)) as session:
        try:
            proxy, token = proxies.create_token(session, args.name)
        except proxies.ProxyTokenError as exc:
            return _fail(str(exc))
        audit.record(session, "cli", "proxy.token_create", proxy.name)
        session.commit()
    print(token)
    print(f"token for proxy {args.name!r} created; it is shown only this once "
          "(give it to the proxy with --admin-token-file)", file=sys.stderr)
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    from . import audit, proxies

    with _session(_settings(args)) as session:
        try:
            proxies.revoke_token(session, args.name)
        except proxies.ProxyTokenError as exc:
            return _fail(str(exc))
        audit.record(session, "cli", "proxy.token_revoke", args.name)
        session.commit()
    print(f"revoked the token of proxy {args.name!r}")
    return 0


def _token_list(args: argparse.Namespace) -> int:
    from . import proxies

    with _session(_settings(args)) as session:
        rows = proxies.list_proxies(session)
    table = Table("proxy", "status", "last seen (UTC)", "from", "version", "events")
    for p in rows:
        table.add_row(p.name, "revoked" if p.revoked_at else "active",
                      p.last_seen_at.strftime("%Y-%m-%d %H:%M:%S") if p.last_seen_at else "never",
                      p.last_seen_addr or "", p.last_seen_version or "", str(p.events_received))
    Console().print(table)
    return 0
