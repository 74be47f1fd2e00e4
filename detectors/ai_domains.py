"""The list of generative-AI domains outside the catalogue (proxy/data/ai_domains.txt, and the admin service's
additions): parsed and checked in one place, for the proxy that matches hosts against it and the admin service that
stores IT's changes.

Text format: one domain per line (matching itself and every subdomain); `#` starts a comment; a line `!domain`
takes a domain out (an admin-side correction of the shipped list).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["AIDomains", "AIDomainsError", "parse_ai_domains"]

_DOMAIN = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
MAX_LINES = 20_000


class AIDomainsError(ValueError):
    """A bad line; the message names the line number and what is wrong with it."""


@dataclass(frozen=True)
class AIDomains:
    add: frozenset[str]
    remove: frozenset[str] = frozenset()

    def merged(self, other: AIDomains) -> AIDomains:
        """This list with `other`'s additions and removals applied on top."""
        return AIDomains((self.add - other.remove) | other.add, self.remove | other.remove)

    def match(self, host: str) -> str | None:
        """The listed domain `host` is or is under, or None."""
        name = host.lower().rstrip(".")
        while name and "." in name:
            if name in self.add:
                return name
            name = name.partition(".")[2]
        return None


def parse_ai_domains(text: str) -> AIDomains:
    add: set[str] = set()
    remove: set[str] = set()
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise AIDomainsError(f"more than {MAX_LINES} lines")
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        target = remove if line.startswith("!") else add
        domain = line.lstrip("!").strip().lower().rstrip(".")
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise AIDomainsError(f"line {number}: {line[:80]!r} is not a domain name") from None
        if not _DOMAIN.fullmatch(domain):
            raise AIDomainsError(f"line {number}: {line[:80]!r} is not a domain name (one per line, no paths)")
        target.add(domain)
    return AIDomains(frozenset(add), frozenset(remove))
