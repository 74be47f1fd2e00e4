"""The event spool: nothing lost while the admin API is down or the proxy restarts, nothing stored twice."""
from __future__ import annotations

import socket
import sqlite3
import time
import uuid
from datetime import datetime, timezone

import pytest

from detectors.events import Event
from proxy.spool import Delivery, Spool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_event(**overrides) -> Event:
    fields = dict(event_id=uuid.uuid4(), time=datetime.now(timezone.utc), proxy_id="p1", client_addr="10.0.0.5",
                  tool="openai-api", host="api.openai.com", path="/v1/chat/completions", action="redact",
                  reasons=["identifier_redacted"], entities={"UK_UPN": 1}, excerpt="report for [UPN_1]",
                  analysis_ms=12.5)
    fields.update(overrides)
    return Event(**fields)


def wait_until(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_events_wait_while_admin_is_down_and_arrive_once_it_is_back(tmp_path, make_admin):
    port = free_port()
    spool = Spool(tmp_path / "spool")
    delivery = Delivery(spool, f"http://127.0.0.1:{port}", "test-token", interval_s=0.05, max_backoff_s=0.2)
    delivery.start()
    events = [make_event() for _ in range(3)]
    for e in events:
        spool.put(e)
    wait_until(lambda: delivery.failures >= 2)  # admin unreachable: retried, kept
    assert spool.depth() == 3

    admin = make_admin(port=port)
    wait_until(lambda: spool.depth() == 0)
    delivery.stop()
    assert set(admin.stored) == {str(e.event_id) for e in events}
    assert admin.stored[str(events[0].event_id)]["excerpt"] == "report for [UPN_1]"


def test_spooled_events_survive_a_restart(tmp_path, make_admin):
    spool = Spool(tmp_path / "spool")
    event = make_event()
    spool.put(event)
    Delivery(spool, None, None).start()  # no admin configured: events stay put
    spool.close()

    reopened = Spool(tmp_path / "spool")
    assert reopened.depth() == 1
    admin = make_admin()
    delivery = Delivery(reopened, admin.url, admin.token, interval_s=0.05)
    delivery.start()
    wait_until(lambda: reopened.depth() == 0)
    delivery.stop()
    assert list(admin.stored) == [str(event.event_id)]


def test_a_lost_reply_is_retried_without_storing_twice(tmp_path, make_admin):
    admin = make_admin()
    admin.fail_next = 1  # stores the batch, then answers 503 as if the reply was lost
    spool = Spool(tmp_path / "spool")
    delivery = Delivery(spool, admin.url, admin.token, interval_s=0.05, max_backoff_s=0.1)
    events = [make_event() for _ in range(5)]
    for e in events:
        spool.put(e)
    spool.put(events[0])  # the same event spooled twice is kept once
    assert spool.depth() == 5
    delivery.start()
    wait_until(lambda: spool.depth() == 0)
    delivery.stop()
    assert admin.posts == 2 and admin.duplicates == 5
    assert len(admin.stored) == 5


def test_wrong_token_keeps_events_and_says_why(tmp_path, make_admin):
    admin = make_admin(token="right")
    reasons: list[str] = []
    spool = Spool(tmp_path / "spool")
    spool.put(make_event())
    delivery = Delivery(spool, admin.url, "wrong", interval_s=0.05, max_backoff_s=0.1, on_failure=reasons.append)
    delivery.start()
    wait_until(lambda: len(reasons) >= 2)
    delivery.stop()
    assert spool.depth() == 1 and not admin.stored
    assert set(reasons) == {"unauthorised"}


def test_batches_respect_the_admin_limit(tmp_path, make_admin):
    admin = make_admin()
    spool = Spool(tmp_path / "spool")
    for _ in range(1203):
        spool.put(make_event())
    delivery = Delivery(spool, admin.url, admin.token, interval_s=0.05)
    assert delivery.deliver_once() == 500
    assert delivery.deliver_once() == 500
    assert delivery.deliver_once() == 203
    assert delivery.deliver_once() == 0
    assert len(admin.stored) == 1203 and admin.posts == 3


def test_an_event_the_admin_rejects_is_set_aside_not_lost_and_not_blocking(tmp_path, make_admin):
    admin = make_admin()
    spool = Spool(tmp_path / "spool")
    good = make_event()
    spool.put(good)
    # an event this admin version refuses (unknown field), as written by some other proxy version
    with sqlite3.connect(spool.path) as db:
        db.execute("INSERT INTO events (event_id, body) VALUES (?, ?)",
                   ("bad", '{"event_id": "00000000-0000-0000-0000-000000000001", "unexpected": 1}'))
    later = make_event()
    spool.put(later)
    delivery = Delivery(spool, admin.url, admin.token)
    while delivery.deliver_once():
        pass
    assert set(admin.stored) == {str(good.event_id), str(later.event_id)}
    assert spool.depth() == 0 and spool.rejected_count() == 1


def test_spool_files_are_private(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.put(make_event())
    assert (spool.path.stat().st_mode & 0o077) == 0
    assert (spool.directory.stat().st_mode & 0o077) == 0


@pytest.mark.slow
def test_proxy_spools_while_admin_is_down_and_delivers_after_restart(start_proxy, make_admin):
    """End to end: blocked prompts while the admin API is unreachable; proxy restarted; then delivered, once."""
    port = free_port()
    proxy = start_proxy(extra_args=["--admin-url", f"http://127.0.0.1:{port}", "--admin-token", "test-token"],
                        workers=1)
    with proxy.client() as client:
        for _ in range(3):  # bodies that are not text at all: blocked without needing the language model
            r = client.post("https://api.openai.com/v1/chat/completions", content=bytes(range(256)) * 4,
                            headers={"content-type": "application/octet-stream"})
            assert r.status_code == 403
    wait_until(lambda: proxy.metric("pupilguard_spool_depth") == 3)
    assert proxy.metric("pupilguard_delivery_failures_total") >= 1
    proxy.stop()

    admin = make_admin(port=port)
    proxy.start()  # same data dir, same spool
    wait_until(lambda: len(admin.stored) == 3, timeout=30)
    wait_until(lambda: proxy.metric("pupilguard_spool_depth") == 0)
    proxy.stop()
    assert admin.duplicates == 0
    for event in admin.stored.values():
        assert event["action"] == "block" and event["tool"] == "openai-api" and "unreadable_body" in event["reasons"]
        assert event["proxy_id"] == "test-proxy"

