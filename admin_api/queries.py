"""Event queries shared by the JSON API and the DPO web pages: filters, newest-first paging, dashboard statistics,
CSV export and the events of one pupil. The one place for this logic.

(Over 350 lines on purpose: paging, statistics and the export share one filter-to-SQL translation,
`event_conditions`, and the roll-up fast paths must stay beside it so the two never disagree on what a filter means.)

Usage (a web page or router):
    flt = EventFilter(action="block", start=...)
    page = list_events(session, flt, limit=50, cursor=None)      # -> Page(items: list[models.Event], next_cursor)
    n = count_events(session, flt)
    stats(session, flt) -> schemas.Stats
    for chunk in export_csv(session, flt, include_text=True): ...
    event_out(event, include_text=...) -> schemas.EventOut
    list_audit(session, AuditQuery(...)) -> schemas.AuditPage

(Over 350 lines on purpose: every read of the event store, for the API and the pages alike, goes through
the same filter object here, so a filter means the same thing everywhere.)
"""
from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from . import rollups, severity
from .models import (ACTIONS, AuditEntry, DailyCount, DailyEntityCount, DailyTotal, Event, EventEntity, EventPupil,
                     Proxy)
from .rollups import midnight
from .schemas import (ActionCounts, AuditOut, AuditPage, AuditQuery, EventFilter, EventOut, GroupCounts, Stats,
                      TimelinePoint, decode_cursor)

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
        (Event.proxy_id, flt.proxy_id),
        (Event.severity, flt.severity),
    ):
        if value is not None:
            conds.append(column == value)
    if flt.user is not None:
        # staff names come from the directory in any case ("T.Jones", "t.jones")
        conds.append(func.lower(Event.user) == flt.user.lower())
    # aliases: these subqueries must correlate with `events` only, also inside a query over event_entities
    if flt.entity is not None:
        entity = aliased(EventEntity)
        conds.append(exists().where(entity.event_id == Event.event_id, entity.entity == flt.entity))
    if flt.pupil_ref is not None:
        pupil = aliased(EventPupil)
        conds.append(exists().where(pupil.event_id == Event.event_id, pupil.pupil_ref == flt.pupil_ref))
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


def list_events(
    session: Session,
    flt: EventFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
    pupil_refs: Sequence[str] | None = None,
) -> Page:
    """Newest first, keyset-paged (deep pages cost the same as the first). `pupil_refs` (from "find a pupil")
    keeps events about any of those pupils; an empty list matches nothing. A malformed cursor: CursorError."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = filtered(flt)
    if pupil_refs is not None:
        stmt = stmt.where(
            exists().where(EventPupil.event_id == Event.event_id, EventPupil.pupil_ref.in_(list(pupil_refs)))
        )
    if cursor:
        try:
            time, event_id = decode_cursor(cursor)
        except ValueError as exc:
            raise CursorError(str(exc)) from None
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
        severity=event.severity,
        incident_id=event.incident_id,
    )


# --- statistics --------------------------------------------------------------------------------------------------

Rows = list[tuple[str | None, str, int]]  # (key, action, events)


def _group(rows: Rows) -> dict[str | None, dict[str, int]]:
    grouped: dict[str | None, dict[str, int]] = {}
    for key, action, n in rows:
        counts = grouped.setdefault(key, {})
        counts[action] = counts.get(action, 0) + int(n)
    return grouped


def _ranked(rows: Rows) -> list[GroupCounts]:
    groups = [GroupCounts(key=k, **v) for k, v in _group(rows).items()]
    return sorted(groups, key=lambda g: (-(g.allow + g.redact + g.block), g.key or ""))


# Which roll-up answers which filters (start/end always: whole days from the roll-up, partial days from events).
TOTALS_FILTERS = frozenset({"start", "end", "action"})
ROLLUP_FILTERS = TOTALS_FILTERS | {"tool", "profile", "department", "severity", "entity"}
DIMENSIONS = ("day", "tool", "profile", "department", "severity", "entity")  # in DailyCount / DailyEntityCount


def stats(session: Session, flt: EventFilter) -> Stats:
    """Counts for the dashboard: by action, per UTC day, by tool, profile, department and data type.

    Whole UTC days inside the range come from the daily roll-ups (the one-dimension totals when only dates and
    action are filtered; the all-dimension tables when tool, profile, department, severity or a data type is);
    partial days at either end, and filters no roll-up holds (user, proxy, pupil), are counted from the events. The
    figures are exact either way (tests compare them)."""
    used = {name for name, value in flt if value is not None}
    blank = any(getattr(flt, f) == "" for f in ("tool", "profile", "department", "entity"))
    rows: dict[str, Rows] = {dim: [] for dim in DIMENSIONS}
    if used <= ROLLUP_FILTERS and not blank:
        full, intervals = _split_days(flt.start, flt.end)
        edges = [flt.model_copy(update={"start": start, "end": end}) for start, end in intervals]
    else:
        full, edges = None, [flt]
    if full is not None:
        if used <= TOTALS_FILTERS:
            _add_totals(session, flt, full, rows)
        else:
            _add_rollup_rows(session, flt, full, rows)
    for edge in edges:
        _add_event_rows(session, edge, rows)
    days = _group(rows["day"])
    timeline = [TimelinePoint(day=day, **days[day]) for day in sorted(days, key=str)]  # type: ignore[arg-type]
    totals = ActionCounts()
    for point in timeline:
        for action in ACTIONS:
            setattr(totals, action, getattr(totals, action) + getattr(point, action))
    return Stats(
        total=totals.allow + totals.redact + totals.block,
        by_action=totals,
        timeline=timeline,
        by_tool=_ranked(rows["tool"]),
        by_profile=_ranked(rows["profile"]),
        by_department=_ranked(rows["department"]),
        by_entity=_ranked(rows["entity"]),
        by_severity=_by_severity(rows["severity"]),
    )


def _by_severity(rows: Rows) -> list[GroupCounts]:
    grouped = _group(rows)
    return [GroupCounts(key=severity.NAMES[level], **grouped.get(str(level), {}))
            for level in (*severity.LEVELS, severity.NONE)]


Days = tuple[date | None, date | None]  # whole UTC days [first, last); None: unbounded


def _day_conds(table: type[DailyTotal | DailyCount | DailyEntityCount], days: Days) -> list[ColumnElement[bool]]:
    conds = []
    if days[0] is not None:
        conds.append(table.day >= days[0])
    if days[1] is not None:
        conds.append(table.day < days[1])
    return conds


def _add_totals(session: Session, flt: EventFilter, days: Days,
                rows: dict[str, Rows]) -> None:
    conds = _day_conds(DailyTotal, days)
    if flt.action is not None:
        conds.append(DailyTotal.action == flt.action)
    by = (DailyTotal.dimension, DailyTotal.key, DailyTotal.action)
    for dimension, key, action, n in session.execute(
            select(*by, func.sum(DailyTotal.events)).where(*conds).group_by(*by)):
        rows[dimension].append((_key(key), action, int(n)))
    by = (DailyTotal.day, DailyTotal.action)
    rows["day"] += [(_key(day), action, int(n)) for day, action, n in session.execute(
        select(*by, func.sum(DailyTotal.events)).where(*conds, DailyTotal.dimension == "tool").group_by(*by))]


def _add_rollup_rows(session: Session, flt: EventFilter, days: Days,
                     rows: dict[str, Rows]) -> None:
    # with a data-type filter every dimension comes from the entity roll-up (one row per event and type)
    tables = [DailyEntityCount] if flt.entity is not None else [DailyCount, DailyEntityCount]
    for table in tables:
        dims = [d for d in DIMENSIONS
                if (d == "entity") == (table is DailyEntityCount) or flt.entity is not None]
        conds = _day_conds(table, days)
        for name in ("action", "tool", "profile", "department", "severity", "entity"):
            value = getattr(flt, name)
            if value is not None and hasattr(table, name):
                conds.append(getattr(table, name) == value)
        _add_grouped(session, rows, select(func.sum(table.events)).where(*conds),
                     {d: getattr(table, d) for d in dims}, table.action)


def _add_event_rows(session: Session, flt: EventFilter, rows: dict[str, Rows]) -> None:
    """The statistics counted from the events themselves (partial days, and filters no roll-up holds)."""
    columns = {"day": func.date(Event.time), "tool": Event.tool, "severity": Event.severity,
               # "" for none, as in the roll-ups: a grouping key must never be NULL (see _add_grouped)
               "profile": func.coalesce(Event.profile, rollups.NONE),
               "department": func.coalesce(Event.department, rollups.NONE)}
    _add_grouped(session, rows, select(func.count()).select_from(Event).where(*event_conditions(flt)),
                 columns, Event.action)
    # one row per event and data type; with a data-type filter, by_entity counts that type only (as the roll-up)
    conds = event_conditions(flt.model_copy(update={"entity": None}))
    if flt.entity is not None:
        conds.append(EventEntity.entity == flt.entity)
    _add_grouped(session, rows, select(func.count()).select_from(EventEntity)
                 .join(Event, Event.event_id == EventEntity.event_id).where(*conds),
                 {"entity": EventEntity.entity}, Event.action)


def _add_grouped(session: Session, rows: dict[str, Rows], base: Select[Any],
                 columns: dict[str, ColumnElement[Any]], action: ColumnElement[str]) -> None:
    """Add `base`'s one measure per (key, action) of each column to rows[its dimension]: in one scan with
    GROUPING SETS on PostgreSQL (a NULL key marks "not this grouping", so keys must never be NULL), one query per
    column on SQLite."""
    names = list(columns)
    if session.get_bind().dialect.name == "postgresql":
        sets = func.grouping_sets(*(tuple_(c, action) for c in columns.values()))
        for n, *keys, act in session.execute(base.add_columns(*columns.values(), action).group_by(sets)):
            i = next(i for i, k in enumerate(keys) if k is not None)
            rows[names[i]].append((_key(keys[i]), act, int(n)))
        return
    for name, column in columns.items():
        stmt = base.add_columns(column, action).group_by(column, action)
        rows[name] += [(_key(k), a, int(n)) for n, k, a in session.execute(stmt)]


def _split_days(
    start: datetime | None, end: datetime | None
) -> tuple[Days | None, list[tuple[datetime, datetime]]]:
    """The whole UTC days in [start, end) and the partial-day intervals left at either end."""
    start = start.astimezone(UTC) if start else None
    end = end.astimezone(UTC) if end else None
    first = None
    if start is not None:
        first = start.date() if start == midnight(start.date()) else start.date() + timedelta(days=1)
    last = None if end is None else end.date()  # the days before this one are whole
    if first is not None and last is not None and first >= last:
        return None, [(start, end)]  # type: ignore[list-item]
    edges = []
    if start is not None and first is not None and start < midnight(first):
        edges.append((start, midnight(first)))
    if end is not None and last is not None and midnight(last) < end:
        edges.append((midnight(last), end))
    return (first, last), edges


def _key(value: object) -> str | None:
    # roll-ups say "" for none; days come back as date (PostgreSQL, roll-ups) or text (SQLite's date())
    return None if value is None or value == rollups.NONE else str(value)


def by_sender(session: Session, flt: EventFilter, column: str,
              limit: int = 500) -> list[tuple[str | None, dict[int, int]]]:
    """Events needing review per member of staff (column "user") or department, split by severity level; the
    most serious senders first (safeguarding count, then special category, …)."""
    key = getattr(Event, column)
    rows: dict[str | None, dict[int, int]] = {}
    for value, level, n in session.execute(select(key, Event.severity, func.count())
                                           .where(*event_conditions(flt), Event.severity > 0)
                                           .group_by(key, Event.severity)):
        rows.setdefault(value, {lvl: 0 for lvl in severity.LEVELS})[int(level)] = int(n)
    ranked = sorted(rows.items(), key=lambda kv: ([-kv[1][lvl] for lvl in severity.LEVELS], kv[0] or ""))
    return ranked[:limit]


def filter_options(session: Session) -> dict[str, list[str]]:
    """The values each drop-down filter offers: every tool, profile, department and data type ever counted (from
    the roll-ups, a few hundred rows) and every proxy that sent events."""
    options: dict[str, list[str]] = {d: [] for d in ("tool", "profile", "department", "entity")}
    for dimension, key in session.execute(select(DailyTotal.dimension, DailyTotal.key).distinct()
                                          .where(DailyTotal.dimension.in_(list(options)))):
        if key != rollups.NONE:
            options[dimension].append(key)
    options["proxy_id"] = list(session.scalars(select(Proxy.name)))
    return {k: sorted(set(v), key=str.lower) for k, v in options.items()}


# --- audit log ----------------------------------------------------------------------------------------------------

def list_audit(session: Session, query: AuditQuery) -> AuditPage:
    """The audit log, newest first, paged by id."""
    stmt = select(AuditEntry)
    if query.username is not None:
        stmt = stmt.where(AuditEntry.username == query.username)
    if query.action is not None:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.start is not None:
        stmt = stmt.where(AuditEntry.time >= query.start)
    if query.end is not None:
        stmt = stmt.where(AuditEntry.time < query.end)
    if query.before is not None:
        stmt = stmt.where(AuditEntry.id < query.before)
    rows = list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(query.limit + 1)))
    items = rows[: query.limit]
    return AuditPage(items=[AuditOut.model_validate(e, from_attributes=True) for e in items],
                     next_before=items[-1].id if len(rows) > query.limit else None)


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
        # end the read transaction between batches: a long download must not hold SQLite's lock (or an old
        # PostgreSQL snapshot) while proxies keep delivering; keyset paging picks up where it left off
        session.rollback()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
