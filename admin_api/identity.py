"""Who is calling the JSON API: the signed-in user, from the session cookie or HTTP Basic (for SIEM scripts), and
whether admin_api.permissions lets their role use the route.

    @router.get("/api/v1/things")
    def things(user: ApiUser, db: SessionDep): ...      # 401 with a Basic challenge, or 403
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from sqlalchemy.orm import Session

from . import permissions
from .accounts import LoginFailed, authenticate_request, is_locked
from .db import SessionDep
from .models import User
from .web_session import csrf_protect, session_stamp, user_from_cookie

_basic = HTTPBasic(auto_error=False, realm="pupilguard", description="Admin account (for SIEM scripts)")


class NotAuthenticated(HTTPException):
    """Nobody is signed in (JSON API: 401 with a Basic challenge; web pages redirect to the login page)."""

    def __init__(self) -> None:
        super().__init__(
            status.HTTP_401_UNAUTHORIZED, "Not signed in.", headers={"WWW-Authenticate": 'Basic realm="pupilguard"'}
        )


def current_user(
    request: Request,
    _csrf: Annotated[None, Depends(csrf_protect)],
    db: SessionDep,
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> User:
    """The signed-in user, from the session cookie or HTTP Basic (CSRF already checked by csrf_protect)."""
    user = user_from_cookie(request, db)
    if user is not None:
        return user
    if basic is not None:
        user = _basic_cache.get(db, basic.username, basic.password)
        if user is None:
            try:
                user = authenticate_request(request, db, basic.username, basic.password)
            except LoginFailed:
                db.commit()  # keep the failure count even though the request fails
                raise NotAuthenticated() from None
            db.commit()
            _basic_cache.put(user, basic.username, basic.password)
        request.state.user = user
        return user
    raise NotAuthenticated()


class _BasicCache:
    """Recently verified HTTP Basic credentials, so a SIEM script polling the API pays for argon2 once a minute
    rather than on every request.

    Keys are HMACs under a per-process random key (never the password, and useless outside this process). An
    entry only stands while the account is unchanged: a new password, role, lock-out or disabling ends it.
    """

    TTL = 60.0
    MAX = 1024

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._entries: dict[bytes, tuple[int, str, float]] = {}
        self._lock = threading.Lock()

    def _digest(self, username: str, password: str) -> bytes:
        message = username.encode("utf-8", "surrogatepass") + b"\0" + password.encode("utf-8", "surrogatepass")
        return hmac.digest(self._key, message, "sha256")

    def get(self, db: Session, username: str, password: str) -> User | None:
        digest = self._digest(username, password)
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None:
            return None
        user_id, stamp, expires = entry
        user = db.get(User, user_id) if time.monotonic() < expires else None
        if user is None or user.disabled or is_locked(user) or not hmac.compare_digest(stamp, session_stamp(user)):
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return user

    def put(self, user: User, username: str, password: str) -> None:
        with self._lock:
            if len(self._entries) >= self.MAX:
                self._entries.clear()
            expires = time.monotonic() + self.TTL
            self._entries[self._digest(username, password)] = (user.id, session_stamp(user), expires)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_basic_cache = _BasicCache()


def permitted(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
    """The signed-in user, if admin_api.permissions grants their role this route; 403 otherwise."""
    if not permissions.role_may_use(user.role, request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Your role does not allow this.")
    return user


ApiUser = Annotated[User, Depends(permitted)]
