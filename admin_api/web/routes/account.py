"""Sign-in (password or OIDC), sign-out, change own password."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.accounts import MIN_PASSWORD_LENGTH, AuthError, LoginFailed, authenticate_request, set_password
from admin_api.db import SessionDep
from admin_api.oidc import OidcMappingError, oidc_config, user_for_oidc_claims
from admin_api.web_session import login_session, logout_session, verify_csrf
from admin_api.models import User
from admin_api.web.deps import PageUser, safe_next
from admin_api.web.templating import flash, render

router = APIRouter()


def _oidc(request: Request):
    return oidc_config(request.app.state.settings)


@router.get("/login")
def login_form(request: Request, db: SessionDep, next: str = "/"):
    no_users = db.scalar(select(User.id).limit(1)) is None
    return render(request, "login.html", title="Sign in", next=safe_next(next), username="", oidc=_oidc(request),
                  no_users=no_users)


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(
    request: Request,
    db: SessionDep,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
):
    try:
        user = authenticate_request(request, db, username, password)
    except LoginFailed as failure:
        audit.record(db, failure.user.username if failure.user else None, "login.failed",
                     detail={"reason": failure.reason})
        db.commit()
        return render(request, "login.html", status_code=401, title="Sign in", error=failure.message,
                      next=safe_next(next), username=username[:150], oidc=_oidc(request))
    audit.record(db, user.username, "login", detail={"method": "password"})
    db.commit()
    login_session(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, user: PageUser, db: SessionDep):
    logout_session(request, db, user)
    audit.record(db, user.username, "logout")
    db.commit()
    flash(request, "You have been signed out on every device where you were signed in.", "info")
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password")
def password_form(request: Request, user: PageUser):
    return render(request, "password.html", title="Change password", min_length=MIN_PASSWORD_LENGTH)


@router.post("/account/password")
def change_password(
    request: Request,
    user: PageUser,
    db: SessionDep,
    current: str = Form(...),
    new: str = Form(...),
    confirm: str = Form(...),
):
    error = None
    try:
        # The same check, counter and lock-out as signing in: an unlocked PC must not allow unlimited guesses.
        authenticate_request(request, db, user.username, current)
    except LoginFailed as failure:
        db.commit()
        error = ("Your current password is not right." if failure.reason == "bad_password" else
                 "This account is locked after repeated failed attempts. Try later or ask the DPO to unlock it.")
    if error is None and new != confirm:
        error = "The two new passwords differ."
    if error is None:
        try:
            set_password(db, user, new)
        except AuthError as exc:
            error = str(exc)
    if error:
        return render(request, "password.html", status_code=400, title="Change password", error=error,
                      min_length=MIN_PASSWORD_LENGTH)
    audit.record(db, user.username, "password.change", target=user.username)
    db.commit()
    login_session(request, user)  # the old cookie's stamp no longer matches; issue a fresh one
    flash(request, "Your password has been changed.", "success")
    return RedirectResponse("/", status_code=303)


# --- OIDC -------------------------------------------------------------------------------------------------------


def _oidc_client(request: Request):
    config = _oidc(request)
    if config is None:
        return None, None
    registry = getattr(request.app.state, "oidc_registry", None)
    if registry is None:
        from authlib.integrations.starlette_client import OAuth

        registry = OAuth()
        registry.register(
            "school",
            server_metadata_url=config.metadata_url,
            client_id=config.client_id,
            client_secret=config.client_secret,
            client_kwargs={"scope": "openid email profile"},
        )
        request.app.state.oidc_registry = registry
    return config, registry.school


@router.get("/login/oidc")
async def oidc_start(request: Request, next: str = "/"):
    config, client = _oidc_client(request)
    if client is None:
        return render(request, "error.html", status_code=404, title="Single sign-on is not configured",
                      message="Sign in with your username and password.")
    request.session["oidc_next"] = safe_next(next)
    return await client.authorize_redirect(request, str(request.url_for("oidc_callback")))


def _sign_in_oidc(db: Session, claims: dict, config) -> User:
    try:
        user = user_for_oidc_claims(db, claims, config)
    except OidcMappingError:
        db.rollback()
        audit.record(db, None, "login.failed", detail={"reason": "oidc_unmapped"})
        db.commit()
        raise
    audit.record(db, user.username, "login", detail={"method": "oidc"})
    db.commit()
    return user


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request, db: SessionDep):
    config, client = _oidc_client(request)
    if client is None:
        return RedirectResponse("/login", status_code=303)
    try:
        token = await client.authorize_access_token(request)  # checks state, nonce and the ID token signature
    except Exception:  # noqa: BLE001 — provider errors (state mismatch, bad token) must not leak details
        return render(request, "login.html", status_code=400, title="Sign in", next="/", username="", oidc=config,
                      error="Single sign-on did not complete. Try again.")
    try:
        user = await run_in_threadpool(_sign_in_oidc, db, dict(token.get("userinfo") or {}), config)
    except OidcMappingError as exc:
        return render(request, "login.html", status_code=403, title="Sign in", error=str(exc), next="/",
                      username="", oidc=config)
    next_url = safe_next(request.session.get("oidc_next"))
    login_session(request, user)
    return RedirectResponse(next_url, status_code=303)
