"""A pupilguard page, not mitmproxy's bare 502, when an AI service cannot be reached.

mitmproxy answers a failed upstream connection itself: its HTTP layer runs the `error` hook and then writes its own
502 page, which an addon cannot replace (`flow.response` set in `error` is ignored; `server_connect_error` has no
response either). So before a request to a catalogued service goes out on a new upstream connection, this addon
makes the connection mitmproxy is about to make - name lookup, TCP, and TLS with the same trust settings and server
name - and when that fails it answers with the school's page (in its languages) for a page load, or the provider's
error shape with the code `ai_service_unreachable` for a program. A success is remembered for a few seconds per
address, so ordinary traffic pays at most one extra connection per service in that time. Added after the router:
its `request` hook sees the address the request really goes to.

Not covered: a service that fails between this check and mitmproxy's own connection (seconds), and deployments
that chain to another proxy (mitmproxy's upstream mode), where the AI service is not ours to reach.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from mitmproxy import ctx, http

from proxy import responses

log = logging.getLogger("pupilguard.unreachable")

REMEMBER_S = 10.0  # how long a successful connection vouches for its address
CONNECT_TIMEOUT_S = 10.0


class Reachability:
    def __init__(self, service_of: Callable[[http.HTTPFlow], Any]) -> None:
        self.service_of = service_of  # the pupilguard addon's: the catalogued service of a flow, or None
        self._reached: dict[tuple[str, int, str | None], float] = {}
        self._tls: ssl.SSLContext | None = None

    def configure(self, updated: set[str]) -> None:
        if updated & {"ssl_insecure", "ssl_verify_upstream_trusted_ca", "ssl_verify_upstream_trusted_confdir"}:
            self._tls = None

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or any(str(m).startswith("upstream") for m in ctx.options.mode):
            return
        service = self.service_of(flow)
        if service is None:
            return
        address = (flow.request.host, flow.request.port)
        server = flow.server_conn
        if server.connected and server.address == address:
            return  # the request goes out on a connection that is already open
        tls = flow.request.scheme == "https"
        sni = (flow.client_conn.sni or flow.request.pretty_host) if tls else None
        key = (*address, sni)
        if time.monotonic() - self._reached.get(key, float("-inf")) < REMEMBER_S:
            return
        why = await self._connect(*address, sni)
        if why is None:
            self._reached[key] = time.monotonic()
            return
        log.warning("AI service unreachable", extra={"tool": service.id, "why": why})
        flow.response = responses.unreachable_response(flow.request, service.error_shape, service.name, why)

    async def _connect(self, host: str, port: int, sni: str | None) -> str | None:
        """None if a connection (and TLS handshake) to host:port works; else dns, refused, tls or timeout."""
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=self._context() if sni else None, server_hostname=sni),
                CONNECT_TIMEOUT_S)
        except socket.gaierror:
            return "dns"
        except ConnectionRefusedError:
            return "refused"
        except (ssl.SSLError, ssl.CertificateError):
            return "tls"
        except (OSError, asyncio.TimeoutError):
            return "timeout"
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass
        return None

    def _context(self) -> ssl.SSLContext:
        """Trust as mitmproxy's upstream connections trust: its CA file or directory, else certifi's bundle."""
        if self._tls is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the name; trusts only what is loaded
            opts = ctx.options
            if opts.ssl_insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                import certifi

                cafile = opts.ssl_verify_upstream_trusted_ca
                capath = opts.ssl_verify_upstream_trusted_confdir
                context.load_verify_locations(cafile=cafile or (None if capath else certifi.where()),
                                              capath=capath or None)
            self._tls = context
        return self._tls
