"""Connections that would get round the interception: CONNECT to a bare IP address, and domain fronting.

Only catalogued host names are TLS-intercepted (mitmproxy `allow_hosts`); anything else is tunnelled unread. A
CONNECT to an IP address names no host, so a script can tunnel to an AI provider's (or a CDN's) address with a
harmless TLS server name, or none, and put `Host: api.openai.com` inside: nothing would read it. Such CONNECTs are
refused unless the address is on `--allow-ip` (non-AI services a school reaches by address).

On a flow we did decrypt, the TLS server name and the Host header must name the same host: a request fronted
through one name to another is refused rather than judged by whichever of the two names we happened to check.
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

from mitmproxy import ctx, exceptions, http

__all__ = ["ConnectGuard", "parse_networks"]

log = logging.getLogger("pupilguard.proxy")

_REFUSED = ("pupilguard refused this connection: {why} Ask the school's IT team if you need this service.\n")


class ConnectGuard:
    def __init__(self) -> None:
        self.allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []

    def load(self, loader) -> None:
        loader.add_option("pupilguard_allow_ip", Sequence[str], [],
                          "IP addresses or networks (CIDR) that clients may CONNECT to by address, for non-AI "
                          "services; every other CONNECT to an IP address is refused.")

    def configure(self, updated: set[str]) -> None:
        if "pupilguard_allow_ip" in updated:
            self.allowed = parse_networks(ctx.options.pupilguard_allow_ip)

    def http_connect(self, flow: http.HTTPFlow) -> None:
        address = _ip(flow.request.host)
        if address is None or any(address in net for net in self.allowed):
            return
        log.warning("CONNECT to an IP address refused", extra={"reason": "connect_to_ip"})
        flow.response = _refusal("a connection to a bare IP address cannot be checked for pupil data.")

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        sni = flow.client_conn.sni
        if flow.response is not None or not sni or not flow.client_conn.tls_established:
            return
        if _host(flow.request.host_header or flow.request.host) != _host(sni):
            log.warning("TLS server name and Host header disagree; refused", extra={"reason": "host_mismatch"})
            flow.response = _refusal("the address it was sent to does not match the site it names.")


def parse_networks(specs: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(s.strip(), strict=False) for s in specs]
    except ValueError as exc:
        raise exceptions.OptionsError(f"--allow-ip: {exc}") from None


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _host(value: str) -> str:
    """A Host header or server name without port, case or trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        return value.split("]", 1)[0] + "]"
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def _refusal(why: str) -> http.Response:
    return http.Response.make(403, _REFUSED.format(why=why).encode(),
                              {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"})
