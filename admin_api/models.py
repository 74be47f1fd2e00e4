"""ORM models: the admin service's whole schema, for SQLite and PostgreSQL alike.

The event tables hold only what a proxy may send (detectors.events.Event): types, counts, a redacted excerpt and
pseudonymous pupil references — never a raw prompt or a plaintext roster name. Alembic migrations in
admin_api/migrations/ must produce exactly this schema (tests/admin_api/test_migrations.py checks).

(Over 350 lines on purpose: one module is the whole schema, read in one place and compared with the migrations
as one metadata.)
"""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from . import permissions

ROLES = tuple(permissions.ROLES)  # the role table is admin_api.permissions
ACTIONS = ("allow", "redact", "block")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect.

    SQLite has no time zone type and hands back naive values; storing UTC and re-attaching the zone on the way out
    keeps comparisons and JSON output identical on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (compact, indexable), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")

# Stable constraint names so Alembic migrations and drops are deterministic on both dialects.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Event(Base):
    """One proxy decision. Stored exactly once per event_id, whatever the number of deliveries."""

    __tablename__ = "events"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    proxy_id: Mapped[str] = mapped_column(String(128), nullable=False)
    client_addr: Mapped[str] = mapped_column(String(64), nullable=False)
    user: Mapped[str | None] = mapped_column(String(255))
    profile: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(128))
    tool: Mapped[str] = mapped_column(String(64), nullable=False)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    path: Mapped[str] = mapped_column(String(2048), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    reasons: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    excerpt: Mapped[str] = mapped_column(Text, nullable=False, default="")
    analysis_ms: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    # admin_api.severity.severity_of(the event), computed once at ingest (0 = nothing to review)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0, server_default="0")
    # the incident this event was grouped into (events of severity 0 join none)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))

    entities: Mapped[list[EventEntity]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )
    pupils: Mapped[list[EventPupil]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("action IN ('allow', 'redact', 'block')", name="action"),
        Index("ix_events_time", "time", "event_id"),  # newest-first keyset paging
        Index("ix_events_action_time", "action", "time"),
        Index("ix_events_tool_time", "tool", "time"),
        # the staff filter ignores case ("T.Jones" is "t.jones"): an index on the lower-cased name
        Index("ix_events_user_lower_time", func.lower(text('"user"')), "time"),
        Index("ix_events_severity_time", "severity", "time"),
        Index("ix_events_incident_id", "incident_id"),
    )


class EventEntity(Base):
    """Count of one data type (PUPIL, UK_UPN, SPECIAL_CATEGORY:SEN…) in one event."""

    __tablename__ = "event_entities"

    event_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True
    )
    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)

    event: Mapped[Event] = relationship(back_populates="entities")

    __table_args__ = (Index("ix_event_entities_entity", "entity", "event_id"),)


class EventPupil(Base):
    """A pseudonymous pupil reference found in an event, for "find a pupil" (subject-access requests)."""

    __tablename__ = "event_pupils"

    event_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True
    )
    pupil_ref: Mapped[str] = mapped_column(String(64), primary_key=True)

    event: Mapped[Event] = relationship(back_populates="pupils")

    __table_args__ = (Index("ix_event_pupils_pupil_ref", "pupil_ref"),)


# Daily roll-ups: the dashboard's statistics read a few thousand of these rows instead of scanning a million events.
# Kept up to date by store.store_events (ingest) and retention (purge); rollups.rebuild() recomputes them from the
# events. "" stands for "none" in profile/department so that the key can be a primary key on both databases.

class DailyTotal(Base):
    """Events per UTC day and action, for one dimension at a time (dimension "tool", "profile", "department" or
    "entity"; key = its value): the unfiltered dashboard reads ~100 rows a day from here."""

    __tablename__ = "daily_totals"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    action: Mapped[str] = mapped_column(String(16), primary_key=True)
    events: Mapped[int] = mapped_column(Integer, nullable=False)


class _Breakdown:
    """The filters a dashboard can narrow a daily count by, and the count (the columns after each table's own key:
    sort_order keeps them there, where the primary keys and migrations have them)."""

    action: Mapped[str] = mapped_column(String(16), primary_key=True, sort_order=1)
    tool: Mapped[str] = mapped_column(String(64), primary_key=True, sort_order=1)
    profile: Mapped[str] = mapped_column(String(64), primary_key=True, sort_order=1)
    department: Mapped[str] = mapped_column(String(128), primary_key=True, sort_order=1)
    severity: Mapped[int] = mapped_column(SmallInteger, primary_key=True, sort_order=1)
    events: Mapped[int] = mapped_column(Integer, nullable=False, sort_order=1)


class DailyCount(_Breakdown, Base):
    """Events per UTC day, action, tool, profile, department and severity (for dashboards filtered on those)."""

    __tablename__ = "daily_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)

    __table_args__ = (Index("ix_daily_counts_tool_day", "tool", "day"),)


class DailyEntityCount(_Breakdown, Base):
    """Events holding each data type, per UTC day, action, tool, profile, department and severity."""

    __tablename__ = "daily_entity_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    entity: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_daily_entity_counts_entity_day", "entity", "day"),)


class Proxy(Base):
    """A proxy node allowed to send events and fetch config. Only a hash of its bearer token is kept."""

    __tablename__ = "proxies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_addr: Mapped[str | None] = mapped_column(String(64))
    last_seen_version: Mapped[str | None] = mapped_column(String(64))
    events_received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class User(Base):
    """A member of staff who signs in to the admin UI/API. password_hash is argon2 (None for OIDC-only users)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)  # lower-case; maps OIDC sign-ins
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    oidc_issuer: Mapped[str | None] = mapped_column(String(512))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on sign-out: part of the session stamp, so every cookie issued before stops working (server-side
    # sign-out without a session table; it signs the user out on all their devices).
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")

    __table_args__ = (
        CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="role"),
        UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc"),
    )


class AuditEntry(Base):
    """Who viewed, searched, exported or changed what. Holds no personal data beyond the staff username."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    username: Mapped[str] = mapped_column(String(255), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)

    __table_args__ = (Index("ix_audit_log_time", "time"),)


class Setting(Base):
    """Centrally managed configuration: retention_days, allowlist_yaml, policy_yaml."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(255))


class RosterUpload(Base):
    """A hashed roster file (detectors' roster format) as served to proxies. Never the plaintext MIS export."""

    __tablename__ = "roster_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(255), nullable=False)
    etag: Mapped[str] = mapped_column(String(64), nullable=False)
    pupils: Mapped[int] = mapped_column(Integer, nullable=False)
    name_forms: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)


class Purge(Base):
    """A record of each retention purge (automatic or by a DPO)."""

    __tablename__ = "purges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    deleted: Mapped[int] = mapped_column(Integer, nullable=False)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)


# --- trust: alerts for the DPO and changes awaiting a second DPO (migration 0003_trust) ------------------------------

class SecurityAlert(Base):
    """Something the DPO must see: an excerpt a proxy sent that still held an identifier (kind "excerpt_integrity"),
    a change that weakened protection ("protection_weakened"), or one awaiting a second DPO ("change_pending").

    Shown on the dashboard until a DPO acknowledges it. `notified_at` is for an e-mail sender: alerts with none are
    still to be sent. `summary` and `detail` hold no pupil data (entity types, counts, setting names, usernames).
    """

    __tablename__ = "security_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    summary: Mapped[str] = mapped_column(String(500), nullable=False)
    source: Mapped[str] = mapped_column(String(255), nullable=False)  # a staff username or a proxy's name
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_security_alerts_open", "acknowledged_at", "time"),)


class PendingChange(Base):
    """A change that weakens protection, made by one DPO and waiting for another (settings.second_approver)."""

    __tablename__ = "pending_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    requested_by: Mapped[str] = mapped_column(String(255), nullable=False)
    setting: Mapped[str] = mapped_column(String(64), nullable=False)  # config_store.ALLOWLIST, POLICY, RETENTION
    value: Mapped[str | None] = mapped_column(Text)  # None: back to the shipped default (policy)
    weakens: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),)


INCIDENT_STATUSES = ("new", "in_review", "escalated", "closed")
INCIDENT_OUTCOMES = ("spoke_to_staff", "guidance_given", "safeguarding_referral", "reported_to_ico",
                     "no_action_appropriate", "false_positive")


class Incident(Base):
    """Events needing review, grouped: one member of staff (or, without a user, one client address) within a
    window of quiet time (admin_api.incidents). Casework: status, assignee, notes and an outcome."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # who sent it: the proxy's user where known, else "addr:<client address>" (the grouping key)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    user: Mapped[str | None] = mapped_column(String(255))
    department: Mapped[str | None] = mapped_column(String(128))
    first_event_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    events: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # the most serious of its events
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="new")
    assignee: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    notes: Mapped[list[IncidentNote]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", passive_deletes=True, order_by="IncidentNote.id"
    )

    __table_args__ = (
        CheckConstraint("status IN ('new', 'in_review', 'escalated', 'closed')", name="status"),
        Index("ix_incidents_subject_last", "subject", "last_event_at"),  # grouping at ingest
        # "needs review": open incidents, most serious and newest first, read straight off this partial index
        Index("ix_incidents_open", "severity", "last_event_at", "id",
              postgresql_where=text("status <> 'closed'"), sqlite_where=text("status <> 'closed'")),
        Index("ix_incidents_status_last", "status", "last_event_at"),
    )


class IncidentNote(Base):
    """A reviewer's note on an incident (casework, not pupil data: the form says so)."""

    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    author: Mapped[str] = mapped_column(String(255), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)

    incident: Mapped[Incident] = relationship(back_populates="notes")

    __table_args__ = (Index("ix_incident_notes_incident_id", "incident_id"),)


class OutboxMessage(Base):
    """An alert waiting to be delivered (e-mail, webhook or syslog), written in the same transaction as whatever
    caused it, so a mail server that is down loses nothing. `key` is unique: enqueueing the same alert twice
    (a re-delivered event batch) adds nothing. admin_api.alerts delivers and retries with backoff."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # email | webhook | syslog
    recipient: Mapped[str] = mapped_column(String(512), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(512))

    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)
