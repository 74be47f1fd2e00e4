"""Events in the admin's store as the proxies would have sent them, and the decisions the casework tests need."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from admin_api.store import store_events
from detectors.events import Event

# Decisions as a proxy reports them: merged into new_event(**SAFEGUARDING).
SAFEGUARDING = dict(action="block", reasons=["special_category_with_identifier"],
                    entities={"PUPIL": 1, "SPECIAL_CATEGORY:SAFEGUARDING": 1},
                    excerpt="[PUPIL_1] told me about bruises at home")
SPECIAL = dict(action="block", reasons=["special_category_with_identifier"],
               entities={"PUPIL": 1, "SPECIAL_CATEGORY:SEN": 1}, excerpt="IEP for [PUPIL_1] with dyslexia")
TOOL_BLOCK = dict(action="block", reasons=["tool_blocked"], entities={}, excerpt="", tool="deepseek")


def new_event(**fields) -> Event:
    """A redaction an hour ago by a science teacher, with `fields` changed."""
    base = dict(event_id=uuid.uuid4(), time=datetime.now(UTC) - timedelta(hours=1), proxy_id="proxy-a",
                client_addr="10.0.0.5", user="t.teacher", profile="staff", department="Science", tool="chatgpt",
                host="chatgpt.com", path="/backend-api/conversation", action="redact",
                reasons=["identifier_redacted"], entities={"PUPIL": 1}, excerpt="Report for [PUPIL_1]",
                pupil_refs=[], analysis_ms=12.5)
    return Event(**(base | fields))


def seed(app, *events: Event) -> None:
    """Store events as the ingest endpoint would."""
    with app.state.db.session() as session:
        store_events(session, list(events))
        session.commit()
