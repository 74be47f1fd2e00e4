"""The permission table (admin_api/permissions.py) against the real app: every route of `app.routes`, every role.

A route missing from the table fails here (and is refused at run time); a role that gets more or less than its
row says fails here too. JSON API routes are called with HTTP Basic, pages with a signed-in browser session.
"""
from __future__ import annotations

import contextlib
import re
import uuid

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from admin_api import permissions
from admin_api.models import ROLES
from admin_api.permissions import GRANTS, ROUTES, Access, Permission

PATH_VALUES = {"event_id": str(uuid.uuid4()), "user_id": "9999", "alert_id": "9999", "change_id": "9999",
               "name": "no-such-proxy", "change": "enable", "decision": "reject",
               "incident_id": "9999", "view": "staff", "token": "no-such-token"}


@pytest.fixture(params=["sqlite"])
def database_url(sqlite_url) -> str:  # the table is dialect-independent
    return sqlite_url


def _routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route answering requests (not the static-file mounts), however deeply its router
    is included. HEAD, which Starlette adds to each GET, goes with its GET."""
    found = []
    for context in iter_route_contexts(app.routes):
        if context.methods is None:
            continue
        # the dependency looks a request up by its route's own path: an include prefix would hide it
        assert context.path == getattr(context.original_route, "path", None), context.path
        found += [(method, context.path) for method in context.methods if method != "HEAD"]
    return sorted(found)


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def test_every_route_is_in_the_table_and_every_entry_is_a_route(app):
    routes = {f"{method} {path}" for method, path in _routes(app)}
    assert routes - ROUTES.keys() == set(), "routes missing from admin_api/permissions.py ROUTES"
    assert ROUTES.keys() - routes == set(), "ROUTES entries with no route"


def test_every_role_has_exactly_one_row():
    assert set(GRANTS) == set(ROLES)


def _signed_in(app, role: str, users) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    username, password = users[role]
    assert client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}).status_code == 303
    # signing in starts a new session with a new CSRF token; writes send it in the header
    client.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    return client


def _call(client: TestClient, method: str, path: str, **kwargs):
    return client.request(method, _url(path), **kwargs)


def test_each_role_gets_exactly_what_the_table_says(app, users):
    is_api = re.compile(r"^/api/")
    # The app starts and stops once; each call still comes from a client of its own (a fresh sign-in for pages, no
    # cookies for the API). Starting and stopping the app around each of these hundreds of calls cost seconds.
    with TestClient(app):
        for method, path in _routes(app):
            need = ROUTES[f"{method} {path}"]
            if isinstance(need, Access):
                continue  # tested below and in tests/security/test_admin_trust.py
            for role in ROLES:
                allowed = permissions.allows(role, need)
                if is_api.match(path):
                    status = _call(TestClient(app, follow_redirects=False), method, path,
                                   auth=users[role]).status_code
                    forbidden = status == 403
                else:
                    with contextlib.closing(_signed_in(app, role, users)) as client:
                        r = _call(client, method, path)
                    status = r.status_code
                    forbidden = status == 403
                    assert not forbidden or "Not allowed" in r.text, (role, method, path, r.text[:300])
                assert status != 401, (role, method, path)
                assert forbidden != allowed, f"{role} {method} {path}: {status}, table says allowed={allowed}"


def test_anonymous_gets_nothing_that_needs_a_role(app):
    with TestClient(app, follow_redirects=False) as client:
        for method, path in _routes(app):
            if isinstance(ROUTES[f"{method} {path}"], Permission):
                r = _call(client, method, path)
                if path.startswith("/api/"):
                    assert r.status_code == 401, (method, path)
                else:
                    assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)


def test_proxy_routes_need_a_proxy_token_not_a_staff_account(app, users):
    with TestClient(app, follow_redirects=False) as client:
        for method, path in _routes(app):
            if ROUTES[f"{method} {path}"] is Access.PROXY:
                for role in ROLES:
                    assert _call(client, method, path, auth=users[role]).status_code == 401, (role, path)


def test_the_menu_shows_each_role_the_pages_it_may_open(app, users):
    for role in ROLES:
        with _signed_in(app, role, users) as client:
            nav = re.findall(r'<nav aria-label="Main">(.*?)</nav>', client.get("/").text, re.S)[0]
        shown = set(re.findall(r'href="([^"]+)"', nav))
        expected = {page for _, page, _ in permissions.MENU
                    if permissions.allows(role, permissions.page_needs(page))}  # type: ignore[arg-type]
        assert shown == expected, role
