"""`pupilguard doctor`: checks a proxy node's deployment and says in plain words what to fix.

Each check returns a Check (ok / warn / fail, what it found, what to do). The command prints them as a table and
exits non-zero if any check failed, so it also serves as a post-install step in automation.
"""
from __future__ import annotations

import argparse
import os
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

OK, WARN, FAIL = "ok", "warn", "fail"
SPOOL_WARN_DEPTH = 1_000
CLOCK_SKEW_WARN_S = 60


@dataclass
class Check:
    name: str
    status: str
    found: str
    fix: str = ""


def check_ca(data_dir: Path) -> list[Check]:
    cert = data_dir / "pupilguard-ca.pem"
    keys = sorted((data_dir / "ca").glob("*ca.pem")) if (data_dir / "ca").is_dir() else []
    checks = []
    if not cert.exists():
        return [Check("CA certificate", FAIL, f"{cert} is missing",
                      "Start the proxy once (`pupilguard proxy --data-dir …`): it creates the CA on first run.")]
    checks.append(Check("CA certificate", OK, f"{cert} (distribute this file to devices)"))
    if not keys:
        checks.append(Check("CA private key", FAIL, f"no CA key under {data_dir / 'ca'}",
                            "Restore the CA directory from backup, or start the proxy to create a new CA "
                            "(devices must then trust the new certificate)."))
    for key in keys:
        mode = stat.S_IMODE(key.stat().st_mode)
        if mode & 0o077:
            checks.append(Check("CA private key", FAIL, f"{key} is readable by others (mode {mode:o})",
                                f"Run: chmod 600 {key}"))
        elif key.stat().st_uid != os.geteuid():
            checks.append(Check("CA private key", WARN, f"{key} belongs to another user",
                                "Run doctor as the service user, or chown the key to it."))
        else:
            checks.append(Check("CA private key", OK, f"{key.name}: readable only by the service user"))
    return checks


def check_roster(roster: Path | None, key_file: Path | None) -> Check:
    from detectors.roster import Roster, RosterError, RosterKey

    if roster is None:
        return Check("Roster", WARN, "no roster given",
                     "Import the MIS export (`pupilguard roster import …`) and pass --roster: without it pupil "
                     "names are only caught as generic names.")
    if not roster.exists():
        return Check("Roster", FAIL, f"{roster} not found", "Check the path, or import the roster again.")
    if key_file is not None and not key_file.exists():  # never create a key here: it could not match the roster
        return Check("Roster", FAIL, f"key file {key_file} not found",
                     "Restore the roster key the roster was imported with (it is kept apart from the data).")
    try:
        loaded = Roster.load(roster, RosterKey.resolve(key_file))
    except RosterError as error:  # a wrong key or a damaged file: the loader says which
        return Check("Roster", FAIL, f"{roster} does not load: {error}",
                     "Use the key file the roster was imported with, or import the roster again.")
    return Check("Roster", OK, f"{loaded.header['pupils']:,} pupils loaded")


def check_allowlist(path: Path) -> Check:
    from detectors.allowlist import AllowlistError, load_allowlist

    try:
        allowlist = load_allowlist(path)
    except FileNotFoundError:
        return Check("Allowlist", FAIL, f"{path} not found", "Copy allowlist.yaml from the repository and edit it.")
    except AllowlistError as error:
        return Check("Allowlist", FAIL, str(error), "Fix the file; the proxy keeps its last good allowlist.")
    return Check("Allowlist", OK, f"{len(allowlist.tools)} tools listed")


def check_admin(admin_url: str | None, token_file: Path | None) -> list[Check]:
    if not admin_url:
        return [Check("Admin service", WARN, "no --admin-url",
                      "Events wait in the spool until the proxy is given --admin-url and a token.")]
    try:
        health = httpx.get(f"{admin_url.rstrip('/')}/healthz", timeout=5)
    except httpx.HTTPError as error:
        return [Check("Admin service", FAIL, f"{admin_url} unreachable ({type(error).__name__})",
                      "Check the URL, DNS, firewall and that pupilguard-admin is running.")]
    checks = [Check("Admin service", OK if health.status_code == 200 else FAIL,
                    f"{admin_url} answered {health.status_code}",
                    "" if health.status_code == 200 else "See the admin service's logs.")]
    if token_file is not None:
        token = token_file.read_text().strip() if token_file.exists() else ""
        config = httpx.get(f"{admin_url.rstrip('/')}/api/v1/config", timeout=5,
                           headers={"Authorization": f"Bearer {token}"})
        checks.append(Check("Proxy token", OK if config.status_code == 200 else FAIL,
                            f"config request answered {config.status_code}",
                            "" if config.status_code == 200 else
                            "Create a token (`pupilguard admin proxy-token create NAME`) and save it in the token file."))
    if "date" in health.headers:
        skew = abs((datetime.now(timezone.utc) - parsedate_to_datetime(health.headers["date"])).total_seconds())
        checks.append(Check("Clock", OK if skew < CLOCK_SKEW_WARN_S else WARN, f"{skew:.0f} s from the admin service",
                            "" if skew < CLOCK_SKEW_WARN_S else
                            "Enable NTP (timedatectl set-ntp true): event times and certificates depend on it."))
    return checks


def check_spool(data_dir: Path) -> Check:
    from proxy.spool import Spool

    if not (data_dir / "spool").exists():
        return Check("Event spool", OK, "empty (not created yet)")
    depth = Spool(data_dir / "spool").depth()
    if depth > SPOOL_WARN_DEPTH:
        return Check("Event spool", WARN, f"{depth:,} events waiting",
                     "Events are not reaching the admin service: check the Admin service and Proxy token rows.")
    return Check("Event spool", OK, f"{depth:,} events waiting")


def register_doctor(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check a proxy node's deployment and say what to fix")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--roster", type=Path)
    parser.add_argument("--key-file", type=Path)
    parser.add_argument("--allowlist", type=Path, default=Path("allowlist.yaml"))
    parser.add_argument("--admin-url")
    parser.add_argument("--admin-token-file", type=Path)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    checks = [
        *check_ca(args.data_dir),
        check_roster(args.roster, args.key_file),
        check_allowlist(args.allowlist),
        *check_admin(args.admin_url, args.admin_token_file),
        check_spool(args.data_dir),
    ]
    table = Table(title="pupilguard doctor")
    for column in ("check", "", "found", "what to do"):
        table.add_column(column)
    marks = {OK: "[green]✓[/green]", WARN: "[yellow]![/yellow]", FAIL: "[red]✗[/red]"}
    for check in checks:
        table.add_row(check.name, marks[check.status], check.found, check.fix)
    Console().print(table)
    return 1 if any(check.status == FAIL for check in checks) else 0
