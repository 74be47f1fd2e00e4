"""Daily roll-ups of event counts for fast dashboards: DailyTotal (one dimension at a time: the unfiltered
dashboard), DailyCount and DailyEntityCount (all dimensions: dashboards filtered on tool, profile, department,
severity or data type).

`add` runs in the ingest transaction for the events that were new, so the roll-ups stay exact under duplicate
delivery; rows are upserted in key order so concurrent batches never deadlock. `rebuild` recomputes a day range
from the events (after a bulk load or a purge).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import String, cast, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from detectors.events import Event as WireEvent

from .db import bulk_insert
from .models import DailyCount, DailyEntityCount, DailyTotal, Event, EventEntity

NONE = ""  # stands for a missing profile/department in the roll-up keys
TABLES = (DailyTotal, DailyCount, DailyEntityCount)
DIMENSIONS = ("tool", "profile", "department", "severity", "entity")  # DailyCount / DailyEntityCount columns
# (DailyTotal keys are text: a severity level is counted there as its number written out, "3")


def add(session: Session, events: Iterable[WireEvent], severities: Mapping[Any, int]) -> None:
    """Count newly stored events into the roll-ups (same transaction as the insert); `severities` maps each
    event_id to its stored severity."""
    totals: Counter[tuple[date, str, str, str]] = Counter()
    daily: Counter[tuple[date, str, str, str, str, int]] = Counter()
    entities: Counter[tuple[date, str, str, str, str, str, int]] = Counter()
    for e in events:
        day = e.time.astimezone(UTC).date()
        level = severities[e.event_id]
        key = (day, e.action, e.tool, e.profile or NONE, e.department or NONE, level)
        daily[key] += 1
        totals[(day, "tool", e.tool, e.action)] += 1
        totals[(day, "profile", e.profile or NONE, e.action)] += 1
        totals[(day, "department", e.department or NONE, e.action)] += 1
        totals[(day, "severity", str(level), e.action)] += 1
        for entity in e.entities:
            entities[(day, entity, *key[1:])] += 1
            totals[(day, "entity", entity, e.action)] += 1
    # sorted: concurrent batches lock the rows they share in the same order, so they never deadlock
    for table, counts in ((DailyTotal.__table__, totals), (DailyCount.__table__, daily),
                          (DailyEntityCount.__table__, entities)):
        keys = [c.name for c in table.primary_key.columns]
        bulk_insert(session, table, [dict(zip(keys, k), events=n) for k, n in sorted(counts.items())],
                    conflict=keys, add_on_conflict="events")


def rebuild(session: Session, start: date | None = None, end: date | None = None) -> None:
    """Recompute the roll-ups for days in [start, end) (all days when None) from the stored events."""
    day = func.date(Event.time)
    profile = func.coalesce(Event.profile, literal(NONE))
    department = func.coalesce(Event.department, literal(NONE))
    for table in TABLES:
        stmt = delete(table)
        if start is not None:
            stmt = stmt.where(table.day >= start)
        if end is not None:
            stmt = stmt.where(table.day < end)
        session.execute(stmt)
    conds = []
    if start is not None:
        conds.append(Event.time >= midnight(start))
    if end is not None:
        conds.append(Event.time < midnight(end))
    group = (day, Event.action, Event.tool, profile, department, Event.severity)
    session.execute(insert(DailyCount).from_select(
        ["day", "action", "tool", "profile", "department", "severity", "events"],
        select(*group, func.count()).where(*conds).group_by(*group),
    ))
    egroup = (day, EventEntity.entity, Event.action, Event.tool, profile, department, Event.severity)
    session.execute(insert(DailyEntityCount).from_select(
        ["day", "entity", "action", "tool", "profile", "department", "severity", "events"],
        select(*egroup, func.count()).join(Event, Event.event_id == EventEntity.event_id).where(*conds)
        .group_by(*egroup),
    ))
    # the one-dimension totals are sums of the two tables above
    for dimension in DIMENSIONS:
        source = DailyEntityCount if dimension == "entity" else DailyCount
        column = getattr(source, dimension)
        if dimension == "severity":
            column = cast(column, String)
        range_conds = [c for c in (
            source.day >= start if start is not None else None,
            source.day < end if end is not None else None,
        ) if c is not None]
        session.execute(insert(DailyTotal).from_select(
            ["day", "dimension", "key", "action", "events"],
            select(source.day, literal(dimension), column, source.action, func.sum(source.events))
            .where(*range_conds).group_by(source.day, column, source.action),
        ))


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
