"""Property-based run over the admin API's OpenAPI schema: whatever schemathesis generates — valid or not — the
service answers without a server error (5xx) and its successful answers match the documented schemas."""
from __future__ import annotations

import base64

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

PROXY_OPERATIONS = {("GET", "/api/v1/config"), ("GET", "/api/v1/config/roster"), ("POST", "/api/v1/events")}
EXAMPLES_PER_OPERATION = 40


def _headers(operation, proxy_token, users) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if (operation.method.upper(), operation.path) in PROXY_OPERATIONS:
        return {"Authorization": f"Bearer {proxy_token}"}
    user, password = users["dpo"]
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.slow  # several seconds: some 800 generated requests; `make test-fast` leaves it to `make test`
def test_no_server_errors(app, client, proxy_token, users, make_event):  # type: ignore[no-untyped-def]
    # some stored events so that reads have something to page, count and export
    events = [make_event(action=a, tool=t) for a in ("allow", "redact", "block") for t in ("chatgpt", "gemini")]
    client.post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {proxy_token}"})
    # the JSON API only: the web pages (HTML forms, CSRF) are exercised by the browser tests
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=r"^/(api/|healthz|metrics)")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/events", "/api/v1/stats", "/api/v1/config",
                                              "/api/v1/events/{event_id}", "/api/v1/pupils/search"}
    for operation in operations:
        headers = _headers(operation, proxy_token, users)

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers={**(case.headers or {}), **headers},
                                   checks=[not_a_server_error, response_schema_conformance])

        check()
