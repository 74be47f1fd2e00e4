"""The DPO's JSON API: filters, paging, statistics, CSV export, pupil search, roles and the audit log."""
from __future__ import annotations

import csv
import io
import string
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from admin_api import config_store
from admin_api.models import AuditEntry
from detectors.recognisers.uk_ids import upn_is_valid

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def seeded(client, proxy_token, make_event):  # type: ignore[no-untyped-def]
    """30 events over 3 days: a mix of actions, tools, profiles and data types."""
    events = []
    for i in range(30):
        action = ("allow", "redact", "block")[i % 3]
        events.append(make_event(
            time=(T0 + timedelta(days=i // 10, minutes=i)).isoformat(),
            action=action,
            tool="chatgpt" if i % 2 else "gemini",
            profile="staff" if i < 20 else "pupil",
            department="Science" if i % 5 else None,
            user=f"user{i % 4}",
            entities={} if action == "allow" else ({"PUPIL": 1} if action == "redact"
                                                   else {"UK_UPN": 1, "SPECIAL_CATEGORY:SEN": 2}),
            pupil_refs=[] if action == "allow" else [f"P-{i % 6:08d}"],
            excerpt=f"<script>alert({i})</script> [PUPIL_1] =cmd|' /C calc'!A0",
        ))
    r = client.post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {proxy_token}"})
    assert r.json()["accepted"] == 30
    return events


def _get(client, users, role, url, **params):  # type: ignore[no-untyped-def]
    return client.get(url, params=params, auth=users[role])


def test_list_is_newest_first_and_pages_through_everything(client, users, seeded):
    seen, cursor = [], None
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        r = _get(client, users, "dpo", "/api/v1/events", **params)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 30
    assert len({e["event_id"] for e in seen}) == 30
    times = [e["time"] for e in seen]
    assert times == sorted(times, reverse=True)


def test_filters(client, users, seeded):
    def ids(**params):  # type: ignore[no-untyped-def]
        r = _get(client, users, "dpo", "/api/v1/events", limit=500, **params)
        assert r.status_code == 200, r.text
        return {e["event_id"] for e in r.json()["items"]}

    def expected(pred):  # type: ignore[no-untyped-def]
        return {e["event_id"] for e in seeded if pred(e)}

    assert ids(action="block") == expected(lambda e: e["action"] == "block")
    assert ids(tool="gemini", profile="staff") == expected(lambda e: e["tool"] == "gemini" and e["profile"] == "staff")
    assert ids(entity="SPECIAL_CATEGORY:SEN") == expected(lambda e: "SPECIAL_CATEGORY:SEN" in e["entities"])
    assert ids(user="user1") == expected(lambda e: e["user"] == "user1")
    assert ids(department="Science") == expected(lambda e: e["department"] == "Science")
    assert ids(pupil_ref="P-00000001") == expected(lambda e: "P-00000001" in e["pupil_refs"])
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=2)
    assert ids(start=start.isoformat(), end=end.isoformat()) == expected(
        lambda e: start <= datetime.fromisoformat(e["time"]) < end)
    assert ids(tool="no-such-tool") == set()


def test_bad_parameters_are_422(client, users, seeded):
    assert _get(client, users, "dpo", "/api/v1/events", cursor="garbage").status_code == 422
    assert _get(client, users, "dpo", "/api/v1/events", action="maybe").status_code == 422
    assert _get(client, users, "dpo", "/api/v1/events", start="2026-01-01T00:00:00").status_code == 422  # naive
    assert _get(client, users, "dpo", "/api/v1/events", limit=0).status_code == 422
    assert _get(client, users, "dpo", "/api/v1/events", bogus="1").status_code == 422


def test_event_detail(client, users, seeded):
    event = seeded[5]
    r = _get(client, users, "dpo", f"/api/v1/events/{event['event_id']}")
    assert r.status_code == 200
    body = r.json()
    assert body["excerpt"] == event["excerpt"]  # JSON carries it verbatim; the web UI escapes it
    assert body["entities"] == event["entities"]
    assert body["reasons"] == event["reasons"]
    assert _get(client, users, "dpo", "/api/v1/events/00000000-0000-0000-0000-000000000000").status_code == 404


def test_stats(client, users, seeded):
    r = _get(client, users, "viewer", "/api/v1/stats")
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["total"] == 30
    assert stats["by_action"] == {"allow": 10, "redact": 10, "block": 10}
    assert [p["day"] for p in stats["timeline"]] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert sum(p["allow"] + p["redact"] + p["block"] for p in stats["timeline"]) == 30
    tools = {g["key"]: g["allow"] + g["redact"] + g["block"] for g in stats["by_tool"]}
    assert tools == {"chatgpt": 15, "gemini": 15}
    profiles = {g["key"]: g["allow"] + g["redact"] + g["block"] for g in stats["by_profile"]}
    assert profiles == {"staff": 20, "pupil": 10}
    departments = {g["key"]: g["allow"] + g["redact"] + g["block"] for g in stats["by_department"]}
    assert departments == {"Science": 24, None: 6}
    entities = {g["key"]: (g["redact"], g["block"]) for g in stats["by_entity"]}
    assert entities == {"PUPIL": (10, 0), "UK_UPN": (0, 10), "SPECIAL_CATEGORY:SEN": (0, 10)}

    # filtered statistics, including a filter that needs the join for data types
    r = _get(client, users, "dpo", "/api/v1/stats", tool="gemini", action="block")
    stats = r.json()
    n = sum(1 for e in seeded if e["tool"] == "gemini" and e["action"] == "block")
    assert stats["total"] == n
    assert {g["key"]: g["block"] for g in stats["by_entity"]} == {"UK_UPN": n, "SPECIAL_CATEGORY:SEN": n}

    # a data-type filter: the events holding it (by_entity then shows that type only)
    stats = _get(client, users, "dpo", "/api/v1/stats", entity="UK_UPN").json()
    assert stats["total"] == 10 and stats["by_action"]["block"] == 10
    assert {g["key"]: g["block"] for g in stats["by_entity"]} == {"UK_UPN": 10}


def test_csv_export(client, users, seeded):
    r = _get(client, users, "dpo", "/api/v1/events/export.csv", action="redact")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 10
    assert {row["action"] for row in rows} == {"redact"}
    assert rows[0]["entities"] == "PUPIL=1"
    # cells a spreadsheet would execute are neutralised
    injected = list(csv.DictReader(io.StringIO(_get(client, users, "dpo", "/api/v1/events/export.csv").text)))
    assert all(not row["excerpt"].startswith("=") for row in injected)
    assert len(injected) == 30


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("viewer", "/api/v1/events", 403),
        ("viewer", "/api/v1/events/export.csv", 403),
        ("it", "/api/v1/events/export.csv", 403),
        ("it", "/api/v1/events", 200),
        ("viewer", "/api/v1/stats", 200),
    ],
)
def test_roles(client, users, seeded, role, path, status):
    assert _get(client, users, role, path).status_code == status


def test_it_role_sees_no_event_text(client, users, seeded):
    items = _get(client, users, "it", "/api/v1/events").json()["items"]
    assert items and all(e["excerpt"] is None and e["pupil_refs"] is None for e in items)
    one = _get(client, users, "it", f"/api/v1/events/{seeded[0]['event_id']}").json()
    assert one["excerpt"] is None
    assert client.post("/api/v1/pupils/search", json={"query": "x"}, auth=users["it"]).status_code == 403


def test_only_the_dpo_may_filter_by_pupil(client, users, seeded):
    ref = "P-00000001"
    assert _get(client, users, "it", "/api/v1/events", pupil_ref=ref).status_code == 403
    assert _get(client, users, "it", "/api/v1/stats", pupil_ref=ref).status_code == 403
    assert _get(client, users, "viewer", "/api/v1/stats", pupil_ref=ref).status_code == 403
    assert _get(client, users, "dpo", "/api/v1/stats", pupil_ref=ref).json()["total"] == sum(
        1 for e in seeded if ref in e["pupil_refs"])


def test_unauthenticated_and_wrong_password(client, users, seeded):
    assert client.get("/api/v1/events").status_code == 401
    assert client.get("/api/v1/stats", auth=("dpo-user", "wrong password!")).status_code == 401
    # a proxy token is not a user credential
    assert client.get("/api/v1/events", headers={"Authorization": "Bearer pgp_x"}).status_code == 401


def test_every_read_is_audited_without_pupil_data(app, client, users, seeded):
    _get(client, users, "dpo", "/api/v1/events", action="block")
    _get(client, users, "dpo", f"/api/v1/events/{seeded[0]['event_id']}")
    _get(client, users, "viewer", "/api/v1/stats")
    _get(client, users, "dpo", "/api/v1/events/export.csv")
    with app.state.db.session() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    got = [(e.username, e.action) for e in entries]
    assert ("dpo-user", "events.list") in got
    assert ("dpo-user", "events.view") in got
    assert ("viewer-user", "stats.view") in got
    assert ("dpo-user", "events.export") in got
    listing = next(e for e in entries if e.action == "events.list")
    assert listing.detail["action"] == "block"
    assert all("[PUPIL_1]" not in str(e.detail) for e in entries)


def _valid_upn(body: str) -> str:
    return next(c + body for c in string.ascii_uppercase if upn_is_valid(c + body))


def test_find_a_pupil(app, client, users, proxy_token, make_event):
    upn = _valid_upn("820200112345")
    csv_bytes = (
        "Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,UPN,DOB\r\n"
        f"O'Brien,Zoë,O'Brien,Zoë,{upn},03/04/2014\r\n"
        "Smith,Oliver,Smith,Ollie,,01/02/2013\r\n"
    ).encode("utf-8")
    with app.state.db.session() as s:
        result = config_store.store_roster_upload(s, csv_bytes, app.state.roster_key, "dpo-user")
        s.commit()
        assert result.upload.pupils == 2
        ref = config_store.find_pupil_refs(s, app.state.roster_key, upn)[0]
    ours, other = make_event(pupil_refs=[ref]), make_event(pupil_refs=["P-SOMEONEELSE"])
    client.post("/api/v1/events", json={"events": [ours, other]}, headers={"Authorization": f"Bearer {proxy_token}"})

    for query in ("ZOE OBRIEN", "zoë o’brien", upn.lower()):
        r = client.post("/api/v1/pupils/search", json={"query": query}, auth=users["dpo"])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["pupil_refs"] == [ref]
        assert [e["event_id"] for e in body["events"]["items"]] == [ours["event_id"]]
    r = client.post("/api/v1/pupils/search", json={"query": "Nobody Atall"}, auth=users["dpo"])
    assert r.json() == {"pupil_refs": [], "events": {"items": [], "next_cursor": None}}

    with app.state.db.session() as s:
        searches = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "pupil.search")))
    assert len(searches) == 4
    assert all("zoe" not in str(e.detail).lower() and upn not in str(e.detail) for e in searches)


def test_rollup_statistics_equal_counting_the_events(app, client, proxy_token, make_event, monkeypatch):
    """Dashboards read the daily roll-ups plus the partial days at the range's ends; the figures must be exactly
    those of counting the events, for any range, filter and after duplicate deliveries."""
    import random

    from admin_api import queries
    from admin_api.schemas import EventFilter

    rng = random.Random(7)
    events = [make_event(
        time=(T0 + timedelta(minutes=rng.randrange(5 * 24 * 60))).isoformat(),
        action=rng.choice(["allow", "redact", "block"]),
        tool=rng.choice(["chatgpt", "gemini", "claude"]),
        profile=rng.choice(["staff", "pupil", None]),
        department=rng.choice(["Science", "SEN", None, ""]),
        entities=rng.choice([{}, {"PUPIL": 1}, {"UK_UPN": 2, "SPECIAL_CATEGORY:HEALTH": 1}]),
    ) for _ in range(300)]
    headers = {"Authorization": f"Bearer {proxy_token}"}
    assert client.post("/api/v1/events", json={"events": events[:200]}, headers=headers).status_code == 200
    assert client.post("/api/v1/events", json={"events": events[100:]}, headers=headers).json() == {
        "accepted": 100, "duplicates": 100}

    filters = [EventFilter()]
    for _ in range(25):
        a, b = sorted(rng.sample(range(-600, 6 * 24 * 60), 2))
        filters.append(EventFilter(start=T0 + timedelta(minutes=a), end=T0 + timedelta(minutes=b),
                                   action=rng.choice([None, "block"]), tool=rng.choice([None, "gemini"]),
                                   profile=rng.choice([None, "pupil"]), department=rng.choice([None, "SEN"]),
                                   entity=rng.choice([None, None, "UK_UPN"])))
    filters.append(EventFilter(start=T0.replace(hour=0), end=T0.replace(hour=0) + timedelta(days=2)))  # whole days
    filters.append(EventFilter(start=T0 + timedelta(days=1)))
    filters.append(EventFilter(end=T0 + timedelta(days=2, hours=3)))
    filters.append(EventFilter(entity="SPECIAL_CATEGORY:HEALTH"))
    filters.append(EventFilter(start=T0 + timedelta(hours=5), action="redact"))
    filters.append(EventFilter(user="t.jones", start=T0 + timedelta(hours=5)))
    with app.state.db.session() as s:
        fast = [queries.stats(s, f) for f in filters]
        # no whole days for the roll-ups: everything counted from the events
        monkeypatch.setattr(queries, "_split_days", lambda start, end: (None, [(start, end)]))
        slow = [queries.stats(s, f) for f in filters]
    assert fast[0].total == 300 and slow[0].total == 300
    for f, a, b in zip(filters, fast, slow):
        assert a == b, f


def test_audit_log_api(client, users, seeded):
    _get(client, users, "dpo", "/api/v1/events", action="block")
    _get(client, users, "viewer", "/api/v1/stats")
    r = _get(client, users, "dpo", "/api/v1/audit", limit=1)
    assert r.status_code == 200
    first = r.json()
    assert len(first["items"]) == 1 and first["next_before"]
    entries = _get(client, users, "dpo", "/api/v1/audit", limit=1000).json()["items"]
    actions = [(e["username"], e["action"]) for e in entries]
    assert ("dpo-user", "events.list") in actions and ("viewer-user", "stats.view") in actions
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    only_viewer = _get(client, users, "dpo", "/api/v1/audit", username="viewer-user").json()["items"]
    assert only_viewer and {e["username"] for e in only_viewer} == {"viewer-user"}
    older = _get(client, users, "dpo", "/api/v1/audit", before=first["next_before"], limit=1000).json()["items"]
    assert all(e["id"] < first["next_before"] for e in older)
    assert _get(client, users, "it", "/api/v1/audit").status_code == 403
    assert _get(client, users, "viewer", "/api/v1/audit").status_code == 403


def test_csv_export_in_batches_is_complete(app, seeded):
    from admin_api import queries
    from admin_api.schemas import EventFilter

    with app.state.db.session() as s:
        text = "".join(queries.export_csv(s, EventFilter(), include_text=False, batch=7))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["event_id"] for r in rows) == sorted(e["event_id"] for e in seeded)
    assert "excerpt" not in rows[0] and "pupil_refs" not in rows[0]  # the columns a non-DPO export leaves out


def test_event_data_is_never_cached_by_the_browser(client, users, seeded):
    """A DPO on a shared staff-room PC: events, exports and audit data must not stay in its browser cache."""
    for path in ("/api/v1/events", f"/api/v1/events/{seeded[0]['event_id']}", "/api/v1/events/export.csv",
                 "/api/v1/stats", "/api/v1/audit"):
        r = _get(client, users, "dpo", path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "no-store", path
