"""The admin service's trust boundaries (issues 14 and 15): what a proxy token, an IT account, an unauthenticated
client and a password sprayer could do before, each refused now. Real app (TestClient), SQLite."""
from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin_api import config_store, proxies
from admin_api.accounts import MAX_ADDRESS_FAILURES, MAX_FAILURES
from admin_api.models import AuditEntry, Event, PendingChange, SecurityAlert
from admin_api.settings import REPO_ALLOWLIST

ROSTER_CSV = (
    "Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,DOB\r\n"
    "Okonkwo-Blake,Chidinma,Okonkwo-Blake,Chi,05/06/2014\r\n"
    "Ferreira,Joaquim,Ferreira,Joaquim,11/12/2013\r\n"
).encode("utf-8")
ALLOWLIST = REPO_ALLOWLIST.read_text(encoding="utf-8")
MONITOR_POLICY = b"version: 1\ndefault: {mode: monitor}\n"


@pytest.fixture(params=["sqlite"])
def database_url(sqlite_url) -> str:
    return sqlite_url


def _ingest(client, token, events):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"})


def _stored(app, event) -> Event:  # type: ignore[no-untyped-def]
    with app.state.db.session() as s:
        return s.get(Event, uuid.UUID(event["event_id"]))


def _alerts(app, kind: str) -> list[SecurityAlert]:  # type: ignore[no-untyped-def]
    with app.state.db.session() as s:
        return list(s.scalars(select(SecurityAlert).where(SecurityAlert.kind == kind)))


def _login(app, creds, address: str = "10.9.9.9") -> TestClient:  # type: ignore[no-untyped-def]
    browser = TestClient(app, client=(address, 50000))
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    r = browser.post("/login", data={"username": creds[0], "password": creds[1], "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303
    return browser


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# --- ingest: a proxy token is not a licence to write anything -----------------------------------------------------

def test_a_proxy_token_cannot_claim_another_proxys_events(app, client, proxy_token, make_event):
    forged = make_event(proxy_id="site-b")
    assert _ingest(client, proxy_token, [forged]).json()["accepted"] == 1
    assert _stored(app, forged).proxy_id == "site-main"  # the token's proxy, whatever the event says
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert 'pupilguard_admin_events_restamped_total{proxy="site-main"} 1.0' in local.get("/metrics").text


@pytest.mark.parametrize(("field", "value"), [
    ("user", "Chidinma Okonkwo-Blake has epilepsy"),
    ("user", "<script>alert(1)</script>"),
    ("user", "t.jones\nforged log line"),
    ("user", "x" * 256),
    ("department", "Science\u202eecneics"),
    ("department", "Pastoral: Joaquim Ferreira, CP plan; see notes"),
    ("department", "d" * 129),
])
def test_user_and_department_must_look_like_names(app, client, proxy_token, make_event, field, value):
    r = _ingest(client, proxy_token, [make_event(**{field: value})])
    assert r.status_code == 422 and field in r.text
    assert "epilepsy" not in r.text and "Joaquim" not in r.text


@pytest.mark.parametrize("user", ["t.jones", "t.jones@school.sch.uk", "SCHOOL\\tjones", "o'brien-smith", "Siân.Prys"])
def test_real_sign_in_names_are_accepted(client, proxy_token, make_event, user):
    r = _ingest(client, proxy_token, [make_event(user=user, department="Design & Technology (KS3)")])
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("excerpt", "found"), [
    ("Report for [PUPIL_1], UPN A123456789012", "UK_UPN"),
    ("Please email mum@example.com about [PUPIL_1]", "EMAIL_ADDRESS"),
    ("Write to Chidinma Okonkwo-Blake's parents about [PERSON_1]", "PUPIL"),
    ("Joaquim Ferreira has epilepsy and missed the trip", "PUPIL"),
    ("Mrs Okafor says Jayden in 8B has ADHD", "PERSON"),
    ("Her NHS number is 943 476 5919", "UK_NHS"),
])
def test_an_excerpt_still_holding_an_identifier_is_stored_as_placeholders_with_a_dpo_alert(
        app, client, proxy_token, make_event, users, excerpt, found):
    with app.state.db.session() as s:
        config_store.store_roster_upload(s, ROSTER_CSV, app.state.roster_key, "it-user")
        s.commit()
    leaky, fine = make_event(excerpt=excerpt), make_event()
    assert _ingest(client, proxy_token, [leaky, fine]).json()["accepted"] == 2
    stored = _stored(app, leaky)
    assert re.fullmatch(r"Excerpt withheld: it still held (\[[A-Z]+_\d+\] ?)+", stored.excerpt), stored.excerpt
    assert "excerpt_withheld" in stored.reasons
    assert _stored(app, fine).excerpt == fine["excerpt"]  # a proper excerpt is kept as sent
    (alert,) = _alerts(app, "excerpt_integrity")
    assert found in alert.summary and alert.detail["events"] == [leaky["event_id"]] and alert.source == "site-main"
    for secret in ("A123456789012", "mum@example.com", "Chidinma", "Joaquim", "Okafor", "Jayden", "943 476 5919"):
        assert secret not in alert.summary + str(alert.detail)
    with app.state.db.session() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "alert.excerpt_integrity")) is not None
    dpo = _login(app, users["dpo"])
    dashboard = dpo.get("/").text
    assert 'id="open-alerts"' in dashboard and "1 alert to acknowledge" in dashboard
    assert "Chidinma" not in dpo.get(f"/events/{leaky['event_id']}").text


# --- /metrics and /healthz -----------------------------------------------------------------------------------------

def test_metrics_and_health_detail_are_not_for_everyone(make_settings, proxy_token):  # noqa: ARG001
    from admin_api.app import create_app

    app = create_app(make_settings(metrics_token="m" * 32, trusted_proxies=["10.0.0.1"]))
    with TestClient(app, client=("192.0.2.7", 50000)) as outsider:
        assert outsider.get("/metrics").status_code == 403
        assert outsider.get("/healthz").json() == {"status": "ok"}  # liveness stays open; no schema, no database
        # X-Forwarded-For from a peer that is not a trusted proxy is ignored
        assert outsider.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
        assert outsider.get("/metrics", headers={"Authorization": "Bearer " + "x" * 32}).status_code == 403
        r = outsider.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
        assert r.status_code == 200 and "pupilguard_admin_events_ingested" in r.text
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.get("/metrics").status_code == 200
        assert "schema_revision" in local.get("/healthz").json()
        # an untrusted reverse proxy on the same host forwards the whole network from loopback: not local then
        assert local.get("/metrics", headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 403
    with TestClient(app, client=("10.0.0.1", 50000)) as via_trusted_proxy:
        assert via_trusted_proxy.get("/metrics", headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 403


# --- sign-in: password spraying from one address ----------------------------------------------------------------------

def test_password_spraying_from_one_address_is_stopped_across_accounts(app, users):
    accounts = [f"staff{i}" for i in range(MAX_ADDRESS_FAILURES)]  # one or two guesses each: no account locks
    with TestClient(app, client=("192.0.2.50", 50000)) as sprayer:
        for name in accounts:
            assert sprayer.get("/api/v1/stats", auth=(name, "Winter2026!")).status_code == 401
        # the right password for a real account is not even tried from this address now
        assert sprayer.get("/api/v1/stats", auth=users["viewer"]).status_code == 401
        page = sprayer.get("/login").text
        r = sprayer.post("/login", data={"username": users["dpo"][0], "password": users["dpo"][1],
                                         "csrf_token": _csrf(page)})
        assert r.status_code == 401
    with TestClient(app, client=("192.0.2.51", 50000)) as colleague:
        assert colleague.get("/api/v1/stats", auth=users["viewer"]).status_code == 200
    with app.state.db.session() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.detail["reason"].as_string() == "address_throttled"))
    assert MAX_FAILURES < MAX_ADDRESS_FAILURES


def test_forwarded_for_counts_only_from_a_trusted_reverse_proxy(make_settings, users):  # noqa: ARG001
    from admin_api import accounts
    from admin_api.app import create_app

    app = create_app(make_settings(trusted_proxies=["10.0.0.1/32"]))
    with app.state.db.session() as s:
        accounts.create_user(s, "victim", "correct horse battery staple", "viewer")
        s.commit()
    # a sprayer cannot dodge the throttle by inventing a new X-Forwarded-For per guess
    with TestClient(app, client=("192.0.2.60", 50000)) as direct:
        for i in range(MAX_ADDRESS_FAILURES):
            direct.get("/api/v1/stats", auth=(f"u{i}", "guess"), headers={"X-Forwarded-For": f"198.51.100.{i}"})
        assert direct.get("/api/v1/stats", auth=("victim", "correct horse battery staple")).status_code == 401
    # behind the trusted nginx, each client is throttled on its own address
    with TestClient(app, client=("10.0.0.1", 50000)) as nginx:
        for i in range(MAX_ADDRESS_FAILURES):
            nginx.get("/api/v1/stats", auth=(f"u{i}", "guess"), headers={"X-Forwarded-For": "192.0.2.61"})
        assert nginx.get("/api/v1/stats", auth=("victim", "correct horse battery staple"),
                         headers={"X-Forwarded-For": "192.0.2.61"}).status_code == 401
        assert nginx.get("/api/v1/stats", auth=("victim", "correct horse battery staple"),
                         headers={"X-Forwarded-For": "192.0.2.62"}).status_code == 200


# --- changes that weaken protection need the DPO --------------------------------------------------------------------

def _put(client, path: str, body: bytes, creds):  # type: ignore[no-untyped-def]
    return client.put(path, content=body, auth=creds, headers={"Content-Type": "application/yaml"})


def test_it_cannot_switch_protection_off_through_the_api(app, client, users, proxy_token):
    r = _put(client, "/api/v1/config/policy", MONITOR_POLICY, users["it"])
    assert r.status_code == 403
    copilot_approved = ALLOWLIST.replace("copilot:        {staff: monitor,", "copilot:        {staff: approved,")
    deepseek_monitor = ALLOWLIST.replace("deepseek:       {staff: blocked,", "deepseek:       {staff: monitor,")
    pupils_as_staff = ALLOWLIST.replace("pupil: {subnets: [10.1.0.0/16]", "pupil: {subnets: [10.2.0.0/16]")
    restore_on = ALLOWLIST.replace("chatgpt:        {staff: approved, pupil: blocked}",
                                   "chatgpt:        {staff: approved, pupil: blocked, restore_placeholders: true}")
    default_monitor = ALLOWLIST.replace("default_status: blocked", "default_status: monitor")
    for weaker in (deepseek_monitor, pupils_as_staff, restore_on, default_monitor):
        assert weaker != ALLOWLIST
        r = _put(client, "/api/v1/config/allowlist", weaker.encode(), users["it"])
        assert r.status_code == 403 and "Only the DPO" in r.json()["detail"], weaker
    # approving a tool that was on monitor makes it stricter: IT may do that
    assert _put(client, "/api/v1/config/allowlist", copilot_approved.encode(), users["it"]).status_code == 204
    config = client.get("/api/v1/config", headers={"Authorization": f"Bearer {proxy_token}"}).json()
    assert config["policy"] is None and config["allowlist"] == copilot_approved
    with app.state.db.session() as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "change.refused")).all()
    assert len(refused) == 4


def test_it_cannot_weaken_the_allowlist_on_the_web_page_either(app, users):
    browser = _login(app, users["it"])
    weaker = ALLOWLIST.replace("deepseek:       {staff: blocked,", "deepseek:       {staff: approved,")
    token = _csrf(browser.get("/it/allowlist").text)
    r = browser.post("/it/allowlist", data={"allowlist": weaker, "csrf_token": token})
    assert r.status_code == 403 and "deepseek for staff: blocked → approved" in r.text
    with app.state.db.session() as s:
        assert config_store.get_setting(s, config_store.ALLOWLIST) == ALLOWLIST
    assert browser.get("/policy").status_code == 403


def test_a_dpos_weakening_change_alerts_until_acknowledged(app, client, users):
    assert _put(client, "/api/v1/config/policy", MONITOR_POLICY, users["dpo"]).status_code == 204
    (alert,) = _alerts(app, "protection_weakened")
    assert "default: mode enforce → monitor" in alert.summary and alert.source == "dpo-user"
    other_dpo = ("dpo-two", "correct horse battery staple")
    with app.state.db.session() as s:
        from admin_api import accounts

        accounts.create_user(s, *other_dpo, "dpo")
        s.commit()
    browser = _login(app, other_dpo)
    assert "mode enforce → monitor" in browser.get("/").text
    page = browser.get("/alerts").text
    r = browser.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": _csrf(page)})
    assert r.status_code == 200
    assert 'id="open-alerts"' not in browser.get("/").text
    # keeping events longer is a weakening too
    with app.state.db.session() as s:
        config_store.set_retention_days(s, 365, "dpo-user")
        s.commit()
    browser.post("/retention", data={"days": "3650", "csrf_token": _csrf(browser.get("/retention").text)})
    (longer,) = [a for a in _alerts(app, "protection_weakened") if "days" in a.summary]
    assert "events kept for 3650 days instead of 365" in longer.summary and longer.acknowledged_at is None


def test_with_a_second_approver_a_weakening_change_waits_for_another_dpo(make_settings, proxy_token):  # noqa: ARG001
    from admin_api import accounts
    from admin_api.app import create_app

    app = create_app(make_settings(second_approver=True))
    with app.state.db.session() as s:
        _, token = proxies.create_token(s, "site-x")
        for name in ("dpo-a", "dpo-b"):
            accounts.create_user(s, name, "correct horse battery staple", "dpo")
        s.commit()
    with TestClient(app) as client:
        r = _put(client, "/api/v1/config/policy", MONITOR_POLICY, ("dpo-a", "correct horse battery staple"))
        assert r.status_code == 202
        assert client.get("/api/v1/config", headers={"Authorization": f"Bearer {token}"}).json()["policy"] is None
        # a stricter change is not held back
        stricter = b"version: 1\ndefault: {score_threshold: 0.4}\n"
        assert _put(client, "/api/v1/config/policy", stricter, ("dpo-a", "correct horse battery staple")
                    ).status_code == 204
    with app.state.db.session() as s:
        (pending,) = s.scalars(select(PendingChange)).all()
    a = _login(app, ("dpo-a", "correct horse battery staple"))
    page = a.get("/alerts").text
    assert f"/changes/{pending.id}/approve" not in page  # not one's own
    a.post(f"/changes/{pending.id}/approve", data={"csrf_token": _csrf(page)})
    with app.state.db.session() as s:
        assert s.get(PendingChange, pending.id).status == "pending"
    b = _login(app, ("dpo-b", "correct horse battery staple"))
    b.post(f"/changes/{pending.id}/approve", data={"csrf_token": _csrf(b.get("/alerts").text)})
    with app.state.db.session() as s:
        assert s.get(PendingChange, pending.id).status == "approved"
        assert "mode: monitor" in config_store.get_setting(s, config_store.POLICY)
    (applied,) = _alerts(app, "protection_weakened")
    assert "approved by dpo-b" in applied.summary
