"""Web-security probes against the real admin app (TestClient, SQLite): sessions, escaping, role boundaries."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from admin_api.store import store_events
from detectors.events import Event

PAYLOAD = '"><script>window.__pwned=1</script><svg onload=alert(1)>'


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _login(client: TestClient, creds: tuple[str, str]) -> None:
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"username": creds[0], "password": creds[1], "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303


@pytest.fixture(params=["sqlite"])
def database_url(sqlite_url) -> str:  # SQLite is enough for these: nothing here is dialect-specific
    return sqlite_url


def test_a_session_cookie_stops_working_after_sign_out(app, users):
    """Sign-out must end the session server-side: a copied cookie (shared PC, stolen via a proxy log) replayed
    after the DPO signed out must not still open pupil data."""
    with TestClient(app) as browser:
        _login(browser, users["dpo"])
        stolen = dict(browser.cookies)
        assert browser.post("/logout", data={"csrf_token": _csrf(browser.get("/").text)},
                            follow_redirects=False).status_code == 303
    with TestClient(app, cookies=stolen) as attacker:
        r = attacker.get("/events", follow_redirects=False)
    assert r.status_code in (303, 401), "the signed-out session cookie still opens the event list"


def test_event_fields_from_proxies_are_escaped_on_every_page(app, users):
    event = Event(event_id=uuid.uuid4(), time=datetime.now(UTC) - timedelta(minutes=5), proxy_id=PAYLOAD,
                  client_addr=PAYLOAD, user=PAYLOAD, profile=PAYLOAD, department=PAYLOAD, tool=PAYLOAD,
                  host=PAYLOAD, path=PAYLOAD, action="block", reasons=[PAYLOAD], entities={PAYLOAD: 1},
                  excerpt=PAYLOAD, pupil_refs=[PAYLOAD], analysis_ms=1.0)
    with app.state.db.session() as session:
        store_events(session, [event])
        session.commit()
    with TestClient(app) as browser:
        _login(browser, users["dpo"])
        for page in ("/", "/events", f"/events/{event.event_id}", "/audit", "/it/proxies"):
            html = browser.get(page).text
            assert "<script>window.__pwned" not in html and "<svg onload" not in html, f"unescaped on {page}"


def test_it_role_cannot_list_one_pupils_events_through_the_api(app, users, make_event):
    """Only the DPO may look events up by pupil (roles documented in admin_api/routers/events.py; the web UI
    drops the pupil_ref filter for IT). The API must not let IT do it either."""
    ref = "P-TESTPUPIL1"
    with app.state.db.session() as session:
        store_events(session, [Event(**make_event(pupil_refs=[ref])), Event(**make_event(pupil_refs=[]))])
        session.commit()
    with TestClient(app) as client:
        r = client.get("/api/v1/events", params={"pupil_ref": ref}, auth=users["it"])
    assert r.status_code == 403 or len(r.json()["items"]) == 2, \
        "IT filtered the event list down to one pupil's events"


def test_admin_origin_runs_no_third_party_script(client):
    """The admin origin holds pupil data behind a session cookie: no page on it may load script from a CDN (an
    unpinned swagger-ui/redoc bundle from cdn.jsdelivr.net runs with the DPO's session), and every HTML page gets the
    strict CSP."""
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect", "/login"):
        r = client.get(path)
        if r.status_code == 404:
            continue
        external = re.findall(r'<script[^>]+src="(https?://[^"]+)"', r.text)
        assert not external, f"{path} loads third-party script: {external}"
        if "text/html" in r.headers.get("content-type", ""):
            assert "script-src 'self'" in r.headers.get("content-security-policy", ""), f"{path} has no CSP"


def test_a_database_error_does_not_put_event_content_in_the_exception(app, proxy_token, make_event):
    """An unexpected database error (disk full, lost connection, a constraint) becomes a 500 whose traceback the
    server logs. SQLAlchemy puts the statement's parameters in the message unless told not to — that would copy
    excerpts, staff names and pupil refs into the admin log."""
    from sqlalchemy import text
    with app.state.db.session() as session:
        session.execute(text("CREATE TRIGGER boom BEFORE INSERT ON events "
                             "BEGIN SELECT RAISE(ABORT, 'simulated disk I/O error'); END"))
        session.commit()
    event = make_event(excerpt="Report for [PUPIL_1] SECRET-EXCERPT-MARKER", pupil_refs=["P-SECRETREF1"])
    with TestClient(app) as client:
        with pytest.raises(Exception) as excinfo:
            client.post("/api/v1/events", json={"events": [event]},
                        headers={"Authorization": f"Bearer {proxy_token}"})
    message = str(excinfo.value)
    assert "SECRET-EXCERPT-MARKER" not in message and "P-SECRETREF1" not in message, \
        "event content in a database exception message (create_engine(..., hide_parameters=True))"


PUBLIC = {"/healthz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/login",
          "/login/oidc", "/login/oidc/callback",
          "/alerts/confirm/1"}  # an alert contact (maybe without an account) confirms; the link's token is the key


def _routes(app) -> list[tuple[str, str]]:
    """(method, path with sample parameters) for every route of the app, whatever router holds it."""
    out = []

    def walk(routes):
        for r in routes:
            inner = getattr(r, "router", None) or getattr(r, "original_router", None)
            if type(r).__name__ == "_IncludedRouter" and inner is not None:
                walk(inner.routes)
            elif hasattr(r, "methods") and r.methods:
                for m in r.methods - {"HEAD", "OPTIONS"}:
                    out.append((m, re.sub(r"\{[^}]+\}", "1", getattr(r, "path", ""))))
    walk(app.routes)
    assert len(out) > 30, "route discovery found too few routes"
    return sorted(set(out))


def test_every_route_needs_a_signed_in_user_or_a_proxy_token(app):
    with TestClient(app) as anonymous:
        for method, path in _routes(app):
            if path in PUBLIC or path.startswith("/static"):
                continue
            r = anonymous.request(method, path, follow_redirects=False)
            assert r.status_code in (401, 403) or (r.status_code == 303 and "/login" in r.headers["location"]), \
                f"{method} {path} answered {r.status_code} without credentials"


def test_every_state_change_needs_the_csrf_token(app, users):
    with TestClient(app) as browser:
        _login(browser, users["dpo"])
        for method, path in _routes(app):
            if method == "GET" or path in ("/login", "/api/v1/events"):  # ingest: bearer token, no cookie
                continue
            r = browser.request(method, path, data={"x": "1"}, follow_redirects=False)
            assert r.status_code == 403, f"{method} {path} accepted a signed-in write without the CSRF token"
        assert browser.get("/users", follow_redirects=False).status_code == 200  # still signed in: nothing changed
