"""Retention: events older than the configured number of days are deleted, automatically and on demand, and
each purge that deletes anything (and every purge a person starts) is recorded in the `purges` table.

Casework follows the same period: an incident closed longer ago than that goes with its notes (the database
cascades to them; its events are older still, so already gone), and so does an alert delivered that long ago.
Open incidents stay whatever their age, and an alert not yet delivered is never dropped.

    purge(db, settings, actor="dpo-user") -> Purge | None     # "purge now" from the retention page
    purge_periodically(db, settings)                           # the app lifespan's timer
"""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from . import audit, config_store, rollups
from .db import Database
from .models import Event, Incident, OutboxMessage, Purge, utcnow
from .settings import Settings

log = logging.getLogger(__name__)

BATCH = 5000


def purge(db: Database, settings: Settings, actor: str = "system", now: datetime | None = None) -> Purge | None:
    """Delete events older than the retention period, in batches so ingest is never blocked for long."""
    with db.session() as session:
        days = config_store.retention_days(session, settings)
        session.commit()
    cutoff = ((now or utcnow()) - timedelta(days=days)).astimezone(UTC)
    deleted = 0
    while True:
        with db.session() as session:
            ids = select(Event.event_id).where(Event.time < cutoff).limit(BATCH)
            table = Event.__table__  # core delete: the database cascades to entity and pupil rows
            n = session.execute(delete(table).where(table.c.event_id.in_(ids.scalar_subquery()))).rowcount
            session.commit()
        deleted += n
        if n < BATCH:
            break
    with db.session() as session:
        closed = session.execute(delete(Incident.__table__).where(Incident.__table__.c.closed_at < cutoff)).rowcount
        sent = session.execute(delete(OutboxMessage.__table__)
                               .where(OutboxMessage.__table__.c.sent_at < cutoff)).rowcount
        session.commit()
    if deleted == 0 and closed == 0 and sent == 0 and actor == "system":
        return None
    with db.session() as session:
        # roll-ups: whole days before the cutoff go; the cutoff's own day is recounted from what is left
        for table in rollups.TABLES:
            session.execute(delete(table).where(table.day < cutoff.date()))
        rollups.rebuild(session, cutoff.date(), cutoff.date() + timedelta(days=1))
        record = Purge(time=utcnow(), cutoff=cutoff, deleted=deleted, actor=actor)
        session.add(record)
        if actor != "system":
            audit.record(session, actor, "retention.purge", None,
                         {"deleted": deleted, "incidents": closed, "alerts": sent, "days": days})
        session.commit()
    log.info("retention purge: %d events, %d closed incidents and %d delivered alerts older than %s deleted",
             deleted, closed, sent, cutoff.isoformat())
    return record


async def purge_periodically(db: Database, settings: Settings, on_purge=None) -> None:  # type: ignore[no-untyped-def]
    """The app lifespan's timer: purge now, then every purge_interval_seconds; errors are logged, not fatal."""
    while True:
        try:
            record = await asyncio.to_thread(purge, db, settings)
            if record is not None and on_purge is not None:
                on_purge(record)
        except Exception:
            log.exception("retention purge failed; will retry")
        await asyncio.sleep(settings.purge_interval_seconds)
