"""Who may use the admin service, and how they prove it.

Passwords are argon2id-hashed (argon2-cffi defaults, RFC 9106 low-memory profile). Browser sessions live in a
signed cookie (Starlette's SessionMiddleware over itsdangerous: HttpOnly, SameSite=Lax, Secure unless the
localhost trial turns it off). Scripts such as a SIEM use HTTP Basic against the same accounts, so one lock-out
policy covers both. Every state-changing request made with the session cookie must carry the session's CSRF
token (hidden form field or X-CSRF-Token header).

Roles: ``dpo`` sees and changes everything; ``it`` runs the service (allowlist, roster, proxies, health) and sees
event metadata but never event text; ``viewer`` sees statistics only; ``dsl`` (Designated Safeguarding Lead)
works the safeguarding incidents (admin_api.incidents decides which). Which route each role may use is
admin_api/permissions.py; ``permitted`` (JSON API) and web.deps.page_user (pages) enforce it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from admin_api import permissions
from admin_api.db import get_session
from admin_api.models import ROLES, User

if TYPE_CHECKING:
    from fastapi import FastAPI

ROLE_LABELS = {"dpo": "Data Protection Officer", "dsl": "Designated Safeguarding Lead", "it": "IT administrator",
               "viewer": "Viewer (statistics only)"}

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# Per client address, across accounts (password spraying): this many failures within LOCKOUT refuse every further
# attempt from that address until the oldest failure is LOCKOUT old. In memory, per admin process.
MAX_ADDRESS_FAILURES = 20
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 would happily hash megabytes; nobody types that

SESSION_COOKIE = "pupilguard_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_basic = HTTPBasic(auto_error=False, realm="pupilguard", description="Admin account (for SIEM scripts)")


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


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# --- passwords and accounts -------------------------------------------------------------------------------------


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
    now = _now()
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
    user.password_changed_at = _now()
    session.flush()


def is_locked(user: User, now: datetime | None = None) -> bool:
    until = _aware(user.locked_until)
    return until is not None and until > (now or _now())


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
    now = now or _now()
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


def client_address(request: Request) -> str:
    """The client's address: the peer's, or — when the peer is a configured trusted reverse proxy — the nearest
    address in X-Forwarded-For that is not itself a trusted proxy. From any other peer the header is ignored, since
    a client could otherwise pick a fresh address per guess."""
    peer = request.client.host if request.client else ""
    trusted = getattr(request.app.state.settings, "trusted_proxies", None) or []
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and _in_networks(peer, trusted):
        for hop in reversed([h.strip() for h in forwarded.split(",")]):
            if not _in_networks(hop, trusted):
                return hop[:64]
    return peer


def _in_networks(address: str, networks: list[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


# --- browser sessions -----------------------------------------------------------------------------------------


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


async def read_form(request: Request) -> dict[str, Any]:
    """The submitted form's fields, parsed in memory and cached for the request.

    Multipart bodies are parsed here rather than by Starlette, which spools file parts over 1 MB to a temporary
    file: an uploaded MIS export is plaintext pupil data and must never touch the disk. File parts come back as
    ``UploadedFile`` (name, content type, bytes); the app's body-size limit bounds the memory used.
    """
    cached = getattr(request.state, "form_fields", None)
    if cached is not None:
        return cached
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"multipart/form-data" and b"boundary" in options:
        fields = await _parse_multipart(request, options[b"boundary"])
    elif content_type == b"application/x-www-form-urlencoded":
        fields = dict((await request.form()).items())  # parsed in memory by Starlette, which caches it too
    else:
        fields = {}
    request.state.form_fields = fields
    return fields


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


async def _parse_multipart(request: Request, boundary: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    part: dict[str, Any] = {}
    header = bytearray()
    value = bytearray()

    def on_part_begin() -> None:
        part.clear()
        value.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.setdefault(bytes(header).lower(), bytearray()).extend(data[start:end])

    def on_header_end() -> None:
        header.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_part_end() -> None:
        _, disposition = parse_options_header(bytes(part.get(b"content-disposition", b"")))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            fields[name] = UploadedFile(disposition[b"filename"].decode("utf-8", "replace"),
                                        bytes(part.get(b"content-type", b"")).decode("latin-1"), bytes(value))
        else:
            fields[name] = bytes(value).decode("utf-8", "replace")

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_part_data": on_part_data, "on_part_end": on_part_end,
    })
    body = await request.body()  # cached on the request, so a later request.form() still works
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Malformed form data.") from None
    return fields


class CsrfError(HTTPException):
    """A state-changing request that did not come from our own form (403; the web UI shows it as a page)."""

    def __init__(self, detail: str) -> None:
        super().__init__(status.HTTP_403_FORBIDDEN, detail)


async def verify_csrf(request: Request) -> None:
    """Dependency for state-changing browser requests: the token must match the one in the session."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        value = (await read_form(request)).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CsrfError("Missing or invalid CSRF token. Reload the page and try again.")


async def csrf_protect(request: Request) -> None:
    """Dependency run before any user lookup: no cross-site writes at all (browsers may replay cached Basic
    credentials), and a write made with the session cookie must carry the session's CSRF token.

    Async because reading the form is; the user lookup that follows is sync, so FastAPI runs it (argon2, database
    waits) in the thread pool instead of on the event loop.
    """
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfError("Cross-site request refused.")
    if "session" in request.scope and request.session.get("uid") is not None:
        await verify_csrf(request)


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


class NotAuthenticated(HTTPException):
    """Nobody is signed in (JSON API: 401 with a Basic challenge; web pages redirect to the login page)."""

    def __init__(self) -> None:
        super().__init__(
            status.HTTP_401_UNAUTHORIZED, "Not signed in.", headers={"WWW-Authenticate": 'Basic realm="pupilguard"'}
        )


def current_user(
    request: Request,
    _csrf: None = Depends(csrf_protect),
    db: Session = Depends(get_session),
    basic: HTTPBasicCredentials | None = Depends(_basic),
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
            self._entries[self._digest(username, password)] = (user.id, session_stamp(user), time.monotonic() + self.TTL)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_basic_cache = _BasicCache()


def permitted(request: Request, user: User = Depends(current_user)) -> User:
    """The signed-in user, if admin_api.permissions grants their role this route; 403 otherwise."""
    if not permissions.role_may_use(user.role, request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Your role does not allow this.")
    return user


# --- OIDC (Microsoft Entra ID / Google Workspace) -----------------------------------------------------------------

@dataclass(frozen=True)
class OidcConfig:
    """Sign-in with the school's identity provider, configured by settings (environment):

        PUPILGUARD_OIDC_PROVIDER=entra   PUPILGUARD_OIDC_ISSUER=https://login.microsoftonline.com/<tenant-id>/v2.0
        PUPILGUARD_OIDC_PROVIDER=google  PUPILGUARD_OIDC_ISSUER=https://accounts.google.com
        PUPILGUARD_OIDC_CLIENT_ID=…  PUPILGUARD_OIDC_CLIENT_SECRET=…  PUPILGUARD_OIDC_ALLOWED_DOMAIN=school.sch.uk

    Register the redirect URI https://<admin host>/login/oidc/callback with the provider. Accounts are still
    created by the DPO (with the person's email); sign-in only maps a verified identity onto one.
    """

    provider: str  # "entra" | "google" | "generic"
    issuer: str
    client_id: str
    client_secret: str
    allowed_domain: str | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    @property
    def label(self) -> str:
        return {"entra": "Microsoft", "google": "Google"}.get(self.provider, "single sign-on")


def oidc_config(settings: Any) -> OidcConfig | None:
    issuer = getattr(settings, "oidc_issuer", None)
    client_id = getattr(settings, "oidc_client_id", None)
    if not issuer or not client_id:
        return None
    return OidcConfig(
        provider=getattr(settings, "oidc_provider", None) or "generic",
        issuer=issuer,
        client_id=client_id,
        client_secret=_secret_value(getattr(settings, "oidc_client_secret", None)) or "",
        allowed_domain=(getattr(settings, "oidc_allowed_domain", None) or None),
    )


class OidcMappingError(Exception):
    """The identity provider vouched for someone we will not let in; message is safe to show."""


def email_from_claims(claims: dict[str, Any], config: OidcConfig) -> str:
    """The verified email address an ID token vouches for, or OidcMappingError.

    Google sets ``email_verified`` and ``hd`` (the Workspace domain). Entra ID's ``email`` claim is the mail
    attribute, which nobody verifies (the "nOAuth" account-takeover pattern), so it is never used:
    ``preferred_username`` / ``upn`` is the sign-in name of the tenant's own account, which is what a school
    staff account is.
    """
    if config.provider == "entra":
        email = claims.get("preferred_username") or claims.get("upn")
    else:
        email = claims.get("email")
        if claims.get("email_verified") not in (True, "true"):
            raise OidcMappingError("Your identity provider did not confirm your email address.")
    if not email or "@" not in str(email):
        raise OidcMappingError("Your identity provider did not send an email address.")
    email = str(email).strip().lower()
    if config.allowed_domain:
        domain = config.allowed_domain.strip().lower()
        if config.provider == "google" and str(claims.get("hd", "")).lower() != domain:
            raise OidcMappingError(f"Only {domain} Google Workspace accounts may sign in.")
        if email.rsplit("@", 1)[1] != domain:
            raise OidcMappingError(f"Only {domain} accounts may sign in.")
    return email


def user_for_oidc_claims(session: Session, claims: dict[str, Any], config: OidcConfig) -> User:
    """Map a signed-in identity to an existing account by email. Never creates accounts: the DPO does that.

    The first sign-in binds the account to the provider's subject id; afterwards a different subject with the same
    email (a recycled or re-created mailbox) is refused.
    """
    email = email_from_claims(claims, config)
    subject = str(claims.get("sub") or "")
    issuer = str(claims.get("iss") or config.issuer)
    if not subject:
        raise OidcMappingError("Your identity provider did not send a subject identifier.")
    user = get_user_by_email(session, email)
    if user is None or user.disabled:
        raise OidcMappingError(f"No pupilguard account is linked to {email}. Ask the DPO to add one.")
    if user.oidc_subject is None:
        user.oidc_issuer, user.oidc_subject = issuer, subject
    elif (user.oidc_issuer, user.oidc_subject) != (issuer, subject):
        raise OidcMappingError(f"The account for {email} is linked to a different sign-in. Ask the DPO.")
    if is_locked(user):
        raise OidcMappingError("This account is locked after repeated failed sign-ins. Ask the DPO to unlock it.")
    user.last_login_at = _now()
    session.flush()
    return user


# --- wiring -------------------------------------------------------------------------------------------------------


def _secret_value(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, bytes):
        value = base64.urlsafe_b64encode(value).decode()
    return str(value)


def install(app: FastAPI, settings: Any) -> None:
    """Add the session cookie middleware, security headers and the web UI's static files to the app."""
    from admin_api import web  # the web package imports this module; import late to avoid a cycle

    app.state.address_throttle = AddressThrottle()
    secret = _secret_value(getattr(settings, "secret_key", None))
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
    web.install(app, settings)
