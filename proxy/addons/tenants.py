"""Tenant restriction: sign-in to a vendor's AI service only with the school's own tenant of it.

A school's DPIA covers its own ChatGPT Enterprise/Edu workspace, Google Workspace or Microsoft 365 tenant, not
personal accounts on the same sites. Each vendor documents request headers that a school's proxy adds so that the
vendor itself refuses any other account; the allowlist names the school's tenant per tool (`tenant:`, see
detectors/allowlist.py) and this addon adds those headers (replacing any the client sent: a client must not choose
its own allowed tenants) on the vendor's hosts:

* Microsoft Entra ID, "Restrict access to a tenant" (tenant restrictions v1): `Restrict-Access-To-Tenants` (the
  permitted tenant domains / directory ids, comma-separated) and `Restrict-Access-Context` (the directory id of the
  tenant setting the restriction) on login.microsoftonline.com, login.microsoft.com and login.windows.net; to block
  personal Microsoft accounts, `sec-Restrict-Tenant-Access-Policy: restrict-msa` on login.live.com.
* Microsoft Entra ID, tenant restrictions v2 (proxy signalling): `sec-Restrict-Tenant-Access-Policy:
  <tenant id>:<policy id>` on the same three sign-in hosts.
* Google Workspace Admin Help, "Block access to consumer accounts": `X-GoogApps-Allowed-Domains` (the permitted
  domains, comma-separated; `consumer_accounts` admits personal accounts) on all traffic to google.com.
* OpenAI Help Center, "Corporate Network Controls in ChatGPT Enterprise" (workspace blocking):
  `ChatGPT-Allowed-Workspace-Id` (workspace UUIDs, comma-separated without spaces) on chatgpt.com.

These hosts are TLS-intercepted only while a restriction for their vendor is configured (`allow_hosts` follows
the allowlist as it is reloaded); apart from the headers their traffic passes unchanged and unrecorded. Where the
proxy itself can tell that a sign-in is for another tenant, it refuses it with the school's notice: a Microsoft
sign-in URL naming another tenant (or `consumers`, personal accounts, when those are blocked), and ChatGPT used
signed out (its `backend-anon` API), which is no workspace of the school's.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mitmproxy import ctx, http

from detectors.allowlist import TenantRestriction
from proxy import responses
from proxy.catalogue import normalise_host

if TYPE_CHECKING:
    from proxy.allowlist_watch import AllowlistWatcher

log = logging.getLogger("pupilguard.proxy")

MICROSOFT_SIGN_IN = ("login.microsoftonline.com", "login.microsoft.com", "login.windows.net")
MICROSOFT_CONSUMER = ("login.live.com",)
GOOGLE = ("google.com",)  # and every subdomain
CHATGPT = ("chatgpt.com",)
HEADERS = ("Restrict-Access-To-Tenants", "Restrict-Access-Context", "sec-Restrict-Tenant-Access-Policy",
           "X-GoogApps-Allowed-Domains", "ChatGPT-Allowed-Workspace-Id")
# first path segment of a Microsoft sign-in URL that is not a tenant
_MS_NOT_A_TENANT = {"common", "organizations", "", "favicon.ico", "robots.txt", "static", "oauth2", "error",
                    "appverify", "kmsi", "login.srf", "getcredentialtype", "savedusers", "forgetuser", "logout.srf",
                    "cookiesdisabled", "jsdisabled", "sso", "discovery", "federationmetadata", "te", "v2.0"}


class Plan:
    """What the configured restrictions mean on the wire: the headers per host, and the hosts to intercept."""

    def __init__(self, restrictions: Sequence[TenantRestriction]) -> None:
        def union(attr: str) -> list[str]:
            return list(dict.fromkeys(v for r in restrictions for v in getattr(r, attr)))

        self.workspaces = union("chatgpt_workspace_ids")
        self.google_domains = union("google_domains")
        self.ms_tenants = union("microsoft_tenants")
        self.ms_context = next((r.microsoft_context for r in restrictions if r.microsoft_context), None)
        self.ms_policy = next((r.microsoft_policy for r in restrictions if r.microsoft_policy), None)
        self.ms_block_consumer = any(r.microsoft_block_consumer for r in restrictions)

    def headers_for(self, host: str) -> dict[str, str] | None:
        """The tenant headers for a request to `host`, or None where no restriction applies."""
        if host in MICROSOFT_SIGN_IN and (self.ms_tenants or self.ms_policy):
            if self.ms_policy:
                return {"sec-Restrict-Tenant-Access-Policy": self.ms_policy}
            return {"Restrict-Access-To-Tenants": ",".join(self.ms_tenants),
                    "Restrict-Access-Context": self.ms_context or ""}
        if host in MICROSOFT_CONSUMER and self.ms_block_consumer:
            return {"sec-Restrict-Tenant-Access-Policy": "restrict-msa"}
        if self.google_domains and _under(host, GOOGLE):
            return {"X-GoogApps-Allowed-Domains": ",".join(self.google_domains)}
        if self.workspaces and _under(host, CHATGPT):
            return {"ChatGPT-Allowed-Workspace-Id": ",".join(self.workspaces)}
        return None

    def hosts(self) -> list[str]:
        """Host patterns ("*." = any subdomain) that must be intercepted for the headers to be added."""
        out: list[str] = []
        if self.ms_tenants or self.ms_policy:
            out += MICROSOFT_SIGN_IN
        if self.ms_block_consumer:
            out += MICROSOFT_CONSUMER
        if self.google_domains:
            out += [*GOOGLE, *(f"*.{h}" for h in GOOGLE)]
        if self.workspaces:
            out += [*CHATGPT, *(f"*.{h}" for h in CHATGPT)]
        return out

    def refusal(self, host: str, path: str) -> str | None:
        """The vendor's name if this request is a sign-in to another tenant, where the proxy can tell; else None."""
        if host in MICROSOFT_SIGN_IN and self.ms_tenants:
            tenant = path.lstrip("/").split("/", 1)[0].split("?", 1)[0].lower()
            if tenant == "consumers" or (tenant not in _MS_NOT_A_TENANT and _looks_like_tenant(tenant)
                                         and tenant not in self.ms_tenants):
                return "Microsoft 365"  # a sign-in for another organisation, or a personal account
        if self.workspaces and _under(host, CHATGPT) and path.startswith("/backend-anon/"):
            return "ChatGPT"  # used without signing in to the school's workspace
        return None


def allow_hosts_regexes(patterns: Sequence[str]) -> list[str]:
    """mitmproxy `allow_hosts` regexes (matched against "host:port") for host patterns."""
    out = []
    for h in patterns:
        body = r"(?:[a-z0-9-]+\.)+" + re.escape(h[2:]) if h.startswith("*.") else re.escape(h)
        out.append(rf"^{body}\.?(?::\d+)?$")
    return out


class TenantRestrictions:
    """Adds the vendors' tenant headers; keeps mitmproxy's `allow_hosts` = catalogue + the restricted vendors'
    sign-in hosts as the allowlist changes. Runs after the pupilguard addon (a refused request gets nothing) and
    before routing (the host is still the one the client named)."""

    def __init__(self, allowlist: AllowlistWatcher, base_allow_hosts: Sequence[str]) -> None:
        self.allowlist, self.base = allowlist, list(base_allow_hosts)
        self._seen: Any = None
        self.plan = Plan([])

    def _sync(self) -> None:
        current = self.allowlist.current
        if current is self._seen:
            return
        self._seen = current
        self.plan = Plan(current.tenant_restrictions())
        wanted = self.base + [r for r in allow_hosts_regexes(self.plan.hosts()) if r not in self.base]
        if list(ctx.options.allow_hosts) != wanted:
            ctx.options.update(allow_hosts=wanted)
            log.info("tenant restriction hosts intercepted", extra={"hosts": self.plan.hosts()})

    def running(self) -> None:
        self._sync()

    def http_connect(self, flow: http.HTTPFlow) -> None:
        self._sync()  # before the tunnel's interception is decided: an allowlist change applies from now on

    def request(self, flow: http.HTTPFlow) -> None:
        self._sync()
        if flow.response is not None:
            return
        host = normalise_host(flow.request.host_header or flow.request.pretty_host)
        # a client's own copies never pass: it must not pick the tenants it may sign in to
        for name in HEADERS:
            flow.request.headers.pop(name, None)
        vendor = self.plan.refusal(host, flow.request.path)
        if vendor is not None:
            log.warning("sign-in to another tenant refused", extra={"host": host, "reason": "other_tenant"})
            allowlist = self.allowlist.current
            refusal = responses.Refusal(tool=vendor, reasons=["other_tenant"],
                                        policy_url=allowlist.policy_url)
            flow.response = responses.block_response(flow.request, "web", refusal)
            return
        headers = self.plan.headers_for(host)
        if headers:
            for name, value in headers.items():
                flow.request.headers[name] = value


def _under(host: str, domains: Sequence[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _looks_like_tenant(segment: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", segment)
                or re.fullmatch(r"(?:[a-z0-9-]+\.)+[a-z]{2,63}", segment))
