"""Events, statistics, CSV export and pupil search for the DPO and SIEM scripts (HTTP Basic or session cookie).

Who may call what: admin_api/permissions.py (IT sees event metadata without excerpts or pupil refs; a viewer
statistics only). Every call is written to the audit log (filters and counts, never pupil data).
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from admin_api import audit, config_store, queries
from admin_api.db import SessionDep
from admin_api.identity import ApiUser
from admin_api.models import User
from admin_api.permissions import Permission, allows
from admin_api.schemas import (AuditPage, AuditQuery, Cursor, EventFilter, EventOut, EventPage, EventQuery, Stats,
                               Storable)

router = APIRouter(prefix="/api/v1", tags=["events"])

Filters = Annotated[EventFilter, Query()]


def _pupil_filter_allowed(user: User, flt: EventFilter) -> None:
    # finding one pupil's events (or counting them) is the DPO's subject-access work, not IT's or a viewer's
    if flt.pupil_ref is not None and not allows(user.role, Permission.FIND_PUPIL):
        raise HTTPException(403, "Only the DPO may filter events by pupil.")


def _detail(flt: EventFilter, **extra: object) -> dict[str, object]:
    return {**flt.model_dump(mode="json", exclude_none=True), **extra}


def _page(session: Session, flt: EventFilter, limit: int, cursor: str | None, include_text: bool) -> EventPage:
    page = queries.list_events(session, flt, limit=limit, cursor=cursor)
    return EventPage(items=[queries.event_out(e, include_text=include_text) for e in page.items],
                     next_cursor=page.next_cursor)


@router.get("/events", response_model=EventPage, summary="List events, newest first")
def list_events(
    query: Annotated[EventQuery, Query()],
    user: ApiUser,
    session: SessionDep,
) -> EventPage:
    flt = query.filter()
    _pupil_filter_allowed(user, flt)
    page = _page(session, flt, query.limit, query.cursor,
                 include_text=allows(user.role, Permission.VIEW_EVENT_TEXT))
    audit.record(session, user.username, "events.list", None, _detail(flt, returned=len(page.items)))
    session.commit()
    return page


@router.get("/events/export.csv", response_class=StreamingResponse, summary="Export filtered events as CSV",
            responses={200: {"content": {"text/csv": {}}}})
def export_events(
    request: Request,
    flt: Filters,
    user: ApiUser,
    session: SessionDep,
) -> StreamingResponse:
    audit.record(session, user.username, "events.export", None, _detail(flt))
    session.commit()
    db = request.app.state.db

    def rows():  # its own session: the response streams after the request's dependencies have finished
        with db.session() as export_session:
            yield from queries.export_csv(export_session, flt, include_text=True)

    name = f"pupilguard-events-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/events/{event_id}", response_model=EventOut, responses={404: {"description": "No such event"}})
def get_event(
    event_id: uuid.UUID,
    user: ApiUser,
    session: SessionDep,
) -> EventOut:
    event = queries.get_event(session, event_id)
    audit.record(session, user.username, "events.view", str(event_id), {"found": event is not None})
    session.commit()
    if event is None:
        raise HTTPException(404, "No such event.")
    return queries.event_out(event, include_text=allows(user.role, Permission.VIEW_EVENT_TEXT))


@router.get("/stats", response_model=Stats, summary="Dashboard statistics for the filtered events")
def get_stats(
    flt: Filters,
    user: ApiUser,
    session: SessionDep,
) -> Stats:
    _pupil_filter_allowed(user, flt)
    result = queries.stats(session, flt)
    audit.record(session, user.username, "stats.view", None, _detail(flt))
    session.commit()
    return result


Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200), Storable]


class PupilSearch(BaseModel):
    query: Text200 = Field(description="A pupil's name, UPN or ULN (hashed, never stored)")
    limit: int = Field(default=50, ge=1, le=500)
    cursor: Cursor | None = None


class PupilEvents(BaseModel):
    pupil_refs: list[str]
    events: EventPage


@router.post("/pupils/search", response_model=PupilEvents, summary="Find a pupil's events (subject access)")
def search_pupil(
    body: PupilSearch,
    request: Request,
    user: ApiUser,
    session: SessionDep,
) -> PupilEvents:
    """POST so the name never appears in a URL or access log. The query is hashed with the roster key and looked
    up in the current hashed roster; the audit log records the pupil refs found, not the query."""
    refs = config_store.find_pupil_refs(session, request.app.state.roster_key, body.query)
    page = queries.list_events(session, EventFilter(), limit=body.limit, cursor=body.cursor, pupil_refs=refs)
    audit.record(session, user.username, "pupil.search", None, {"pupil_refs": refs, "returned": len(page.items)})
    session.commit()
    return PupilEvents(pupil_refs=refs, events=EventPage(
        items=[queries.event_out(e, include_text=True) for e in page.items], next_cursor=page.next_cursor))


@router.get("/audit", response_model=AuditPage, tags=["audit"], summary="The audit log (who viewed, searched, "
                                                                        "exported or changed what)")
def get_audit(
    query: Annotated[AuditQuery, Query()],
    user: ApiUser,
    session: SessionDep,
) -> AuditPage:
    page = queries.list_audit(session, query)
    audit.record(session, user.username, "audit.view", None, query.model_dump(mode="json", exclude_none=True))
    session.commit()
    return page
