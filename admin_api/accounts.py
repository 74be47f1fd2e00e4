"""Staff accounts: passwords, lock-out and the per-address throttle.

Passwords are argon2id-hashed (argon2-cffi defaults, RFC 9106 low-memory profile). A browser signs in with a form
(admin_api.web.routes.account) and scripts such as a SIEM with HTTP Basic (admin_api.identity); both check the
password here, so one lock-out policy covers both. Roles and what they may do: admin_api.permissions.

    user = create_user(session, "dpo.smith", password, "dpo", email="dpo@school.sch.uk")
    user = authenticate_request(request, session, username, password)   # or LoginFailed
"""
from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .clients import client_address
from .models import ROLES, User, utcnow

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# Per client address, across accounts (password spraying): this many failures within LOCKOUT refuse every further
# attempt from that address until the oldest failure is LOCKOUT old. In memory, per admin process.
MAX_ADDRESS_FAILURES = 20
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 would happily hash megabytes; nobody types that

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(ValueError):
    """A user-facing problem with an account operation (bad role, weak password, duplicate name)."""


class LoginFailed(Exception):
    """Wrong username or password, or the account is locked or disabled. Deliberately one message for all."""

    message = (
        f"Sign-in failed. Check your username and password. After {MAX_FAILURES} failed attempts an account "
        f"is locked for {int(LOCKOUT.total_seconds() // 60)} minutes."
    )

    def __init__(self, reason: str, user: User | None = None) -> None:
        super().__init__(self.message)
        # "unknown_user" | "bad_password" | "locked" | "disabled" | "address_throttled" — for the audit log only
        self.reason = reason
        self.user = user


class AddressThrottle:
    """Failed sign-ins per client address in a sliding window (LOCKOUT), so that one address trying a password
    on many accounts is stopped even though no single account reaches MAX_FAILURES."""

    MAX_ADDRESSES = 10_000  # memory bound; when full, the oldest address is forgotten

    def __init__(self, limit: int = MAX_ADDRESS_FAILURES, window: timedelta = LOCKOUT) -> None:
        self.limit, self.window = limit, window.total_seconds()
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(address, ()) if now - t < self.window]
        if times:
            self._failures[address] = times
        else:
            self._failures.pop(address, None)
        return times

    def blocked(self, address: str | None) -> bool:
        if not address:
            return False
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= self.limit

    def failed(self, address: str | None) -> None:
        if not address:
            return
        with self._lock:
            now = time.monotonic()
            times = self._recent(address, now)
            if not times and len(self._failures) >= self.MAX_ADDRESSES:
                self._failures.pop(next(iter(self._failures)))
            self._failures[address] = [*times, now][-self.limit:]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def check_password_strength(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(f"Password must be at most {MAX_PASSWORD_LENGTH} characters long.")
    if username and password.casefold() == username.casefold():
        raise AuthError("Password must not be the same as the username.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 150 or any(c.isspace() or not c.isprintable() for c in name):
        raise AuthError("Username must be 1-150 printable characters without spaces.")
    return name


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(session: Session, username: str, password: str, role: str, email: str | None = None) -> User:
    """Add an account. Flushes (so the id is set and duplicates fail here) but leaves the commit to the caller."""
    username = normalise_username(username)
    if role not in ROLES:
        raise AuthError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    check_password_strength(password, username)
    if get_user_by_username(session, username) is not None:
        raise AuthError(f"A user called {username!r} already exists.")
    if email:
        email = email.strip().lower()
        if "@" not in email:
            raise AuthError("Email address must contain '@'.")
        if get_user_by_email(session, email) is not None:
            raise AuthError(f"Another user already has the email address {email!r}.")
    now = utcnow()
    user = User(
        username=username,
        email=email or None,
        password_hash=hash_password(password),
        role=role,
        failed_logins=0,
        locked_until=None,
        disabled=False,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, new_password: str) -> None:
    """Change a password; every existing browser session of this user stops working (see session_stamp)."""
    check_password_strength(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    session.flush()


def is_locked(user: User, now: datetime | None = None) -> bool:
    until = _aware(user.locked_until)
    return until is not None and until > (now or utcnow())


def reset_lockout(session: Session, user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def authenticate_request(request: Request, session: Session, username: str, password: str) -> User:
    """`authenticate` for a request, throttled per client address across accounts (the app's AddressThrottle):
    after too many failures from one address nothing more is even tried from there for a while."""
    throttle: AddressThrottle = request.app.state.address_throttle
    address = client_address(request)
    if throttle.blocked(address):
        raise LoginFailed("address_throttled")
    try:
        return authenticate(session, username, password)
    except LoginFailed as failure:
        if failure.reason != "disabled":
            throttle.failed(address)
        raise


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User:
    """Return the user if the password is right and the account usable; otherwise raise LoginFailed.

    The failure counter and lock are written (flushed) here; the caller commits, also on failure.
    """
    now = now or utcnow()
    user = get_user_by_username(session, username) if username else None
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise LoginFailed("unknown_user")
    if user.disabled:
        verify_password(_DUMMY_HASH, password)
        raise LoginFailed("disabled", user)
    if is_locked(user, now):
        # No verification while locked: a correct guess must not be distinguishable from a wrong one.
        raise LoginFailed("locked", user)
    if not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            session.flush()
            raise LoginFailed("locked", user)
        session.flush()
        raise LoginFailed("bad_password", user)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if user.password_hash and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return user


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is None:  # an OIDC-only account has no password to match; spend the same time anyway
        password_hash = _DUMMY_HASH
        password = ""  # never matches the dummy's random secret
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False

