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
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detectors.logs import setup_logging

if TYPE_CHECKING:
    from proxy.settings import ProxySettings

log = logging.getLogger("pupilguard.proxy")

CA_BASENAME = "mitmproxy"  # mitmproxy's file names inside DIR/ca; the certificate itself is named pupilguard


class UserError(Exception):
    """A configuration mistake: printed as one line, exit status 2."""


def register_proxy(subparsers: Any) -> None:
    from proxy.settings import add_flags

    p = subparsers.add_parser("proxy", help="run the intercepting proxy for AI traffic",
                              description="Run pupilguard's intercepting proxy (mitmproxy) for AI traffic. Every "
                                          "setting can also come from its environment variable [shown in brackets] "
                                          "or an env file: flag > environment > env file > default.")
    add_flags(p)
    p.set_defaults(handler=run_proxy)


def run_proxy(args: argparse.Namespace) -> int:
    os.umask(0o077)  # everything we write (spool and its WAL, CA, central config) is for this user only
    setup_logging()
    try:
        return _run(load_settings(args))
    except UserError as exc:
        print(f"pupilguard proxy: {exc}", file=sys.stderr)
        return 2


def load_settings(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ProxySettings:
    """The proxy's settings from its flags, environment and env file; a mistake is a UserError naming the flag."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from proxy.settings import ProxySettings, describe_error

    if args.admin_token and args.admin_token_file:
        raise UserError("give --admin-token or --admin-token-file, not both")
    try:
        return ProxySettings.load(args, environ)
    except ValidationError as exc:
        raise UserError(describe_error(exc)) from None
    except SettingsError as exc:  # a list that is not JSON in the environment
        raise UserError(f"{exc} (a list in the environment is JSON: '[\"a\", \"b\"]')") from None
    except OSError as exc:
        raise UserError(str(exc)) from None


def _run(settings: ProxySettings) -> int:
    from detectors.allowlist import AllowlistError
    from detectors.roster import RosterKeySource
    from proxy import central as central_mod
    from proxy.addons import default_addons
    from proxy.addons.routing import parse_routes
    from proxy.allowlist_watch import AllowlistWatcher
    from proxy.catalogue import default_catalogue
    from proxy.central import CentralConfig
    from proxy.conversations import Conversations
    from proxy.metrics import AdminServer, Metrics
    from proxy.settings import ProxySettings, flag_name
    from proxy.spool import Delivery, Spool
    from proxy.workers import EngineSpec, PoolError, ScanPool

    listen_host, listen_port = _address(settings.listen, "--listen")
    data_dir: Path = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        parse_routes(settings.route)
    except Exception as exc:
        raise UserError(str(exc)) from None
    directory = None
    if settings.proxyauth and settings.proxyauth.startswith("ldap"):
        from mitmproxy.exceptions import OptionsError

        from proxy.directory import GroupDirectory

        try:  # the allowlist's `groups:` come from the directory that checks the passwords
            directory = GroupDirectory(settings.proxyauth)
        except OptionsError as exc:
            raise UserError(f"--proxyauth: {exc}") from None
    if settings.ocr_workers < 0:
        raise UserError("--ocr-workers must be 0 or more")
    for flag, value in (("--max-body", settings.max_body), ("--time-budget-ms", settings.time_budget_ms),
                        ("--ocr-budget-ms", settings.ocr_budget_ms)):
        if value <= 0:
            raise UserError(f"{flag} must be positive")
    chain: dict[str, Any] = {}
    if settings.upstream_proxy or settings.upstream_proxy_auth_file:
        from proxy.chain import ChainError, upstream_options

        if not settings.upstream_proxy:
            raise UserError("--upstream-proxy-auth-file needs --upstream-proxy")
        try:
            chain = upstream_options(settings.upstream_proxy, settings.upstream_proxy_auth_file, mode=settings.mode)
        except ChainError as exc:
            raise UserError(str(exc)) from None
    for name in ("roster", "roster_key_file", "policy", "upstream_ca", "admin_ca"):
        value = getattr(settings, name)
        if value and not Path(value).is_file():
            raise UserError(f"{flag_name(ProxySettings, name)} {value}: no such file")
    token = _admin_token(settings)
    if settings.admin_url:
        _check_admin_url(settings.admin_url, settings.admin_insecure_http)
    roster_key = RosterKeySource(settings.secret("roster_key"), settings.roster_key_file)
    metrics = Metrics()
    central = None
    if settings.admin_url and token and settings.config_poll_s > 0:
        central = CentralConfig(settings.admin_url, token, data_dir, interval_s=settings.config_poll_s,
                                verify=settings.admin_ca or True, roster_key=roster_key, registry=metrics.registry)
        central.poll()  # start with the current central config if the admin API is up (else the last one fetched)

    def engine_spec() -> EngineSpec:
        policy = central and central.path(central_mod.POLICY)
        roster = central and central.path(central_mod.ROSTER)
        return EngineSpec(policy=str(policy) if policy else settings.policy,
                          roster=str(roster) if roster else settings.roster, roster_key=roster_key,
                          model=settings.model)

    central_allowlist = data_dir / "central" / central_mod.ALLOWLIST
    if not Path(settings.allowlist).is_file() and not (central and central_allowlist.exists()):
        raise UserError(f"allowlist {settings.allowlist}: no such file (pass --allowlist FILE)")

    try:
        allowlist = AllowlistWatcher(*([central_allowlist] if central else []), settings.allowlist,
                                     on_error=lambda _: metrics.allowlist_reload_errors.inc())
    except AllowlistError as exc:
        raise UserError(str(exc)) from None
    try:
        catalogue = default_catalogue()
    except ValueError as exc:  # CatalogueError
        raise UserError(str(exc)) from None
    ca_cert = ensure_ca(data_dir)
    trust = _upstream_trust(data_dir, settings.upstream_ca) if settings.upstream_ca else None

    try:
        spool = Spool(data_dir / "spool")
    except (OSError, sqlite3.Error) as exc:  # read-only or full: no event could be recorded, so do not start
        raise UserError(f"event spool {data_dir / 'spool'} cannot be written: {exc}") from None
    metrics.spool_depth.set_function(spool.depth)
    delivery = Delivery(spool, settings.admin_url, token, verify=settings.admin_ca or True,
                        on_delivered=metrics.delivered.inc,
                        on_failure=lambda reason: metrics.delivery_failures.labels(reason).inc())
    pool = ScanPool(engine_spec(), size=settings.workers, hard_limit_s=max(30.0, 10 * settings.time_budget_ms / 1000))
    state = {"status": "starting"}
    admin_server = None
    if settings.metrics_listen:
        mhost, mport = _address(settings.metrics_listen, "--metrics-listen")
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
    if settings.ocr_workers:
        from proxy.ocr import OcrPool, Pictures

        ocr_pool = OcrPool(size=settings.ocr_workers)
        try:
            ocr_pool.start()
        except PoolError as exc:  # the proxy runs; every picture is refused (ocr_unavailable) until this is fixed
            log.error("OCR unavailable: pictures and scanned PDFs will be refused", extra={"error": str(exc)})
        pictures = Pictures(ocr_pool, budget_s=settings.ocr_budget_ms / 1000, metrics=metrics)
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
    addons = default_addons(settings, catalogue=catalogue, allowlist=allowlist, pool=pool, spool=spool,
                            metrics=metrics, conversations=Conversations(), directory=directory, pictures=pictures,
                            state=state)
    options = dict(
        listen_host=listen_host, listen_port=listen_port, mode=[settings.mode],
        confdir=str(data_dir / "ca"), allow_hosts=catalogue.allow_hosts_regexes(),
        connection_strategy="lazy",  # a refused request never opens a connection to the AI service
        block_global=not settings.allow_public_clients,
        **settings.mitmproxy_options(),
    )
    options.update(chain)  # --upstream-proxy: upstream mode (instead of regular) and the filter's credentials
    if trust:
        options["ssl_verify_upstream_trusted_ca"] = str(trust)
    if settings.proxyauth:
        options["proxyauth"] = settings.proxyauth
    log.info("proxy starting", extra={"listen": settings.listen, "mode": settings.mode, "ca_cert": str(ca_cert),
                                      "routes": len(settings.route), "admin_url": bool(settings.admin_url),
                                      **({"upstream_proxy": _describe_upstream(settings.upstream_proxy)}
                                         if settings.upstream_proxy else {})})
    try:
        code = asyncio.run(_serve(addons, options))
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


async def _serve(addons: list[Any], options: dict[str, Any]) -> int:
    from mitmproxy import exceptions
    from mitmproxy import options as mitm_options
    from mitmproxy.tools.dump import DumpMaster

    # Large uploads are parsed in a thread (proxy/addons/guard.py); hand the GIL back to the event loop sooner than
    # Python's default 5 ms, so that everyone else's requests keep moving meanwhile.
    sys.setswitchinterval(0.0005)
    master = DumpMaster(mitm_options.Options(), with_termlog=False, with_dumper=False)
    master.addons.add(*addons)
    try:
        master.options.update(**options)
    except exceptions.OptionsError as exc:
        raise UserError(str(exc)) from None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, master.shutdown)
    await master.run()
    return 0


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


def _admin_token(settings: ProxySettings) -> str | None:
    if settings.admin_token_file:
        try:
            token = Path(settings.admin_token_file).read_text().strip()
        except OSError as exc:
            raise UserError(f"--admin-token-file: {exc.strerror}: {settings.admin_token_file}") from None
        if not token:
            raise UserError(f"--admin-token-file {settings.admin_token_file} is empty")
        return token
    return settings.secret("admin_token") or None


def _address(value: str, flag: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UserError(f"{flag} {value!r}: expected ADDR:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "0.0.0.0", int(port)
