"""Casework pages: incidents (list, detail, status/assignee/outcome, notes), "who is P-XXXX?", the
false-positive count per rule, the alert contacts (with the confirmation link their test message carries) and
"who sent it" (events needing review per member of staff and per department)."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import alerts, audit, incidents, queries, severity
from admin_api.db import RowId, SessionDep
from admin_api.forms import FormDep, UploadedFile
from admin_api.models import INCIDENT_OUTCOMES, INCIDENT_STATUSES, EventPupil, OutboxMessage, User
from admin_api.reidentify import identify
from admin_api.schemas import EventFilter
from admin_api.web.deps import PageUser
from admin_api.web.routes.events import excerpt_parts
from admin_api.web.templating import flash, render
from admin_api.web_session import csrf_protect
from detectors.mis_import import MisImportError

router = APIRouter()
PAGE_SIZE = 50


def _filter(params: dict[str, str]) -> incidents.IncidentFilter:
    status = params.get("status", "open")
    level = params.get("severity", "")
    return incidents.IncidentFilter(
        status=status if status in (*INCIDENT_STATUSES, "open") else None,
        severity=severity.BY_NAME.get(level) if level else None,
        assignee=params.get("assignee", "").strip() or None,
        user=params.get("user", "").strip() or None,
        department=params.get("department", "").strip() or None,
    )


@router.get("/incidents")
def incident_list(request: Request, user: PageUser, db: SessionDep, page: int = 0):
    params = dict(request.query_params)
    flt = _filter(params)
    page = max(page, 0)
    items, total = incidents.list_incidents(db, user, flt, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
    audit.record(db, user.username, "incidents.list", detail={"filters": {k: v for k, v in params.items() if v}})
    db.commit()
    return render(request, "incidents.html", title="Incidents", active="incidents", items=items, total=total,
                  flt=flt, params=params, page=page, more=(page + 1) * PAGE_SIZE < total,
                  statuses=("open", *INCIDENT_STATUSES), levels=severity.LEVELS)


def _incident_or_404(request: Request, db: Session, user: User, incident_id: int):
    incident = incidents.get_incident(db, user, incident_id)
    if incident is None:
        return None, render(request, "error.html", status_code=404, title="No such incident",
                            message="That incident does not exist, or your role does not cover it.")
    return incident, None


def _incident_page(request: Request, db: Session, user: User, incident, status_code: int = 200,
                   error: str | None = None):
    events = [queries.event_out(e, include_text=True) for e in incidents.incident_events(db, incident)]
    refs = sorted({ref for e in events for ref in (e.pupil_refs or [])})
    assignees = db.scalars(select(User.username).where(User.role.in_(incidents.CASEWORK_ROLES),
                                                       User.disabled.is_(False)).order_by(User.username)).all()
    return render(request, "incident.html", status_code=status_code, title=f"Incident #{incident.id}",
                  active="incidents", incident=incident, events=events, refs=refs, error=error,
                  parts={e.event_id: excerpt_parts(e.excerpt or "") for e in events},
                  statuses=INCIDENT_STATUSES, outcomes=INCIDENT_OUTCOMES, assignees=assignees)


@router.get("/incidents/false-positives")
def false_positives(request: Request, user: PageUser, db: SessionDep):
    return render(request, "false_positives.html", title="False positives by rule", active="incidents",
                  rows=incidents.false_positives_by_rule(db))


@router.get("/incidents/{incident_id}")
def incident_detail(request: Request, incident_id: RowId, user: PageUser, db: SessionDep):
    incident, missing = _incident_or_404(request, db, user, incident_id)
    if missing:
        return missing
    audit.record(db, user.username, "incident.view", str(incident.id))
    db.commit()
    return _incident_page(request, db, user, incident)


@router.post("/incidents/{incident_id}")
def incident_update(
    request: Request,
    incident_id: RowId,
    user: PageUser,
    db: SessionDep,
    status: str = Form(""),
    outcome: str = Form(""),
    assignee: str | None = Form(None),
):
    incident, missing = _incident_or_404(request, db, user, incident_id)
    if missing:
        return missing
    try:
        changes = incidents.update(db, incident, user, status=status or None, outcome=outcome or None,
                                   assignee=assignee)
    except incidents.CaseworkError as exc:
        db.rollback()
        return _incident_page(request, db, user, incident, status_code=400, error=str(exc))
    db.commit()
    flash(request, "Incident updated." if changes else "Nothing changed.")
    return RedirectResponse(f"/incidents/{incident.id}", status_code=303)


@router.post("/incidents/{incident_id}/notes")
def incident_note(
    request: Request,
    incident_id: RowId,
    user: PageUser,
    db: SessionDep,
    text: str = Form(""),
):
    incident, missing = _incident_or_404(request, db, user, incident_id)
    if missing:
        return missing
    try:
        incidents.add_note(db, incident, user, text)
    except incidents.CaseworkError as exc:
        db.rollback()
        return _incident_page(request, db, user, incident, status_code=400, error=str(exc))
    db.commit()
    flash(request, "Note added.")
    return RedirectResponse(f"/incidents/{incident.id}#notes", status_code=303)


# --- who is P-XXXX? ----------------------------------------------------------------------------------------------

def _may_identify(db: Session, user: User, ref: str) -> bool:
    """The DPO may look up any reference; the DSL only those in the incidents they work."""
    if user.role == "dpo":
        return True
    return db.scalar(incidents.pupil_refs_of(user).where(EventPupil.pupil_ref == ref).limit(1)) is not None


@router.get("/pupils/identify")
def identify_form(request: Request, user: PageUser, ref: str = ""):
    return render(request, "identify.html", title="Who is this pupil?", active="incidents", ref=ref[:64],
                  matches=None)


@router.post("/pupils/identify")
def identify_pupil(request: Request, user: PageUser, db: SessionDep, form: FormDep):
    # the form was read in memory (admin_api.forms): the export never touches the disk
    ref = str(form.get("ref", "")).strip().upper()[:64]
    export = form.get("export")

    def page(status_code: int, **context):
        response = render(request, "identify.html", status_code=status_code, title="Who is this pupil?",
                          active="incidents", ref=ref, **context)
        response.headers["Cache-Control"] = "no-store"  # a name on screen must not stay in a browser cache
        return response

    if not ref.startswith("P-"):
        return page(400, matches=None, error="Enter a pupil reference such as P-ABCDE12345.")
    if not isinstance(export, UploadedFile) or not export.data:
        return page(400, matches=None, error="Choose the MIS pupil export (CSV) to look the reference up in.")
    if not _may_identify(db, user, ref):
        return page(403, matches=None, error="That reference is not in an incident your role covers.")
    try:
        matches = identify(request.app.state.roster_key, export.data, ref)
    except MisImportError as exc:
        return page(400, matches=None, error=f"That file could not be read as an MIS export: {exc}")
    finally:
        del export, form
    audit.record(db, user.username, "pupil.reidentify", ref, {"matched": len(matches)})
    db.commit()
    return page(200, matches=matches)


# --- alert contacts ------------------------------------------------------------------------------------------------

def _alerts_page(request: Request, db: Session, status_code: int = 200, error: str | None = None):
    config = alerts.load_config(db)
    queue = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(20)).all()
    return render(request, "alert_contacts.html", status_code=status_code, title="Alert contacts", active="contacts",
                  config=config, roles=alerts.CONTACT_ROLES, queue=queue, error=error)


@router.get("/alerts/contacts")
def alerts_page(request: Request, user: PageUser, db: SessionDep):
    return _alerts_page(request, db)


@router.post("/alerts/contacts")
def set_contact(
    request: Request,
    user: PageUser,
    db: SessionDep,
    role: str = Form(""),
    name: str = Form(""),
    email: str = Form(""),
):
    try:
        alerts.set_contact(db, role, name, email, actor=user.username)
    except alerts.ContactError as exc:
        db.rollback()
        return _alerts_page(request, db, status_code=400, error=str(exc))
    db.commit()
    flash(request, f"{alerts.CONTACT_ROLES[role]} saved; a test message asks them to confirm.")
    return RedirectResponse("/alerts/contacts", status_code=303)


@router.get("/alerts/confirm/{token}")
def confirm_form(request: Request, token: str):
    # a button, not an automatic confirmation: mail scanners open links, people press buttons
    return render(request, "confirm.html", title="Confirm alerts", token=token[:64], confirmed=None)


@router.post("/alerts/confirm/{token}")
def confirm(request: Request, token: str, _csrf: Annotated[None, Depends(csrf_protect)], db: SessionDep):
    role = alerts.confirm_contact(db, token[:64])
    db.commit()
    return render(request, "confirm.html", status_code=200 if role else 404, title="Confirm alerts",
                  token=token[:64], confirmed=alerts.CONTACT_ROLES.get(role or "", ""))



# --- who sent it -----------------------------------------------------------------------------------------------------

SENDER_VIEWS = {"staff": ("user", "Member of staff"), "departments": ("department", "Department")}


@router.get("/senders/{view}")
def senders(
    request: Request,
    view: str,
    user: PageUser,
    db: SessionDep,
    days: int = 30,
):
    if view not in SENDER_VIEWS:
        return render(request, "error.html", status_code=404, title="No such view", message="Unknown view.")
    column, heading = SENDER_VIEWS[view]
    days = days if days in (7, 30, 90, 365) else 30
    start = datetime.combine(datetime.now(UTC).date() - timedelta(days=days - 1), time(), UTC)
    rows = queries.by_sender(db, EventFilter(start=start), column)
    audit.record(db, user.username, "senders.view", view, {"days": days})
    db.commit()
    return render(request, "senders.html", title=f"Who sent it: {heading.lower()}s", active="senders", view=view,
                  column=column, heading=heading, rows=rows, days=days, levels=severity.LEVELS,
                  start=start.date().isoformat())
