"""Who is on the other end of a request: the client's address, through trusted reverse proxies only."""
from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import Request


def client_address(request: Request) -> str:
    """The client's address: the peer's, or — when the peer is a configured trusted reverse proxy — the nearest
    address in X-Forwarded-For that is not itself a trusted proxy. From any other peer the header is ignored, since
    a client could otherwise pick a fresh address per guess."""
    peer = request.client.host if request.client else ""
    trusted = getattr(request.app.state.settings, "trusted_proxies", None) or []
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and _in_networks(peer, trusted):
        for hop in reversed([h.strip() for h in forwarded.split(",")]):
            if not _in_networks(hop, trusted):
                return hop[:64]
    return peer


def _in_networks(address: str, networks: list[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)
