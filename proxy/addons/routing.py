"""`--route HOST=ADDR:PORT`: send a catalogued host's traffic to another address (a local fake service, a staging
copy) once every decision is made, still presenting HOST as the TLS server name and verifying HOST's certificate.

Added after the pupilguard addon, so its `request` hook runs last. It points the request itself at ADDR:PORT
(keeping the Host header): mitmproxy then opens, and re-uses, one upstream connection per route as it would for
the real host. (Rewriting only the connection's address would make every request open a new connection.)
"""
from __future__ import annotations

from collections.abc import Sequence

from mitmproxy import ctx, exceptions, http
from mitmproxy.connection import Client
from mitmproxy.proxy import server_hooks

from proxy.catalogue import normalise_host
from proxy.settings import add_options


class Router:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, int]] = {}
        self._server_name: dict[str, str] = {}  # client connection id -> the real host its requests were routed for

    def load(self, loader) -> None:
        add_options(loader, "route")

    def configure(self, updated: set[str]) -> None:
        if "pupilguard_route" in updated:
            self.routes = parse_routes(ctx.options.pupilguard_route)

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or not self.routes:
            return
        host = normalise_host(flow.request.host)
        target = self.routes.get(host)
        if target is None:
            return
        host_header = flow.request.host_header
        flow.request.host, flow.request.port = target
        flow.request.host_header = host_header
        self._server_name[flow.client_conn.id] = host

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        host = self._server_name.get(data.client.id)
        if host is not None and data.server.address == self.routes.get(host):
            data.server.sni = host  # not the address: the routed service must present HOST's certificate

    def client_disconnected(self, client: Client) -> None:
        self._server_name.pop(client.id, None)


def parse_routes(specs: Sequence[str]) -> dict[str, tuple[str, int]]:
    routes: dict[str, tuple[str, int]] = {}
    for spec in specs:
        host, sep, target = spec.partition("=")
        addr, colon, port = target.rpartition(":")
        if not sep or not host or not colon or not addr or not port.isdigit() or not 0 < int(port) < 65536:
            raise exceptions.OptionsError(f"--route {spec!r}: expected HOST=ADDR:PORT, e.g. "
                                          "api.openai.com=127.0.0.1:8443")
        routes[normalise_host(host)] = (addr.strip("[]"), int(port))
    return routes
