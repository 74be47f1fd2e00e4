"""Proxy tokens: each proxy node authenticates with its own bearer token, created and revoked by IT.

The token is shown once at creation; only its SHA-256 is stored (the tokens are 256-bit random values, so a fast
hash is enough — there is nothing to brute-force). Every authenticated call updates the proxy's last-seen health.
"""
from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import Proxy, utcnow

TOKEN_PREFIX = "pgp_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ProxyTokenError(ValueError):
    """A proxy-token operation that cannot be done (bad name, already exists, unknown)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str) -> tuple[Proxy, str]:
    """Create (or re-issue for a revoked name) a proxy token. Returns the proxy and the token to show once."""
    if not NAME_RE.match(name):
        raise ProxyTokenError(
            f"invalid proxy name {name!r}: use letters, digits, '.', '_' or '-' (up to 128 characters)"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    proxy = session.scalar(select(Proxy).where(Proxy.name == name))
    if proxy is not None and proxy.revoked_at is None:
        raise ProxyTokenError(f"proxy {name!r} already has an active token; revoke it first")
    if proxy is None:
        proxy = Proxy(name=name, token_hash=hash_token(token), created_at=utcnow())
        session.add(proxy)
    else:
        proxy.token_hash = hash_token(token)
        proxy.created_at = utcnow()
        proxy.revoked_at = None
    session.flush()
    return proxy, token


def revoke_token(session: Session, name: str) -> Proxy:
    proxy = session.scalar(select(Proxy).where(Proxy.name == name))
    if proxy is None:
        raise ProxyTokenError(f"no proxy named {name!r}")
    if proxy.revoked_at is None:
        proxy.revoked_at = utcnow()
    session.flush()
    return proxy


def list_proxies(session: Session) -> list[Proxy]:
    return list(session.scalars(select(Proxy).order_by(Proxy.name)))


def authenticate(session: Session, token: str) -> Proxy | None:
    """The active proxy holding this token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    proxy = session.scalar(select(Proxy).where(Proxy.token_hash == hash_token(token)))
    if proxy is None or proxy.revoked_at is not None:
        return None
    return proxy


def record_seen(session: Session, proxy_id: int, addr: str | None, version: str | None, events: int = 0) -> None:
    """Update last-seen health; the counter is incremented in SQL so concurrent batches never lose a count."""
    session.execute(
        update(Proxy)
        .where(Proxy.id == proxy_id)
        .values(
            last_seen_at=utcnow(),
            last_seen_addr=(addr or "")[:64] or None,
            last_seen_version=(version or "")[:64] or None,
            events_received=Proxy.events_received + events,
        )
    )
