"""The governors' report: periods, the printable page and the PDF (WeasyPrint), its pages drawn with pdftoppm
(poppler-utils); never a pupil reference, an excerpt or a staff name in it. SQLite and PostgreSQL."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from admin_api.models import Incident
from admin_api.reports import Period
from tests.support.admin import csrf_of
from tests.support.browser import SCREENSHOTS
from tests.support.stored_events import SAFEGUARDING, SPECIAL, TOOL_BLOCK, new_event, seed


@pytest.fixture
def as_role(as_role, people):
    """Signs in as one of `people` (an account per role, and a second DSL)."""
    return as_role


SECRET_USERS = ("r.evans", "a.khan")
REF = "P-SECRETREF1"


@pytest.mark.parametrize(("today", "name", "expected"), [
    (date(2026, 12, 3), "term", (date(2026, 9, 1), date(2027, 1, 1), "Autumn term 2026")),
    (date(2026, 12, 3), "last-term", (date(2026, 4, 1), date(2026, 9, 1), "Summer term 2026")),
    (date(2027, 2, 10), "last-term", (date(2026, 9, 1), date(2027, 1, 1), "Autumn term 2026")),
    (date(2027, 2, 10), "year", (date(2026, 9, 1), date(2027, 9, 1), "School year 2026–27")),
    (date(2026, 12, 3), "last-year", (date(2025, 9, 1), date(2026, 9, 1), "School year 2025–26")),
])
def test_school_terms_and_years(today, name, expected):
    period = Period.named(name, today)
    assert (period.start, period.end, period.label) == expected


@pytest.fixture
def reported(app, as_role):
    now = datetime.now(UTC).replace(microsecond=0)
    seed(app, new_event(time=now - timedelta(days=3), user="r.evans", department="Pastoral", pupil_refs=[REF],
                         **SAFEGUARDING),
         *[new_event(time=now - timedelta(days=d), user="a.khan", department="Science", tool=t)
           for d, t in ((1, "chatgpt"), (8, "gemini"), (15, "chatgpt"))],
         new_event(time=now - timedelta(days=2), user="a.khan", department="English", **SPECIAL),
         new_event(time=now - timedelta(days=9), user="a.khan", department="Maths", **TOOL_BLOCK))
    with app.state.db.session() as session:
        incident = session.scalars(select(Incident).where(Incident.user == "r.evans")).one()
    dpo = as_role("dpo")
    token = csrf_of(dpo.get(f"/incidents/{incident.id}").text)
    dpo.post(f"/incidents/{incident.id}", data={"status": "closed", "outcome": "safeguarding_referral",
                                                "csrf_token": token})
    span = {"start": (now - timedelta(days=30)).date().isoformat(), "end": (now + timedelta(days=1)).date().isoformat()}
    return dpo, span


def no_identities(text: str) -> None:
    assert REF not in text and "bruises" not in text and "dyslexia" not in text
    assert not any(user in text for user in SECRET_USERS)


def test_report_page_shows_every_breakdown_without_identities(reported, as_role):
    dpo, span = reported
    page = dpo.get("/reports/governors", params=span).text
    for shown in ("By week", "ChatGPT", "Gemini", "DeepSeek", "Special category: Safeguarding / child protection",
                  "Pastoral", "Referred under safeguarding procedures", "Alerts to the Designated Safeguarding Lead",
                  'id="report-weeks"'):
        assert shown in page, shown
    no_identities(page)
    for role in ("dsl", "it", "viewer"):
        assert as_role(role).get("/reports/governors").status_code == 403


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_report_pdf_has_pages_with_charts_and_no_identities(reported, tmp_path):
    dpo, span = reported
    response = dpo.get("/reports/governors.pdf", params=span)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for shown in ("report for governors", "ChatGPT", "Safeguarding", "Referred under safeguarding procedures"):
        assert shown in text, shown
    no_identities(text)

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    first = Image.open(pages[0]).convert("RGB")
    assert first.width < first.height  # A4 portrait
    # the charts were drawn: the "blocked" red of the bars is on the pages
    pixels = [np.asarray(Image.open(page).convert("RGB")).astype(int) for page in pages]
    red = sum(int(((p[..., 0] > 150) & (p[..., 1] < 80) & (p[..., 2] < 80)).sum()) for p in pixels)
    assert red > 50
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pages[0], SCREENSHOTS / "governors-report-page-1.png")
