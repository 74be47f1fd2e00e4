"""Directory groups of proxy-authenticated users, so the allowlist's profiles can name them (`groups: [Staff]`).

With `--proxyauth ldap[s]:...` mitmproxy checks each user's password against the school's directory (Active
Directory, OpenLDAP). This asks the same directory, with the same service account, which groups the user is a
direct member of (`member`, `uniqueMember` or `memberUid`), and keeps the answer for a while. Lookups run off the
proxy's event loop. If the directory cannot answer, the user has no groups for a minute (their profile then comes
from their user name or address) and the log says so - without the user's name.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

import ldap3
from cachetools import TLRUCache
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from mitmproxy.addons.proxyauth import Ldap

log = logging.getLogger(__name__)

GROUPS_TTL_S = 600.0  # how long a user's groups are trusted: a move between groups shows within ten minutes
FAILURE_TTL_S = 60.0  # how long a failed lookup stands before the directory is asked again
_NOT_CACHED = object()


class GroupDirectory:
    def __init__(self, proxyauth: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        """`proxyauth`: mitmproxy's LDAP specification, exactly as given to --proxyauth."""
        use_ssl, host, port, self._bind_dn, self._password, self.base, self.key = Ldap.parse_spec(proxyauth)
        self._server = ldap3.Server(host, port=port, use_ssl=use_ssl, connect_timeout=5)
        self._conn: ldap3.Connection | None = None
        self._lock = threading.Lock()  # one connection, one lookup at a time
        # A failed lookup (None) is retried sooner than a found one is refreshed; bounded, least recent out first.
        self._cache: TLRUCache[str, tuple[str, ...] | None] = TLRUCache(
            maxsize=50_000, ttu=lambda _user, found, now: now + (GROUPS_TTL_S if found is not None else FAILURE_TTL_S),
            timer=clock)

    async def groups(self, user: str | None) -> tuple[str, ...]:
        if not user:
            return ()
        cached = self._cache.get(user, _NOT_CACHED)
        if cached is not _NOT_CACHED:
            return cached or ()
        found = await asyncio.to_thread(self.lookup, user)
        self._cache[user] = found
        return found or ()

    def lookup(self, user: str) -> tuple[str, ...] | None:
        """The names (cn) of the groups `user` belongs to; None if the directory could not be asked."""
        try:
            with self._lock:
                conn = self._connection()
                conn.search(self.base, f"({self.key}={escape_filter_chars(user)})", attributes=[])
                entries = [e for e in conn.response if e.get("type") == "searchResEntry"]
                if not entries:
                    return ()
                dn = entries[0]["dn"]
                member = escape_filter_chars(dn)
                conn.search(_naming_context(dn) or self.base,
                            f"(|(member={member})(uniqueMember={member})(memberUid={escape_filter_chars(user)}))",
                            attributes=["cn"])
                return tuple(sorted({str(cn) for e in conn.response if e.get("type") == "searchResEntry"
                                     for cn in e["attributes"].get("cn", [])}))
        except LDAPException as exc:
            self._conn = None  # reconnect next time
            log.warning("directory group lookup failed; the user's profile comes from their name or address",
                        extra={"error": type(exc).__name__})
            return None

    def _connection(self) -> ldap3.Connection:
        if self._conn is None or self._conn.closed:
            # check_names off: a directory without one of the membership attributes (memberUid is RFC 2307's)
            # simply matches nothing on it, rather than ldap3 refusing the whole search
            self._conn = ldap3.Connection(self._server, self._bind_dn, self._password, auto_bind=True,
                                          receive_timeout=5, check_names=False)
        return self._conn


def _naming_context(dn: str) -> str:
    """The directory's root (dc=school,dc=example) from an entry's DN: groups often live in another branch."""
    return ",".join(part for part in ldap3.utils.dn.to_dn(dn) if part.lower().startswith("dc="))
