"""Event list (filters, paging), event detail, CSV export and "find a pupil"."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from admin_api import audit, config_store, queries, severity
from admin_api.db import SessionDep
from admin_api.models import ACTIONS
from admin_api.permissions import Permission, allows
from admin_api.schemas import EventFilter
from admin_api.web.deps import PageUser
from admin_api.web.templating import render

router = APIRouter()

PAGE_SIZE = 50
FILTER_FIELDS = ("start", "end", "severity", "action", "tool", "profile", "department", "user", "entity", "proxy_id",
                 "pupil_ref")
PLACEHOLDER = re.compile(r"(\[[A-Z_]+_\d+\])")


class FilterError(ValueError):
    pass


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{field}: use a date like 2026-09-01.") from None


def parse_filters(params: dict[str, Any], *, allow_pupil_ref: bool) -> tuple[EventFilter, dict[str, str]]:
    """Query-string filters (dates as whole UTC days, end inclusive) -> EventFilter, plus the cleaned values."""
    raw = {k: str(params.get(k, "")).strip() for k in FILTER_FIELDS}
    if not allow_pupil_ref:
        raw["pupil_ref"] = ""
    values: dict[str, Any] = {k: v for k, v in raw.items() if v and k not in ("start", "end")}
    if raw["start"]:
        values["start"] = datetime.combine(_day(raw["start"], "From"), time(), UTC)
    if raw["end"]:
        values["end"] = datetime.combine(_day(raw["end"], "To") + timedelta(days=1), time(), UTC)
    if values.get("action") and values["action"] not in ACTIONS:
        raise FilterError(f"Action must be one of: {', '.join(ACTIONS)}.")
    if values.get("severity"):
        if values["severity"] not in severity.BY_NAME:
            raise FilterError(f"Severity must be one of: {', '.join(severity.BY_NAME)}.")
        values["severity"] = severity.BY_NAME[values["severity"]]
    try:
        flt = EventFilter(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FilterError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    return flt, {k: v for k, v in raw.items() if v}


def excerpt_parts(excerpt: str) -> list[tuple[str, bool]]:
    """Split a redacted excerpt into (text, is_placeholder) runs so placeholders can be highlighted — still
    escaped by the template like everything else."""
    return [(part, bool(PLACEHOLDER.fullmatch(part))) for part in PLACEHOLDER.split(excerpt) if part]


@router.get("/events")
def event_list(
    request: Request,
    user: PageUser,
    db: SessionDep,
    cursor: str | None = None,
):
    error = None
    try:
        flt, active = parse_filters(dict(request.query_params),
                                    allow_pupil_ref=allows(user.role, Permission.FIND_PUPIL))
        page = queries.list_events(db, flt, limit=PAGE_SIZE, cursor=cursor or None)
        total = queries.count_events(db, flt)
    except (FilterError, queries.CursorError) as exc:
        error, active, total = str(exc), {}, 0
        page = queries.Page(items=[], next_cursor=None)
    audit.record(db, user.username, "events.list", detail={"filters": dict(active), "page": bool(cursor)})
    db.commit()
    return render(request, "events.html", title="Events", active="events", page=page, total=total,
                  filters=active, error=error, actions=ACTIONS, first_page=not cursor,
                  show_text=allows(user.role, Permission.VIEW_EVENT_TEXT), options=queries.filter_options(db),
                  levels=severity.LEVELS)


@router.get("/events/export.csv")
def export_events(request: Request, user: PageUser, db: SessionDep):
    # DPO only, as on the JSON API: an export leaves the audit trail's reach once downloaded.
    try:
        flt, active = parse_filters(dict(request.query_params), allow_pupil_ref=True)
    except FilterError as exc:
        raise HTTPException(400, str(exc)) from None
    audit.record(db, user.username, "events.export", detail={"filters": dict(active)})
    db.commit()
    database = request.app.state.db

    def body():
        # Its own session: the request's is closed once the handler returns, the download may run for minutes.
        with database.session() as session:
            yield from queries.export_csv(session, flt, include_text=True)

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="pupilguard-events-{stamp}.csv"'})


@router.get("/events/{event_id}")
def event_detail(
    request: Request, event_id: str, user: PageUser, db: SessionDep
):
    try:
        event = queries.get_event(db, uuid.UUID(event_id))
    except ValueError:
        event = None
    if event is None:
        return render(request, "error.html", status_code=404, title="No such event",
                      message="That event does not exist or has been purged by the retention policy.")
    show_text = allows(user.role, Permission.VIEW_EVENT_TEXT)
    out = queries.event_out(event, include_text=show_text)
    audit.record(db, user.username, "event.view", target=str(event.event_id), detail={"with_text": show_text})
    db.commit()
    return render(request, "event.html", title="Event", active="events", event=out, show_text=show_text,
                  parts=excerpt_parts(out.excerpt or ""))


# --- find a pupil --------------------------------------------------------------------------------------------

@router.get("/pupils")
def pupil_form(request: Request, user: PageUser):
    return render(request, "pupils.html", title="Find a pupil", active="pupils", searched=False)


@router.post("/pupils")
def pupil_search(
    request: Request,
    user: PageUser,
    db: SessionDep,
    query: str = Form(""),
):
    # The query is a pupil's name or UPN: it goes in the POST body (never a URL, so never an access log), is
    # hashed with the roster key, and is neither stored, logged nor echoed back.
    if config_store.latest_roster(db) is None:
        return render(request, "pupils.html", status_code=409, title="Find a pupil", active="pupils",
                      searched=False, error="No roster has been uploaded yet, so names cannot be looked up.")
    refs = config_store.find_pupil_refs(db, request.app.state.roster_key, query[:200]) if query.strip() else []
    results = []
    for ref in refs:
        page = queries.list_events(db, EventFilter(pupil_ref=ref), limit=PAGE_SIZE)
        results.append((ref, queries.count_events(db, EventFilter(pupil_ref=ref)), page))
    audit.record(db, user.username, "pupil.search", detail={
        "pupils_found": len(refs), "pupil_refs": refs[:50], "events": sum(n for _, n, _ in results)})
    db.commit()
    return render(request, "pupils.html", title="Find a pupil", active="pupils", searched=True, results=results)
