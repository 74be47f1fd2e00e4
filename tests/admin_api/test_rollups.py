"""Dashboard statistics from the daily roll-ups equal counting the events one by one, for every filter the
statistics offer, on SQLite and PostgreSQL; and a filter the roll-ups hold is answered without reading the events
(that is what keeps a filtered dashboard fast at a million events)."""
from __future__ import annotations

import contextlib
import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event as sa_event

from admin_api import queries, rollups, severity
from admin_api.schemas import EventFilter, Stats

T0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday, midnight UTC
DAYS = 6
REASONS = {"allow": [[]], "redact": [["identifier_redacted"]],
           "block": [["special_category_with_identifier"], ["tool_blocked"], ["analysis_timeout"]]}
ENTITIES = [{"PUPIL": 1}, {"UK_UPN": 2, "SPECIAL_CATEGORY:HEALTH": 1}, {"PUPIL": 1, "SPECIAL_CATEGORY:SAFEGUARDING": 1}]
READS_EVENTS = re.compile(r"\b(FROM|JOIN) events\b")


@pytest.fixture
def sent(client, proxy_token, make_event):  # type: ignore[no-untyped-def]
    """300 events over six days, delivered through the ingest API (some twice), as proxies send them."""
    rng = random.Random(11)
    events = []
    for _ in range(300):
        action = rng.choice(["allow", "allow", "redact", "block"])
        events.append(make_event(
            time=(T0 + timedelta(minutes=rng.randrange(DAYS * 24 * 60))).isoformat(),
            action=action, reasons=rng.choice(REASONS[action]),
            entities={} if action == "allow" else rng.choice(ENTITIES),
            tool=rng.choice(["chatgpt", "gemini", "claude"]), profile=rng.choice(["staff", "pupil", None]),
            department=rng.choice(["Science", "SEN", None]), user=rng.choice(["t.jones", "a.khan"])))
    headers = {"Authorization": f"Bearer {proxy_token}"}
    assert client.post("/api/v1/events", json={"events": events[:200]}, headers=headers).status_code == 200
    assert client.post("/api/v1/events", json={"events": events[150:]}, headers=headers).json() == {
        "accepted": 100, "duplicates": 50}
    return events


def _matches(e: dict, flt: EventFilter) -> bool:
    when = datetime.fromisoformat(e["time"])
    return ((flt.start is None or when >= flt.start) and (flt.end is None or when < flt.end)
            and all(getattr(flt, f) in (None, e[f]) for f in ("action", "tool", "profile", "department"))
            and flt.severity in (None, _severity(e)) and (flt.entity is None or flt.entity in e["entities"])
            and flt.user in (None, e["user"]) and flt.proxy_id in (None, "site-main"))  # the token's proxy


def _severity(e: dict) -> int:
    return severity.severity_of(e["action"], e["reasons"], e["entities"])


def counted(events: list[dict], flt: EventFilter) -> dict[str, Counter]:
    """The statistics counted one event at a time: {dimension: Counter((key, action))}."""
    out: dict[str, Counter] = {d: Counter() for d in ("day", "tool", "profile", "department", "entity", "severity")}
    for e in filter(lambda e: _matches(e, flt), events):
        action = e["action"]
        out["day"][(datetime.fromisoformat(e["time"]).date().isoformat(), action)] += 1
        for dimension in ("tool", "profile", "department"):
            out[dimension][(e[dimension] or None, action)] += 1
        out["severity"][(severity.NAMES[_severity(e)], action)] += 1
        for entity in e["entities"]:
            if flt.entity in (None, entity):  # with a data-type filter, by_entity counts that type only
                out["entity"][(entity, action)] += 1
    return out


def as_counts(stats: Stats) -> dict[str, Counter]:
    groups = {"day": [(p.day, p) for p in stats.timeline], "tool": stats.by_tool, "profile": stats.by_profile,
              "department": stats.by_department, "entity": stats.by_entity, "severity": stats.by_severity}
    out = {}
    for dimension, rows in groups.items():
        pairs = rows if dimension == "day" else [(g.key, g) for g in rows]
        out[dimension] = Counter({(key, a): getattr(g, a) for key, g in pairs for a in ("allow", "redact", "block")
                                  if getattr(g, a)})
    return out


WHOLE_DAYS = {"start": T0 + timedelta(days=1), "end": T0 + timedelta(days=4)}
PARTIAL_DAYS = {"start": T0 + timedelta(days=1, hours=7), "end": T0 + timedelta(days=4, hours=15)}
# every filter the statistics take that the roll-ups hold, alone and together
ROLLUP_FILTERS = [{}, {"action": "block"}, {"tool": "gemini"}, {"profile": "pupil"}, {"department": "SEN"},
                  {"severity": severity.SAFEGUARDING}, {"severity": severity.NONE}, {"entity": "UK_UPN"},
                  {"entity": "SPECIAL_CATEGORY:SAFEGUARDING", "tool": "claude"},
                  {"action": "redact", "profile": "staff", "department": "Science"},
                  {"severity": severity.IDENTIFIERS, "entity": "PUPIL", "action": "redact"}]
OTHER_FILTERS = [{"user": "a.khan"}, {"proxy_id": "site-main"}, {"proxy_id": "site-b"}, {"user": "t.jones", "tool": "chatgpt"}]


@contextlib.contextmanager
def _statements(session) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The SQL statements the session runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    sa_event.listen(session.get_bind(), "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa_event.remove(session.get_bind(), "before_cursor_execute", record)


@pytest.mark.parametrize("span", [{}, WHOLE_DAYS, PARTIAL_DAYS], ids=["all time", "whole days", "partial days"])
def test_statistics_equal_counting_the_events_for_every_filter(app, sent, span):
    with app.state.db.session() as session:
        for fields in ROLLUP_FILTERS + OTHER_FILTERS:
            flt = EventFilter(**span, **fields)
            assert as_counts(queries.stats(session, flt)) == counted(sent, flt), flt
        rollups.rebuild(session)  # as after a bulk load or a purge: the same figures
        session.commit()
        for fields in ROLLUP_FILTERS:
            flt = EventFilter(**span, **fields)
            assert as_counts(queries.stats(session, flt)) == counted(sent, flt), flt


def test_a_filter_the_roll_ups_hold_reads_no_events_over_whole_days(app, sent):
    # every filter reads the same events, so they are sent once for all (not once per filter: 300 events apiece)
    for fields in ROLLUP_FILTERS:
        with app.state.db.session() as session, _statements(session) as statements:
            stats = queries.stats(session, EventFilter(**WHOLE_DAYS, **fields))
        assert stats.total > 0, fields
        assert statements and not [s for s in statements if READS_EVENTS.search(s)], (fields, statements)


def test_the_migration_fills_the_roll_ups_as_the_service_counts_them(app, sent):
    """0005 makes daily_counts and daily_entity_counts again from the events: the same rows rebuild makes."""
    from alembic import command
    from sqlalchemy import select

    from admin_api.db import alembic_config
    from admin_api.models import DailyCount, DailyEntityCount

    def rows(session):  # type: ignore[no-untyped-def]
        return {t.__tablename__: sorted(tuple(r) for r in session.execute(select(t.__table__)))
                for t in (DailyCount, DailyEntityCount)}

    db = app.state.db
    with db.session() as session:
        counted_at_ingest = rows(session)
    config = alembic_config(db.engine.url.render_as_string(hide_password=False))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004_casework")
        command.upgrade(config, "head")
    with db.session() as session:
        assert rows(session) == counted_at_ingest
        assert sum(n for *_, n in counted_at_ingest["daily_counts"]) == 300
