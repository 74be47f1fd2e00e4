"""Alerts for the DPO (excerpt integrity, protection weakened, changes awaiting a second DPO) and approvals."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from admin_api import config_store, protection
from admin_api.db import RowId, SessionDep
from admin_api.web.deps import PageUser
from admin_api.web.templating import flash, render

router = APIRouter()

KINDS = {
    "excerpt_integrity": "Excerpt held an identifier",
    "protection_weakened": "Protection weakened",
    "change_pending": "Change awaiting approval",
}


@router.get("/alerts")
def alerts_page(request: Request, user: PageUser, db: SessionDep):
    return render(request, "alerts.html", title="Alerts", active="alerts", alerts=protection.open_alerts(db),
                  kinds=KINDS, pending=config_store.pending_changes(db), labels=config_store.LABELS)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(request: Request, alert_id: RowId, user: PageUser, db: SessionDep):
    if protection.acknowledge(db, alert_id, user.username) is None:
        raise HTTPException(404, "No such alert.")
    db.commit()
    flash(request, "Alert acknowledged.", "success")
    return RedirectResponse("/alerts", status_code=303)


@router.post("/changes/{change_id}/{decision}")
def decide_change(request: Request, change_id: RowId, decision: str, user: PageUser, db: SessionDep):
    if decision not in ("approve", "reject"):
        raise HTTPException(404)
    try:
        change = config_store.decide(db, request.app.state.settings, change_id, decision == "approve", user)
    except (LookupError, PermissionError) as exc:
        db.rollback()
        flash(request, str(exc), "error")
        return RedirectResponse("/alerts", status_code=303)
    db.commit()
    flash(request, f"{config_store.LABELS[change.setting]} change by {change.requested_by} {change.status}.",
          "success")
    return RedirectResponse("/alerts", status_code=303)
