"""`pupilguard proxy`: run mitmproxy with the pupilguard addons, as a school's web proxy for AI traffic.

Start-up order matters: everything that can be wrong with the configuration (allowlist, catalogue, routes, policy,
roster, model) is checked before the proxy starts listening, so a bad deployment fails at once with one clear
line instead of refusing traffic later.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from detectors.logs import setup_logging

log = logging.getLogger("pupilguard.proxy")

CA_BASENAME = "mitmproxy"  # mitmproxy's file names inside DIR/ca; the certificate itself is named pupilguard


class UserError(Exception):
    """A configuration mistake: printed as one line, exit status 2."""


def register_proxy(subparsers: Any) -> None:
    p = subparsers.add_parser("proxy", help="run the intercepting proxy for AI traffic",
                              description="Run pupilguard's intercepting proxy (mitmproxy) for AI traffic.")
    p.add_argument("--listen", required=True, metavar="ADDR:PORT", help="address to accept proxy clients on")
    p.add_argument("--data-dir", required=True, type=Path, metavar="DIR",
                   help="state: CA (DIR/ca, public cert DIR/pupilguard-ca.pem), event spool (DIR/spool)")
    p.add_argument("--roster", metavar="ROSTER", help="hashed roster file from `pupilguard roster import`")
    p.add_argument("--key-file", metavar="F",
                   help="roster key file (else $PUPILGUARD_ROSTER_KEY, then $PUPILGUARD_ROSTER_KEY_FILE)")
    p.add_argument("--allowlist", metavar="FILE", default="allowlist.yaml",
                   help="approved/blocked AI tools per profile; reloaded when it changes (default: %(default)s)")
    p.add_argument("--policy", metavar="FILE", help="detection policy YAML (default: the built-in policy)")
    p.add_argument("--admin-url", metavar="URL", help="admin API base URL; without it events stay in the spool")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--admin-token", metavar="TOKEN", help="proxy token (or $PUPILGUARD_ADMIN_TOKEN)")
    token.add_argument("--admin-token-file", metavar="F", help="file holding the proxy token")
    p.add_argument("--admin-ca", metavar="FILE", help="CA bundle to verify an https admin URL")
    p.add_argument("--admin-insecure-http", action="store_true",
                   help="allow a plain-http --admin-url to another machine (only on a private container network)")
    p.add_argument("--route", action="append", default=[], metavar="HOST=ADDR:PORT",
                   help="send a catalogued host's upstream connection to ADDR:PORT (tests, demos, staging)")
    p.add_argument("--allow-ip", action="append", default=[], metavar="ADDR[/BITS]",
                   help="an IP address or network clients may CONNECT to by address (a non-AI service); every "
                        "other CONNECT to an IP address is refused")
    p.add_argument("--provider-ranges", action="append", default=[], metavar="FILE",
                   help="extra AI provider address ranges (format of proxy/data/provider_ranges.yaml): a CONNECT "
                        "to an address in one is decrypted and inspected instead of refused")
    p.add_argument("--upstream-ca", metavar="FILE",
                   help="extra CA (PEM) trusted for upstream servers, e.g. routed ones")
    p.add_argument("--upstream-proxy", metavar="URL",
                   help="send all traffic on through the school's filtering proxy, http://[USER:PASS@]HOST:PORT: AI "
                        "requests after their decision, everything else tunnelled as it came")
    p.add_argument("--upstream-proxy-auth-file", metavar="F",
                   help="file holding USER:PASSWORD for --upstream-proxy (instead of putting them in the URL)")
    p.add_argument("--metrics-listen", metavar="ADDR:PORT", help="serve /metrics and /healthz here")
    p.add_argument("--max-body", type=int, default=10 * 1024 * 1024, metavar="BYTES",
                   help="largest prompt body scanned, after decompression; larger ones are blocked "
                        "(default: %(default)s)")
    p.add_argument("--time-budget-ms", type=int, default=5000, metavar="N",
                   help="analysis time per request of up to 50,000 characters (longer ones get proportionally "
                        "more) before it is blocked (default: %(default)s)")
    p.add_argument("--ocr-workers", type=int, default=1, metavar="N",
                   help="processes reading the text in pictures and scanned PDFs (OCR) at once; 0 = pictures "
                        "are not read and are let through with a note")
    p.add_argument("--ocr-budget-ms", type=int, default=30000, metavar="N",
                   help="time allowed to read the pictures of one request, queueing included; then it is blocked")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="detection worker processes (default: one per CPU), plus one kept for short prompts")
    p.add_argument("--mode", choices=["regular", "transparent"], default="regular",
                   help="explicit proxy (PAC/WPAD) or transparent interception (default: %(default)s)")
    p.add_argument("--proxyauth", metavar="SPEC",
                   help="require proxy authentication (mitmproxy syntax: @htpasswd-file, ldap:..., user:pass); "
                        "the user name - and with ldap, the user's directory groups - select the allowlist profile")
    p.add_argument("--allow-public-clients", action="store_true",
                   help="accept clients with public addresses (JANET-assigned IPv4 ranges, global IPv6); by "
                        "default only private and loopback addresses may use the proxy, so it is never an open "
                        "proxy on the Internet - with this flag, the firewall must keep outsiders away")
    p.add_argument("--proxy-id", default=None, metavar="NAME", help="this proxy's name in events (default: hostname)")
    p.add_argument("--log-allow", action="store_true", help="also record allowed prompts as events")
    p.add_argument("--forward-unrecorded", action="store_true",
                   help="forward redacted prompts even when their event cannot be written (disk full); by default "
                        "they are refused, /healthz is red and pupilguard_events_not_recorded counts each one")
    p.add_argument("--model", metavar="NAME", help="spaCy model package or path (default: see detectors)")
    p.add_argument("--config-poll-s", type=float, default=60.0, metavar="S",
                   help="with --admin-url and a token: fetch the central allowlist/policy/roster this often "
                        "(0 = never; default: %(default)s)")
    p.set_defaults(handler=run_proxy)


def run_proxy(args: argparse.Namespace) -> int:
    os.umask(0o077)  # everything we write (spool and its WAL, CA, central config) is for this user only
    setup_logging()
    try:
        return _run(args)
    except UserError as exc:
        print(f"pupilguard proxy: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from detectors.allowlist import AllowlistError
    from proxy import central as central_mod
    from proxy.addon import PupilGuard
    from proxy.allowlist_watch import AllowlistWatcher
    from proxy.catalogue import default_catalogue
    from proxy.central import CentralConfig
    from proxy.conversations import Conversations
    from proxy.metrics import AdminServer, Metrics
    from proxy.routing import parse_routes
    from proxy.spool import Delivery, Spool
    from proxy.workers import EngineSpec, PoolError, ScanPool

    listen_host, listen_port = _address(args.listen, "--listen")
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        parse_routes(args.route)
    except Exception as exc:
        raise UserError(str(exc)) from None
    directory = None
    if args.proxyauth and args.proxyauth.startswith("ldap"):
        from mitmproxy.exceptions import OptionsError

        from proxy.directory import GroupDirectory

        try:  # the allowlist's `groups:` come from the directory that checks the passwords
            directory = GroupDirectory(args.proxyauth)
        except OptionsError as exc:
            raise UserError(f"--proxyauth: {exc}") from None
    if args.ocr_workers < 0:
        raise UserError("--ocr-workers must be 0 or more")
    for flag, value in (("--max-body", args.max_body), ("--time-budget-ms", args.time_budget_ms),
                        ("--ocr-budget-ms", args.ocr_budget_ms)):
        if value <= 0:
            raise UserError(f"{flag} must be positive")
    chain: dict[str, Any] = {}
    if args.upstream_proxy or args.upstream_proxy_auth_file:
        from proxy.chain import ChainError, upstream_options

        if not args.upstream_proxy:
            raise UserError("--upstream-proxy-auth-file needs --upstream-proxy")
        try:
            chain = upstream_options(args.upstream_proxy, args.upstream_proxy_auth_file, mode=args.mode)
        except ChainError as exc:
            raise UserError(str(exc)) from None
    for flag in ("roster", "key_file", "policy", "upstream_ca", "admin_ca"):
        value = getattr(args, flag)
        if value and not Path(value).is_file():
            raise UserError(f"--{flag.replace('_', '-')} {value}: no such file")
    token = _admin_token(args)
    if args.admin_url:
        _check_admin_url(args.admin_url, args.admin_insecure_http)
    metrics = Metrics()
    central = None
    if args.admin_url and token and args.config_poll_s > 0:
        central = CentralConfig(args.admin_url, token, data_dir, interval_s=args.config_poll_s,
                                verify=args.admin_ca or True, key_file=args.key_file, registry=metrics.registry)
        central.poll()  # start with the current central config if the admin API is up (else the last one fetched)

    def engine_spec() -> EngineSpec:
        policy = central and central.path(central_mod.POLICY)
        roster = central and central.path(central_mod.ROSTER)
        return EngineSpec(policy=str(policy) if policy else args.policy, roster=str(roster) if roster else args.roster,
                          key_file=args.key_file, model=args.model)

    central_allowlist = data_dir / "central" / central_mod.ALLOWLIST
    if not Path(args.allowlist).is_file() and not (central and central_allowlist.exists()):
        raise UserError(f"allowlist {args.allowlist}: no such file (pass --allowlist FILE)")

    try:
        allowlist = AllowlistWatcher(*([central_allowlist] if central else []), args.allowlist,
                                     on_error=lambda _: metrics.allowlist_reload_errors.inc())
    except AllowlistError as exc:
        raise UserError(str(exc)) from None
    try:
        catalogue = default_catalogue()
    except ValueError as exc:  # CatalogueError
        raise UserError(str(exc)) from None
    ca_cert = ensure_ca(data_dir)
    trust = _upstream_trust(data_dir, args.upstream_ca) if args.upstream_ca else None

    try:
        spool = Spool(data_dir / "spool")
    except (OSError, sqlite3.Error) as exc:  # read-only or full: no event could be recorded, so do not start
        raise UserError(f"event spool {data_dir / 'spool'} cannot be written: {exc}") from None
    metrics.spool_depth.set_function(spool.depth)
    delivery = Delivery(spool, args.admin_url, token, verify=args.admin_ca or True,
                        on_delivered=metrics.delivered.inc,
                        on_failure=lambda reason: metrics.delivery_failures.labels(reason).inc())
    pool = ScanPool(engine_spec(), size=args.workers, hard_limit_s=max(30.0, 10 * args.time_budget_ms / 1000))
    state = {"status": "starting"}
    admin_server = None
    if args.metrics_listen:
        mhost, mport = _address(args.metrics_listen, "--metrics-listen")
        admin_server = AdminServer(mhost, mport, metrics, lambda: {
            **state, "workers": pool.healthy, "spooled": spool.depth(), "delivery_failures": delivery.failures,
            # events that cannot be written are decisions the DPO never sees: red until a write succeeds again
            **({"status": "spool_failing", "spool_error": spool.failure} if spool.failure else {})})
        admin_server.start()

    started = time.monotonic()
    try:
        pool.start()
    except PoolError as exc:
        if admin_server:
            admin_server.close()
        raise UserError(str(exc)) from None
    log.info("detection workers ready", extra={"workers": pool.size,
                                               "seconds": round(time.monotonic() - started, 1)})
    pictures = None
    if args.ocr_workers:
        from proxy.ocr import OcrPool, Pictures

        ocr_pool = OcrPool(size=args.ocr_workers)
        try:
            ocr_pool.start()
        except PoolError as exc:  # the proxy runs; every picture is refused (ocr_unavailable) until this is fixed
            log.error("OCR unavailable: pictures and scanned PDFs will be refused", extra={"error": str(exc)})
        pictures = Pictures(ocr_pool, budget_s=args.ocr_budget_ms / 1000, metrics=metrics)
    delivery.start()
    allowlist.start()
    if central:
        def apply(changed: set[str]) -> None:
            # a policy or roster needs new engines; PoolError goes to central, which puts the old files back
            if central_mod.ALLOWLIST in changed:
                allowlist.check()
            if changed & central_mod.ENGINE_FILES:
                pool.recycle(engine_spec())
                log.info("detection workers reloaded with the central policy/roster")

        central.on_change = apply
        central.start()
    addon = PupilGuard(catalogue=catalogue, allowlist=allowlist, pool=pool, spool=spool, metrics=metrics,
                       conversations=Conversations(), directory=directory, pictures=pictures)
    options = dict(
        listen_host=listen_host, listen_port=listen_port, mode=[args.mode],
        confdir=str(data_dir / "ca"), allow_hosts=catalogue.allow_hosts_regexes(),
        connection_strategy="lazy",  # a refused request never opens a connection to the AI service
        block_global=not args.allow_public_clients,
        pupilguard_route=args.route, pupilguard_max_body=args.max_body,
        pupilguard_time_budget_ms=args.time_budget_ms, pupilguard_proxy_id=args.proxy_id or os.uname().nodename,
        pupilguard_log_allow=args.log_allow, pupilguard_forward_unrecorded=args.forward_unrecorded,
        pupilguard_allow_ip=args.allow_ip, pupilguard_provider_ranges=args.provider_ranges,
    )
    options.update(chain)  # --upstream-proxy: upstream mode (instead of regular) and the filter's credentials
    if trust:
        options["ssl_verify_upstream_trusted_ca"] = str(trust)
    if args.proxyauth:
        options["proxyauth"] = args.proxyauth
    log.info("proxy starting", extra={"listen": args.listen, "mode": args.mode, "ca_cert": str(ca_cert),
                                      "routes": len(args.route), "admin_url": bool(args.admin_url),
                                      **({"upstream_proxy": _describe_upstream(args.upstream_proxy)}
                                         if args.upstream_proxy else {})})
    try:
        code = asyncio.run(_serve(addon, options, state))
    finally:
        state["status"] = "stopping"
        if central:
            central.stop()
        allowlist.stop()
        delivery.stop()
        pool.close()
        if pictures is not None:
            pictures.pool.close()
        spool.close()
        if admin_server:
            admin_server.close()
    return code


async def _serve(addon: Any, options: dict, state: dict) -> int:
    from mitmproxy import exceptions
    from mitmproxy import options as mitm_options
    from mitmproxy.tools.dump import DumpMaster

    from proxy.connect_guard import ConnectGuard
    from proxy.notices import NoticeAddon, NoticeBoard
    from proxy.restore import RestoreAddon
    from proxy.routing import Router
    from proxy.tenants import TenantRestrictions
    from proxy.unknown_ai import UnknownAITools
    from proxy.unreachable import Reachability

    # Large uploads are parsed in a thread (proxy/addon.py); hand the GIL back to the event loop sooner than
    # Python's default 5 ms, so that everyone else's requests keep moving meanwhile.
    sys.setswitchinterval(0.0005)
    master = DumpMaster(mitm_options.Options(), with_termlog=False, with_dumper=False)
    board = NoticeBoard()
    addon.notices = board
    master.addons.add(ConnectGuard(addon.catalogue), NoticeAddon(board, is_intercepted=addon.is_intercepted),
                      RestoreAddon(), addon, TenantRestrictions(addon.allowlist, options["allow_hosts"]), Router(),
                      Reachability(addon.service_of),
                      UnknownAITools(catalogue=addon.catalogue, allowlist=addon.allowlist, spool=addon.spool,
                                     metrics=addon.metrics, directory=addon.directory,
                                     central=Path(options["confdir"]).parent / "central" / "ai_domains.txt"),
                      _Ready(state))
    try:
        master.options.update(**options)
    except exceptions.OptionsError as exc:
        raise UserError(str(exc)) from None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, master.shutdown)
    await master.run()
    return 0


class _Ready:
    """Marks /healthz ok once mitmproxy's servers are up (the `running` hook comes after they bind)."""

    def __init__(self, state: dict) -> None:
        self.state = state

    def running(self) -> None:
        self.state["status"] = "ok"

    def done(self) -> None:
        self.state["status"] = "stopping"


def ensure_ca(data_dir: Path) -> Path:
    """Create the proxy's CA on first run (private key 0600 in DIR/ca) and export its public certificate."""
    from mitmproxy.certs import CertStore

    confdir = data_dir / "ca"
    confdir.mkdir(mode=0o700, exist_ok=True)
    confdir.chmod(0o700)
    if not (confdir / f"{CA_BASENAME}-ca.pem").exists():
        CertStore.create_store(confdir, CA_BASENAME, 2048, organization="pupilguard",
                               cn=f"pupilguard CA ({os.uname().nodename})")
    for secret in confdir.glob("*.pem"):
        if not secret.name.endswith("-cert.pem"):
            secret.chmod(0o600)  # files holding the private key
    public = data_dir / "pupilguard-ca.pem"
    shutil.copyfile(confdir / f"{CA_BASENAME}-ca-cert.pem", public)
    public.chmod(0o644)
    return public


def _upstream_trust(data_dir: Path, extra_ca: str) -> Path:
    """mitmproxy takes one CA file for upstream verification: the public roots plus --upstream-ca."""
    import certifi

    bundle = data_dir / "upstream-trust.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + Path(extra_ca).read_bytes())
    return bundle


def _describe_upstream(url: str) -> str:
    from proxy.chain import describe

    return describe(url)


def _check_admin_url(url: str, insecure_ok: bool) -> None:
    """Events, the token and the central allowlist/policy must not cross a network in clear text."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--admin-url {url!r}: expected https://HOST[:PORT]")
    if parts.scheme == "https" or insecure_ok:
        return
    host = parts.hostname
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise UserError(f"--admin-url {url}: use https (events, the proxy token and the central allowlist would "
                        "travel in clear text), or pass --admin-insecure-http on a private network")


def _admin_token(args: argparse.Namespace) -> str | None:
    if args.admin_token_file:
        try:
            token = Path(args.admin_token_file).read_text().strip()
        except OSError as exc:
            raise UserError(f"--admin-token-file: {exc.strerror}: {args.admin_token_file}") from None
        if not token:
            raise UserError(f"--admin-token-file {args.admin_token_file} is empty")
        return token
    return args.admin_token or os.environ.get("PUPILGUARD_ADMIN_TOKEN") or None


def _address(value: str, flag: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UserError(f"{flag} {value!r}: expected ADDR:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "0.0.0.0", int(port)
