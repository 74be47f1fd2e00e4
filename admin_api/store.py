"""Writing events to the store: exactly once per event_id, however often a proxy's spool re-delivers a batch.

`INSERT … ON CONFLICT DO NOTHING RETURNING event_id` (PostgreSQL and SQLite alike) tells which events are new; only
those get their data-type and pupil rows, so concurrent deliveries of one event from several proxies or retries
never double-count.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from detectors.events import Event as WireEvent

from . import alerts, incidents, rollups
from .db import bulk_insert, bulk_update, existing_keys
from .models import Event, EventEntity, EventPupil, utcnow
from .severity import severity_of


def store_events(session: Session, events: Sequence[WireEvent], received_at: datetime | None = None) -> int:
    """Insert the new events of a batch; returns how many were new (the rest were already stored).

    Only the new events are grouped into incidents, counted and alerted on, so a re-delivered batch changes
    nothing. Grouping comes last, just before the caller commits: it locks the batch's members of staff
    (incidents.assign), and holding those locks through the inserts would make concurrent proxies wait in turn."""
    if not events:
        return 0
    received_at = received_at or utcnow()
    unique: dict[uuid.UUID, WireEvent] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    stored = set(existing_keys(session, Event.__table__.c.event_id, list(unique)))
    candidates = [e for e in unique.values() if e.event_id not in stored]
    if not candidates:
        return 0
    severities = {e.event_id: severity_of(e.action, e.reasons, e.entities) for e in candidates}
    rows = [
        {
            "event_id": e.event_id,
            "time": e.time,
            "received_at": received_at,
            "proxy_id": e.proxy_id,
            "client_addr": e.client_addr,
            # "" and None both mean "unknown": store one form so filters and roll-ups agree
            "user": e.user or None,
            "profile": e.profile or None,
            "department": e.department or None,
            "tool": e.tool,
            "host": e.host,
            "path": e.path,
            "action": e.action,
            "reasons": list(e.reasons),
            "excerpt": e.excerpt,  # re-checked on arrival: routers/ingest.py
            "analysis_ms": e.analysis_ms,
            "severity": severities[e.event_id],
        }
        # sorted: two proxies delivering overlapping batches take the row locks in the same order (no deadlock)
        for e in sorted(candidates, key=lambda e: e.event_id)
    ]
    # a concurrent delivery of the same events may have stored some meanwhile: new_ids are this batch's own
    new_ids = set(bulk_insert(session, Event.__table__, rows, conflict=["event_id"], returning="event_id"))
    if not new_ids:
        return 0
    new = [e for e in candidates if e.event_id in new_ids]
    entity_rows = [
        {"event_id": e.event_id, "entity": entity, "count": count} for e in new for entity, count in e.entities.items()
    ]
    pupil_rows = [{"event_id": e.event_id, "pupil_ref": ref} for e in new for ref in dict.fromkeys(e.pupil_refs)]
    bulk_insert(session, EventEntity.__table__, entity_rows)
    bulk_insert(session, EventPupil.__table__, pupil_rows)
    rollups.add(session, new, severities)
    placement = incidents.assign(session, new, severities)
    bulk_update(session, Event.__table__, "event_id", [
        {"event_id": event_id, "incident_id": incident_id}
        for event_id, incident_id in sorted(placement.incident_of.items())])  # sorted: row locks in one order
    alerts.enqueue_incident_alerts(session, placement.raised)
    return len(new_ids)
