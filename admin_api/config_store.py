"""Centrally managed configuration the proxies fetch: allowlist, policy and hashed roster; plus retention.

Every change goes through here, is validated with detectors' own loaders and is audited, whether it comes from
the web pages or the CLI. Proxies see one document with an ETag (GET /api/v1/config) and poll it. Staff changes go
through `change`, which holds back changes that weaken protection (admin_api/protection.py) unless a DPO makes
them, alerts the DPO, and with `settings.second_approver` keeps them pending until another DPO approves.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from detectors.allowlist import load_allowlist
from detectors.mis_import import ImportReport, import_mis_csv
from detectors.policy import load_policy
from detectors.roster import Roster, RosterKey, RosterKeySource

from . import audit, protection
from .models import PendingChange, RosterUpload, Setting, User, utcnow
from .permissions import Permission, allows
from .settings import Settings

ALLOWLIST = "allowlist_yaml"
POLICY = "policy_yaml"
RETENTION = "retention_days"


def get_setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return None if row is None else row.value


def _put(session: Session, key: str, value: str, actor: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=utcnow(), updated_by=actor))
    else:
        row.value, row.updated_at, row.updated_by = value, utcnow(), actor
    session.flush()


def seed(session: Session, settings: Settings) -> None:
    """First start: copy the allowlist (and policy, if configured) files into the database."""
    if get_setting(session, ALLOWLIST) is None:
        if not settings.allowlist_file.is_file():
            raise ValueError(f"allowlist file {settings.allowlist_file} not found: set PUPILGUARD_ALLOWLIST_FILE")
        text = settings.allowlist_file.read_text(encoding="utf-8")
        load_allowlist(text)
        _put(session, ALLOWLIST, text, "system")
    if settings.policy_file is not None and get_setting(session, POLICY) is None:
        text = settings.policy_file.read_text(encoding="utf-8")
        load_policy(text)
        _put(session, POLICY, text, "system")


def set_allowlist(session: Session, yaml_text: str, actor: str) -> None:
    """Validate and store new allowlist YAML; raises detectors.AllowlistError (message names line and field)."""
    load_allowlist(yaml_text)
    _put(session, ALLOWLIST, yaml_text, actor)
    audit.record(session, actor, "allowlist.update", ALLOWLIST, {"bytes": len(yaml_text.encode())})


def set_policy(session: Session, yaml_text: str | None, actor: str) -> None:
    """Validate and store policy YAML (None or blank: back to the shipped default); raises PolicyError."""
    if yaml_text is None or not yaml_text.strip():
        row = session.get(Setting, POLICY)
        if row is not None:
            session.delete(row)
            session.flush()
        audit.record(session, actor, "policy.reset", POLICY)
        return
    load_policy(yaml_text)
    _put(session, POLICY, yaml_text, actor)
    audit.record(session, actor, "policy.update", POLICY, {"bytes": len(yaml_text.encode())})


def retention_days(session: Session, settings: Settings) -> int:
    value = get_setting(session, RETENTION)
    return settings.retention_days if value is None else int(value)


def set_retention_days(session: Session, days: int, actor: str) -> None:
    _retention_value(str(days))
    _put(session, RETENTION, str(days), actor)
    audit.record(session, actor, "retention.update", RETENTION, {"days": days})


# --- changes by staff: protection checks, alerts and the second approver ------------------------------------------

class NeedsDpo(PermissionError):
    """The change weakens protection and the user's role may not do that; `weakens` says how (safe to show)."""

    def __init__(self, weakens: list[str]) -> None:
        super().__init__("Only the DPO may make a change that weakens protection: " + "; ".join(weakens))
        self.weakens = weakens


LABELS = {ALLOWLIST: "Allowlist", POLICY: "Policy", RETENTION: "Retention"}


def weakenings(session: Session, settings: Settings, setting: str, value: str | None) -> list[str]:
    """How the new value (validated here: AllowlistError, PolicyError, ValueError) weakens on the current one."""
    if setting == ALLOWLIST:
        new = load_allowlist(value or "")
        return protection.allowlist_weakenings(load_allowlist(get_setting(session, ALLOWLIST) or ""), new)
    if setting == POLICY:
        new_policy = load_policy(value) if value and value.strip() else load_policy(None)
        return protection.policy_weakenings(load_policy(get_setting(session, POLICY)), new_policy)
    if setting == RETENTION:
        days = _retention_value(value)
        return protection.retention_weakenings(retention_days(session, settings), days)
    raise ValueError(f"unknown setting {setting!r}")


def change(session: Session, settings: Settings, setting: str, value: str | None, user: User) -> PendingChange | None:
    """Validate and apply a staff member's change, or keep it pending for a second DPO (returned). Raises NeedsDpo
    and the validation errors of `weakenings`; the caller commits."""
    weakens = weakenings(session, settings, setting, value)
    if weakens and not allows(user.role, Permission.WEAKEN_PROTECTION):
        audit.record(session, user.username, "change.refused", setting, {"weakens": weakens})
        raise NeedsDpo(weakens)
    if weakens and settings.second_approver:
        pending = PendingChange(requested_at=utcnow(), requested_by=user.username, setting=setting, value=value,
                                weakens=weakens, status="pending")
        session.add(pending)
        session.flush()
        protection.raise_alert(session, "change_pending", f"{LABELS[setting]} change by {user.username} awaits a "
                               f"second DPO: " + "; ".join(weakens), user.username,
                               {"setting": setting, "pending_change": pending.id, "weakens": weakens})
        return pending
    _apply(session, setting, value, user.username, weakens)
    return None


def decide(session: Session, settings: Settings, change_id: int, approve: bool, user: User) -> PendingChange:
    """A second DPO approves (applies) or rejects a pending change; never the DPO who asked for it. What it
    weakens is worked out again against the configuration of the moment (it may have changed meanwhile)."""
    pending = session.get(PendingChange, change_id)
    if pending is None or pending.status != "pending":
        raise LookupError("No such change is waiting for approval.")
    if pending.requested_by == user.username:
        raise PermissionError("A change needs a DPO other than the one who made it.")
    pending.status = "approved" if approve else "rejected"
    pending.decided_by, pending.decided_at = user.username, utcnow()
    audit.record(session, user.username, f"change.{pending.status}", pending.setting,
                 {"pending_change": pending.id, "requested_by": pending.requested_by})
    if approve:
        _apply(session, pending.setting, pending.value, pending.requested_by,
               weakenings(session, settings, pending.setting, pending.value), approved_by=user.username)
    return pending


def pending_changes(session: Session) -> list[PendingChange]:
    return list(session.scalars(select(PendingChange).where(PendingChange.status == "pending")
                                .order_by(PendingChange.id)))


def _apply(session: Session, setting: str, value: str | None, actor: str, weakens: list[str],
           approved_by: str | None = None) -> None:
    if setting == ALLOWLIST:
        set_allowlist(session, value or "", actor)
    elif setting == POLICY:
        set_policy(session, value, actor)
    else:
        set_retention_days(session, _retention_value(value), actor)
    if weakens:
        approval = f", approved by {approved_by}" if approved_by else ""
        protection.raise_alert(session, "protection_weakened",
                               f"{LABELS[setting]} changed by {actor}{approval}: " + "; ".join(weakens), actor,
                               {"setting": setting, "weakens": weakens, "approved_by": approved_by})


def _retention_value(value: str | None) -> int:
    try:
        days = int((value or "").strip())
    except ValueError:
        raise ValueError("retention must be a whole number of days between 1 and 36500") from None
    if not 1 <= days <= 36500:
        raise ValueError("retention must be a whole number of days between 1 and 36500")
    return days


# --- roster -------------------------------------------------------------------------------------------------------

@dataclass
class RosterResult:
    upload: RosterUpload
    report: ImportReport  # detectors' full import report: style, encoding, rows, skipped rows and why


def store_roster_upload(session: Session, csv_bytes: bytes, key: RosterKey, actor: str) -> RosterResult:
    """Hash an uploaded MIS export with the roster key and store the hashed roster for the proxies.

    The plaintext CSV stays in memory, and so does the hashed file detectors' importer writes. Raises
    detectors.mis_import.MisImportError (a clear message naming no pupil) on a file that cannot be imported.
    """
    out = io.BytesIO()
    report = import_mis_csv(csv_bytes, out, key)
    content = out.getvalue()
    upload = RosterUpload(
        uploaded_at=utcnow(),
        uploaded_by=actor,
        etag=hashlib.sha256(content).hexdigest()[:32],
        pupils=report.pupils,
        name_forms=report.name_forms,
        content=content,
    )
    session.add(upload)
    session.flush()
    skipped = sum(len(rows) for rows in report.skipped.values())
    audit.record(session, actor, "roster.upload", f"roster {upload.etag}",
                 {"pupils": report.pupils, "name_forms": report.name_forms, "skipped_rows": skipped})
    return RosterResult(upload=upload, report=report)


def latest_roster(session: Session, *, with_content: bool = False) -> RosterUpload | None:
    stmt = select(RosterUpload).order_by(RosterUpload.id.desc()).limit(1)
    if with_content:
        stmt = stmt.options(undefer(RosterUpload.content))
    return session.scalar(stmt)


def roster_key(settings: Settings) -> RosterKey:
    """The roster key by the shared precedence (RosterKeySource); the admin's own file is the default."""
    if settings.roster_key_file is not None:
        settings.roster_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = settings.roster_key.get_secret_value() if settings.roster_key else None
    return RosterKeySource(key, settings.roster_key_file).load()


_roster_cache: dict[tuple[str, str], Roster] = {}
_roster_lock = Lock()


def current_roster(session: Session, key: RosterKey) -> Roster | None:
    """The latest hashed roster, loaded once per upload and kept in memory (hashes only)."""
    upload = latest_roster(session)
    if upload is None:
        return None
    cache_key = (upload.etag, key.fingerprint)
    with _roster_lock:
        roster = _roster_cache.get(cache_key)
        if roster is None:
            content = session.scalar(select(RosterUpload.content).where(RosterUpload.id == upload.id))
            roster = Roster.load(content, key)
            _roster_cache.clear()
            _roster_cache[cache_key] = roster
    return roster


def find_pupil_refs(session: Session, key: RosterKey, query: str) -> list[str]:
    """Pupil refs for a name or UPN/ULN typed by the DPO, via the latest hashed roster. The query is only hashed,
    never stored or logged."""
    roster = current_roster(session, key)
    return [] if roster is None else roster.find_pupils(query)


# --- the proxies' config document -----------------------------------------------------------------------------------

def config_document(session: Session) -> tuple[dict[str, str | None], str]:
    """(allowlist, policy, roster_etag) and a strong ETag over all three."""
    upload = latest_roster(session)
    doc = {
        "allowlist": get_setting(session, ALLOWLIST) or "",
        "policy": get_setting(session, POLICY),
        "roster_etag": None if upload is None else upload.etag,
        # additions to / removals from the proxies' shipped list of uncatalogued AI domains (admin_api/ai_tools.py)
        "ai_domains": get_setting(session, "ai_domains_txt"),
    }
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]
    return doc, f'"{digest}"'
