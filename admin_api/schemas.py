"""Pydantic schemas of the admin JSON API (kept apart from the ORM models in models.py).

Ingest re-uses detectors.events (the one definition shared with the proxy spool) and only tightens the bounds to
what the store holds, so an oversized field is a clear 422 rather than a database error.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from detectors.events import Action, Event

from . import severity
from .models import INCIDENT_OUTCOMES, INCIDENT_STATUSES

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded: refuse both up front (422).
    if "\x00" in value:
        raise ValueError("NUL character not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("not valid Unicode text") from exc
    return value


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("time must be between 2000 and 2100")
    return value


Storable = AfterValidator(_storable)
Short = Annotated[str, StringConstraints(max_length=64), Storable]
Label = Annotated[str, StringConstraints(min_length=1, max_length=64), Storable]
Name = Annotated[str, StringConstraints(max_length=128), Storable]
Long = Annotated[str, StringConstraints(max_length=255), Storable]
UrlPath = Annotated[str, StringConstraints(max_length=2048), Storable]
Excerpt = Annotated[str, StringConstraints(max_length=1000), Storable]
EntityName = Annotated[str, StringConstraints(min_length=1, max_length=64), Storable]
Time = Annotated[AwareDatetime, AfterValidator(_in_range)]
# What a proxy may say about who sent a prompt: a sign-in name ("t.jones", "t.jones@school.sch.uk", "SCHOOL\\tjones")
# and a department name ("Design & Technology"); never free text, so never a place for a prompt or a pupil's details.
UserName = Annotated[str, StringConstraints(max_length=255, pattern=r"^[\w.@'\\+-]*$"), Storable]
DepartmentName = Annotated[str, StringConstraints(max_length=128, pattern=r"^(?:[\w&'(),./-]+(?: [\w&'(),./-]+)*)?$"),
                           Storable]


class IngestEvent(Event):
    """detectors.events.Event within the store's column sizes. extra="forbid" (inherited) rejects any field a raw
    prompt could ride in ("prompt", "text", "body", "messages"…) with a 422."""

    time: Time
    proxy_id: Name
    client_addr: Short
    user: UserName | None = None
    profile: Short | None = None
    department: DepartmentName | None = None
    tool: Label
    host: Long
    path: UrlPath
    excerpt: Excerpt = ""
    reasons: list[Short] = Field(default_factory=list, max_length=64)
    entities: dict[EntityName, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(default_factory=dict, max_length=64)
    pupil_refs: list[Short] = Field(default_factory=list, max_length=1000)
    analysis_ms: float = Field(default=0.0, ge=0, le=3_600_000)

    @field_validator("entities")
    @classmethod
    def _present_only(cls, entities: dict[str, int]) -> dict[str, int]:
        # a type counted 0 times is not in the event (and must not count in "events per data type")
        return {entity: n for entity, n in entities.items() if n > 0}


class IngestBatch(BaseModel):
    """detectors.events.EventBatch with the bounded event above."""

    model_config = ConfigDict(extra="forbid")

    events: list[IngestEvent] = Field(max_length=500)


class IngestResult(BaseModel):
    accepted: int
    duplicates: int


class EventOut(BaseModel):
    """One stored event. `excerpt` and `pupil_refs` are null for roles that may not see event text."""

    event_id: UUID
    time: datetime
    received_at: datetime
    proxy_id: str
    client_addr: str
    user: str | None
    profile: str | None
    department: str | None
    tool: str
    host: str
    path: str
    action: Action
    reasons: list[str]
    entities: dict[str, int]
    pupil_refs: list[str] | None
    excerpt: str | None
    analysis_ms: float
    severity: int = Field(description="0 nothing to review, 1 fail-closed, 2 unapproved tool, 3 pupil identifiers, "
                                      "4 special category, 5 safeguarding")
    incident_id: int | None = None


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next (older) page; null at the end.")


class EventFilter(BaseModel):
    """Filters shared by the event list, statistics and CSV export (JSON API and web pages alike)."""

    model_config = ConfigDict(extra="forbid")

    start: Time | None = Field(default=None, description="Events at or after this time (ISO 8601, tz).")
    end: Time | None = Field(default=None, description="Events before this time (ISO 8601, tz).")
    action: Action | None = None
    tool: Short | None = None
    profile: Short | None = None
    department: Name | None = None
    user: Long | None = None
    entity: EntityName | None = Field(default=None, description="Data type, e.g. UK_UPN or SPECIAL_CATEGORY:SEN.")
    proxy_id: Name | None = None
    pupil_ref: Short | None = None
    severity: int | None = Field(default=None, ge=0, le=5, description="Severity level (see EventOut.severity).")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """A paging cursor is "<time ISO 8601>~<event_id>" of the last event of the previous page."""
    try:
        time_text, id_text = cursor.split("~", 1)
        time = datetime.fromisoformat(time_text)
        if time.tzinfo is None:
            raise ValueError
        return time, UUID(id_text)
    except ValueError:
        raise ValueError("invalid cursor: use the next_cursor value of the previous page") from None


def _valid_cursor(cursor: str) -> str:
    decode_cursor(cursor)
    return cursor


Cursor = Annotated[str, StringConstraints(max_length=200), AfterValidator(_valid_cursor)]


class EventQuery(EventFilter):
    """The event list's query: the filters plus paging."""

    limit: int = Field(default=50, ge=1, le=500)
    cursor: Cursor | None = Field(default=None, description="next_cursor of the previous page")

    def filter(self) -> EventFilter:
        return EventFilter(**self.model_dump(exclude={"limit", "cursor"}))


class ActionCounts(BaseModel):
    allow: int = 0
    redact: int = 0
    block: int = 0


class TimelinePoint(ActionCounts):
    day: str = Field(description="UTC day, YYYY-MM-DD")


class GroupCounts(ActionCounts):
    key: str | None


class Stats(BaseModel):
    total: int
    by_action: ActionCounts
    timeline: list[TimelinePoint]
    by_tool: list[GroupCounts]
    by_profile: list[GroupCounts]
    by_department: list[GroupCounts]
    by_entity: list[GroupCounts] = Field(
        description="Events per data type (an event counts once per type); with an `entity` filter, that type only.")
    by_severity: list[GroupCounts] = Field(
        default_factory=list, description="Events per severity (key: its name), most serious first, every level.")


class AuditOut(BaseModel):
    id: int
    time: datetime
    username: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Long | None = None
    action: Short | None = None
    start: Time | None = None
    end: Time | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    before: int | None = Field(default=None, ge=1, le=2**31 - 1, description="next_before of the previous page")


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end.")


class ConfigOut(BaseModel):
    allowlist: str
    policy: str | None
    roster_etag: str | None
    ai_domains: str | None = None  # additions (and `!domain` removals) to the proxies' list of AI domains


class ProxyOut(BaseModel):
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    last_seen_addr: str | None
    last_seen_version: str | None
    events_received: int


class Health(BaseModel):
    """Liveness for anyone; database and schema revision only for monitoring clients (routers/health.py)."""

    status: Literal["ok"]
    database: str | None = None
    schema_revision: str | None = None


# --- incidents (casework) -------------------------------------------------------------------------------------------

# the values the store holds, named once in models / severity
IncidentStatus = Literal[INCIDENT_STATUSES]  # type: ignore[valid-type]
SeverityName = Literal[tuple(severity.NAMES[level] for level in severity.LEVELS)]  # type: ignore[misc]
Outcome = Literal[INCIDENT_OUTCOMES]  # type: ignore[valid-type]


class IncidentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: IncidentStatus | Literal["open", "all"] = Field(
        default="open", description='"open" (every status but closed), one status, or "all".')
    severity: SeverityName | None = None
    assignee: Long | None = None
    user: Long | None = None
    department: Name | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class IncidentOut(BaseModel):
    id: int
    severity: SeverityName
    status: IncidentStatus
    user: str | None = Field(description="The member of staff (null: known only by client address).")
    department: str | None
    first_event_at: datetime
    last_event_at: datetime
    events: int
    assignee: str | None
    outcome: Outcome | None
    closed_at: datetime | None
    updated_at: datetime


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int = Field(description="Incidents matching the filters (all pages).")


class NoteOut(BaseModel):
    id: int
    time: datetime
    author: str
    text: str


class IncidentDetail(IncidentOut):
    notes: list[NoteOut]
    recent_events: list[EventOut] = Field(description="The incident's events, newest first (at most 200).")


class IncidentUpdate(BaseModel):
    """Only the fields given change. Closing needs an outcome (given here or already set); reopening clears it.
    `assignee`: a DPO or DSL account's username, or "" to unassign."""

    model_config = ConfigDict(extra="forbid")

    status: IncidentStatus | None = None
    assignee: Long | None = None
    outcome: Outcome | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=4000), Storable] = Field(
        description="Casework: what was done. Name pupils by their reference (P-…), never by name.")
