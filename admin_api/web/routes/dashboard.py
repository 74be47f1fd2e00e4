"""The dashboard: statistics only (every role may see it), drawn as SVG charts, plus this week vs last week."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from admin_api import incidents, labels, protection, queries
from admin_api.db import SessionDep
from admin_api.models import User
from admin_api.permissions import Permission, allows
from admin_api.schemas import EventFilter, GroupCounts
from admin_api.web.charts import (ACTION_COLOURS, day_buckets, group_rows, severity_rows, stacked_columns,
                                  stacked_rows)
from admin_api.web.deps import PageUser
from admin_api.web.templating import render

router = APIRouter()

RANGES = (7, 30, 90, 365)
SERIES = ("block", "redact", "allow")  # stacked bottom-up: what matters most sits on the axis
TOP = 10


def _total(g: GroupCounts) -> int:
    return g.allow + g.redact + g.block


def _change_rows(now: list[GroupCounts], before: list[GroupCounts]) -> list[tuple[str, int, int, int]]:
    """(key, this week, last week, change) for the keys that moved most."""
    this = {g.key or "(unknown)": _total(g) for g in now}
    prev = {g.key or "(unknown)": _total(g) for g in before}
    rows = [(k, this.get(k, 0), prev.get(k, 0), this.get(k, 0) - prev.get(k, 0)) for k in this.keys() | prev.keys()]
    rows = [r for r in rows if r[3] != 0]
    return sorted(rows, key=lambda r: (-abs(r[3]), r[0]))[:6]


@router.get("/")
def dashboard(request: Request, user: PageUser, db: SessionDep, days: str = "30"):
    days = int(days) if days.isdigit() and int(days) in RANGES else 30
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), UTC)
    stats = queries.stats(db, EventFilter(start=start))

    # "This week" is today and the six days before, compared with the seven days before that. Whole UTC days,
    # so the statistics come from the daily roll-ups rather than a scan of the events.
    midnight = datetime.combine(today, time(), UTC)
    this_week = queries.stats(db, EventFilter(start=midnight - timedelta(days=6)))
    last_week = queries.stats(db, EventFilter(start=midnight - timedelta(days=13), end=midnight - timedelta(days=6)))
    week = {
        "actions": [(a, getattr(this_week.by_action, a), getattr(last_week.by_action, a)) for a in SERIES],
        "total": (this_week.total, last_week.total),
        "tools": _change_rows(this_week.by_tool, last_week.by_tool),
        "entities": _change_rows(this_week.by_entity, last_week.by_entity),
        "new_tools": sorted({g.key or "(unknown)" for g in this_week.by_tool}
                            - {g.key or "(unknown)" for g in last_week.by_tool}),
    }

    colours = {a: ACTION_COLOURS[a] for a in SERIES}
    departments = stats.by_department if any(g.key for g in stats.by_department) else []
    charts = {
        "timeline": stacked_columns(day_buckets(stats.timeline, first, days), SERIES, colours),
        "severity": stacked_rows(severity_rows(stats), SERIES, colours),
        "tools": stacked_rows(group_rows(stats.by_tool, TOP, labels.tool), SERIES, colours),
        "entities": stacked_rows(group_rows(stats.by_entity, TOP, labels.entity), SERIES, colours),
        "profiles": stacked_rows(group_rows(stats.by_profile, TOP), SERIES, colours),
        "departments": stacked_rows(group_rows(departments, TOP), SERIES, colours) if departments else None,
    }
    # "Needs review" leads: open incidents per severity for everyone (counts only), the most serious ones listed
    # for the roles that work them.
    casework = user.role in incidents.CASEWORK_ROLES
    review = incidents.open_counts(db, user if casework else None)
    top = incidents.list_incidents(db, user, incidents.IncidentFilter(), limit=TOP)[0] if casework else []
    return render(request, "dashboard.html", title="Dashboard", active="dashboard", stats=stats, days=days,
                  ranges=RANGES, charts=charts, week=week, first=first, today=today,
                  can_list=allows(user.role, Permission.VIEW_EVENTS), departments=departments,
                  week_span=timedelta(days=6), alerts=_open_alerts(db, user), review=review, review_top=top,
                  casework=casework, review_total=sum(review.values()))


def _open_alerts(db: Session, user: User) -> tuple[int, list] | None:
    """(how many, the newest few) alerts awaiting acknowledgement, for roles that review them."""
    if not allows(user.role, Permission.REVIEW_ALERTS):
        return None
    return protection.count_open_alerts(db), protection.open_alerts(db, limit=5)
