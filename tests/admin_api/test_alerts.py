"""Alerts through real servers on loopback: SMTP with STARTTLS and AUTH (aiosmtpd), a Teams/Slack-style webhook
(http.server) and syslog CEF (a UDP socket). The retry clock is moved by the test, never slept."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import http.server
import ipaddress
import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin_api import alerts
from admin_api.app import create_app
from admin_api.models import OutboxMessage
from tests.support.mail import SMTP_PASSWORD, SMTP_USER, Mailbox
from tests.support.net import free_port
from tests.support.stored_events import new_event

SAFEGUARDING = dict(action="block", reasons=["special_category_with_identifier"],
                    entities={"PUPIL": 1, "SPECIAL_CATEGORY:SAFEGUARDING": 1},
                    excerpt="[PUPIL_1] said she is scared to go home")
SPECIAL = dict(action="block", reasons=["special_category_with_identifier"],
               entities={"PUPIL": 1, "SPECIAL_CATEGORY:HEALTH": 1}, excerpt="[PUPIL_1] has epilepsy")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def alert_app(make_settings, certificate, smtp_port):
    def make(**overrides):
        settings = make_settings(**({
            "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_username": SMTP_USER,
            "smtp_password": SMTP_PASSWORD, "smtp_ca_file": certificate[0], "smtp_from": "alerts@school.test",
            "dsl_name": "Dee Safe", "dsl_email": "dsl@school.test", "dpo_name": "Dai Protect",
            "dpo_email": "dpo@school.test", "public_url": "https://pupilguard.school.test",
            "alert_interval_seconds": 0, "alert_timeout_seconds": 2} | overrides))
        app = create_app(settings)
        clock = Clock()
        return app, alerts.Dispatcher(app.state.db, alerts.Channels.from_settings(settings), clock), clock

    return make


def ingest(app, *events) -> None:
    from admin_api.store import store_events

    with app.state.db.session() as session:
        store_events(session, list(events))
        session.commit()


def outbox(app) -> list[OutboxMessage]:
    with app.state.db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_contacts_are_confirmed_by_a_test_message_over_starttls_and_auth(alert_app, certificate, smtp_port):
    app, dispatcher, _ = alert_app()
    with app.state.db.session() as session:
        assert sorted(alerts.missing_contacts(session)) == ["dpo", "dsl"]
    with Mailbox(smtp_port, certificate) as mailbox:
        assert dispatcher.deliver_due() == 2
    assert mailbox.sessions == [(True, True)] * 2  # encrypted and signed in, every time
    [to_dsl] = mailbox.to("dsl@school.test")
    assert "Designated Safeguarding Lead" in to_dsl["Subject"]
    link = re.search(r"https://pupilguard\.school\.test(/alerts/confirm/\S+)", to_dsl.get_content()).group(1)
    with TestClient(app) as client:
        page = client.get(link)
        assert page.status_code == 200 and 'id="confirm"' in page.text  # a button: a link scanner confirms nothing
        with app.state.db.session() as session:
            assert "dsl" in alerts.missing_contacts(session)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        done = client.post(link, data={"csrf_token": token})
        assert done.status_code == 200 and "Designated Safeguarding Lead" in done.text
        assert client.post(link, data={"csrf_token": token}).status_code == 404  # one use only
    with app.state.db.session() as session:
        assert alerts.missing_contacts(session) == ["dpo"]


def test_smtp_down_for_ten_minutes_loses_no_alert_and_sends_none_twice(alert_app, certificate, smtp_port):
    app, dispatcher, clock = alert_app()
    safeguarding = new_event(user="t.jones", time=clock.now - timedelta(minutes=1), **SAFEGUARDING)
    special = new_event(user="a.khan", time=clock.now - timedelta(minutes=1), **SPECIAL)
    # (an excerpt a proxy leaked an identifier into is rewritten on arrival, before any alert is built from it:
    # tests/security/test_admin_trust.py)
    ingest(app, safeguarding, special)
    ingest(app, safeguarding, special)  # the proxy's spool re-delivers: nothing new is queued
    alerts_queued = [m for m in outbox(app) if m.key.startswith("incident:")]
    assert sorted(m.recipient for m in alerts_queued) == ["dpo@school.test"] * 2 + ["dsl@school.test"]

    # the mail server is down: ten minutes of delivery rounds, one a minute
    attempts = 0
    for _ in range(10):
        assert dispatcher.deliver_due() == 0
        attempts += 1
        clock.advance(minutes=1)
    tried = {m.key: m.attempts for m in outbox(app)}
    assert all(1 <= n < attempts for n in tried.values()), tried  # retried, with backoff
    assert all(m.sent_at is None and "ConnectionRefused" in (m.last_error or "") for m in outbox(app))

    with Mailbox(smtp_port, certificate) as mailbox:
        for _ in range(30):  # the server is back: within minutes everything goes, once
            dispatcher.deliver_due()
            clock.advance(minutes=1)
        ingest(app, safeguarding)  # and one more late re-delivery
        dispatcher.deliver_due()
    assert all(m.sent_at is not None for m in outbox(app))
    assert sorted(m["To"] for m in mailbox.messages) == sorted(["dsl@school.test", "dpo@school.test"] * 2
                                                               + ["dpo@school.test"])
    [dsl_alert] = [m for m in mailbox.to("dsl@school.test") if "Safeguarding alert" in m["Subject"]]
    body = dsl_alert.get_content()
    assert "[PUPIL_1] said she is scared to go home" in body and "t.jones" in body
    assert "https://pupilguard.school.test/incidents/" in body
    assert len({m["Message-ID"] for m in mailbox.messages}) == len(mailbox.messages)


def test_admin_down_for_ten_minutes_loses_no_alert_and_sends_none_twice(alert_app, certificate, smtp_port):
    app, _, clock = alert_app()
    before = new_event(user="t.jones", time=clock.now, **SAFEGUARDING)
    ingest(app, before)
    app.state.db.dispose()  # the service stops before any delivery round, and stays down for ten minutes
    restarted, dispatcher, clock = alert_app()
    clock.advance(minutes=10)
    # back up: the proxies' spools deliver what waited meanwhile, and re-deliver what they were unsure of
    during = new_event(user="a.khan", time=clock.now - timedelta(minutes=5), **SPECIAL)
    ingest(restarted, before, during)
    with Mailbox(smtp_port, certificate) as mailbox:
        for _ in range(3):
            dispatcher.deliver_due()
            clock.advance(minutes=1)
    sent = sorted((m["To"], "Safeguarding" in m["Subject"]) for m in mailbox.messages if " alert " in m["Subject"])
    assert sent == [("dpo@school.test", False), ("dpo@school.test", True), ("dsl@school.test", True)]
    assert all(m.sent_at is not None for m in outbox(restarted))


class Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []
    fail_next = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers["content-length"]))
        if Hook.fail_next:
            Hook.fail_next -= 1
            self.send_response(503)
        else:
            Hook.received.append(json.loads(body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Hook.received, Hook.fail_next = [], 1
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    server.shutdown()


def test_webhook_and_syslog_cef_carry_the_alert(alert_app, webhook):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as siem:
        siem.bind(("127.0.0.1", 0))
        siem.settimeout(5)
        app, dispatcher, clock = alert_app(alert_webhook_url=webhook,
                                           alert_syslog=f"127.0.0.1:{siem.getsockname()[1]}")
        ingest(app, new_event(user="t.jones", time=clock.now, **SPECIAL))
        clock.advance(seconds=5)  # the test's clock started before the alert was queued
        dispatcher.deliver_due()  # the webhook answers 503 once; e-mail has no server: both wait
        assert Hook.received == []
        clock.advance(minutes=1)
        dispatcher.deliver_due()
        line = siem.recv(4096).decode()
    [payload] = Hook.received
    assert "Special category alert" in payload["text"] and "t.jones" in payload["text"]
    assert "[PUPIL_1] has epilepsy" in payload["text"]
    assert re.search(r"CEF:0\|pupilguard\|pupilguard\|1\|incident\.special_category\|.*\|8\|", line)
    assert "suser=t.jones" in line and "cs3=PUPIL,SPECIAL_CATEGORY:HEALTH" in line and "epilepsy" not in line


def test_weekly_digest_is_queued_once_a_week_with_counts_and_no_text(alert_app, certificate, smtp_port):
    app, dispatcher, clock = alert_app()
    clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # a Monday morning
    ingest(app, new_event(time=datetime(2026, 11, 25, 10, tzinfo=UTC), **SAFEGUARDING),
         new_event(time=datetime(2026, 11, 26, 10, tzinfo=UTC), tool="deepseek", action="block",
                    reasons=["tool_blocked"], entities={}, excerpt=""))
    for _ in range(3):
        dispatcher.weekly()
        clock.advance(hours=6)
    digests = [m for m in outbox(app) if m.key.startswith("digest:")]
    assert sorted(m.key for m in digests) == ["digest:2026-W48:dpo", "digest:2026-W48:dsl"]
    clock.now = datetime.now(UTC) + timedelta(minutes=1)  # queued at the real time
    with Mailbox(smtp_port, certificate) as mailbox:
        dispatcher.deliver_due()
    [digest] = [m for m in mailbox.to("dpo@school.test") if "weekly" in m["Subject"]]
    text = digest.get_content()
    assert "2 prompts checked: 2 blocked" in text and "Safeguarding: 1" in text and "DeepSeek: 1" in text
    assert "scared" not in text
    assert dt.date(2026, 11, 23).strftime("%d %b %Y") in text  # Monday to Sunday of the week before


def test_contacts_command_sets_contacts_and_sends_the_test_message(make_settings, certificate, smtp_port, capsys,
                                                                   monkeypatch, tmp_path):
    from admin_api import cli
    from admin_api.settings import Settings

    settings = make_settings(smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_username=SMTP_USER,
                             smtp_password=SMTP_PASSWORD, smtp_ca_file=certificate[0])
    monkeypatch.setattr(cli, "_settings", lambda args: settings)
    parser = __import__("argparse").ArgumentParser()
    cli.register_admin(parser.add_subparsers())
    args = parser.parse_args(["admin", "contacts", "--dsl-name", "Dee Safe", "--dsl-email", "dsl@school.test"])
    with Mailbox(smtp_port, certificate) as mailbox:
        assert args.handler(args) == 1  # the DPO is still missing: set-up is not complete
    out = capsys.readouterr()
    assert "Dee Safe <dsl@school.test>, waiting for confirmation" in out.out and "DPO" in out.err
    assert [m["To"] for m in mailbox.messages] == ["dsl@school.test"]
    assert isinstance(settings, Settings)
