"""The audit log: who viewed, searched, exported or changed what.

Callers pass only the staff username, a short action code ("events.list", "pupil.search", "allowlist.update"…),
a target (an event id, a setting key, a proxy name) and structured detail such as the filters used. Never a
searched name, a UPN, an excerpt or any other pupil data: a pupil search records the pupil_refs found, not the
query.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEntry, utcnow


def record(
    session: Session,
    actor: str | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (committed with the caller's transaction)."""
    entry = AuditEntry(
        time=utcnow(),
        username=actor or "system",
        action=action,
        target=(target or "")[:255],
        detail=detail or {},
    )
    session.add(entry)
    return entry
