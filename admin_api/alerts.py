"""Alerts: the DSL and DPO are told within minutes of a safeguarding or special-category block, and weekly.

Contacts (the DSL's and DPO's name and e-mail) are kept in the settings table, seeded from PUPILGUARD_DSL_EMAIL …
or set with `pupilguard admin contacts` / the Alerts page, and each is confirmed by a test message with a link.

Every message goes through the durable outbox (models.OutboxMessage), written in the same transaction as what
caused it (the ingest of a new event), under a unique key: a re-delivered batch adds nothing, a mail server that
is down loses nothing. `Dispatcher.deliver_due` claims due messages with a lease, sends them (SMTP with STARTTLS
and AUTH; a Teams/Slack-compatible webhook; syslog CEF over UDP), marks them sent, or schedules a retry with
exponential backoff. A message is only ever re-sent if the service dies between sending and recording it.

Messages never hold prompt text beyond the stored placeholder excerpt.

(Slightly over 350 lines: contacts, outbox, message wording and the three channels are one delivery guarantee; the
outbox's claim-send-record cycle is easiest to check when its channels sit beside it.)
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import audit, incidents, labels, queries, severity
from .db import Database, bulk_insert
from .permissions import ROLE_LABELS
from .incidents import Raised
from .schemas import EventFilter
from .models import OutboxMessage, Setting, utcnow

log = logging.getLogger(__name__)

ALERTS_KEY = "alerts"  # the settings-table row: contacts and channels
CONTACT_ROLES = {role: ROLE_LABELS[role] for role in ("dsl", "dpo")}
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=5)  # an alert must arrive within minutes of the mail server coming back


# --- configuration (contacts and channels) ----------------------------------------------------------------------------

def load_config(session: Session) -> dict[str, Any]:
    row = session.get(Setting, ALERTS_KEY)
    config = json.loads(row.value) if row else {}
    config.setdefault("contacts", {})
    return config


def _save_config(session: Session, config: dict[str, Any], actor: str | None) -> None:
    row = session.get(Setting, ALERTS_KEY)
    value = json.dumps(config, sort_keys=True)
    if row is None:
        session.add(Setting(key=ALERTS_KEY, value=value, updated_by=actor))
    else:
        row.value, row.updated_by = value, actor


def seed(session: Session, settings: Any) -> None:
    """At start-up: channels and the link base from the settings; contacts only where none is set yet (after
    that the DPO manages them in the service)."""
    config = load_config(session)
    config["public_url"] = str(settings.public_url).rstrip("/")
    config["webhook_url"] = settings.alert_webhook_url or None
    config["syslog"] = settings.alert_syslog or None
    config["smtp"] = bool(settings.smtp_host)
    _save_config(session, config, None)
    for role in CONTACT_ROLES:
        email = getattr(settings, f"{role}_email", None)
        if email and role not in config["contacts"]:
            set_contact(session, role, getattr(settings, f"{role}_name", None) or CONTACT_ROLES[role], email,
                        actor=None)


class ContactError(ValueError):
    pass


def set_contact(session: Session, role: str, name: str, email: str, actor: str | None) -> str:
    """Store a contact (unconfirmed) and queue the test message asking them to confirm; returns the token."""
    if role not in CONTACT_ROLES:
        raise ContactError(f"Contact role must be one of: {', '.join(CONTACT_ROLES)}.")
    name, email = name.strip(), email.strip()
    if not name or len(name) > 200:
        raise ContactError("Give the contact's name.")
    if "@" not in email or len(email) > 320 or any(c.isspace() or c in "<>,;" for c in email):
        raise ContactError("Give a valid e-mail address.")
    config = load_config(session)
    token = secrets.token_urlsafe(24)
    config["contacts"][role] = {"name": name, "email": email, "confirmed_at": None,
                                "token_sha256": hashlib.sha256(token.encode()).hexdigest()}
    _save_config(session, config, actor)
    link = f"{config.get('public_url', '')}/alerts/confirm/{token}"
    enqueue(session, f"confirm:{role}:{token[:12]}", "email", email,
            f"pupilguard: please confirm you receive alerts as {CONTACT_ROLES[role]}",
            f"Hello {name},\n\nYou have been named as the {CONTACT_ROLES[role]} who receives pupilguard's alerts "
            f"about pupil data and safeguarding disclosures typed into AI tools.\n\nThis is a test message. "
            f"Please confirm that it reached you:\n\n  {link}\n\nUntil you do, the admin service shows these "
            "alerts as unconfirmed.\n")
    audit.record(session, actor, "alerts.contact", role, {"confirmed": False})
    return token


def confirm_contact(session: Session, token: str) -> str | None:
    """Mark the contact holding this token confirmed; returns its role, or None for an unknown token."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    config = load_config(session)
    for role, contact in config["contacts"].items():
        if secrets.compare_digest(contact.get("token_sha256") or "", digest):
            contact["confirmed_at"] = utcnow().isoformat()
            contact["token_sha256"] = None
            _save_config(session, config, contact["email"])
            audit.record(session, contact["email"], "alerts.confirm", role)
            return role
    return None


def missing_contacts(session: Session) -> list[str]:
    """Roles whose contact is not set or not confirmed yet (what set-up still needs)."""
    contacts = load_config(session)["contacts"]
    return [role for role in CONTACT_ROLES if not (contacts.get(role) or {}).get("confirmed_at")]


# --- the outbox -------------------------------------------------------------------------------------------------------

def enqueue(session: Session, key: str, channel: str, recipient: str, subject: str, body: str) -> None:
    """Queue one message; a key already queued (or sent) is left alone."""
    _enqueue_all(session, [(key, channel, recipient, subject, body)])


def _enqueue_all(session: Session, messages: list[tuple[str, str, str, str, str]]) -> None:
    now = utcnow()
    bulk_insert(session, OutboxMessage.__table__, [
        {"key": key[:255], "channel": channel, "recipient": recipient, "subject": subject[:255], "body": body,
         "created_at": now, "attempts": 0, "next_attempt_at": now}
        for key, channel, recipient, subject, body in messages], conflict=["key"])


def enqueue_incident_alerts(session: Session, raised: Iterable[Raised]) -> None:
    """Immediate alerts for incidents just opened or raised to special category or safeguarding (with the event
    that raised them): e-mail to the DSL (safeguarding) and the DPO (both), and the webhook and syslog channels
    when configured. One statement for the whole batch."""
    serious = [r for r in raised if r.severity >= severity.SPECIAL_CATEGORY]
    if not serious:
        return
    config = load_config(session)
    contacts = config["contacts"]
    messages = []
    for incident in serious:
        key = f"incident:{incident.incident_id}:{incident.severity}"
        roles = ("dsl", "dpo") if incident.severity == severity.SAFEGUARDING else ("dpo",)
        emails = [(role, contacts[role]["email"]) for role in roles if role in contacts]
        if not (emails or config.get("webhook_url") or config.get("syslog")):
            continue
        subject, body = incident_message(incident, config.get("public_url", ""))
        messages += [(f"{key}:{role}", "email", email, subject, body) for role, email in emails]
        if config.get("webhook_url"):
            messages.append((f"{key}:webhook", "webhook", config["webhook_url"], subject,
                             json.dumps({"text": f"**{subject}**\n\n{body}"})))
        if config.get("syslog"):
            messages.append((f"{key}:syslog", "syslog", config["syslog"], subject, cef_line(incident)))
    _enqueue_all(session, messages)


def incident_message(incident: Raised, public_url: str) -> tuple[str, str]:
    event, level = incident.event, labels.level(incident.severity)
    subject = f"pupilguard: {level} alert – {labels.tool(event.tool)} (incident #{incident.incident_id})"
    types = ", ".join(labels.entity(e) for e in sorted(event.entities)) or "none"
    reasons = "; ".join(labels.reason(r) for r in event.reasons) or "—"
    lines = [
        f"A prompt was {labels.action(event.action).lower()} by pupilguard: {level.lower()}.",
        "",
        f"When:        {labels.london(event.time)} (UK time)",
        f"Who:         {event.user or 'unknown user'} ({event.client_addr})",
        f"Department:  {event.department or '—'}",
        f"AI tool:     {labels.tool(event.tool)}",
        f"Data found:  {types}",
        f"Why:         {reasons}",
        # the excerpt as stored: routers/ingest.py re-checked it on arrival
        f"Excerpt (placeholders only, never the original text): {event.excerpt or '—'}",
        "",
        f"Open the incident: {public_url}/incidents/{incident.incident_id}",
        "",
        "Pupils are named only by reference in pupilguard; the DSL can look a reference up from the MIS export "
        "on the incident page.",
    ]
    return subject, "\n".join(lines) + "\n"


def cef_line(incident: Raised) -> str:
    """A syslog (RFC 5424) line carrying an ArcSight CEF record, for the trust's SIEM."""
    event = incident.event

    def esc(value: object) -> str:
        return str(value).replace("\\", "\\\\").replace("=", "\\=").replace("\n", " ")

    cef_severity = {severity.SAFEGUARDING: 10, severity.SPECIAL_CATEGORY: 8}.get(incident.severity, 5)
    extension = " ".join(f"{k}={esc(v)}" for k, v in (
        ("rt", int(event.time.timestamp() * 1000)), ("suser", event.user or ""), ("src", event.client_addr),
        ("act", event.action), ("app", event.tool), ("cs1Label", "incident"), ("cs1", incident.incident_id),
        ("cs2Label", "reasons"), ("cs2", ",".join(event.reasons)),
        ("cs3Label", "entities"), ("cs3", ",".join(sorted(event.entities)))))
    name = severity.NAMES[incident.severity]
    header = f"CEF:0|pupilguard|pupilguard|1|incident.{name}|{esc(labels.level(incident.severity))} block|" \
             f"{cef_severity}|"
    return f"<{8 * 13 + 1}>1 {event.time.isoformat()} pupilguard admin_api - - - {header}{extension}"


# --- weekly digest ----------------------------------------------------------------------------------------------------

def enqueue_digest(session: Session, now: datetime) -> bool:
    """Queue last week's digest (Monday to Sunday, UK time) for the DPO and DSL, once per week whenever this runs
    from Monday on; returns whether there was anyone to send it to."""
    local = now.astimezone(labels.LONDON)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = (monday - timedelta(days=7)).astimezone(UTC), monday.astimezone(UTC)
    contacts = load_config(session)["contacts"]
    if not contacts:
        return False
    stats = queries.stats(session, EventFilter(start=start, end=end))
    open_now = incidents.open_counts(session)
    year, week, _ = start.astimezone(labels.LONDON).isocalendar()
    lines = [f"pupilguard weekly report: {labels.london(start)[:11]} – "
             f"{labels.london(end - timedelta(seconds=1))[:11]}", "",
             f"{stats.total:,} prompts checked: {stats.by_action.block:,} blocked, {stats.by_action.redact:,} "
             f"redacted, {stats.by_action.allow:,} allowed.", "", "By severity:"]
    lines += [f"  {labels.level(severity.BY_NAME[g.key or 'none'])}: {g.allow + g.redact + g.block:,}"
              for g in stats.by_severity if g.key != "none"]
    lines += ["", "Incidents still open:"]
    lines += [f"  {labels.level(level)}: {n:,}" for level, n in open_now.items()]
    lines += ["", "By AI tool:"]
    lines += [f"  {labels.tool(g.key)}: {g.allow + g.redact + g.block:,}" for g in stats.by_tool]
    lines += ["", "No prompt text is included in this e-mail."]
    for role, contact in contacts.items():
        enqueue(session, f"digest:{year}-W{week:02d}:{role}", "email", contact["email"],
                f"pupilguard weekly report, week {week} of {year}", "\n".join(lines) + "\n")
    return True


# --- delivery ---------------------------------------------------------------------------------------------------------

@dataclass
class Channels:
    """How messages leave: SMTP settings and timeouts (from Settings)."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "pupilguard@localhost"
    smtp_ca_file: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> Channels:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_starttls, settings.smtp_username,
                   password, settings.smtp_from, str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
                   settings.alert_timeout_seconds)

    def send(self, message: OutboxMessage) -> None:
        """Deliver one message or raise."""
        if message.channel == "email":
            self._send_email(message)
        elif message.channel == "webhook":
            response = httpx.post(message.recipient, content=message.body, timeout=self.timeout,
                                  headers={"content-type": "application/json"})
            response.raise_for_status()
        elif message.channel == "syslog":
            host, _, port = message.recipient.rpartition(":")
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.body.encode("utf-8"), (host.strip("[]"), int(port)))
        else:
            raise ValueError(f"unknown channel {message.channel!r}")

    def _send_email(self, message: OutboxMessage) -> None:
        if not self.smtp_host:
            raise RuntimeError("no SMTP server configured (PUPILGUARD_SMTP_HOST)")
        mail = EmailMessage()
        mail["From"] = self.smtp_from
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(message.created_at)
        # the same Message-ID on every attempt: a mail system that sees one twice can drop the copy
        mail["Message-ID"] = f"<{hashlib.sha256(message.key.encode()).hexdigest()[:32]}@pupilguard>"
        mail.set_content(message.body)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout) as smtp:
            if self.smtp_starttls:
                context = ssl.create_default_context(cafile=self.smtp_ca_file)
                smtp.starttls(context=context)
            if self.smtp_username:
                smtp.login(self.smtp_username, self.smtp_password or "")
            smtp.send_message(mail)


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


class Dispatcher:
    """Delivers due outbox messages. `clock` is injectable so tests can move time instead of sleeping."""

    def __init__(self, db: Database, channels: Channels, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.channels, self.clock = db, channels, clock

    def deliver_due(self, limit: int = 50) -> int:
        """Send what is due now; returns how many were sent."""
        sent = 0
        for message_id in self._claim(limit):
            with self.db.session() as session:
                message = session.get(OutboxMessage, message_id)
                try:
                    self.channels.send(message)
                except Exception as exc:  # noqa: BLE001 - any failure means "try again later"
                    message.last_error = f"{type(exc).__name__}: {exc}"[:512]
                    message.next_attempt_at = self.clock() + backoff(message.attempts)
                    log.warning("alert %s not delivered (attempt %d): %s", message.id, message.attempts,
                                type(exc).__name__)
                else:
                    message.sent_at, message.last_error = self.clock(), None
                    sent += 1
                session.commit()
        return sent

    def _claim(self, limit: int) -> list[int]:
        """Take a lease on due messages, so a second worker (or the next round) leaves them alone while they
        are being sent."""
        now = self.clock()
        with self.db.session() as session:
            stmt = (select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None),
                                                   OutboxMessage.next_attempt_at <= now)
                    .order_by(OutboxMessage.id).limit(limit))
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            ids = list(session.scalars(stmt))
            if ids:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(
                    attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE))
            session.commit()
        return ids

    def weekly(self) -> None:
        with self.db.session() as session:
            enqueue_digest(session, self.clock())
            session.commit()


async def deliver_periodically(dispatcher: Dispatcher, interval: float) -> None:
    """The app's background loop: the weekly digest and due messages, every `interval` seconds."""
    while True:
        try:
            await asyncio.to_thread(dispatcher.weekly)
            await asyncio.to_thread(dispatcher.deliver_due)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
            log.exception("alert delivery round failed")
        await asyncio.sleep(interval)
