"""Browser sessions and CSRF.

A session lives in a signed cookie (Starlette's SessionMiddleware over itsdangerous: HttpOnly, SameSite=Lax,
Secure unless the localhost trial turns it off), bound to the account by a stamp so that signing out, a new
password or a new role ends every copy of it. Every state-changing request made with the session cookie must carry
the session's CSRF token (hidden form field or X-CSRF-Token header), and no cross-site write is accepted at all.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from .forms import FormDep
from .models import User
from .settings import secret_value

SESSION_COOKIE = "pupilguard_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_stamp(user: User) -> str:
    # Bound into the cookie: changing the password or the role, or signing out (session_epoch), invalidates every
    # cookie issued before — the cookie is signed but stateless, so this is what makes sign-out real.
    epoch = user.session_epoch or 0
    return hashlib.sha256(f"{user.id}:{user.password_hash}:{user.role}:{epoch}".encode()).hexdigest()[:24]


def login_session(request: Request, user: User) -> None:
    """Start a fresh browser session (new CSRF token too, so nothing from before sign-in carries over)."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["stamp"] = session_stamp(user)
    request.session["csrf"] = secrets.token_urlsafe(32)


def logout_session(request: Request, db: Session, user: User) -> None:
    """End the session server-side: a copy of the cookie (shared PC, proxy log) must stop working too. The stamp
    is per user, so this signs the user out on every device; the sign-in page says so."""
    user.session_epoch = (user.session_epoch or 0) + 1
    db.flush()
    request.session.clear()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (the login form needs one before anyone signs in)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


class CsrfError(HTTPException):
    """A state-changing request that did not come from our own form (403; the web UI shows it as a page)."""

    def __init__(self, detail: str) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, detail)


async def verify_csrf(request: Request, form: FormDep) -> None:
    """Dependency for state-changing browser requests: the token must match the one in the session."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CsrfError("Missing or invalid CSRF token. Reload the page and try again.")


async def csrf_protect(request: Request, form: FormDep) -> None:
    """Dependency run before any user lookup: no cross-site writes at all (browsers may replay cached Basic
    credentials), and a write made with the session cookie must carry the session's CSRF token.

    Async (it does no I/O of its own: the form was read by the `FormDep` it shares with the route), so it runs on
    the event loop; the user lookup that follows is sync, so FastAPI runs it (argon2, database waits) in the thread
    pool.
    """
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfError("Cross-site request refused.")
    if "session" in request.scope and request.session.get("uid") is not None:
        await verify_csrf(request, form)


def user_from_cookie(request: Request, db: Session) -> User | None:
    uid = request.session.get("uid") if "session" in request.scope else None
    if uid is None:
        return None
    user = db.get(User, uid)
    if user is None or user.disabled or not hmac.compare_digest(request.session.get("stamp", ""), session_stamp(user)):
        request.session.clear()
        return None
    request.state.user = user
    return user


def install(app: FastAPI, settings: Any) -> None:
    """The session cookie middleware, signed with settings.secret_key."""
    secret = secret_value(getattr(settings, "secret_key", None))
    if not secret or len(secret) < 32:
        raise RuntimeError("settings.secret_key must be set to at least 32 characters to sign session cookies.")
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=int(getattr(settings, "session_max_age", 8 * 3600)),
        same_site="lax",
        https_only=bool(getattr(settings, "cookie_secure", True)),
    )
