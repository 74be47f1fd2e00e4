"""Two batches about one member of staff arriving at the same moment (two proxies, or a proxy's spool and its live
sender) open one incident between them, not two — on PostgreSQL, where ingests really run in parallel."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from admin_api.models import Event, Incident

pytestmark = pytest.mark.postgres

ROUNDS = 8
SENDERS = 4  # concurrent ingests per round, each one event of the same user


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_concurrent_ingests_of_one_user_open_one_incident(app, proxy_token, make_event):
    now = datetime.now(UTC).replace(microsecond=0)
    headers = {"Authorization": f"Bearer {proxy_token}"}
    barrier = threading.Barrier(SENDERS)
    failures: list[str] = []

    with TestClient(app) as client:  # sync routes run in the server's thread pool: truly concurrent requests
        def send(round_: int, sender: int) -> None:
            event = make_event(user=f"teacher{round_}", time=(now + timedelta(seconds=sender)).isoformat())
            barrier.wait()
            reply = client.post("/api/v1/events", json={"events": [event]}, headers=headers)
            if reply.status_code != 200 or reply.json()["accepted"] != 1:
                failures.append(f"{reply.status_code} {reply.text[:200]}")

        for round_ in range(ROUNDS):
            threads = [threading.Thread(target=send, args=(round_, s)) for s in range(SENDERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    assert not failures

    with app.state.db.session() as session:
        per_user = dict(session.execute(select(Incident.user, func.count()).group_by(Incident.user)).all())
        assert per_user == {f"teacher{r}": 1 for r in range(ROUNDS)}
        # and each incident counts every one of its events, all of which point at it
        for incident in session.scalars(select(Incident)):
            linked = session.scalar(select(func.count()).select_from(Event).where(Event.incident_id == incident.id))
            assert incident.events == linked == SENDERS
