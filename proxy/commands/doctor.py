"""`pupilguard doctor`: checks a proxy node's deployment and says in plain words what to fix.

It reads the settings the proxy itself runs with: the installed systemd unit with its environment file (as
systemd expands them; `--unit`, default $PUPILGUARD_PROXY_UNIT or /etc/systemd/system/pupilguard-proxy.service),
or a `pupilguard proxy …` command line given after `--`. Where the proxy uses a centrally managed allowlist or
roster (DATA_DIR/central), so does doctor.

Each check returns a Check (ok / warn / fail, what it found, what to do). The command prints one line per check,
never shortening a path, or with `--json` a document for monitoring; it exits non-zero if any check failed, so it
also serves as a post-install step in automation.

Over 350 lines on purpose: one short function per check, kept together so that what `doctor` looks at can be read
in one place.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import stat
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from proxy.settings import ProxySettings

OK, WARN, FAIL = "ok", "warn", "fail"
SPOOL_WARN_DEPTH = 1_000
CLOCK_SKEW_WARN_S = 60
CA_WARN_DAYS = 60
DISK_WARN_BYTES = 2 * 1024**3      # the spool keeps events while the admin service is away: warn well before full
DISK_FAIL_BYTES = 200 * 1024**2
NETWORK_TIMEOUT_S = 5
DEFAULT_UNIT = Path("/etc/systemd/system/pupilguard-proxy.service")
START_PROXY = "Start it: systemctl start pupilguard-proxy; journalctl -u pupilguard-proxy says why it stopped."
CREATE_TOKEN = "Create a token (sudo pupilguard admin proxy-token create NAME) and save it in the token file."


@dataclass
class Check:
    name: str
    status: str
    found: str
    fix: str = ""


# --------------------------------------------------------------------------------------------- the proxy's settings

def proxy_settings(unit: Path | None, command: list[str]) -> tuple[ProxySettings, str]:
    """(the proxy's settings, as it reads them from its flags, environment and env file; where they came from)."""
    from detectors.cli import build_parser
    from proxy.commands.proxy import UserError, load_settings
    from proxy.commands.systemd_unit import ServiceUnit, UnitError

    environment = dict(os.environ)
    if command:
        source = "the command line given"
    else:
        unit = unit or Path(os.environ.get("PUPILGUARD_PROXY_UNIT") or DEFAULT_UNIT)
        try:
            service = ServiceUnit.read(unit)
        except UnitError as exc:
            raise SystemExit(f"pupilguard doctor: {exc}\n(give the unit with --unit, or the proxy's command line "
                             "after --: pupilguard doctor -- proxy --listen … --data-dir …)") from None
        environment.update(service.environment)
        command, source = service.exec_start[1:], str(unit)
    if command[:1] != ["proxy"]:
        raise SystemExit(f"pupilguard doctor: {source} does not run `pupilguard proxy`")
    try:
        args = build_parser().parse_args(command)
    except SystemExit:
        raise SystemExit(f"pupilguard doctor: the proxy's command line in {source} does not parse") from None
    try:
        return load_settings(args, environment), source
    except UserError as exc:
        raise SystemExit(f"pupilguard doctor: the proxy's settings in {source}: {exc}") from None


def _central(settings: ProxySettings, name: str) -> Path | None:
    """The centrally managed copy the proxy would use in place of its local file, if it has one."""
    path = Path(settings.data_dir) / "central" / name
    return path if settings.admin_url and path.exists() else None


def _admin_token(settings: ProxySettings) -> str | None:
    if settings.admin_token_file:
        path = Path(settings.admin_token_file)
        return path.read_text().strip() if path.is_file() else ""
    return settings.secret("admin_token")


# --------------------------------------------------------------------------------------------------------- checks

def check_proxy(settings: ProxySettings) -> Check:
    """The proxy answers: its /healthz when it serves metrics, else a connection to its listening port."""
    def local(address: str) -> tuple[str, int]:
        host, _, port = address.rpartition(":")
        host = host.strip("[]")
        return ("127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host), int(port)

    if settings.metrics_listen:
        host, port = local(settings.metrics_listen)
        url = f"http://{host}:{port}/healthz"
        try:
            health = httpx.get(url, timeout=NETWORK_TIMEOUT_S)
            status = health.json().get("status")
        except (httpx.HTTPError, ValueError) as error:
            return Check("Proxy", FAIL, f"{url} unreachable ({type(error).__name__})", START_PROXY)
        if status != "ok":
            return Check("Proxy", WARN, f"{url} says {status!r}", "Wait for start-up (loading the language model).")
        return Check("Proxy", OK, f"{url} says ok")
    host, port = local(settings.listen)
    try:
        socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S).close()
    except OSError as error:
        return Check("Proxy", FAIL, f"nothing answers on {host}:{port} ({error.strerror or error})", START_PROXY)
    return Check("Proxy", OK, f"listening on {host}:{port}")


def check_ca(data_dir: Path) -> list[Check]:
    from cryptography import x509

    cert = data_dir / "pupilguard-ca.pem"
    keys = sorted((data_dir / "ca").glob("*ca.pem")) if (data_dir / "ca").is_dir() else []
    if not cert.exists():
        return [Check("CA certificate", FAIL, f"{cert} is missing",
                      "Start the proxy once: it creates the CA on first run.")]
    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except ValueError:
        return [Check("CA certificate", FAIL, f"{cert} is not a PEM certificate",
                      "Restore DATA_DIR/ca from backup; the proxy exports the certificate again when it starts.")]
    expires = certificate.not_valid_after_utc
    days = (expires - datetime.now(timezone.utc)).days
    issuer = certificate.issuer.rfc4514_string()
    found = f"{cert} ({issuer}), valid until {expires:%Y-%m-%d}"
    if days < 0:
        checks = [Check("CA certificate", FAIL, f"{found}: expired",
                        "Make a new CA (move DATA_DIR/ca aside, restart the proxy) and distribute it to every device.")]
    elif days < CA_WARN_DAYS:
        checks = [Check("CA certificate", WARN, f"{found}: expires in {days} days",
                        "Make a new CA now and distribute it before the old one expires (guides/ca-distribution.md).")]
    else:
        checks = [Check("CA certificate", OK, f"{found}; distribute this file to staff devices")]
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
                                "Run doctor as the service user (sudo pupilguard doctor), or chown the key to it."))
        else:
            checks.append(Check("CA private key", OK, f"{key}: readable only by the service user"))
    return checks


def check_roster(settings: ProxySettings) -> Check:
    from detectors.roster import Roster, RosterError, RosterKeySource

    central = _central(settings, "roster.pgr")
    roster = central or (Path(settings.roster) if settings.roster else None)
    if roster is None:
        return Check("Roster", WARN, "no roster (none given, none from the admin service)",
                     "Import the MIS export on the admin service (sudo pupilguard admin roster import …): "
                     "without it pupil names are only caught as generic names.")
    if not roster.exists():
        return Check("Roster", FAIL, f"{roster} not found", "Check the path, or import the roster again.")
    key = RosterKeySource(settings.secret("roster_key"), settings.roster_key_file)
    if not key.key and key.file and not Path(key.file).exists():  # never create a key here: it could not match
        return Check("Roster", FAIL, f"key file {key.file} not found",
                     "Restore the roster key the roster was imported with (it is kept apart from the data).")
    try:
        loaded = Roster.load(roster, key.load())
    except RosterError as error:  # a wrong key or a damaged file: the loader says which
        return Check("Roster", FAIL, f"{roster} does not load: {error}",
                     "Use the key file the roster was imported with, or import the roster again.")
    origin = " (from the admin service)" if central else ""
    return Check("Roster", OK, f"{roster}{origin}: {loaded.header['pupils']:,} pupils")


def approved_hosts(allowlist, catalogue) -> dict[str, list[str]]:
    """Tool name -> the hosts (no wildcards) of every tool some profile may use, approved or monitored."""
    hosts = {}
    for service in catalogue.services:
        rule = allowlist.tools.get(service.id)
        if rule and set(rule.statuses.values()) & {"approved", "monitor"}:
            hosts[service.name] = [h for h in service.hosts if not h.startswith("*.")]
    return hosts


def check_allowlist(settings: ProxySettings) -> tuple[Check, object | None]:
    from detectors.allowlist import AllowlistError, load_allowlist

    central = _central(settings, "allowlist.yaml")
    path = central or Path(settings.allowlist)
    try:
        allowlist = load_allowlist(path)
    except FileNotFoundError:
        return Check("Allowlist", FAIL, f"{path} not found", "Copy allowlist.yaml from the repository."), None
    except AllowlistError as error:
        return Check("Allowlist", FAIL, str(error), "Fix the file; the proxy keeps its last good allowlist."), None
    origin = " (from the admin service)" if central else ""
    return Check("Allowlist", OK, f"{path}{origin}: {len(allowlist.tools)} tools listed"), allowlist


def _reach(host: str, route: tuple[str, int] | None) -> str | None:
    """None if this host can be reached the way the proxy would reach it, else what failed."""
    if route is None:
        try:
            address = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)[0][4][:2]
        except socket.gaierror as error:
            return f"{host}: DNS lookup failed ({error.strerror})"
    else:
        address = route
    try:
        socket.create_connection(address, timeout=NETWORK_TIMEOUT_S).close()
    except OSError as error:
        return f"{host}: no connection to {address[0]}:{address[1]} ({error.strerror or 'timed out'})"
    return None


def check_ai_hosts(settings: ProxySettings, allowlist) -> Check:
    """DNS and a TCP connection to port 443 (or the --route target) of every approved tool's hosts."""
    from proxy.addons.routing import parse_routes
    from proxy.catalogue import default_catalogue

    routes = parse_routes(settings.route)
    tools = approved_hosts(allowlist, default_catalogue())
    pairs = [(tool, host) for tool, hosts in tools.items() for host in hosts]
    with ThreadPoolExecutor(max_workers=16) as pool:
        failures = [(tool, problem) for (tool, _), problem in
                    zip(pairs, pool.map(lambda pair: _reach(pair[1], routes.get(pair[1])), pairs)) if problem]
    if not failures:
        return Check("AI services", OK, f"{len(pairs)} hosts of {len(tools)} approved tools reachable")
    found = "; ".join(f"{tool} - {problem}" for tool, problem in failures)
    return Check("AI services", FAIL, f"{len(failures)} of {len(pairs)} hosts unreachable: {found}",
                 "Check DNS and that the firewall lets this host out to them on port 443 (TCP); "
                 "staff cannot use a tool whose hosts fail here.")


def check_model(settings: ProxySettings) -> Check:
    from detectors.nlp import ModelError, NerOnlySpacyEngine, default_model

    name = settings.model or default_model()
    try:
        NerOnlySpacyEngine(name).load()
    except ModelError as error:
        return Check("Language model", FAIL, str(error),
                     "Reinstall (deploy/install.sh), or set PUPILGUARD_SPACY_MODEL to an installed model.")
    return Check("Language model", OK, f"{name} loads")


def check_ocr(settings: ProxySettings) -> Check:
    """Tesseract and its English and Welsh data: without them every picture and scanned PDF is refused."""
    if not settings.ocr_workers:
        return Check("OCR", WARN, "--ocr-workers 0: pictures and scanned PDFs pass unread",
                     "Remove --ocr-workers 0 so that names in screenshots are found.")
    from proxy.ocr import OcrSpec

    try:
        OcrSpec().build()
    except RuntimeError as error:
        return Check("OCR", FAIL, f"{error}: every picture and scanned PDF is refused",
                     "sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-cym")
    return Check("OCR", OK, "tesseract reads English and Welsh")


def check_admin(settings: ProxySettings) -> list[Check]:
    admin_url = settings.admin_url
    if not admin_url:
        return [Check("Admin service", WARN, "no --admin-url",
                      "Events wait in the spool until the proxy is given --admin-url and a token.")]
    verify = settings.admin_ca or True
    try:
        health = httpx.get(f"{admin_url.rstrip('/')}/healthz", timeout=NETWORK_TIMEOUT_S, verify=verify)
    except httpx.HTTPError as error:
        return [Check("Admin service", FAIL, f"{admin_url} unreachable ({type(error).__name__})",
                      "Check the URL, DNS, firewall and that pupilguard-admin is running.")]
    checks = [Check("Admin service", OK if health.status_code == 200 else FAIL,
                    f"{admin_url} answered {health.status_code}",
                    "" if health.status_code == 200 else "See its logs: journalctl -u pupilguard-admin")]
    token = _admin_token(settings)
    if not token:
        checks.append(Check("Proxy token", FAIL, f"no token ({settings.admin_token_file or 'none given'})",
                            CREATE_TOKEN))
    else:
        config = httpx.get(f"{admin_url.rstrip('/')}/api/v1/config", timeout=NETWORK_TIMEOUT_S, verify=verify,
                           headers={"Authorization": f"Bearer {token}"})
        checks.append(Check("Proxy token", OK if config.status_code == 200 else FAIL,
                            f"the admin service {'accepts' if config.status_code == 200 else 'refuses'} it "
                            f"(config request answered {config.status_code})",
                            "" if config.status_code == 200 else CREATE_TOKEN))
    if "date" in health.headers:
        skew = abs((datetime.now(timezone.utc) - parsedate_to_datetime(health.headers["date"])).total_seconds())
        checks.append(Check("Clock", OK if skew < CLOCK_SKEW_WARN_S else WARN, f"{skew:.0f} s from the admin service",
                            "" if skew < CLOCK_SKEW_WARN_S else
                            "Enable NTP (timedatectl set-ntp true): event times and certificates depend on it."))
    return checks


def check_spool(data_dir: Path) -> list[Check]:
    from proxy.spool import Spool

    checks = []
    if data_dir.exists():
        free = shutil.disk_usage(data_dir).free
        status = FAIL if free < DISK_FAIL_BYTES else WARN if free < DISK_WARN_BYTES else OK
        checks.append(Check("Disk", status, f"{free / 1024**3:.1f} GiB free for {data_dir}",
                            "" if status == OK else "Free space or grow the disk: when the spool cannot write, "
                            "events are lost while the admin service is unreachable."))
    if not (data_dir / "spool").exists():
        return [*checks, Check("Event spool", OK, "empty (not created yet)")]
    depth = Spool(data_dir / "spool").depth()
    if depth > SPOOL_WARN_DEPTH:
        return [*checks, Check("Event spool", WARN, f"{depth:,} events waiting",
                               "Events are not reaching the admin service: check the Admin service and Proxy token.")]
    return [*checks, Check("Event spool", OK, f"{depth:,} events waiting")]


def run_checks(settings: ProxySettings, *, model: bool = True) -> list[Check]:
    data_dir = Path(settings.data_dir)
    allowlist_check, allowlist = check_allowlist(settings)
    return [
        check_proxy(settings),
        *check_ca(data_dir),
        allowlist_check,
        check_roster(settings),
        *([check_ai_hosts(settings, allowlist)] if allowlist else []),
        *([check_model(settings)] if model else []),
        check_ocr(settings),
        *check_admin(settings),
        *check_spool(data_dir),
    ]


# ---------------------------------------------------------------------------------------------------------- CLI

def register_doctor(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check a proxy node's deployment and say what to fix",
        description="Checks the proxy as its systemd unit runs it (or as the command line after -- runs it).")
    parser.add_argument("--unit", type=Path, help=f"the proxy's systemd unit (default: $PUPILGUARD_PROXY_UNIT or "
                                                  f"{DEFAULT_UNIT})")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON, for monitoring")
    parser.add_argument("--skip-model", action="store_true", help="do not load the language model (saves seconds)")
    parser.add_argument("proxy_command", nargs=argparse.REMAINDER, metavar="-- proxy ARGS",
                        help="the proxy's command line, when it is not run by the systemd unit")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    command = args.proxy_command[1:] if args.proxy_command[:1] == ["--"] else args.proxy_command
    settings, source = proxy_settings(args.unit, command)
    checks = run_checks(settings, model=not args.skip_model)
    failed = any(check.status == FAIL for check in checks)
    if args.json:
        json.dump({"status": FAIL if failed else WARN if any(c.status == WARN for c in checks) else OK,
                   "settings": source, "checks": [asdict(c) for c in checks]}, sys.stdout, indent=2)
        print()
    else:
        colour = sys.stdout.isatty()
        marks = {OK: "\033[32m✓\033[0m", WARN: "\033[33m!\033[0m", FAIL: "\033[31m✗\033[0m"} if colour else \
            {OK: "✓", WARN: "!", FAIL: "✗"}
        print(f"pupilguard doctor: the proxy as {source} runs it")
        width = max(len(c.name) for c in checks)
        for check in checks:  # plain lines: a path is never cut short to fit a terminal
            print(f"{marks[check.status]} {check.name:<{width}}  {check.found}")
            if check.fix:
                print(f"  {'':<{width}}  → {check.fix}")
    return 1 if failed else 0
