"""Incidents for scripts and the trust's case-management tools: list and filter, read one (events and notes),
change its status, assignee or outcome, add a note.

The same rules as the Incidents pages: the DPO sees every incident, the DSL the safeguarding ones and those
escalated or assigned to them (admin_api.incidents.visible), other roles none (admin_api.permissions: IT never sees
an incident's text). An incident the caller may not see answers 404, as one that does not exist. Every call is
written to the audit log; a note's text is casework, kept with the incident, and the log says only that one was added.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy.orm import Session

from admin_api import audit, incidents, queries, severity
from admin_api.db import RowId, SessionDep
from admin_api.identity import ApiUser
from admin_api.models import Incident, User
from admin_api.schemas import IncidentDetail, IncidentOut, IncidentPage, IncidentQuery, IncidentUpdate, NoteIn, NoteOut

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

NOT_FOUND = {404: {"description": "No such incident, or not one the caller's role covers"}}


def _out(incident: Incident) -> IncidentOut:
    return IncidentOut.model_validate(_fields(incident))


def _fields(incident: Incident) -> dict[str, object]:
    return {"id": incident.id, "severity": severity.NAMES[incident.severity], "status": incident.status,
            "user": incident.user, "department": incident.department, "first_event_at": incident.first_event_at,
            "last_event_at": incident.last_event_at, "events": incident.events, "assignee": incident.assignee,
            "outcome": incident.outcome, "closed_at": incident.closed_at, "updated_at": incident.updated_at}


def _detail(session: Session, incident: Incident) -> IncidentDetail:
    return IncidentDetail.model_validate({
        **_fields(incident),
        "notes": [NoteOut(id=n.id, time=n.time, author=n.author, text=n.text) for n in incident.notes],
        "recent_events": [queries.event_out(e, include_text=True)
                          for e in incidents.incident_events(session, incident)],
    })


def _visible(session: Session, user: User, incident_id: int) -> Incident:
    incident = incidents.get_incident(session, user, incident_id)
    if incident is None:
        raise HTTPException(404, "No such incident, or your role does not cover it.")
    return incident


@router.get("", response_model=IncidentPage, summary="List incidents, most serious and most recent first")
def list_incidents(query: Annotated[IncidentQuery, Query()], user: ApiUser, session: SessionDep) -> IncidentPage:
    flt = incidents.IncidentFilter(
        status=None if query.status == "all" else query.status,
        severity=severity.BY_NAME[query.severity] if query.severity else None,
        assignee=query.assignee, user=query.user, department=query.department)
    items, total = incidents.list_incidents(session, user, flt, limit=query.limit, offset=query.offset)
    audit.record(session, user.username, "incidents.list", None,
                 {"filters": query.model_dump(mode="json", exclude_none=True), "returned": len(items)})
    session.commit()
    return IncidentPage(items=[_out(i) for i in items], total=total)


@router.get("/{incident_id}", response_model=IncidentDetail, summary="One incident, with its notes and events",
            responses=NOT_FOUND)
def get_incident(incident_id: RowId, user: ApiUser, session: SessionDep) -> IncidentDetail:
    incident = _visible(session, user, incident_id)
    audit.record(session, user.username, "incident.view", str(incident.id))
    session.commit()
    return _detail(session, incident)


@router.patch("/{incident_id}", response_model=IncidentDetail, summary="Change status, assignee or outcome",
              responses={**NOT_FOUND, 409: {"description": "The workflow does not allow it (e.g. closing without "
                                                            "an outcome); the message says why"}})
def update_incident(incident_id: RowId, change: IncidentUpdate, user: ApiUser,
                    session: SessionDep) -> IncidentDetail:
    incident = _visible(session, user, incident_id)
    try:
        incidents.update(session, incident, user, status=change.status, assignee=change.assignee,
                         outcome=change.outcome)
    except incidents.CaseworkError as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return _detail(session, incident)


@router.post("/{incident_id}/notes", response_model=NoteOut, status_code=201, summary="Add a note",
             responses={**NOT_FOUND, 409: {"description": "An empty note"}})
def add_note(incident_id: RowId, note: NoteIn, user: ApiUser, session: SessionDep) -> NoteOut:
    incident = _visible(session, user, incident_id)
    try:
        added = incidents.add_note(session, incident, user, note.text)
    except incidents.CaseworkError as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return NoteOut(id=added.id, time=added.time, author=added.author, text=added.text)
