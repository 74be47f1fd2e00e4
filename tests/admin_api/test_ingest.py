"""POST /api/v1/events: what a proxy's spool relies on — auth, validation, idempotency, concurrency."""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from admin_api import proxies
from admin_api.models import Event, EventEntity, EventPupil, Proxy


def _post(client, token, events):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"})


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.state.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_batch_is_stored_with_entities_and_pupils(app, client, proxy_token, make_event):
    events = [make_event() for _ in range(3)]
    r = _post(client, proxy_token, events)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 3, "duplicates": 0}
    with app.state.db.session() as s:
        stored = s.get(Event, uuid.UUID(events[0]["event_id"]))
        assert stored.action == "redact" and stored.tool == "chatgpt"
        assert stored.excerpt == events[0]["excerpt"]
        assert {e.entity: e.count for e in stored.entities} == {"PUPIL": 2, "UK_UPN": 1}
        assert sorted(p.pupil_ref for p in stored.pupils) == ["P-AAAA1111", "P-BBBB2222"]
        assert stored.time.tzinfo is not None
    assert _count(app, EventEntity) == 6
    assert _count(app, EventPupil) == 6


def test_redelivery_is_idempotent_and_counted(app, client, proxy_token, make_event):
    events = [make_event() for _ in range(4)]
    assert _post(client, proxy_token, events[:2]).json() == {"accepted": 2, "duplicates": 0}
    # the spool re-sends the whole batch after a lost response, plus new events, plus a repeat within the batch
    r = _post(client, proxy_token, events + [events[3]])
    assert r.json() == {"accepted": 2, "duplicates": 3}
    assert _count(app, Event) == 4
    assert _count(app, EventEntity) == 8  # no doubled data-type rows for re-delivered events
    with app.state.db.session() as s:
        assert s.scalar(select(Proxy.events_received)) == 4


@pytest.mark.parametrize("field", ["prompt", "text", "body", "messages", "raw"])
def test_field_that_could_carry_a_prompt_is_rejected(app, client, proxy_token, make_event, field):
    event = make_event(**{field: "Oliver Smith (UPN A123456789012) has ADHD"})
    r = _post(client, proxy_token, [make_event(), event])
    assert r.status_code == 422
    assert field in r.text
    assert "Oliver Smith" not in r.text  # the error never echoes the rejected value back... into logs either
    assert _count(app, Event) == 0  # nothing of the batch is stored


def test_invalid_values_are_422_not_500(client, proxy_token, make_event):
    bad = [
        make_event(action="maybe"),
        make_event(time="2026-01-01T10:00:00"),  # naive time
        make_event(event_id="not-a-uuid"),
        make_event(excerpt="x" * 1001),
        make_event(proxy_id="p\x00"),
        make_event(tool="t" * 65),
        make_event(entities={"PUPIL": -1}),
        make_event(time="0001-01-01T00:00:00+05:00"),
    ]
    for event in bad:
        assert _post(client, proxy_token, [event]).status_code == 422, event
    too_many = [make_event() for _ in range(501)]
    assert _post(client, proxy_token, too_many).status_code == 422
    r = client.post("/api/v1/events", content=b"{not json", headers={"Authorization": f"Bearer {proxy_token}",
                                                                     "Content-Type": "application/json"})
    assert r.status_code == 422


def test_token_required_and_revocation_takes_effect(app, client, proxy_token, make_event):
    assert client.post("/api/v1/events", json={"events": [make_event()]}).status_code == 401
    assert _post(client, "pgp_wrong", [make_event()]).status_code == 401
    assert _post(client, proxy_token, [make_event()]).status_code == 200
    with app.state.db.session() as s:
        proxies.revoke_token(s, "site-main")
        s.commit()
    r = _post(client, proxy_token, [make_event()])
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert _count(app, Event) == 1


def test_last_seen_health_is_updated(app, client, proxy_token, make_event):
    client.post("/api/v1/events", json={"events": [make_event(), make_event()]},
                headers={"Authorization": f"Bearer {proxy_token}", "User-Agent": "pupilguard-proxy/0.1.0"})
    with app.state.db.session() as s:
        proxy = s.scalar(select(Proxy).where(Proxy.name == "site-main"))
        assert proxy.last_seen_at is not None
        assert proxy.last_seen_version == "pupilguard-proxy/0.1.0"
        assert proxy.last_seen_addr
        assert proxy.events_received == 2


def test_oversized_body_is_413(client, proxy_token):
    r = client.post("/api/v1/events", content=b"x" * (17 * 1024 * 1024),
                    headers={"Authorization": f"Bearer {proxy_token}", "Content-Type": "application/json"})
    assert r.status_code == 413


def test_oversized_chunked_body_is_413(client, proxy_token):
    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(17):
            yield b"x" * (1024 * 1024)

    r = client.post("/api/v1/events", content=chunks(),
                    headers={"Authorization": f"Bearer {proxy_token}", "Content-Type": "application/json"})
    assert r.status_code == 413


def test_concurrent_ingest_from_several_proxies(app, client, make_event):
    """Three proxies deliver overlapping batches at once (each event sent by two of them): every event is stored
    exactly once, and the accepted counts add up."""
    tokens = []
    with app.state.db.session() as s:
        for name in ("site-a", "site-b", "site-c"):
            tokens.append(proxies.create_token(s, name)[1])
        s.commit()
    events = [make_event() for _ in range(600)]
    # the same events in different orders: concurrent transactions must not deadlock on each other's rows
    plans = {0: events[0:400], 1: events[599:199:-1], 2: events[400:600] + events[0:200]}
    results: dict[int, list[dict]] = {i: [] for i in plans}
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            batch = plans[i]
            for start in range(0, len(batch), 200):
                r = _post(client, tokens[i], batch[start:start + 200])
                assert r.status_code == 200, r.text
                results[i].append(r.json())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    accepted = sum(r["accepted"] for rs in results.values() for r in rs)
    duplicates = sum(r["duplicates"] for rs in results.values() for r in rs)
    assert accepted == 600 and duplicates == 600
    assert _count(app, Event) == 600
    assert _count(app, EventEntity) == 1200
    with app.state.db.session() as s:
        assert s.scalar(select(func.sum(Proxy.events_received))) == 600


def test_proxy_spool_client_contract(app, client, proxy_token, make_event):
    """The wire format the proxy sends (detectors.events.EventBatch serialised by pydantic) is accepted as is."""
    from detectors.events import EventBatch

    batch = EventBatch.model_validate({"events": [make_event(user=None, department=None)]})
    r = client.post("/api/v1/events", content=batch.model_dump_json(),
                    headers={"Authorization": f"Bearer {proxy_token}", "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"] == 1


@pytest.mark.e2e
def test_pupilguard_admin_serve_over_real_http(tmp_path, database_url, make_event):
    """`pupilguard admin serve` in its own process: a proxy token made with the CLI works over a real socket."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PUPILGUARD_SECRET_KEY": "k" * 40, "PUPILGUARD_COOKIE_SECURE": "0"}
    common = ["--data-dir", str(tmp_path / "data"), "--database-url", database_url]
    cli = [sys.executable, "-m", "detectors.cli", "admin"]
    token = subprocess.run([*cli, "proxy-token", "create", "site-x", *common], env=env, capture_output=True,
                           text=True, check=True, timeout=120).stdout.strip().splitlines()[-1]
    server = subprocess.Popen([*cli, "serve", "--listen", f"127.0.0.1:{port}", *common], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "admin serve did not start"
            time.sleep(0.2)
        batch = {"events": [make_event(), make_event()]}
        r = httpx.post(f"{base}/api/v1/events", json=batch, headers={"Authorization": f"Bearer {token}"})
        assert r.json() == {"accepted": 2, "duplicates": 0}
        r = httpx.post(f"{base}/api/v1/events", json=batch, headers={"Authorization": f"Bearer {token}"})
        assert r.json() == {"accepted": 0, "duplicates": 2}
        assert httpx.get(f"{base}/api/v1/config", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "Traceback" not in err
