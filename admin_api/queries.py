"""Event queries shared by the JSON API and the DPO web pages: filters, newest-first paging, dashboard statistics,
CSV export and the events of one pupil. The one place for this logic.

Usage (a web page or router):
    flt = EventFilter(action="block", start=...)
    page = list_events(session, flt, limit=50, cursor=None)      # -> EventPage-like (items: list[Event], next_cursor)
    n = count_events(session, flt)
    stats(session, flt) -> schemas.Stats
    for chunk in export_csv(session, flt, include_text=True): ...
    event_out(event, include_text=...) -> schemas.EventOut
"""
from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from .models import ACTIONS, Event, EventEntity, EventPupil
from .schemas import ActionCounts, EventFilter, EventOut, GroupCounts, Stats, TimelinePoint

MAX_PAGE = 500


class CursorError(ValueError):
    """A paging cursor that this service did not produce."""


def event_conditions(flt: EventFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if flt.start is not None:
        conds.append(Event.time >= flt.start)
    if flt.end is not None:
        conds.append(Event.time < flt.end)
    for column, value in (
        (Event.action, flt.action),
        (Event.tool, flt.tool),
        (Event.profile, flt.profile),
        (Event.department, flt.department),
        (Event.user, flt.user),
        (Event.proxy_id, flt.proxy_id),
    ):
        if value is not None:
            conds.append(column == value)
    if flt.entity is not None:
        conds.append(exists().where(EventEntity.event_id == Event.event_id, EventEntity.entity == flt.entity))
    if flt.pupil_ref is not None:
        conds.append(exists().where(EventPupil.event_id == Event.event_id, EventPupil.pupil_ref == flt.pupil_ref))
    return conds


def filtered(flt: EventFilter) -> Select[tuple[Event]]:
    return select(Event).where(*event_conditions(flt))


# --- paging -----------------------------------------------------------------------------------------------------

@dataclass
class Page:
    items: list[Event]
    next_cursor: str | None


def encode_cursor(event: Event) -> str:
    return f"{event.time.isoformat()}~{event.event_id}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        time_text, id_text = cursor.split("~", 1)
        time = datetime.fromisoformat(time_text)
        if time.tzinfo is None:
            raise ValueError
        return time, uuid.UUID(id_text)
    except ValueError:
        raise CursorError("invalid cursor: use the next_cursor value of the previous page") from None


def list_events(
    session: Session,
    flt: EventFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
    pupil_refs: Sequence[str] | None = None,
) -> Page:
    """Newest first, keyset-paged (deep pages cost the same as the first). `pupil_refs` (from "find a pupil")
    keeps events about any of those pupils; an empty list matches nothing."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = filtered(flt)
    if pupil_refs is not None:
        stmt = stmt.where(
            exists().where(EventPupil.event_id == Event.event_id, EventPupil.pupil_ref.in_(list(pupil_refs)))
        )
    if cursor:
        time, event_id = decode_cursor(cursor)
        stmt = stmt.where(Event.time <= time, or_(Event.time < time, Event.event_id < event_id))
    stmt = stmt.order_by(Event.time.desc(), Event.event_id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor(items[-1]) if more and items else None)


def count_events(session: Session, flt: EventFilter) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(*event_conditions(flt))) or 0


def get_event(session: Session, event_id: uuid.UUID) -> Event | None:
    return session.get(Event, event_id)


def event_out(event: Event, *, include_text: bool) -> EventOut:
    """API form of a stored event; roles without access to event text get no excerpt and no pupil refs."""
    return EventOut(
        event_id=event.event_id,
        time=event.time,
        received_at=event.received_at,
        proxy_id=event.proxy_id,
        client_addr=event.client_addr,
        user=event.user,
        profile=event.profile,
        department=event.department,
        tool=event.tool,
        host=event.host,
        path=event.path,
        action=event.action,  # type: ignore[arg-type]
        reasons=list(event.reasons or []),
        entities={e.entity: e.count for e in sorted(event.entities, key=lambda e: e.entity)},
        pupil_refs=sorted(p.pupil_ref for p in event.pupils) if include_text else None,
        excerpt=event.excerpt if include_text else None,
        analysis_ms=event.analysis_ms,
    )


# --- statistics --------------------------------------------------------------------------------------------------

def _group(rows: list[tuple[str | None, str, int]]) -> dict[str | None, dict[str, int]]:
    grouped: dict[str | None, dict[str, int]] = {}
    for key, action, n in rows:
        counts = grouped.setdefault(key, {})
        counts[action] = counts.get(action, 0) + int(n)
    return grouped


def _ranked(rows: list[tuple[str | None, str, int]]) -> list[GroupCounts]:
    groups = [GroupCounts(key=k, **v) for k, v in _group(rows).items()]
    return sorted(groups, key=lambda g: (-(g.allow + g.redact + g.block), g.key or ""))


def stats(session: Session, flt: EventFilter) -> Stats:
    """Counts for the dashboard: by action, per UTC day, by tool, profile, department and data type."""
    conds = event_conditions(flt)

    def grouped(column: ColumnElement) -> list[tuple[str | None, str, int]]:  # type: ignore[type-arg]
        stmt = select(column, Event.action, func.count()).where(*conds).group_by(column, Event.action)
        return [(None if k is None else str(k), a, n) for k, a, n in session.execute(stmt)]

    days = _group(grouped(func.date(Event.time)))
    timeline = [TimelinePoint(day=str(day), **days[day]) for day in sorted(days, key=str)]
    totals = ActionCounts()
    for point in timeline:
        for action in ACTIONS:
            setattr(totals, action, getattr(totals, action) + getattr(point, action))
    return Stats(
        total=totals.allow + totals.redact + totals.block,
        by_action=totals,
        timeline=timeline,
        by_tool=_ranked(grouped(Event.tool)),
        by_profile=_ranked(grouped(Event.profile)),
        by_department=_ranked(grouped(Event.department)),
        by_entity=_ranked(_entity_rows(session, flt)),
    )


def _entity_rows(session: Session, flt: EventFilter) -> list[tuple[str | None, str, int]]:
    # event_entities repeats time and action, so the common dashboard filters need no join with events.
    conds: list[ColumnElement[bool]] = []
    if flt.start is not None:
        conds.append(EventEntity.time >= flt.start)
    if flt.end is not None:
        conds.append(EventEntity.time < flt.end)
    if flt.action is not None:
        conds.append(EventEntity.action == flt.action)
    if flt.entity is not None:
        conds.append(EventEntity.entity == flt.entity)
    rest = flt.model_copy(update={"start": None, "end": None, "action": None, "entity": None})
    other = event_conditions(rest)
    if other:
        conds.append(EventEntity.event_id.in_(select(Event.event_id).where(and_(*other))))
    stmt = (
        select(EventEntity.entity, EventEntity.action, func.count())
        .where(*conds)
        .group_by(EventEntity.entity, EventEntity.action)
    )
    return [(k, a, n) for k, a, n in session.execute(stmt)]


# --- CSV export --------------------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "event_id", "time", "received_at", "proxy_id", "client_addr", "user", "profile", "department", "tool", "host",
    "path", "action", "reasons", "entities", "pupil_refs", "excerpt", "analysis_ms",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with these as a formula (CSV injection): make it plain text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def export_csv(session: Session, flt: EventFilter, *, include_text: bool, batch: int = 1000) -> Iterator[str]:
    """The filtered events as CSV text chunks, newest first, read in keyset batches (constant memory)."""
    columns = [c for c in CSV_COLUMNS if include_text or c not in ("excerpt", "pupil_refs")]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    cursor: str | None = None
    while True:
        page = list_events(session, flt, limit=batch, cursor=cursor)
        for event in page.items:
            out = event_out(event, include_text=include_text)
            row = out.model_dump()
            row["time"] = out.time.isoformat()
            row["received_at"] = out.received_at.isoformat()
            row["reasons"] = ";".join(out.reasons)
            row["entities"] = ";".join(f"{k}={v}" for k, v in out.entities.items())
            row["pupil_refs"] = ";".join(out.pupil_refs or [])
            writer.writerow([_cell(row[c]) for c in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        session.expunge_all()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
