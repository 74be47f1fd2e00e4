"""Every route that takes a row id in its path answers a number beyond the database's integers with 422 (or 404),
never a 500 from an overflowing query; the largest id that fits answers "no such row". The routes are read from
the app itself, so a new route with an id is covered without editing this file."""
from __future__ import annotations

import re
import tempfile

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from admin_api.app import create_app
from admin_api.settings import Settings
from tests.support.admin import csrf_of

HUGE = "99999999999999999999"  # beyond a 64-bit integer
LARGEST = str(2**31 - 1)  # the largest value of the integer primary keys on both databases
# the other path parameters of those routes, set so that the handler goes on to look the row up
OTHER_PARAMETERS = {"decision": "approve", "change": "disable"}


def _id_routes() -> list[tuple[str, str, str, bool]]:
    """(method, path template, id parameter, whether it is an integer) for every route with an id in its path."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=tmp, database_url="sqlite://", secret_key="s" * 40))
    found = []
    for context in iter_route_contexts(app.routes):
        if context.methods is None or not isinstance(context.original_route, APIRoute):
            continue
        for param in context.original_route.dependant.path_params:
            integer = param.field_info.annotation is int
            if integer or param.name.endswith("_id"):
                found += [(method, context.path, param.name, integer) for method in sorted(context.methods - {"HEAD"})]
    return found


ID_ROUTES = [r[:3] for r in _id_routes()]
INTEGER_ID_ROUTES = [r[:3] for r in _id_routes() if r[3]]


def test_the_routes_with_ids_are_found():
    # the derivation above must not silently find nothing
    assert {"/users/{user_id}/unlock", "/alerts/{alert_id}/acknowledge", "/incidents/{incident_id}",
            "/api/v1/incidents/{incident_id}", "/changes/{change_id}/{decision}"} <= {p for _, p, _ in INTEGER_ID_ROUTES}
    assert {"/events/{event_id}", "/api/v1/events/{event_id}"} <= {p for _, p, _ in ID_ROUTES}


def _request(dpo, client, users, method: str, template: str, name: str, value: str):
    path = re.sub(r"{(\w+)}", lambda m: value if m.group(1) == name else OTHER_PARAMETERS[m.group(1)], template)
    if template.startswith("/api/"):  # the JSON API as a script calls it: HTTP Basic, no cookie
        body = {"json": {"text": "a note"} if path.endswith("/notes") else {}} if method != "GET" else {}
        return client.request(method, path, auth=users["dpo"], **body)
    # pages as the DPO's browser sends them: session cookie, and the form's CSRF token
    data = {"csrf_token": csrf_of(dpo.get("/account/password").text), "text": "a note",
            "password": "a long enough new password 1"} if method == "POST" else None
    return dpo.request(method, path, data=data, follow_redirects=False)


@pytest.fixture
def dpo(as_role, people):  # type: ignore[no-untyped-def]
    return as_role("dpo")


@pytest.mark.parametrize(("method", "template", "name"), ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in ID_ROUTES])
def test_an_id_beyond_the_database_integers_is_refused_not_a_server_error(dpo, client, users, method, template, name):
    response = _request(dpo, client, users, method, template, name, HUGE)
    assert response.status_code in (404, 422), response.text[:300]


@pytest.mark.parametrize(("method", "template", "name"), INTEGER_ID_ROUTES,
                         ids=[f"{m} {p}" for m, p, _ in INTEGER_ID_ROUTES])
def test_the_largest_id_that_fits_is_no_such_row(dpo, client, users, method, template, name):
    response = _request(dpo, client, users, method, template, name, LARGEST)
    # 404, or the page's own way of saying so (back to the list with a message)
    assert response.status_code in (303, 404), response.text[:300]
    if response.status_code == 303:
        assert "No such change" in dpo.get(response.headers["location"]).text
