"""The report for governors (termly or annual, and the evidence for the annual filtering-and-monitoring review):
what was checked, blocked and redacted by week, tool, data type, severity and department; incidents and their
outcomes; and the checks the service ran. Counts only: no pupil reference, excerpt or staff name is in it.

    period = Period.named("last-term", today)      # or Period(start, end, "…")
    report = governors_report(session, period, settings)  # -> Report, drawn by web/templates/report.html
    pdf = render_pdf(html)                          # WeasyPrint, with no network access
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import alerts, config_store, queries, severity
from .models import INCIDENT_OUTCOMES, AuditEntry, Incident, OutboxMessage, Proxy, Purge
from .schemas import EventFilter, Stats

PERIODS = {"term": "This term", "last-term": "Last term", "year": "This school year",
           "last-year": "Last school year"}


@dataclass(frozen=True)
class Period:
    start: date  # first day
    end: date  # day after the last
    label: str

    @classmethod
    def named(cls, name: str, today: date) -> Period:
        """School terms as England and Wales mostly keep them: autumn Sep–Dec, spring Jan–Mar, summer Apr–Aug;
        the school year runs September to August."""
        year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
        terms = [(date(y, 9, 1), date(y + 1, 1, 1), f"Autumn term {y}") for y in (year_start.year - 1,
                                                                               year_start.year)]
        terms += [(date(y, 1, 1), date(y, 4, 1), f"Spring term {y}") for y in (year_start.year,
                                                                           year_start.year + 1)]
        terms += [(date(y, 4, 1), date(y, 9, 1), f"Summer term {y}") for y in (year_start.year,
                                                                           year_start.year + 1)]
        terms.sort()
        current = next(i for i, (s, e, _) in enumerate(terms) if s <= today < e)
        if name == "term":
            return cls(*terms[current])
        if name == "last-term":
            return cls(*terms[current - 1])
        if name == "last-year":
            return cls(date(year_start.year - 1, 9, 1), year_start,
                       f"School year {year_start.year - 1}–{str(year_start.year)[2:]}")
        return cls(year_start, date(year_start.year + 1, 9, 1),
                   f"School year {year_start.year}–{str(year_start.year + 1)[2:]}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def bounds(self) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time(), UTC), datetime.combine(self.end, time(), UTC)


@dataclass
class Report:
    period: Period
    generated_at: datetime
    stats: Stats
    incidents_by_severity: dict[int, int]
    incidents_by_status: dict[str, int]
    outcomes: dict[str, int]
    checks: list[tuple[str, str]]  # (what was checked, result), in words


def governors_report(session: Session, period: Period, settings: Any) -> Report:
    start, end = period.bounds()
    stats = queries.stats(session, EventFilter(start=start, end=end))
    in_period = (Incident.first_event_at >= start, Incident.first_event_at < end)
    rows = session.execute(select(Incident.severity, Incident.status, Incident.outcome, func.count())
                           .where(*in_period).group_by(Incident.severity, Incident.status, Incident.outcome)).all()
    by_severity: Counter[int] = Counter()
    by_status: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for level, status, outcome, n in rows:
        by_severity[level] += n
        by_status[status] += n
        if outcome:
            outcomes[outcome] += n
    return Report(period, datetime.now(UTC), stats, {lvl: by_severity[lvl] for lvl in severity.LEVELS},
                  {s: by_status[s] for s in ("new", "in_review", "escalated", "closed")},
                  {o: outcomes[o] for o in INCIDENT_OUTCOMES}, _checks(session, settings, start, end))


def _checks(session: Session, settings: Any, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """The checks the service ran or holds evidence of, in words a governor can read."""
    from .labels import london

    now = datetime.now(UTC)
    proxies = session.scalars(select(Proxy).where(Proxy.revoked_at.is_(None))).all()
    recent = [p for p in proxies if p.last_seen_at and now - p.last_seen_at < timedelta(days=1)]
    roster = config_store.latest_roster(session)
    purge = session.scalars(select(Purge).order_by(Purge.id.desc()).limit(1)).first()
    contacts = alerts.load_config(session)["contacts"]
    sent = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.sent_at >= start, OutboxMessage.sent_at < end)) or 0
    waiting = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None))) or 0
    audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.time >= start, AuditEntry.time < end)) or 0
    checks = [
        ("Proxies sending events", f"{len(recent)} of {len(proxies)} reported in the last 24 hours"),
        ("Pupil roster", f"{roster.pupils:,} pupils, uploaded {london(roster.uploaded_at)}" if roster
         else "No roster uploaded: pupils' names are found by general name detection only"),
        ("Retention", f"Events are kept {config_store.retention_days(session, settings)} days; last purge "
                      f"{london(purge.time) if purge else 'not yet run'}"),
    ]
    for role, title in alerts.CONTACT_ROLES.items():
        contact = contacts.get(role)
        checks.append((f"Alerts to the {title}", "not set up" if contact is None else
                       "confirmed by a test message" if contact.get("confirmed_at") else
                       "set up, test message not yet confirmed"))
    checks += [("Alert messages", f"{sent:,} delivered in this period; {waiting:,} waiting"),
               ("Audit log", f"{audited:,} recorded views, searches and changes in this period")]
    return checks


# --- PDF --------------------------------------------------------------------------------------------------------------

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
BASE_URL = "https://pupilguard.invalid/"


def _fetcher():  # type: ignore[no-untyped-def]
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnly(URLFetcher):
        """The report's own stylesheet and images from the package; nothing from any network or other file."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            name = url.removeprefix(BASE_URL + "static/") if url.startswith(BASE_URL + "static/") else ""
            path = (STATIC_DIR / name).resolve() if name else None
            if path is None or path.parent != STATIC_DIR or not path.is_file():
                raise ValueError(f"the report may not load {url}")
            kind = {".css": "text/css", ".svg": "image/svg+xml"}.get(path.suffix, "application/octet-stream")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})

    return LocalOnly()


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which only the report needs

    return HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher()).write_pdf()
