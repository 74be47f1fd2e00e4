"""Incidents: the events that need review, grouped, with casework (status, assignee, notes, outcome).

Grouping happens at ingest (`assign`, in the same transaction as the events): every event of severity 1 or more
joins the open incident of the same member of staff (or, with no user, the same client address) if that
incident's last event is at most WINDOW earlier; otherwise it opens a new incident. An incident's severity is the
most serious of its events.

Who sees what (`visible`): the DPO every incident; the DSL safeguarding incidents and those escalated or assigned
to them; other roles none. Every change goes through `update` or `add_note`, which write the audit log.

Usage:
    changed = assign(session, new_wire_events, severities)      # -> incidents opened or made more serious
    page = list_incidents(session, user, IncidentFilter(status="open"))
    update(session, incident, actor, status="closed", outcome="false_positive")
    false_positives_by_rule(session) -> [(entity, false-positive events, reviewed events)]
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, true, update as sql_update
from sqlalchemy.orm import Session

from detectors.events import Event as WireEvent

from . import audit, severity
from .models import INCIDENT_STATUSES, Event, EventEntity, EventPupil, Incident, IncidentNote, User, utcnow

WINDOW = timedelta(hours=1)
OPEN_STATUSES = ("new", "in_review", "escalated")
OUTCOMES = ("spoke_to_staff", "guidance_given", "safeguarding_referral", "reported_to_ico",
            "no_action_appropriate", "false_positive")
CASEWORK_ROLES = ("dpo", "dsl")
MAX_NOTE = 4000


class CaseworkError(ValueError):
    """A change the workflow does not allow (message safe to show)."""


def subject_of(event: WireEvent) -> str:
    return event.user or f"addr:{event.client_addr}"


def assign(session: Session, events: Sequence[WireEvent], severities: Mapping[Any, int]) -> list[Incident]:
    """Group newly stored events into incidents; returns the incidents opened or raised to a higher severity by
    this batch (what alerts are about)."""
    relevant = sorted((e for e in events if severities[e.event_id] > 0), key=lambda e: e.time)
    if not relevant:
        return []
    subjects = {subject_of(e) for e in relevant}
    since = relevant[0].time - WINDOW
    current: dict[str, Incident] = {}
    for incident in session.scalars(select(Incident).where(
            Incident.subject.in_(subjects), Incident.status.in_(OPEN_STATUSES), Incident.last_event_at >= since)
            .order_by(Incident.last_event_at)):
        current[incident.subject] = incident  # the latest open one per subject
    before = {id(i): i.severity for i in current.values()}
    members: list[tuple[WireEvent, Incident]] = []
    for event in relevant:
        subject, level = subject_of(event), severities[event.event_id]
        incident = current.get(subject)
        if incident is None or event.time - incident.last_event_at > WINDOW \
                or incident.first_event_at - event.time > WINDOW:
            incident = current[subject] = Incident(
                subject=subject, user=event.user or None, department=event.department or None,
                first_event_at=event.time, last_event_at=event.time, events=0, severity=level, status="new",
                updated_at=utcnow())
            session.add(incident)
        incident.events += 1
        incident.severity = max(incident.severity, level)
        incident.first_event_at = min(incident.first_event_at, event.time)
        incident.last_event_at = max(incident.last_event_at, event.time)
        incident.department = incident.department or event.department or None
        members.append((event, incident))
    session.flush()
    session.execute(sql_update(Event), [{"event_id": e.event_id, "incident_id": i.id} for e, i in members])
    touched = {id(i): i for _, i in members}
    return [i for key, i in touched.items() if i.severity > before.get(key, 0)]


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
        conds.append(Incident.status.in_(OPEN_STATUSES))
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
    conds = [Incident.status.in_(OPEN_STATUSES)]
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
    if outcome is not None and outcome not in OUTCOMES:
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
