"""Incidents: the events that need review, grouped, with casework (status, assignee, notes, outcome).

Grouping happens at ingest (`assign`, in the same transaction as the events): every event of severity 1 or more
joins the open incident of the same member of staff (or, with no user, the same client address) if that
incident's last event is at most WINDOW earlier; otherwise it opens a new incident. An incident's severity is the
most serious of its events.

Who sees what (`visible`): the DPO every incident; the DSL safeguarding incidents and those escalated or assigned
to them; other roles none. Every change goes through `update` or `add_note`, which write the audit log.

Usage:
    raised = assign(session, new_wire_events, severities)  # -> [Raised(incident_id, severity, worst event)]
    page = list_incidents(session, user, IncidentFilter(status="open"))
    update(session, incident, actor, status="closed", outcome="false_positive")
    false_positives_by_rule(session) -> [(entity, false-positive events, reviewed events)]
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, text, true
from sqlalchemy.orm import Session

from detectors.events import Event as WireEvent

from . import audit, permissions, severity
from .db import bulk_insert, bulk_update
from .models import (INCIDENT_OUTCOMES, INCIDENT_STATUSES, Event, EventEntity, EventPupil, Incident, IncidentNote,
                     User, utcnow)

WINDOW = timedelta(hours=1)
CASEWORK_ROLES = permissions.roles_with(permissions.Permission.CASEWORK)  # who may be assigned an incident
MAX_NOTE = 4000
LOCK_SPACE = 0x1C1D  # first key of the per-subject advisory locks (`_lock_subjects`)


class CaseworkError(ValueError):
    """A change the workflow does not allow (message safe to show)."""


def subject_of(event: WireEvent) -> str:
    return event.user or f"addr:{event.client_addr}"


@dataclass
class _Open:
    """An incident as grouping sees it (plain values: the ORM would cost more than the insert itself)."""

    id: int | None
    subject: str
    user: str | None
    department: str | None
    first: datetime
    last: datetime
    events: int
    severity: int
    before: int  # severity before this batch (0: new)
    worst: WireEvent | None = None


@dataclass(frozen=True)
class Raised:
    """An incident this batch opened or made more serious, with its most serious new event."""

    incident_id: int
    severity: int
    event: WireEvent


@dataclass
class Placement:
    incident_of: dict[Any, int]  # event_id -> incident id
    raised: list[Raised]


def assign(session: Session, events: Sequence[WireEvent], severities: Mapping[Any, int]) -> Placement:
    """Group newly stored events into incidents (a few set-based statements per batch, whatever its size). Returns
    where each event goes and the incidents opened or raised to a higher severity (what alerts are about). The
    subjects stay locked until the transaction ends (`_lock_subjects`): call it last before committing."""
    relevant = sorted((e for e in events if severities[e.event_id] > 0), key=lambda e: e.time)
    if not relevant:
        return Placement({}, [])
    _lock_subjects(session, {subject_of(e) for e in relevant})
    table = Incident.__table__
    current: dict[str, _Open] = {}
    for row in session.execute(
            select(table.c.id, table.c.subject, table.c.user, table.c.department, table.c.first_event_at,
                   table.c.last_event_at, table.c.events, table.c.severity)
            .where(table.c.subject.in_({subject_of(e) for e in relevant}), table.c.status != "closed",
                   table.c.last_event_at >= relevant[0].time - WINDOW)
            .order_by(table.c.last_event_at)):
        current[row.subject] = _Open(row.id, row.subject, row.user, row.department, row.first_event_at,
                                     row.last_event_at, row.events, row.severity, row.severity)
    touched: dict[int, _Open] = {}
    members: list[tuple[WireEvent, _Open]] = []
    for event in relevant:
        subject, level = subject_of(event), severities[event.event_id]
        incident = current.get(subject)
        if incident is None or event.time - incident.last > WINDOW or incident.first - event.time > WINDOW:
            incident = current[subject] = _Open(None, subject, event.user or None, event.department or None,
                                                event.time, event.time, 0, level, 0)
        touched[id(incident)] = incident
        incident.events += 1
        incident.first, incident.last = min(incident.first, event.time), max(incident.last, event.time)
        incident.department = incident.department or event.department or None
        if incident.worst is None or level >= severities[incident.worst.event_id]:
            incident.worst = event
        incident.severity = max(incident.severity, level)
        members.append((event, incident))
    now = utcnow()
    new = [i for i in touched.values() if i.id is None]
    existing = [i for i in touched.values() if i.id is not None]
    if new:
        # (subject, first event) tells the new incidents of one batch apart
        ids = bulk_insert(session, table, [
            {"subject": i.subject, "user": i.user, "department": i.department, "first_event_at": i.first,
             "last_event_at": i.last, "events": i.events, "severity": i.severity, "status": "new",
             "updated_at": now} for i in new], returning=("id", "subject", "first_event_at"))
        by_key = {(subject, first): id_ for id_, subject, first in ids}
        for i in new:
            i.id = by_key[(i.subject, i.first)]
    bulk_update(session, table, "id", [
        {"id": i.id, "events": i.events, "severity": i.severity, "first_event_at": i.first, "last_event_at": i.last,
         "department": i.department} for i in existing])
    raised = [Raised(i.id, i.severity, i.worst) for i in touched.values()  # type: ignore[arg-type]
              if i.severity > i.before]
    return Placement({e.event_id: i.id for e, i in members}, raised)  # type: ignore[misc]


def _lock_subjects(session: Session, subjects: set[str]) -> None:
    """Serialise grouping per subject until this transaction ends, so two batches of one member of staff arriving
    at once cannot both find no open incident and each open one.

    PostgreSQL: one transaction-level advisory lock per subject (a row lock cannot guard a row that does not exist
    yet, and a unique constraint cannot say "one incident per quiet-time window"), taken in ascending key order so
    two batches sharing several subjects never deadlock. A hash collision only serialises two unrelated subjects.
    SQLite needs nothing: its transactions begin IMMEDIATE (admin_api.db), so writers are already serial.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "big", signed=True)
                   for s in subjects})
    # the (int, int) form keeps these apart from the single-key lock db.migrate takes
    session.execute(text("SELECT count(pg_advisory_xact_lock(:space, k)) FROM unnest(CAST(:keys AS integer[])) "
                         "WITH ORDINALITY AS t(k, n)"), {"space": LOCK_SPACE, "keys": keys})


# --- who may see which incidents -----------------------------------------------------------------------------------

def visible(user: User) -> ColumnElement[bool]:
    if user.role == "dpo":
        return true()
    if user.role == "dsl":
        return or_(Incident.severity == severity.SAFEGUARDING, Incident.status == "escalated",
                   Incident.assignee == user.username)
    return false()


def get_incident(session: Session, user: User, incident_id: int) -> Incident | None:
    return session.scalars(select(Incident).where(Incident.id == incident_id, visible(user))).first()


@dataclass
class IncidentFilter:
    status: str | None = "open"  # "open" (not closed), one status, or None for all
    severity: int | None = None
    assignee: str | None = None
    user: str | None = None
    department: str | None = None


def _conditions(user: User, flt: IncidentFilter) -> list[ColumnElement[bool]]:
    conds = [visible(user)]
    if flt.status == "open":
        conds.append(Incident.status != "closed")  # the partial index's own predicate
    elif flt.status:
        conds.append(Incident.status == flt.status)
    if flt.severity is not None:
        conds.append(Incident.severity == flt.severity)
    if flt.assignee:
        conds.append(func.lower(Incident.assignee) == flt.assignee.lower())
    if flt.user:
        conds.append(func.lower(Incident.user) == flt.user.lower())
    if flt.department:
        conds.append(func.lower(Incident.department) == flt.department.lower())
    return conds


def incidents_query(user: User, flt: IncidentFilter) -> Select[tuple[Incident]]:
    """Most serious first, then the most recent."""
    return (select(Incident).where(*_conditions(user, flt))
            .order_by(Incident.severity.desc(), Incident.last_event_at.desc(), Incident.id.desc()))


def list_incidents(session: Session, user: User, flt: IncidentFilter, *, limit: int = 50,
                   offset: int = 0) -> tuple[list[Incident], int]:
    items = list(session.scalars(incidents_query(user, flt).limit(limit).offset(offset)))
    total = session.scalar(select(func.count()).select_from(Incident).where(*_conditions(user, flt))) or 0
    return items, total


def open_counts(session: Session, user: User | None = None) -> dict[int, int]:
    """Open incidents per severity level (every level present, zeros included)."""
    conds = [Incident.status != "closed"]
    if user is not None:
        conds.append(visible(user))
    counts = dict(session.execute(select(Incident.severity, func.count()).where(*conds)
                                  .group_by(Incident.severity)).all())
    return {level: int(counts.get(level, 0)) for level in severity.LEVELS}


def incident_events(session: Session, incident: Incident, limit: int = 200) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.incident_id == incident.id)
                                .order_by(Event.time.desc()).limit(limit)))


def pupil_refs_of(user: User) -> Select[tuple[str]]:
    """The pupil references in the incidents this user can see (a DSL may only re-identify those)."""
    return (select(EventPupil.pupil_ref).join(Event, Event.event_id == EventPupil.event_id)
            .join(Incident, Incident.id == Event.incident_id).where(visible(user)))


# --- casework -------------------------------------------------------------------------------------------------------

def update(session: Session, incident: Incident, actor: User, *, status: str | None = None,
           assignee: str | None = None, outcome: str | None = None) -> dict[str, Any]:
    """Change status, assignee or outcome; returns what changed (also written to the audit log).

    Closing needs an outcome; reopening clears it. Escalating hands the incident to the DSL."""
    changes: dict[str, Any] = {}
    if status is not None and status not in INCIDENT_STATUSES:
        raise CaseworkError(f"Unknown status {status!r}.")
    if outcome is not None and outcome not in INCIDENT_OUTCOMES:
        raise CaseworkError(f"Unknown outcome {outcome!r}.")
    if status == "closed" and not (outcome or incident.outcome):
        raise CaseworkError("Choose an outcome to close the incident.")
    if assignee is not None:
        assignee = assignee.strip() or None
        if assignee is not None:
            target = session.scalars(select(User).where(User.username == assignee)).first()
            if target is None or target.role not in CASEWORK_ROLES or target.disabled:
                raise CaseworkError("Assign incidents to a DPO or DSL account.")
        if assignee != incident.assignee:
            changes["assignee"] = [incident.assignee, assignee]
            incident.assignee = assignee
    if outcome is not None and outcome != incident.outcome:
        changes["outcome"] = [incident.outcome, outcome]
        incident.outcome = outcome
    if status is not None and status != incident.status:
        changes["status"] = [incident.status, status]
        incident.status = status
        if status == "closed":
            incident.closed_at = utcnow()
        else:
            incident.closed_at = None
            if incident.outcome is not None and outcome is None:
                changes["outcome"] = [incident.outcome, None]
                incident.outcome = None
    if changes:
        incident.updated_at = utcnow()
        audit.record(session, actor.username, "incident.update", str(incident.id), changes)
    return changes


def add_note(session: Session, incident: Incident, actor: User, text: str) -> IncidentNote:
    text = text.strip()
    if not text:
        raise CaseworkError("A note cannot be empty.")
    if len(text) > MAX_NOTE:
        raise CaseworkError(f"A note holds at most {MAX_NOTE} characters.")
    note = IncidentNote(incident_id=incident.id, author=actor.username, text=text, time=utcnow())
    session.add(note)
    incident.updated_at = utcnow()
    # the note's text is casework, kept in the incident; the audit log says a note was added, not what it says
    audit.record(session, actor.username, "incident.note", str(incident.id), {"characters": len(text)})
    return note


def false_positives_by_rule(session: Session) -> list[tuple[str, int, int]]:
    """Per data type (the detector rule that fired): events in incidents closed as false positives, and events
    in all closed incidents. Most false positives first."""
    fp = func.sum(case((Incident.outcome == "false_positive", 1), else_=0))
    stmt = (select(EventEntity.entity, fp, func.count())
            .join(Event, Event.event_id == EventEntity.event_id)
            .join(Incident, and_(Incident.id == Event.incident_id, Incident.status == "closed"))
            .group_by(EventEntity.entity))
    rows = [(entity, int(n_fp or 0), int(n)) for entity, n_fp, n in session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r[1], -r[2], r[0]))
