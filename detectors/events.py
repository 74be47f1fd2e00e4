"""The event a proxy records for each scanned prompt: shared by the proxy spool and the admin ingest API.

An event never carries a raw prompt: only entity types with counts, a redacted excerpt (placeholders only)
and pseudonymous pupil references.
"""
from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Action = Literal["allow", "redact", "block"]


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: UUID
    time: AwareDatetime
    proxy_id: str
    client_addr: str
    user: str | None = None
    profile: str | None = None
    department: str | None = None
    tool: str
    host: str
    path: str
    action: Action
    reasons: list[str] = Field(default_factory=list)
    entities: dict[str, int] = Field(default_factory=dict)
    excerpt: str = Field(default="", max_length=1000)
    pupil_refs: list[str] = Field(default_factory=list)
    analysis_ms: float = Field(default=0.0, ge=0)


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[Event] = Field(max_length=500)


__all__ = ["Action", "Event", "EventBatch"]
