"""DPO pages: users, retention and purges, the audit log."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.auth import MIN_PASSWORD_LENGTH, ROLES, AuthError, create_user, is_locked, reset_lockout
from admin_api.db import get_session
from admin_api.models import User
from admin_api.web.deps import page_user
from admin_api.web.templating import flash, render

router = APIRouter()
dpo = page_user("dpo")


def _users_page(request: Request, db: Session, status_code: int = 200, error: str | None = None):
    users = db.scalars(select(User).order_by(User.username)).all()
    return render(request, "users.html", status_code=status_code, title="Users", active="users", users=users,
                  roles=ROLES, locked=is_locked, error=error, min_length=MIN_PASSWORD_LENGTH)


@router.get("/users")
async def users(request: Request, user: User = Depends(dpo), db: Session = Depends(get_session)):
    return _users_page(request, db)


@router.post("/users")
async def add_user(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(...),
    email: str = Form(""),
    user: User = Depends(dpo),
    db: Session = Depends(get_session),
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
async def unlock_user(request: Request, user_id: int, user: User = Depends(dpo), db: Session = Depends(get_session)):
    target = _target(db, user_id)
    reset_lockout(db, target)
    audit.record(db, user.username, "user.unlock", target=target.username)
    db.commit()
    flash(request, f"Lock-out of {target.username} reset.", "success")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}/{change}")
async def enable_disable_user(
    request: Request, user_id: int, change: str, user: User = Depends(dpo), db: Session = Depends(get_session)
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
