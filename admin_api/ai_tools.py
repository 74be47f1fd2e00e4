"""AI tools not in the catalogue: what the proxies saw (for the DPO) and IT's one-step "allow this tool".

Proxies record a connection to a generative-AI host outside the catalogue as an event of tool `uncatalogued`
(host, profile, user - never content; at most one a minute per person and host). Here they are summed per host
for the dashboard page; IT approves a host for some profiles by adding it to the allowlist's `ai_hosts` (through
config_store.change, so it is validated, audited and, where it weakens protection, held for the DPO), and corrects
the shipped list of AI domains (additions, `!domain` removals) that every proxy fetches with its configuration.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import yaml
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from detectors.ai_domains import parse_ai_domains
from detectors.allowlist import STATUSES, AllowlistError, load_allowlist

from . import audit
from .models import Event, User
from .settings import Settings

TOOL = "uncatalogued"  # the proxies' event tool id for these (proxy/addons/unknown_ai.py)
AI_DOMAINS = "ai_domains_txt"  # the Setting holding the central additions/removals
_HOST = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


@dataclass
class SeenHost:
    host: str
    connections: int
    blocked: int
    people: int
    first_seen: datetime
    last_seen: datetime
    profiles: list[str] = field(default_factory=list)
    allowed_for: dict[str, str] = field(default_factory=dict)  # the allowlist's ai_hosts entry, if any


def seen_hosts(session: Session, allowlist_text: str | None = None, limit: int = 500) -> list[SeenHost]:
    """Uncatalogued AI hosts seen, most recent first: connections recorded, how many were blocked, by how many
    people (user, else client address), which profiles, first and last seen."""
    who = func.coalesce(Event.user, Event.client_addr)
    rows = session.execute(
        select(Event.host, func.count(), func.sum(case((Event.action == "block", 1), else_=0)),
               func.count(func.distinct(who)), func.min(Event.time), func.max(Event.time))
        .where(Event.tool == TOOL).group_by(Event.host).order_by(func.max(Event.time).desc()).limit(limit)).all()
    profiles: dict[str, set[str]] = {}
    for host, profile in session.execute(select(Event.host, Event.profile).where(Event.tool == TOOL).distinct()):
        if profile:
            profiles.setdefault(host, set()).add(profile)
    approved = {}
    if allowlist_text:
        try:
            approved = load_allowlist(allowlist_text).ai_hosts
        except AllowlistError:
            approved = {}
    return [SeenHost(host, int(n), int(blocked or 0), int(people), first, last, sorted(profiles.get(host, ())),
                     approved.get(host, {})) for host, n, blocked, people, first, last in rows]


def with_ai_host(allowlist_text: str, host: str, statuses: dict[str, str]) -> str:
    """The allowlist YAML with `ai_hosts[host]` set to `statuses`, the rest of the file (and its comments) kept.
    ValueError on a host or status that cannot be; the caller validates the whole result (config_store.change)."""
    host = host.strip().lower().rstrip(".")
    if not _HOST.fullmatch(host):
        raise ValueError(f"{host[:80]!r} is not a host name")
    bad = [s for s in statuses.values() if s not in STATUSES]
    if bad or not statuses:
        raise ValueError(f"each status must be one of {', '.join(STATUSES)}")
    doc = yaml.safe_load(allowlist_text) or {}
    current = dict(doc.get("ai_hosts") or {}) if isinstance(doc, dict) else {}
    current[host] = dict(statuses)
    block = "ai_hosts:\n" + "".join(
        f"  {name}: {{{', '.join(f'{p}: {s}' for p, s in rule.items())}}}\n" for name, rule in current.items())
    lines = allowlist_text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"ai_hosts\s*:", line)), None)
    if start is None:
        return allowlist_text.rstrip("\n") + "\n" + block
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def set_ai_domains(session: Session, text: str, actor: str) -> None:
    """Store the central additions/removals to the shipped AI domain list (validated: AIDomainsError)."""
    from .config_store import _put  # one writer of settings rows

    parsed = parse_ai_domains(text)
    _put(session, AI_DOMAINS, text, actor)
    audit.record(session, actor, "ai_domains.update", AI_DOMAINS,
                 {"added": len(parsed.add), "removed": len(parsed.remove)})


def allow_host(session: Session, settings: Settings, host: str, statuses: dict[str, str], user: User):
    """IT's one step: the host into the allowlist's ai_hosts (config_store.change: validated, audited, held for
    the DPO if it weakens protection). Returns the pending change, if any."""
    from . import config_store

    text = config_store.get_setting(session, config_store.ALLOWLIST) or ""
    new = with_ai_host(text, host, statuses)
    return config_store.change(session, settings, config_store.ALLOWLIST, new, user)
