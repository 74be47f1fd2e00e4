"""Connections that would get round the interception: CONNECT to a bare IP address, and domain fronting.

Only catalogued host names are TLS-intercepted (mitmproxy `allow_hosts`); anything else is tunnelled unread. A
CONNECT to an IP address names no host, so a script can tunnel to an AI provider's (or a CDN's) address with a
harmless TLS server name, or none, and put `Host: api.openai.com` inside: nothing would read it. Such CONNECTs are
refused unless the address is on `--allow-ip` (non-AI services a school reaches by address), or lies in a range an
AI provider publishes for its own services (proxy/data/provider_ranges.yaml, plus `--provider-ranges FILE`): such a
tunnel is decrypted and inspected like a catalogued host, and the request inside must name one of that provider's
catalogued hosts, else it is refused.

On a flow we did decrypt, the TLS server name and the Host header must name the same host: a request fronted
through one name to another is refused rather than judged by whichever of the two names we happened to check.
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mitmproxy import ctx, exceptions, http
from mitmproxy.net.tls import starts_like_tls_record
from mitmproxy.proxy import layers
from mitmproxy.proxy.server_hooks import ServerConnectionHookData
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError

from proxy.catalogue import Catalogue
from proxy.settings import add_options

__all__ = ["ConnectGuard", "ProviderRange", "load_provider_ranges", "parse_networks"]

SHIPPED_RANGES = Path(__file__).parents[1] / "data" / "provider_ranges.yaml"  # proxy/data

log = logging.getLogger("pupilguard.proxy")

_REFUSED = ("pupilguard refused this connection: {why} Ask the school's IT team if you need this service.\n")


class _ProviderFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    class Provider(BaseModel):
        model_config = ConfigDict(extra="forbid")
        tools: list[str] = Field(min_length=1)
        networks: list[IPvAnyNetwork] = Field(min_length=1)

    version: Literal[1]
    providers: dict[str, Provider]


@dataclass(frozen=True)
class ProviderRange:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    provider: str
    tools: frozenset[str]  # catalogue ids a request inside such a tunnel may be for


def load_provider_ranges(path: Path | str) -> list[ProviderRange]:
    """The ranges of one provider_ranges.yaml file; OptionsError naming the file and field on any mistake."""
    from detectors import yamlfile

    try:
        doc = yamlfile.load_model(Path(path), _ProviderFile, ValueError, "version, providers")
    except (ValueError, OSError, ValidationError) as exc:
        raise exceptions.OptionsError(f"provider ranges {path}: {exc}") from None
    return [ProviderRange(net, name, frozenset(p.tools)) for name, p in doc.providers.items() for net in p.networks]


class ConnectGuard:
    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue  # which service a host belongs to
        self.allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.ranges: list[ProviderRange] = []
        self._inspected: dict[str, ProviderRange] = {}  # client connection id -> range of the address it tunnels to
        self._server_name: dict[str, str] = {}  # client connection id -> catalogued host its requests named

    def load(self, loader) -> None:
        add_options(loader, "allow_ip", "provider_ranges")

    def configure(self, updated: set[str]) -> None:
        if "pupilguard_allow_ip" in updated:
            self.allowed = parse_networks(ctx.options.pupilguard_allow_ip)
        if "pupilguard_provider_ranges" in updated or not self.ranges:
            files = [SHIPPED_RANGES, *ctx.options.pupilguard_provider_ranges]
            self.ranges = [r for f in files for r in load_provider_ranges(f)]

    def http_connect(self, flow: http.HTTPFlow) -> None:
        address = _ip(flow.request.host)
        if address is None or any(address in net for net in self.allowed):
            return
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        known = next((r for r in self.ranges if address.version == r.network.version and address in r.network), None)
        if known is not None and self.catalogue is not None:
            # a provider's own address: read what goes through it, as for its host names (see next_layer)
            self._inspected[flow.client_conn.id] = known
            log.info("CONNECT to a provider's address: inspected", extra={"provider": known.provider})
            return
        log.warning("CONNECT to an IP address refused", extra={"reason": "connect_to_ip"})
        flow.response = _refusal("a connection to a bare IP address cannot be checked for pupil data.")

    def next_layer(self, nextlayer: Any) -> None:
        """mitmproxy's own next-layer choice (made before this hook) tunnels anything `allow_hosts` does not name,
        and an address names nothing: for a tunnel into a provider's range, decrypt instead - TLS first, then the
        HTTP inside it."""
        context = nextlayer.context
        if context.client.id not in self._inspected or not isinstance(nextlayer.layer, layers.TCPLayer):
            return
        if not context.client.tls_established and starts_like_tls_record(nextlayer.data_client()):
            server_tls = layers.ServerTLSLayer(context)
            server_tls.child_layer = layers.ClientTLSLayer(context)
            nextlayer.layer = server_tls
        else:  # decrypted, or plain: HTTP, whose Host is checked below; anything that is not HTTP is dropped
            nextlayer.layer = layers.HttpLayer(context, layers.http.HTTPMode.transparent)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is None and flow.client_conn.id in self._inspected:
            self._check_provider_host(flow, self._inspected[flow.client_conn.id])
        sni = flow.client_conn.sni
        if flow.response is not None or not sni or not flow.client_conn.tls_established:
            return
        if _host(flow.request.host_header or flow.request.host) != _host(sni):
            log.warning("TLS server name and Host header disagree; refused", extra={"reason": "host_mismatch"})
            flow.response = _refusal("the address it was sent to does not match the site it names.")


    def _check_provider_host(self, flow: http.HTTPFlow, known: ProviderRange) -> None:
        host = _host(flow.request.host_header or "")
        service = self.catalogue.for_host(host) if host else None
        if service is None or service.id not in known.tools:
            log.warning("request inside a tunnel to a provider's address names another site; refused",
                        extra={"reason": "host_not_provider", "provider": known.provider})
            flow.response = _refusal("the address it was sent to does not belong to the site it names.")
            return
        self._server_name[flow.client_conn.id] = host

    def server_connect(self, data: ServerConnectionHookData) -> None:
        # verify the provider's certificate for the host the request named, not for the bare address
        host = self._server_name.get(data.client.id)
        if host is not None and (data.server.sni is None or _ip(data.server.sni) is not None):
            data.server.sni = host

    def client_disconnected(self, client: Any) -> None:
        self._inspected.pop(client.id, None)
        self._server_name.pop(client.id, None)


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
