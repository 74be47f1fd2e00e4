"""The report for governors: a printable page and the same page as a PDF (DPO only; counts, no identities)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from admin_api import audit, labels, reports, severity
from admin_api.db import SessionDep
from admin_api.web.charts import ACTION_COLOURS, day_buckets, group_rows, severity_rows, stacked_columns, stacked_rows
from admin_api.web.deps import PageUser
from admin_api.web.templating import render, templates

router = APIRouter()
SERIES = ("block", "redact", "allow")
TOP = 12


def _period(request: Request) -> reports.Period:
    params = request.query_params
    try:
        start, end = date.fromisoformat(params.get("start", "")), date.fromisoformat(params.get("end", ""))
        if start < end:
            return reports.Period(start, end, "Chosen period")
    except ValueError:
        pass
    name = params.get("period", "last-term")
    return reports.Period.named(name if name in reports.PERIODS else "last-term", datetime.now(UTC).date())


def _context(request: Request, db: Session) -> dict:
    period = _period(request)
    report = reports.governors_report(db, period, request.app.state.settings)
    colours = {a: ACTION_COLOURS[a] for a in SERIES}
    stats = report.stats
    charts = {
        "weeks": stacked_columns(day_buckets(stats.timeline, period.start, period.days, step=7), SERIES, colours),
        "severity": stacked_rows(severity_rows(stats), SERIES, colours),
        "tools": stacked_rows(group_rows(stats.by_tool, TOP, labels.tool), SERIES, colours),
        "entities": stacked_rows(group_rows(stats.by_entity, TOP, labels.entity), SERIES, colours),
        "departments": stacked_rows(group_rows(stats.by_department, TOP), SERIES, colours),
        "incidents": stacked_rows([(labels.level(lvl), {"incidents": n})
                                   for lvl, n in report.incidents_by_severity.items()], ["incidents"]),
        "outcomes": stacked_rows([(labels.outcome(o), {"incidents": n}) for o, n in report.outcomes.items()],
                                 ["incidents"]),
    }
    return {"title": "Report for governors", "active": "report", "report": report, "charts": charts,
            "periods": reports.PERIODS,
            "statuses": {labels.status(s): n for s, n in report.incidents_by_status.items()},
            "levels": severity.LEVELS, "query": request.url.query}


@router.get("/reports/governors")
def report_page(request: Request, user: PageUser, db: SessionDep):
    context = _context(request, db)
    audit.record(db, user.username, "report.view", context["report"].period.label)
    db.commit()
    return render(request, "report.html", **context)


@router.get("/reports/governors.pdf")
def report_pdf(request: Request, user: PageUser, db: SessionDep):
    context = _context(request, db)
    html = templates.get_template("report.html").render(
        request=request, user=None, nav=[], messages=[], csrf_token="", pdf=True, **context)
    audit.record(db, user.username, "report.pdf", context["report"].period.label)
    db.commit()
    name = f"pupilguard-governors-{context['report'].period.start:%Y%m%d}.pdf"
    return Response(reports.render_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
