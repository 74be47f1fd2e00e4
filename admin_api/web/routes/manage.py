"""DPO pages: users, retention and purges, the audit log."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import detectors

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import audit, config_store, queries, retention
from admin_api.schemas import EARLIEST, EventFilter
from admin_api.accounts import MIN_PASSWORD_LENGTH, AuthError, create_user, is_locked, reset_lockout, set_password
from admin_api.db import RowId, SessionDep
from admin_api.models import ROLES
from admin_api.models import AuditEntry, Purge, Setting, User
from detectors.policy import PolicyError
from admin_api.web.deps import PageUser
from admin_api.web.templating import flash, render, saved_message

router = APIRouter()


def _users_page(request: Request, db: Session, status_code: int = 200, error: str | None = None):
    users = db.scalars(select(User).order_by(User.username)).all()
    return render(request, "users.html", status_code=status_code, title="Users", active="users", users=users,
                  roles=ROLES, locked=is_locked, error=error, min_length=MIN_PASSWORD_LENGTH)


@router.get("/users")
def users(request: Request, user: PageUser, db: SessionDep):
    return _users_page(request, db)


@router.post("/users")
def add_user(
    request: Request,
    user: PageUser,
    db: SessionDep,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(...),
    email: str = Form(""),
):
    try:
        created = create_user(db, username, password, role, email=email or None)
    except AuthError as exc:
        db.rollback()
        return _users_page(request, db, status_code=400, error=str(exc))
    audit.record(db, user.username, "user.create", target=created.username, detail={"role": role})
    db.commit()
    flash(request, f"User {created.username} added.", "success")
    return RedirectResponse("/users", status_code=303)


def _target(db: Session, user_id: int) -> User:
    target = db.get(User, user_id)
    if target is None:
        raise HTTPException(404, "No such user.")
    return target


@router.post("/users/{user_id}/unlock")
def unlock_user(request: Request, user_id: RowId, user: PageUser, db: SessionDep):
    target = _target(db, user_id)
    reset_lockout(db, target)
    audit.record(db, user.username, "user.unlock", target=target.username)
    db.commit()
    flash(request, f"Lock-out of {target.username} reset.", "success")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/password")
def reset_password(
    request: Request,
    user_id: RowId,
    user: PageUser,
    db: SessionDep,
    password: str = Form(...),
):
    target = _target(db, user_id)
    try:
        set_password(db, target, password)
    except AuthError as exc:
        db.rollback()
        return _users_page(request, db, status_code=400, error=f"{target.username}: {exc}")
    reset_lockout(db, target)
    audit.record(db, user.username, "user.password_reset", target=target.username)
    db.commit()
    flash(request, f"New password set for {target.username}; their other sessions are signed out.", "success")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/{change}")
def enable_disable_user(
    request: Request, user_id: RowId, change: str, user: PageUser, db: SessionDep
):
    if change not in ("enable", "disable"):
        raise HTTPException(404)
    target = _target(db, user_id)
    if target.id == user.id:
        raise HTTPException(400, "You cannot disable your own account.")
    target.disabled = change == "disable"
    audit.record(db, user.username, f"user.{change}", target=target.username)
    db.commit()
    flash(request, f"User {target.username} {change}d.", "success")
    return RedirectResponse("/users", status_code=303)


# --- retention -----------------------------------------------------------------------------------------------

def _retention_page(request: Request, db: Session, status_code: int = 200, error: str | None = None):
    days = config_store.retention_days(db, request.app.state.settings)
    purges = db.scalars(select(Purge).order_by(Purge.id.desc()).limit(20)).all()
    cutoff = datetime.now(UTC) - timedelta(days=days)
    due = queries.count_events(db, EventFilter(end=cutoff)) if cutoff > EARLIEST else 0  # no event is older
    return render(request, "retention.html", status_code=status_code, title="Retention", active="retention",
                  days=days, purges=purges, due=due, error=error)


@router.get("/retention")
def retention_page(request: Request, user: PageUser, db: SessionDep):
    return _retention_page(request, db)


@router.post("/retention")
def set_retention(
    request: Request,
    user: PageUser,
    db: SessionDep,
    days: str = Form(...),
):
    try:
        pending = config_store.change(db, request.app.state.settings, config_store.RETENTION, days, user)
    except ValueError:
        db.rollback()
        return _retention_page(request, db, status_code=400,
                               error="Retention must be a whole number of days between 1 and 36500.")
    db.commit()
    flash(request, saved_message(pending, f"Events older than {int(days)} days will be purged automatically."),
          "success")
    return RedirectResponse("/retention", status_code=303)


# --- audit log -------------------------------------------------------------------------------------------------

AUDIT_PAGE = 100


@router.get("/audit")
def audit_log(
    request: Request,
    user: PageUser,
    db: SessionDep,
    before: str = "",
    actor: str = "",
    action: str = "",
):
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE + 1)
    if before.isdigit():
        stmt = stmt.where(AuditEntry.id < int(before))
    if actor.strip():
        stmt = stmt.where(AuditEntry.username == actor.strip())
    if action.strip():
        stmt = stmt.where(AuditEntry.action.startswith(action.strip(), autoescape=True))
    rows = db.scalars(stmt).all()
    more = len(rows) > AUDIT_PAGE
    entries = rows[:AUDIT_PAGE]
    return render(request, "audit.html", title="Audit log", active="audit", entries=entries,
                  next_before=entries[-1].id if more and entries else None,
                  filters={k: v for k, v in {"actor": actor.strip(), "action": action.strip()}.items() if v},
                  first_page=not before.isdigit())


@router.post("/retention/purge")
def purge_now(request: Request, user: PageUser, db: SessionDep):
    db.commit()  # end this request's transaction: on SQLite it holds the write lock the purge needs
    record = retention.purge(request.app.state.db, request.app.state.settings, actor=user.username)
    deleted = record.deleted if record is not None else 0
    flash(request, f"Purge done: {deleted:,} event{'' if deleted == 1 else 's'} deleted.", "success")
    return RedirectResponse("/retention", status_code=303)


# --- detection policy ------------------------------------------------------------------------------------------

SHIPPED_POLICY = Path(detectors.__file__).parent / "data" / "policy.yaml"


def _policy_page(request: Request, db: Session, text: str | None = None, status_code: int = 200, **extra):
    row = db.get(Setting, config_store.POLICY)
    if text is None:
        text = row.value if row is not None else SHIPPED_POLICY.read_text(encoding="utf-8")
    return render(request, "policy.html", status_code=status_code, title="Policy", active="policy", text=text,
                  row=row, **extra)


@router.get("/policy")
def policy_page(request: Request, user: PageUser, db: SessionDep):
    return _policy_page(request, db)


@router.post("/policy")
def save_policy(
    request: Request,
    user: PageUser,
    db: SessionDep,
    yaml_text: str = Form("", alias="policy"),
    reset: str = Form(""),
):
    yaml_text = yaml_text.replace("\r\n", "\n")
    try:
        pending = config_store.change(db, request.app.state.settings, config_store.POLICY,
                                      None if reset else yaml_text, user)
    except PolicyError as exc:
        db.rollback()
        return _policy_page(request, db, text=yaml_text, status_code=400, error=str(exc))
    db.commit()
    flash(request, saved_message(pending, "Policy reset to the shipped default." if reset else
                                 "Policy saved. Proxies pick it up at their next configuration poll."), "success")
    return RedirectResponse("/policy", status_code=303)
