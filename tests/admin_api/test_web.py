"""The DPO's and IT's web pages, through the real app (TestClient), on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import html
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.engine import make_url

from admin_api import accounts, config_store, rollups, web_session
from admin_api.app import create_app
from admin_api.models import AuditEntry, Purge
from admin_api.models import Event as StoredEvent
from admin_api.settings import Settings
from admin_api.store import store_events
from detectors.events import Event
from detectors.roster import RosterKey
from tests.support.admin import PASSWORD, csrf_of, login
from tests.support.stored_events import new_event, seed

XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2"> about [PUPIL_1]'
TEMPLATES = Path(__file__).resolve().parents[2] / "admin_api" / "web" / "templates"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def web_database_url(request, tmp_path_factory):
    """One database per module (the pages are read-mostly; tests clean the events they add): SQLite, or a schema
    in conftest's throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('web')}/admin.sqlite3"
        return
    pg_database = request.getfixturevalue("pg_database")
    schema = f"web_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield make_url(pg_database).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="module")
def app(web_database_url, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    settings = Settings(data_dir=data_dir, database_url=web_database_url, cookie_secure=False,
                        secret_key="s" * 48, purge_interval_seconds=3600)
    app = create_app(settings)
    with app.state.db.session() as session:
        for name, role in (("dpo", "dpo"), ("it", "it"), ("viewer", "viewer")):
            accounts.create_user(session, name, PASSWORD, role)
        session.commit()
    return app


@pytest.fixture(autouse=True)
def clean_events(app):
    yield
    with app.state.db.session() as session:
        session.execute(delete(StoredEvent))
        rollups.rebuild(session)  # the dashboard's daily roll-ups follow the events
        session.commit()


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.state.db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.id)))


# --- sign-in, sessions, CSRF ----------------------------------------------------------------------------------------

def test_pages_send_anonymous_visitors_to_the_login_page(app):
    with TestClient(app) as client:
        response = client.get("/events?action=block", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fevents%3Faction%3Dblock"
        assert client.post("/users", data={"username": "x"}, follow_redirects=False).status_code in (303, 403)


def test_login_redirects_back_but_never_off_site(app):
    with TestClient(app) as client:
        assert 'id="no-users"' not in client.get("/login").text
        assert login(client, "dpo", next_url="/events?tool=gemini").headers["location"] == "/events?tool=gemini"
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        with TestClient(app) as client:
            assert login(client, "dpo", next_url=evil).headers["location"] == "/"


def test_session_cookie_is_secure_httponly_and_samesite_lax(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/c.sqlite3", secret_key="k" * 40)
    assert settings.cookie_secure  # the default; only the localhost trial turns it off
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        login_page = client.get("/login")
        cookie = login_page.headers["set-cookie"].lower()
        assert 'id="no-users"' in login_page.text  # a fresh install says how to create the first account
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert cookie.startswith(web_session.SESSION_COOKIE)


def test_login_form_without_a_valid_csrf_token_is_refused(app):
    with TestClient(app) as client:
        client.get("/login")
        for token in (None, "forged"):
            data = {"username": "dpo", "password": PASSWORD} | ({"csrf_token": token} if token else {})
            response = client.post("/login", data=data, follow_redirects=False)
            assert response.status_code == 403
            assert "session" not in response.headers.get("set-cookie", "") or "uid" not in response.text


def test_state_changing_pages_need_the_csrf_token_even_when_signed_in(app, as_role):
    client = as_role("dpo")
    response = client.post("/users", data={"username": "mallory", "password": PASSWORD, "role": "dpo"})
    assert response.status_code == 403
    response = client.post("/users", data={"username": "mallory", "password": PASSWORD, "role": "dpo",
                                           "csrf_token": "not-the-token"})
    assert response.status_code == 403
    with app.state.db.session() as session:
        assert accounts.get_user_by_username(session, "mallory") is None
    # A cross-site write is refused whatever it carries.
    token = csrf_of(client.get("/users").text)
    response = client.post("/retention", data={"days": "1", "csrf_token": token},
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_five_failed_sign_ins_lock_the_account_until_the_dpo_resets_it(app, as_role):
    with app.state.db.session() as session:
        accounts.create_user(session, "locky", PASSWORD, "viewer")
        session.commit()
    with TestClient(app) as client:
        for _ in range(accounts.MAX_FAILURES):
            response = login(client, "locky", "wrong password")
            assert response.status_code == 401 and "Sign-in failed" in response.text
        assert login(client, "locky").status_code == 401  # the right password no longer works
    dpo = as_role("dpo")
    page = dpo.get("/users").text
    assert "locked until" in page
    with app.state.db.session() as session:
        user_id = accounts.get_user_by_username(session, "locky").id
    dpo.post(f"/users/{user_id}/unlock", data={"csrf_token": csrf_of(page)})
    with TestClient(app) as client:
        assert login(client, "locky").status_code == 303
    assert [e.detail["reason"] for e in audit_entries(app, "login.failed") if e.username == "locky"][-1] == "locked"


def test_http_basic_works_for_scripts_and_counts_towards_lock_out(app):
    with TestClient(app) as client:
        assert client.get("/api/v1/stats", auth=("viewer", "nope")).status_code == 401
        with app.state.db.session() as session:
            assert accounts.get_user_by_username(session, "viewer").failed_logins == 1
        assert client.get("/api/v1/stats", auth=("viewer", PASSWORD)).status_code == 200
        assert client.get("/api/v1/events", auth=("viewer", PASSWORD)).status_code == 403
    with app.state.db.session() as session:
        assert accounts.get_user_by_username(session, "viewer").failed_logins == 0


def test_http_basic_verifies_argon2_once_a_minute_not_per_request(app, monkeypatch):
    with app.state.db.session() as session:
        accounts.create_user(session, "siem", PASSWORD, "dpo")
        session.commit()
    verified = []
    real_verify = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda h, p: verified.append(1) or real_verify(h, p))
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/api/v1/stats", auth=("siem", PASSWORD)).status_code == 200
        assert len(verified) == 1
        assert client.get("/api/v1/stats", auth=("siem", "wrong password")).status_code == 401
        with app.state.db.session() as session:
            accounts.set_password(session, accounts.get_user_by_username(session, "siem"), "rotated passphrase")
            session.commit()
        assert client.get("/api/v1/stats", auth=("siem", PASSWORD)).status_code == 401  # no stale cache hit
        assert client.get("/api/v1/stats", auth=("siem", "rotated passphrase")).status_code == 200


def test_changing_the_password_signs_out_other_sessions(app):
    with app.state.db.session() as session:
        accounts.create_user(session, "pat", PASSWORD, "viewer")
        session.commit()
    with TestClient(app) as first, TestClient(app) as second:
        login(first, "pat")
        login(second, "pat")
        token = csrf_of(first.get("/account/password").text)
        response = first.post("/account/password", data={
            "current": PASSWORD, "new": "another long passphrase", "confirm": "another long passphrase",
            "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303
        assert first.get("/", follow_redirects=False).status_code == 200
        assert second.get("/", follow_redirects=False).status_code == 303  # back to the login page
        token = csrf_of(first.get("/account/password").text)  # a new session has a new token
        bad = first.post("/account/password", data={"current": "wrong", "new": "x" * 12, "confirm": "x" * 12,
                                                    "csrf_token": token})
        assert bad.status_code == 400 and "current password is not right" in bad.text


def test_guessing_the_current_password_locks_the_account_as_sign_in_does(app):
    with app.state.db.session() as session:
        accounts.create_user(session, "guesser", PASSWORD, "viewer")
        session.commit()
    with TestClient(app) as client:
        login(client, "guesser")
        for _ in range(5):
            token = csrf_of(client.get("/account/password").text)
            response = client.post("/account/password", data={
                "current": "a wrong guess", "new": "y" * 16, "confirm": "y" * 16, "csrf_token": token})
            assert response.status_code == 400
        assert "locked" in response.text
    with TestClient(app) as other:  # the right password no longer signs in until the lock expires
        assert login(other, "guesser").status_code != 303


def test_sign_out_ends_the_session(app, as_role):
    client = as_role("viewer")
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_sign_out_ends_every_copy_of_the_session_and_says_so(app):
    """The cookie is signed, not stored, so sign-out must end it server-side: a copy (another tab's export, a shared
    PC, a proxy log) stops working, the user's other devices are signed out too, and the page tells them."""
    with app.state.db.session() as session:
        accounts.create_user(session, "quin", PASSWORD, "dpo")
        session.commit()
    with TestClient(app) as laptop, TestClient(app) as phone:
        login(laptop, "quin")
        login(phone, "quin")
        copied = dict(laptop.cookies)
        token = csrf_of(laptop.get("/").text)
        response = laptop.post("/logout", data={"csrf_token": token})
        assert response.status_code == 200 and "signed out on every device" in response.text
        assert phone.get("/", follow_redirects=False).status_code == 303
        with TestClient(app, cookies=copied) as replay:
            assert replay.get("/events", follow_redirects=False).status_code == 303
        login(laptop, "quin")  # signing in again works and starts a valid session
        assert laptop.get("/events", follow_redirects=False).status_code == 200
    with app.state.db.session() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "logout",
                                                       AuditEntry.username == "quin")) is not None


# --- roles ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "allowed", "forbidden"), [
    ("viewer", ["/"], ["/events", "/pupils", "/it/allowlist", "/it/roster", "/it/proxies", "/users", "/audit",
                       "/retention", "/policy", "/events/export.csv"]),
    ("it", ["/", "/events", "/it/allowlist", "/it/roster", "/it/proxies"],
     ["/pupils", "/users", "/audit", "/retention", "/policy", "/events/export.csv"]),
    ("dpo", ["/", "/events", "/pupils", "/it/allowlist", "/it/roster", "/it/proxies", "/users", "/audit",
             "/retention", "/policy", "/events/export.csv"], []),
])
def test_each_role_reaches_exactly_its_pages(as_role, role, allowed, forbidden):
    client = as_role(role)
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in forbidden:
        assert client.get(path).status_code == 403, path
    nav = re.findall(r'<nav aria-label="Main">(.*?)</nav>', client.get("/").text, re.S)[0]
    assert ('href="/events"' in nav) == (role != "viewer")


def test_viewer_dashboard_holds_statistics_only(app, as_role):
    seed(app, new_event(excerpt="Secret plan for [PUPIL_1]", user="s.smith"))
    page = as_role("viewer").get("/").text
    assert "Secret plan" not in page and "s.smith" not in page
    assert 'id="chart-timeline"' in page and 'id="kpi-total">1<' in page


def test_it_sees_event_metadata_but_never_the_text(app, as_role):
    event = new_event(excerpt="Behaviour notes on [PUPIL_1]", pupil_refs=["P-ABCDEFGHIJ"])
    seed(app, event)
    client = as_role("it")
    assert "chatgpt" in client.get("/events").text
    detail = client.get(f"/events/{event.event_id}").text
    assert "Behaviour notes" not in detail and "P-ABCDEFGHIJ" not in detail
    assert "shown to the Data Protection Officer only" in detail
    assert client.get(f"/events?pupil_ref=P-ABCDEFGHIJ").text.count("Behaviour notes") == 0


# --- events --------------------------------------------------------------------------------------------------

def test_event_detail_shows_the_excerpt_as_text_never_as_markup(app, as_role):
    event = new_event(excerpt=XSS, reasons=["special_category_with_identifier"],
                       entities={"PUPIL": 1, "SPECIAL_CATEGORY:SEN": 2}, pupil_refs=["P-ABCDEFGHIJ"], action="block")
    seed(app, event)
    page = as_role("dpo").get(f"/events/{event.event_id}").text
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=" in page
    assert "<mark>[PUPIL_1]</mark>" in page
    for shown in ("special_category_with_identifier", "SPECIAL_CATEGORY:SEN", "P-ABCDEFGHIJ"):
        assert shown in page
    assert audit_entries(app, "event.view")[-1].target == str(event.event_id)


def test_unknown_event_is_a_friendly_404(as_role):
    client = as_role("dpo")
    assert client.get(f"/events/{uuid.uuid4()}").status_code == 404
    assert client.get("/events/not-a-uuid").status_code == 404


def test_event_list_filters_and_pages(app, as_role):
    now = datetime.now(UTC)
    events = [new_event(time=now - timedelta(minutes=i), action="block" if i % 3 == 0 else "redact",
                         tool="gemini" if i % 2 else "chatgpt", entities={"UK_UPN": 1} if i % 5 == 0 else {})
              for i in range(130)]
    events.append(new_event(time=now - timedelta(days=40), action="block", tool="gemini", user="old.user"))
    seed(app, *events)
    client = as_role("dpo")
    page = client.get("/events?action=block&tool=gemini").text
    expected = sum(1 for e in events if e.action == "block" and e.tool == "gemini")
    assert f'id="event-count">{expected} events<' in page
    assert "pill-redact" not in page
    start = (now - timedelta(days=7)).date().isoformat()
    assert f'>{expected - 1} events<' in client.get(f"/events?action=block&tool=gemini&start={start}").text
    assert 'id="event-count">1 event<' in client.get("/events?user=old.user").text
    upn = client.get("/events?entity=UK_UPN").text
    assert f">{sum(1 for e in events if 'UK_UPN' in e.entities)} events<" in upn
    # Paging: 50 per page, newest first, no event twice.
    first = client.get("/events").text
    ids = re.findall(r'href="/events/([0-9a-f-]{36})"', first)
    older = re.search(r'id="older" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second_ids = re.findall(r'href="/events/([0-9a-f-]{36})"', client.get(older).text)
    assert len(ids) == len(second_ids) == 50 and not set(ids) & set(second_ids)
    assert ids[0] == str(events[0].event_id)


def test_a_bad_filter_is_explained_not_a_crash(as_role):
    client = as_role("dpo")
    for query, message in (("start=31/12/2026", "use a date like"), ("action=explode", "Action must be"),
                           ("tool=" + "x" * 200, "tool"), ("cursor=garbage", "invalid cursor")):
        response = client.get(f"/events?{query}")
        assert response.status_code == 200 and message in response.text, query


def test_csv_export_of_the_filtered_view_is_injection_safe_and_audited(app, as_role):
    seed(app,
         new_event(tool="chatgpt", user="=HYPERLINK(\"http://x\")", excerpt="+SUM(1) [PUPIL_1]", action="block"),
         new_event(tool="gemini", action="block"),
         new_event(tool="chatgpt", action="redact"))
    response = as_role("dpo").get("/events/export.csv?tool=chatgpt&action=block")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["user"] == "'=HYPERLINK(\"http://x\")" and rows[0]["excerpt"] == "'+SUM(1) [PUPIL_1]"
    assert audit_entries(app, "events.export")[-1].detail["filters"] == {"tool": "chatgpt", "action": "block"}


# --- find a pupil ----------------------------------------------------------------------------------------------

SIMS_CSV = (
    "Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,DOB,Reg Group\r\n"
    "O'Brien,Zoë,O'Brien,Zoë,14/03/2013,7A\r\n"
    "Okafor,Chidi,Okafor,Chidi,02/09/2012,8B\r\n"
)


def test_find_a_pupil_lists_their_events_without_the_name_ever_being_kept(app, as_role):
    it = as_role("it")
    page = it.get("/it/roster").text
    response = it.post("/it/roster", data={"csrf_token": csrf_of(page)},
                       files={"export": ("sims.csv", SIMS_CSV.encode("utf-8"), "text/csv")})
    assert response.status_code == 200, response.text
    assert 'id="report-pupils">2<' in response.text
    assert "Zoë" not in response.text and "Okafor" not in response.text
    with app.state.db.session() as session:
        key = RosterKey.resolve(app.state.settings.roster_key_file)
        zoe = config_store.find_pupil_refs(session, key, "Zoë O'Brien")
    assert len(zoe) == 1
    about_zoe = new_event(pupil_refs=zoe, excerpt="Reading age of [PUPIL_1]")
    seed(app, about_zoe, new_event(pupil_refs=["P-SOMEONEEL"]))

    dpo = as_role("dpo")
    page = dpo.get("/pupils").text
    response = dpo.post("/pupils", data={"query": "ZOE O’BRIEN", "csrf_token": csrf_of(page)})
    assert response.status_code == 200
    assert "1 pupil matched" in response.text and str(about_zoe.event_id) in response.text
    assert "brien" not in response.text.lower()  # the query is not echoed back
    miss = dpo.post("/pupils", data={"query": "Nobody Atall", "csrf_token": csrf_of(page)})
    assert 'id="pupil-none"' in miss.text

    searches = audit_entries(app, "pupil.search")
    assert [s.detail["pupils_found"] for s in searches[-2:]] == [1, 0]
    # The typed name is nowhere in the database: not in the audit log, settings or any table's text.
    with app.state.db.session() as session:
        dumped = " ".join(str(r) for table in ("audit_log", "settings", "events", "users")
                          for r in session.execute(text(f"SELECT * FROM {table}")))
    assert "brien" not in dumped.lower() and "zo" + "ë" not in dumped.lower()


def test_find_a_pupil_needs_a_roster_and_the_dpo_role(app, as_role):
    with app.state.db.session() as session:
        session.execute(text("DELETE FROM roster_uploads"))
        session.commit()
    dpo = as_role("dpo")
    response = dpo.post("/pupils", data={"query": "Anyone", "csrf_token": csrf_of(dpo.get("/pupils").text)})
    assert response.status_code == 409 and "No roster has been uploaded" in response.text
    it = as_role("it")
    assert it.post("/pupils", data={"query": "x", "csrf_token": csrf_of(it.get("/").text)}).status_code == 403


def test_a_bad_roster_upload_is_explained_and_nothing_stored(app, as_role):
    it = as_role("it")
    token = csrf_of(it.get("/it/roster").text)
    response = it.post("/it/roster", data={"csrf_token": token},
                       files={"export": ("x.csv", b"Colour,Shape\nred,round\n", "text/csv")})
    assert response.status_code == 400 and 'id="roster-error"' in response.text


# --- IT and DPO configuration pages ----------------------------------------------------------------------------

def test_allowlist_editor_validates_before_saving(app, as_role):
    client = as_role("it")
    page = client.get("/it/allowlist").text
    with app.state.db.session() as session:
        before = config_store.get_setting(session, config_store.ALLOWLIST)
    broken = before.replace("default_status: blocked", "default_status: sometimes") \
        if "default_status: blocked" in before else "version: 1\nnot_a_field: [\n"
    response = client.post("/it/allowlist", data={"allowlist": broken, "csrf_token": csrf_of(page)})
    assert response.status_code == 400 and 'id="allowlist-error"' in response.text
    with app.state.db.session() as session:
        assert config_store.get_setting(session, config_store.ALLOWLIST) == before
    changed = before.rstrip("\n") + "\n# reviewed by IT\n"
    response = client.post("/it/allowlist", data={"allowlist": changed.replace("\n", "\r\n"),
                                                  "csrf_token": csrf_of(page)}, follow_redirects=False)
    assert response.status_code == 303
    with app.state.db.session() as session:
        assert config_store.get_setting(session, config_store.ALLOWLIST) == changed
        config_store.set_allowlist(session, before, "test")
        session.commit()


def test_policy_editor_validates_and_can_go_back_to_the_default(app, as_role):
    client = as_role("dpo")
    page = client.get("/policy").text
    assert "The shipped default policy is in force" in page and "PUPIL: redact" in page
    token = csrf_of(page)
    bad = client.post("/policy", data={"policy": "version: 1\ndefault:\n  mode: sometimes\n", "csrf_token": token})
    assert bad.status_code == 400 and 'id="policy-error"' in bad.text
    shipped = re.search(r'<textarea id="policy"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    monitor = html.unescape(shipped).replace("mode: enforce", "mode: monitor", 1)
    saved = client.post("/policy", data={"policy": monitor, "csrf_token": token})
    assert "Policy saved" in saved.text and "This school's policy is in force" in saved.text
    with app.state.db.session() as session:
        assert "mode: monitor" in config_store.get_setting(session, config_store.POLICY)
    client.post("/policy", data={"reset": "1", "csrf_token": token})
    with app.state.db.session() as session:
        assert config_store.get_setting(session, config_store.POLICY) is None
    assert [e.action for e in audit_entries(app, "policy.update")] == ["policy.update"]


def test_proxy_token_is_shown_once_and_can_be_revoked(app, as_role):
    client = as_role("it")
    token = csrf_of(client.get("/it/proxies").text)
    response = client.post("/it/proxies", data={"name": "site-b-proxy", "csrf_token": token})
    secret = re.search(r'id="new-token">([^<]+)<', response.text).group(1)
    assert secret.startswith("pgp_")
    assert secret not in client.get("/it/proxies").text
    assert TestClient(app).get("/api/v1/config", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert "healthy" in client.get("/it/proxies").text
    assert client.post("/it/proxies", data={"name": "bad name!", "csrf_token": token}).status_code == 400
    client.post("/it/proxies/site-b-proxy/revoke", data={"csrf_token": token})
    assert "revoked" in client.get("/it/proxies").text
    assert TestClient(app).get("/api/v1/config", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_dpo_creates_users_with_clear_errors(app, as_role):
    client = as_role("dpo")
    token = csrf_of(client.get("/users").text)
    response = client.post("/users", data={"username": "newit", "password": "short", "role": "it",
                                           "csrf_token": token})
    assert response.status_code == 400 and "at least 10 characters" in response.text
    response = client.post("/users", data={"username": "newit", "password": PASSWORD, "role": "it",
                                           "email": "newit@school.sch.uk", "csrf_token": token})
    assert "User newit added." in response.text
    with TestClient(app) as other:
        assert login(other, "newit").status_code == 303
    assert audit_entries(app, "user.create")[-1].target == "newit"


def test_dpo_sets_a_new_password_for_someone_who_forgot_it(app, as_role):
    with app.state.db.session() as session:
        forgetful = accounts.create_user(session, "forgetful", PASSWORD, "it")
        session.commit()
    with TestClient(app) as old_session:
        assert login(old_session, "forgetful").status_code == 303
        client = as_role("dpo")
        token = csrf_of(client.get("/users").text)
        weak = client.post(f"/users/{forgetful.id}/password", data={"password": "short", "csrf_token": token})
        assert weak.status_code == 400 and "forgetful: Password must be at least" in weak.text
        page = client.post(f"/users/{forgetful.id}/password", data={"password": "temporary pass 1",
                                                                     "csrf_token": token}).text
        assert "New password set for forgetful" in page
        assert old_session.get("/", follow_redirects=False).status_code == 303
    with TestClient(app) as fresh:
        assert login(fresh, "forgetful", "temporary pass 1").status_code == 303
    assert audit_entries(app, "user.password_reset")[-1].target == "forgetful"


def test_retention_setting_and_purge_record(app, as_role):
    seed(app, new_event(time=datetime.now(UTC) - timedelta(days=100)), new_event())
    client = as_role("dpo")
    token = csrf_of(client.get("/retention").text)
    assert client.post("/retention", data={"days": "0", "csrf_token": token}).status_code == 400
    page = client.post("/retention", data={"days": "90", "csrf_token": token}).text
    assert "Events older than 90 days" in page
    assert "1 event older than 90 days will go at the next automatic purge" in page
    page = client.post("/retention/purge", data={"csrf_token": token}).text
    assert "1 event deleted" in page
    with app.state.db.session() as session:
        assert session.scalar(select(Purge).order_by(Purge.id.desc())).actor == "dpo"
        assert session.query(StoredEvent).count() == 1
        config_store.set_retention_days(session, 365, "test")
        session.commit()


def test_audit_log_page_shows_who_did_what(app, as_role):
    client = as_role("dpo")
    client.get("/events?tool=copilot")
    page = client.get("/audit?action=events.").text
    assert "events.list" in page and "copilot" in page and "pupil.search" not in page


# --- dashboard --------------------------------------------------------------------------------------------------

def test_dashboard_charts_and_this_week_reflect_the_events(app, as_role):
    now = datetime.now(UTC)
    seed(app,
         *[new_event(time=now - timedelta(days=1), action="block", tool="gemini",
                      entities={"SPECIAL_CATEGORY:SEN": 1, "PUPIL": 1}) for _ in range(3)],
         *[new_event(time=now - timedelta(days=2), action="redact", tool="chatgpt", profile="pupil")
           for _ in range(4)],
         new_event(time=now - timedelta(days=9), action="allow", tool="copilot"))
    page = as_role("viewer").get("/").text
    assert 'id="kpi-total">8<' in page and 'id="kpi-block">3<' in page and 'id="kpi-redact">4<' in page
    timeline = re.search(r'<svg class="chart chart-columns" id="chart-timeline".*?</svg>', page, re.S).group(0)
    assert 'data-bars="3"' in timeline  # one bar per day with events (single action each)
    assert "3 block" in timeline and "4 redact" in timeline
    tools = re.search(r'id="chart-tools".*?</svg>', page, re.S).group(0)
    assert [t for t in re.findall(r"<title>([^<]+)</title>", tools)] == [
        "ChatGPT: 4 redact", "Gemini: 3 block", "Microsoft Copilot: 1 allow"]  # plain-English tool names
    assert "Special category: Special educational needs: 3 block" in page
    week = page[page.index('id="this-week"'):]
    kpis = re.findall(r'<div class="n">(\d+)</div><div class="l">(\w+) <span class="delta \w+">([^<]+)<', week)
    assert kpis == [("7", "events", "▲ 6"), ("3", "blocked", "▲ 3"), ("4", "redacted", "▲ 4"),
                    ("0", "allowed", "▼ 1")]
    assert re.search(r"New this week:.*ChatGPT", week, re.S)


def test_dashboard_with_no_events_says_so(as_role):
    client = as_role("viewer")
    page = client.get("/?days=7").text
    assert "No events in this period" in page
    assert client.get("/?days=banana").status_code == 200  # an odd period falls back to 30 days


# --- page hygiene ---------------------------------------------------------------------------------------------

def test_pages_carry_a_strict_csp_and_no_store(as_role):
    response = as_role("dpo").get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"


def test_templates_hold_no_inline_script_style_or_cdn():
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), template.name
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", source), template.name
        assert not re.search(r"(src|href)=\"(https?:)?//", source), template.name
        assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source, template.name


def test_static_files_are_served_locally(app):
    with TestClient(app) as client:
        for path in ("/static/app.css", "/static/app.js", "/static/favicon.svg"):
            assert client.get(path).status_code == 200


def test_an_uploaded_roster_is_parsed_in_memory_never_spooled_to_disk(app, as_role, monkeypatch):
    import starlette.formparsers

    def no_disk(*args, **kwargs):
        raise AssertionError("the MIS export was spooled to a temporary file")

    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", no_disk)
    letters = "abcdefghijklmnopqrstuvwxyz"
    rows = [f"{letters[i % 26]}{letters[i // 26 % 26]}{letters[i // 676 % 26]}son,"
            f"{letters[i // 26 % 26].upper()}{letters[i % 26]}ra,,,01/02/2013,7A" for i in range(40_000)]
    export = (SIMS_CSV.splitlines()[0] + "\r\n" + "\r\n".join(rows) + "\r\n").encode()
    assert len(export) > 1024 * 1024  # above Starlette's in-memory spool limit
    it = as_role("it")
    response = it.post("/it/roster", data={"csrf_token": csrf_of(it.get("/it/roster").text)},
                       files={"export": ("big.csv", export, "text/csv")})
    assert response.status_code == 200 and 'id="import-report"' in response.text
    assert "Aason" not in response.text


def test_chart_bars_are_drawn_to_scale():
    from admin_api.web.charts import nice_max, stacked_columns, stacked_rows

    assert nice_max(0) == (1.0, 0.25) and nice_max(7) == (8, 2) and nice_max(1234) == (1500, 500)
    chart = stacked_columns([("Mon", {"block": 2, "allow": 6}), ("Tue", {"block": 4})], ["block", "allow"])
    heights = {r.title: r.h for r in chart.rects}
    assert heights["Mon: 6 allow"] == pytest.approx(3 * heights["Mon: 2 block"], abs=0.2)
    assert heights["Tue: 4 block"] == pytest.approx(2 * heights["Mon: 2 block"], abs=0.2)
    mon_block = next(r for r in chart.rects if r.title == "Mon: 2 block")
    mon_allow = next(r for r in chart.rects if r.title == "Mon: 6 allow")
    assert mon_allow.y + mon_allow.h == pytest.approx(mon_block.y, abs=0.2)  # stacked, not overlapping
    assert chart.y_ticks[-1].label == "8"
    rows = stacked_rows([("chatgpt", {"n": 10}), ("gemini", {"n": 5})], ["n"])
    assert rows.rects[0].w == pytest.approx(2 * rows.rects[1].w, abs=0.2) and not rows.empty
    assert stacked_rows([], ["n"]).empty
