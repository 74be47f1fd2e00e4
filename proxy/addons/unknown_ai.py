"""AI tools that are not in the catalogue: seen, recorded and decided by host, never decrypted.

Staff find AI sites faster than any catalogue grows. proxy/data/ai_domains.txt lists hundreds of generative-AI
services beyond the catalogue (the admin service adds to it and corrects it: DATA_DIR/central/ai_domains.txt).
A connection to one of them is decided on its host name alone - the allowlist's `ai_hosts` entry for it, else
`uncatalogued_ai` for the person's profile, else blocked - and recorded as "AI tool not in the catalogue": host,
profile, user and time (one event per person and host a minute; the DPO's dashboard counts them). The content is
never decrypted or read, so nothing of what was typed is known, and the notice can only say the tool is not
approved. Catalogued hosts are the catalogue's; IP addresses are the connect guard's.
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from mitmproxy import ctx, http

from detectors.ai_domains import AIDomains, AIDomainsError, parse_ai_domains
from detectors.events import Event
from proxy.catalogue import normalise_host

if TYPE_CHECKING:  # only named in annotations (the directory is imported only with --proxyauth ldap:...)
    from proxy.allowlist_watch import AllowlistWatcher
    from proxy.catalogue import Catalogue
    from proxy.directory import GroupDirectory
    from proxy.metrics import Metrics
    from proxy.spool import Spool

log = logging.getLogger("pupilguard.proxy")

SHIPPED = Path(__file__).parents[1] / "data" / "ai_domains.txt"  # proxy/data
TOOL = "uncatalogued"  # the event's tool id: one bucket, told apart by host
REASON = "uncatalogued_ai_tool"
_REPEAT_S = 60.0  # a browser opens many connections to one site: one event per person and host per minute
_RELOAD_S = 5.0

_NOTICE = ("pupilguard refused this connection: {host} is an AI tool that is not approved by your school for you "
           "to use.{policy} Ask the school's IT team if you need it.\n")


def load_domains(central: Path | None = None) -> AIDomains:
    """The shipped list with the admin service's additions and removals applied (a bad central file is ignored,
    logged: the proxy keeps the shipped list rather than none)."""
    domains = parse_ai_domains(SHIPPED.read_text(encoding="utf-8"))
    if central is not None and central.exists():
        try:
            domains = domains.merged(parse_ai_domains(central.read_text(encoding="utf-8")))
        except (AIDomainsError, OSError, UnicodeDecodeError) as exc:
            log.error("central AI domain list not used", extra={"error": str(exc)[:200]})
    return domains


class UnknownAITools:
    def __init__(self, *, catalogue: Catalogue, allowlist: AllowlistWatcher, spool: Spool,
                 metrics: Metrics | None = None, central: Path | None = None,
                 directory: GroupDirectory | None = None) -> None:
        self.catalogue, self.allowlist, self.spool, self.metrics = catalogue, allowlist, spool, metrics
        self.central, self.directory = central, directory
        self.domains = load_domains(central)
        self._stamp = self._central_stamp()
        self._checked = time.monotonic()
        self._last: dict[tuple[str, str, str | None, str], float] = {}

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response is None:
            await self._decide(flow, flow.request.host)

    async def requestheaders(self, flow: http.HTTPFlow) -> None:
        # plain-http requests (no tunnel); a request inside a tunnel was decided at its CONNECT
        if flow.response is None and not flow.client_conn.tls_established and flow.request.scheme == "http":
            await self._decide(flow, flow.request.pretty_host)

    async def _decide(self, flow: http.HTTPFlow, raw_host: str) -> None:
        try:
            host = normalise_host(raw_host)
        except Exception:  # noqa: BLE001 - not a host name: not ours to judge
            return
        self._reload()
        domain = self.domains.match(host)
        if domain is None or self.catalogue.for_host(host) is not None:
            return
        client_addr = str(flow.client_conn.peername[0]) if flow.client_conn.peername else ""
        auth = flow.metadata.get("proxyauth")
        user = auth[0] if auth else None
        groups = await self.directory.groups(user) if self.directory is not None and user else ()
        allowlist = self.allowlist.current
        profile = allowlist.profile_for(client_addr, user, groups)
        status = allowlist.uncatalogued_status(host, profile)
        action = "block" if status == "blocked" else "allow"
        recorded = status == "approved" or self._record(host, client_addr, user, profile, status, action)
        if self.metrics is not None:
            self.metrics.requests.labels(TOOL, action).inc()
        if action == "block" or not recorded:
            policy = f" School AI policy: {allowlist.policy_url}" if allowlist.policy_url else ""
            flow.response = http.Response.make(
                403, _NOTICE.format(host=host, policy=policy).encode(),
                {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store",
                 "X-Pupilguard-Action": "block"})

    def _record(self, host: str, client_addr: str, user: str | None, profile: str, status: str, action: str) -> bool:
        """Spool one event per person, host and action a minute. False if it had to be and could not be written
        (the connection is then refused, as a prompt would be, unless --forward-unrecorded)."""
        key = (host, client_addr, user, action)
        now = time.monotonic()
        if now - self._last.get(key, -_REPEAT_S) < _REPEAT_S:
            return True
        if len(self._last) > 50_000:
            self._last = {k: t for k, t in self._last.items() if now - t < _REPEAT_S}
        event = Event(event_id=uuid.uuid4(), time=datetime.now(timezone.utc), proxy_id=ctx.options.pupilguard_proxy_id,
                      client_addr=client_addr, user=user, profile=profile, tool=TOOL, host=host, path="/",
                      action=action, reasons=[REASON, status])
        try:
            self.spool.put(event)
        except Exception as exc:  # noqa: BLE001 - a full disk must not take the proxy down
            log.error("could not spool event", extra={"event_id": str(event.event_id), "error": type(exc).__name__})
            return action == "block" or ctx.options.pupilguard_forward_unrecorded
        self._last[key] = now
        log.info("AI tool not in the catalogue", extra={"event_id": str(event.event_id), "host": host,
                                                        "profile": profile, "action": action})
        return True

    def _central_stamp(self) -> float | None:
        try:
            return os.stat(self.central).st_mtime_ns if self.central else None
        except OSError:
            return None

    def _reload(self) -> None:
        now = time.monotonic()
        if now - self._checked < _RELOAD_S:
            return
        self._checked = now
        stamp = self._central_stamp()
        if stamp != self._stamp:
            self._stamp = stamp
            self.domains = load_domains(self.central)
            log.info("AI domain list reloaded", extra={"domains": len(self.domains.add)})
