"""Centrally managed configuration the proxies fetch: allowlist, policy and hashed roster; plus retention.

Every change goes through here, is validated with detectors' own loaders and is audited, whether it comes from
the web pages or the CLI. Proxies see one document with an ETag (GET /api/v1/config) and poll it.
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
from detectors.roster import Roster, RosterKey

from . import audit
from .models import RosterUpload, Setting, utcnow
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
    if not 1 <= days <= 36500:
        raise ValueError("retention must be between 1 and 36500 days")
    _put(session, RETENTION, str(days), actor)
    audit.record(session, actor, "retention.update", RETENTION, {"days": days})


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
    """The roster key by the shared precedence (RosterKey.resolve); the admin's own file is the default."""
    if settings.roster_key_file is not None:
        settings.roster_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return RosterKey.resolve(default=settings.roster_key_file)


_roster_cache: dict[tuple[str, str], Roster] = {}
_roster_lock = Lock()


def find_pupil_refs(session: Session, key: RosterKey, query: str) -> list[str]:
    """Pupil refs for a name or UPN/ULN typed by the DPO, via the latest hashed roster. The query is only hashed,
    never stored or logged."""
    upload = latest_roster(session)
    if upload is None:
        return []
    cache_key = (upload.etag, key.fingerprint)
    with _roster_lock:
        roster = _roster_cache.get(cache_key)
        if roster is None:
            content = session.scalar(select(RosterUpload.content).where(RosterUpload.id == upload.id))
            roster = Roster.load(content, key)
            _roster_cache.clear()
            _roster_cache[cache_key] = roster
    return roster.find_pupils(query)


# --- the proxies' config document -----------------------------------------------------------------------------------

def config_document(session: Session) -> tuple[dict[str, str | None], str]:
    """(allowlist, policy, roster_etag) and a strong ETag over all three."""
    upload = latest_roster(session)
    doc = {
        "allowlist": get_setting(session, ALLOWLIST) or "",
        "policy": get_setting(session, POLICY),
        "roster_etag": None if upload is None else upload.etag,
    }
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]
    return doc, f'"{digest}"'
