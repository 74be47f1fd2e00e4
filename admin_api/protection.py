"""Changes that weaken protection, and the alerts the DPO sees until they acknowledge them.

A change weakens protection when, for anyone, less is scanned, redacted or blocked than before, or personal data
is kept longer: in the allowlist a tool's status goes down (blocked > approved > monitor, since `monitor` forwards
prompts unchanged), unlisted tools get a weaker default, placeholder restore is turned on, or who belongs to which
profile changes (moving a subnet from "pupil" to "staff" gives pupils staff's tools); in the policy any rule a
prompt is judged by gets weaker (monitor mode, a higher score threshold, an identifier no longer redacted or
blocked, a weaker special-category rule, fewer special-category subtypes or deny terms, more allow terms);
retention gets longer. Only the DPO may make such a change (permissions.WEAKEN_PROTECTION), every one raises an
alert, and with `second_approver` set it waits for another DPO (config_store.change).
"""
from __future__ import annotations

from itertools import product
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detectors.allowlist import Allowlist
from detectors.policy import Policy, Rules

from . import audit
from .models import SecurityAlert, utcnow

STATUS_STRENGTH = {"monitor": 0, "approved": 1, "blocked": 2}
# an AI tool outside the catalogue is never read: monitored, its use is at least recorded; approved, not even that
UNCATALOGUED_STRENGTH = {"approved": 0, "monitor": 1, "blocked": 2}
ENTITY_STRENGTH = {"ignore": 0, "redact": 1, "block": 2}
SPECIAL_STRENGTH = {"allow": 0, "block_with_identifier": 1, "block": 2}
MAX_LISTED = 20  # a change that weakens more than this is summarised


def allowlist_weakenings(old: Allowlist, new: Allowlist) -> list[str]:
    found = []
    if (old.profiles, old.default_profile) != (new.profiles, new.default_profile):
        found.append("who belongs to which profile changed (subnets, groups, users or the default profile)")
    if STATUS_STRENGTH[new.default_status] < STATUS_STRENGTH[old.default_status]:
        found.append(f"unlisted tools: {old.default_status} → {new.default_status}")
    for tool in sorted(old.tools.keys() | new.tools.keys()):
        for profile in sorted(old.profiles.keys() & new.profiles.keys()):
            before, after = old.status(tool, profile), new.status(tool, profile)
            if STATUS_STRENGTH[after] < STATUS_STRENGTH[before]:
                found.append(f"{tool} for {profile}: {before} → {after}")
        if new.restore_placeholders(tool) and not old.restore_placeholders(tool):
            found.append(f"{tool}: placeholder restore turned on")
        old_rule, new_rule = old.tools.get(tool), new.tools.get(tool)
        if old_rule is not None and old_rule.tenant is not None and (new_rule is None
                                                                     or new_rule.tenant != old_rule.tenant):
            found.append(f"{tool}: tenant restriction removed or changed")
    # AI tools not in the catalogue: the default per profile, and each host IT has given a status
    for profile in sorted(old.profiles.keys() & new.profiles.keys()):
        for host in (None, *sorted(old.ai_hosts.keys() | new.ai_hosts.keys())):
            before = old.uncatalogued_status(host, profile) if host else old.uncatalogued_ai.get(profile, "blocked")
            after = new.uncatalogued_status(host, profile) if host else new.uncatalogued_ai.get(profile, "blocked")
            if UNCATALOGUED_STRENGTH[after] < UNCATALOGUED_STRENGTH[before]:
                found.append(f"{host or 'AI tools not in the catalogue'} for {profile}: {before} → {after}")
    return _capped(found)


def policy_weakenings(old: Policy, new: Policy) -> list[str]:
    """Compares the rules every tool × profile combination named in either policy is judged by."""
    tools = (None, *sorted(old.tools.keys() | new.tools.keys()))
    profiles = (None, *sorted(old.profiles.keys() | new.profiles.keys()))
    found: dict[str, None] = {}
    for tool, profile in product(tools, profiles):
        scope = ", ".join(p for p in (tool and f"tool {tool}", profile and f"profile {profile}") if p) or "default"
        for what in _rules_weakenings(old.resolve(tool, profile), new.resolve(tool, profile)):
            found.setdefault(f"{scope}: {what}")
    return _capped(list(found))


def _rules_weakenings(old: Rules, new: Rules) -> list[str]:
    found = []
    if old.mode == "enforce" and new.mode == "monitor":
        found.append("mode enforce → monitor")
    if new.score_threshold > old.score_threshold:
        found.append(f"score threshold {old.score_threshold} → {new.score_threshold}")
    for entity in sorted(old.entities.keys() | new.entities.keys()):
        before, after = old.action_for(entity), new.action_for(entity)
        if ENTITY_STRENGTH[after] < ENTITY_STRENGTH[before]:
            found.append(f"{entity}: {before} → {after}")
    if SPECIAL_STRENGTH[new.special_category] < SPECIAL_STRENGTH[old.special_category]:
        found.append(f"special category: {old.special_category} → {new.special_category}")
    for label, before, after in (("special-category subtypes", old.special_subtypes, new.special_subtypes),
                                 ("identifiers that block with special category", old.identifiers_for_special,
                                  new.identifiers_for_special)):
        if removed := sorted(set(before) - set(after)):
            found.append(f"{label} removed: {', '.join(removed)}")
    dropped = sorted(f"{subtype}: {term}" for subtype, terms in old.deny_terms.items()
                     for term in set(terms) - set(new.deny_terms.get(subtype, ())))
    if dropped:
        found.append(f"deny terms removed ({len(dropped)})")
    if added := set(new.allow_terms) - set(old.allow_terms):
        found.append(f"allow terms added ({len(added)})")
    return found


def retention_weakenings(old_days: int, new_days: int) -> list[str]:
    return [f"events kept for {new_days} days instead of {old_days}"] if new_days > old_days else []


def _capped(found: list[str]) -> list[str]:
    return found if len(found) <= MAX_LISTED else [*found[:MAX_LISTED], f"… and {len(found) - MAX_LISTED} more"]


# --- alerts ----------------------------------------------------------------------------------------------------------

def raise_alert(session: Session, kind: str, summary: str, source: str, detail: dict[str, Any] | None = None
                ) -> SecurityAlert:
    """Record an alert for the DPO (shown on the dashboard until acknowledged; e-mailed where a sender is set up,
    which marks `notified_at`) and the matching audit row. Never pass pupil data: types, counts, names of settings."""
    alert = SecurityAlert(time=utcnow(), kind=kind, summary=summary[:500], source=(source or "system")[:255],
                          detail=detail or {})
    session.add(alert)
    audit.record(session, source, f"alert.{kind}", summary[:255], detail)
    return alert


def open_alerts(session: Session, limit: int = 100) -> list[SecurityAlert]:
    return list(session.scalars(select(SecurityAlert).where(SecurityAlert.acknowledged_at.is_(None))
                                .order_by(SecurityAlert.time.desc(), SecurityAlert.id.desc()).limit(limit)))


def count_open_alerts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SecurityAlert)
                          .where(SecurityAlert.acknowledged_at.is_(None))) or 0


def acknowledge(session: Session, alert_id: int, actor: str) -> SecurityAlert | None:
    alert = session.get(SecurityAlert, alert_id)
    if alert is None or alert.acknowledged_at is not None:
        return alert
    alert.acknowledged_at, alert.acknowledged_by = utcnow(), actor
    audit.record(session, actor, "alert.acknowledge", str(alert.id), {"kind": alert.kind})
    return alert
