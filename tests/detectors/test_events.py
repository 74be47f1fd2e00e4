"""The event schema shared by the proxy spool and the admin ingest API."""
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from detectors.events import Event, EventBatch


def event(**over):
    data = dict(event_id=str(uuid.uuid4()), time=datetime.now(UTC).isoformat(), proxy_id="site-a",
                client_addr="10.0.3.4", user=None, profile="staff", department=None, tool="chatgpt",
                host="chatgpt.com", path="/backend-api/f/conversation", action="redact",
                reasons=["identifier_redacted"], entities={"PUPIL": 2}, excerpt="[PUPIL_1] did well",
                pupil_refs=["P-ABCDEFGHJK"], analysis_ms=12.5)
    data.update(over)
    return data


def test_round_trip_through_json():
    e = Event.model_validate(event())
    again = Event.model_validate_json(e.model_dump_json())
    assert again == e and again.time.tzinfo is not None


def test_unknown_fields_rejected_so_no_raw_prompt_can_ride_along():
    with pytest.raises(ValidationError, match="prompt"):
        Event.model_validate(event(prompt="Oliver Smith has ADHD"))


@pytest.mark.parametrize("bad", [
    {"time": "2026-11-23T10:00:00"},          # naive time
    {"action": "forward"},
    {"excerpt": "x" * 1001},
    {"event_id": "not-a-uuid"},
])
def test_invalid_values_rejected(bad):
    with pytest.raises(ValidationError):
        Event.model_validate(event(**bad))


def test_batch_limit():
    EventBatch.model_validate({"events": [event() for _ in range(500)]})
    with pytest.raises(ValidationError):
        EventBatch.model_validate({"events": [event() for _ in range(501)]})
    with pytest.raises(ValidationError):
        EventBatch.model_validate({"events": [], "extra": 1})


def test_importing_events_does_not_load_nlp():
    code = "import detectors.events, detectors.allowlist, sys, json; " \
           "print(json.dumps(['spacy' in sys.modules, 'presidio_analyzer' in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [False, False]
