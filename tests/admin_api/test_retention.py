"""Retention: old events are purged (with their data types, pupil refs and roll-up counts), and each purge is
recorded."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from admin_api import alerts, config_store, incidents, queries, retention
from admin_api.models import (AuditEntry, Event, EventEntity, EventPupil, Incident, IncidentNote, OutboxMessage,
                              Purge, User)
from admin_api.schemas import EventFilter

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _ingest(client, token, events):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def test_purge_deletes_only_events_older_than_retention(app, proxy_token, make_event):
    from fastapi.testclient import TestClient

    client = TestClient(app)  # no lifespan: the app's own purge timer must not race the explicit purge
    with app.state.db.session() as s:
        config_store.set_retention_days(s, 30, "dpo-user")
        s.commit()
    ages = [1, 10, 29, 31, 45, 400]
    events = [make_event(time=(NOW - timedelta(days=d)).isoformat()) for d in ages]
    # one more event on the cutoff day itself, just before the cutoff: it goes, its day's other event stays
    events.append(make_event(time=(NOW - timedelta(days=30, minutes=5)).isoformat()))
    events.append(make_event(time=(NOW - timedelta(days=30) + timedelta(minutes=5)).isoformat()))
    _ingest(client, proxy_token, events)

    record = retention.purge(app.state.db, app.state.settings, actor="dpo-user", now=NOW)
    assert record is not None and record.deleted == 4
    assert record.cutoff == NOW - timedelta(days=30)
    with app.state.db.session() as s:
        kept = {e.time for e in s.scalars(select(Event))}
        expected = {NOW - timedelta(days=d) for d in (1, 10, 29)} | {NOW - timedelta(days=30) + timedelta(minutes=5)}
        assert kept == expected
        # children went with their events (foreign-key cascade on both databases)
        assert s.scalar(select(func.count()).select_from(EventEntity)) == 4 * 2
        assert s.scalar(select(func.count()).select_from(EventPupil)) == 4 * 2
        # statistics (roll-ups) agree with what is left
        stats = queries.stats(s, EventFilter())
        assert stats.total == 4
        assert {g.key: g.redact for g in stats.by_entity} == {"PUPIL": 4, "UK_UPN": 4}
        purges = list(s.scalars(select(Purge)))
        assert [(p.actor, p.deleted) for p in purges] == [("dpo-user", 4)]
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "retention.purge")).detail == {
            "deleted": 4, "incidents": 0, "alerts": 0, "days": 30}


def test_automatic_purge_records_only_when_something_went(make_settings, make_event):
    from fastapi.testclient import TestClient

    from admin_api import proxies
    from admin_api.app import create_app

    app = create_app(make_settings(retention_days=365, purge_interval_seconds=3600))
    with app.state.db.session() as s:
        proxy_token = proxies.create_token(s, "p1")[1]
        s.commit()
    client = TestClient(app)  # no lifespan: only the explicit purges below run
    assert retention.purge(app.state.db, app.state.settings, now=NOW) is None  # nothing to delete: no record
    _ingest(client, proxy_token, [make_event(time=(NOW - timedelta(days=366)).isoformat())])
    record = retention.purge(app.state.db, app.state.settings, now=NOW)
    assert record is not None and record.actor == "system" and record.deleted == 1
    with app.state.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Purge)) == 1


def test_purge_runs_on_the_app_timer(make_settings, make_event):
    """The lifespan starts the timer: an app with a short interval purges without anyone asking."""
    import time

    from fastapi.testclient import TestClient

    from admin_api import proxies
    from admin_api.app import create_app

    app = create_app(make_settings(purge_interval_seconds=0.2, retention_days=1))
    with app.state.db.session() as s:
        token = proxies.create_token(s, "p1")[1]
        s.commit()
    with TestClient(app, client=("127.0.0.1", 50000)) as client:  # loopback: may read /metrics
        old = make_event(time=(datetime.now(UTC) - timedelta(days=3)).isoformat())
        _ingest(client, token, [old, make_event()])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with app.state.db.session() as s:
                if s.scalar(select(func.count()).select_from(Purge)):
                    break
            time.sleep(0.1)
        with app.state.db.session() as s:
            assert s.scalar(select(func.count()).select_from(Event)) == 1
            assert s.scalar(select(Purge.deleted)) == 1
        assert "pupilguard_admin_events_purged_total 1.0" in client.get("/metrics").text


def test_casework_follows_retention_closed_incidents_with_notes_and_delivered_alerts(app, proxy_token, make_event,
                                                                                      users):
    from fastapi.testclient import TestClient

    client = TestClient(app)  # no lifespan: only the explicit purge below runs
    with app.state.db.session() as s:
        config_store.set_retention_days(s, 30, "dpo-user")
        s.commit()
    _ingest(client, proxy_token, [make_event(time=(NOW - timedelta(days=45)).isoformat(), user="old.closed"),
                                  make_event(time=(NOW - timedelta(days=40)).isoformat(), user="old.open"),
                                  make_event(time=(NOW - timedelta(days=2)).isoformat(), user="recent.closed")])
    with app.state.db.session() as s:
        dpo = s.scalar(select(User).where(User.username == users["dpo"][0]))
        by_user = {i.user: i for i in s.scalars(select(Incident))}
        assert set(by_user) == {"old.closed", "old.open", "recent.closed"}
        for name, closed_days_ago in (("old.closed", 35), ("recent.closed", 1)):
            incident = by_user[name]
            incidents.add_note(s, incident, dpo, f"Spoke to {name} about it.")
            incidents.update(s, incident, dpo, status="closed", outcome="spoke_to_staff")
            incident.closed_at = NOW - timedelta(days=closed_days_ago)
        for key, sent_days_ago in (("old-sent", 31), ("recent-sent", 1), ("old-unsent", None)):
            alerts.enqueue(s, key, "email", "dpo@school.test", "subject", "body")
            s.flush()
            message = s.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
            message.created_at = NOW - timedelta(days=60)
            message.sent_at = None if sent_days_ago is None else NOW - timedelta(days=sent_days_ago)
        s.commit()

    retention.purge(app.state.db, app.state.settings, actor="dpo-user", now=NOW)

    with app.state.db.session() as s:
        # the incident closed 35 days ago went with its note; one still open stays, however old (its events went)
        assert {i.user for i in s.scalars(select(Incident))} == {"old.open", "recent.closed"}
        assert [n.text for n in s.scalars(select(IncidentNote))] == ["Spoke to recent.closed about it."]
        # a delivered alert goes after the retention period; one never delivered is never dropped
        assert sorted(s.scalars(select(OutboxMessage.key))) == ["old-unsent", "recent-sent"]
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "retention.purge")).detail == {
            "deleted": 2, "incidents": 1, "alerts": 1, "days": 30}
