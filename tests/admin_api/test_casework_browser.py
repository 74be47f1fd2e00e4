"""The DSL's path in Debian's Chromium (Playwright), end to end: a proxy posts a safeguarding block, the admin
service's own delivery loop e-mails the alert through a real SMTP server (STARTTLS, AUTH), and the DSL follows the
link, signs in, finds out who P-XXXX is from the MIS export and closes the incident with an outcome; the DPO then
reads the governors' report. Screenshots of each page go to SCREENSHOTS (build/screenshots, not committed)."""
from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from admin_api import accounts, config_store, proxies
from admin_api.app import create_app
from admin_api.models import AuditEntry, Incident
from admin_api.settings import Settings
from tests.support.admin import PASSWORD
from tests.support.browser import ARGS, CHROMIUM, SCREENSHOTS, serving
from tests.support.mail import SMTP_PASSWORD, SMTP_USER, Mailbox
from tests.support.net import free_port

pytestmark = pytest.mark.browser

SIMS_CSV = ("Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,DOB,Reg Group\r\n"
            "O'Brien,Zoë,O'Brien,Zoë,14/03/2013,7A\r\nOkafor,Chidi,Okafor,Chidi,02/09/2012,8B\r\n")


@pytest.fixture
def stack(tmp_path, certificate):
    """Mail server, admin service (SQLite, background alert delivery every half second) and a proxy token."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    smtp_port, port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/admin.sqlite3", cookie_secure=False,
        secret_key="c" * 48, public_url=url, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD, smtp_ca_file=certificate[0], dsl_name="Dee Safe", dsl_email="dsl@school.test",
        dpo_email="dpo@school.test", alert_interval_seconds=0.5))
    with app.state.db.session() as session:
        accounts.create_user(session, "dee", PASSWORD, "dsl")
        accounts.create_user(session, "dora", PASSWORD, "dpo")
        config_store.store_roster_upload(session, SIMS_CSV.encode(), app.state.roster_key, "setup")
        _, token = proxies.create_token(session, "site-a")
        session.commit()
        zoe = config_store.find_pupil_refs(session, app.state.roster_key, "Zoe O'Brien")
    with Mailbox(smtp_port, certificate) as mailbox, serving(app, port):
        yield {"url": url, "app": app, "token": token, "zoe": zoe[0], "mailbox": mailbox}


def wait_for_mail(mailbox: Mailbox, to: str, subject_part: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in mailbox.to(to) if subject_part in m["Subject"]]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {to} about {subject_part!r} within {timeout} s")


def test_dsl_goes_from_the_alert_e_mail_to_a_closed_incident(stack, tmp_path):
    from playwright.sync_api import sync_playwright

    event = {"event_id": str(uuid.uuid4()), "time": (datetime.now(UTC) - timedelta(seconds=30)).isoformat(),
             "proxy_id": "site-a", "client_addr": "10.0.4.17", "user": "r.evans", "profile": "staff",
             "department": "Year 8 pastoral", "tool": "chatgpt", "host": "chatgpt.com",
             "path": "/backend-api/conversation", "action": "block",
             "reasons": ["special_category_with_identifier"],
             "entities": {"PUPIL": 1, "SPECIAL_CATEGORY:SAFEGUARDING": 1},
             "excerpt": "How do I respond: [PUPIL_1] told me her stepdad hits her", "pupil_refs": [stack["zoe"]],
             "analysis_ms": 14.0}
    # a less serious event, sent later: the dashboard still lists the safeguarding incident first
    later = {**event, "event_id": str(uuid.uuid4()), "time": (datetime.now(UTC) - timedelta(seconds=10)).isoformat(),
             "user": "k.lloyd", "department": "Maths", "action": "redact", "reasons": ["identifier_redacted"],
             "entities": {"PUPIL": 1}, "excerpt": "Write a report for [PUPIL_1]"}
    sent = httpx.post(stack["url"] + "/api/v1/events", json={"events": [event, later]},
                      headers={"Authorization": f"Bearer {stack['token']}"})
    assert sent.json() == {"accepted": 2, "duplicates": 0}

    [mail] = wait_for_mail(stack["mailbox"], "dsl@school.test", "Safeguarding alert")
    body = mail.get_content()
    assert "r.evans" in body and "[PUPIL_1] told me her stepdad hits her" in body
    link = re.search(r"(http://127\.0\.0\.1:\d+/incidents/\d+)", body).group(1)
    export = tmp_path / "sims-export.csv"
    export.write_text(SIMS_CSV, encoding="utf-8")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        # the DPO's dashboard: every open incident, the safeguarding one first though it is not the newest
        dpo = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        dpo.goto(stack["url"] + "/login")
        dpo.fill("#username", "dora")
        dpo.fill("#password", PASSWORD)
        dpo.click("form[action='/login'] button[type=submit]")
        review = dpo.locator("#review-list tbody tr")
        review.first.wait_for()
        assert review.count() == 2
        assert "Safeguarding" in review.nth(0).inner_text() and "r.evans" in review.nth(0).inner_text()
        assert "k.lloyd" in review.nth(1).inner_text()
        dpo.screenshot(path=str(SCREENSHOTS / "dashboard-review.png"), full_page=True)

        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(link)  # not signed in: the sign-in page, then straight back to the incident
        page.fill("#username", "dee")
        page.fill("#password", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(link)
        assert "Safeguarding" in page.locator("h1").inner_text()
        assert page.locator("#incident-user").inner_text() == "r.evans"
        assert "stepdad hits her" in page.locator("pre.excerpt").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "incident-dsl.png"), full_page=True)

        page.goto(stack["url"] + "/")  # the DSL's own "needs review": safeguarding only, not k.lloyd's
        assert page.locator("#review-list tbody tr").count() == 1
        assert "r.evans" in page.locator("#review-list").inner_text()
        page.goto(link)

        page.click(f"text=Who is {stack['zoe']}?")
        page.wait_for_selector("#export")
        assert page.locator("#ref").input_value() == stack["zoe"]
        page.set_input_files("#export", str(export))
        page.click("form[action='/pupils/identify'] button[type=submit]")
        result = page.locator("#identify-result").inner_text()
        assert "Zoë O'Brien" in result and "14/03/2013" in result
        page.screenshot(path=str(SCREENSHOTS / "who-is-pupil.png"), full_page=True)

        page.goto(link)
        page.fill("#note", f"Spoke to R. Evans; referral made for {stack['zoe']} under the safeguarding policy.")
        page.click("#notes button[type=submit]")
        page.wait_for_selector("text=Note added.")
        page.select_option("#status", "closed")
        page.select_option("#outcome", "safeguarding_referral")
        page.click("#incident-form button[type=submit]")
        page.wait_for_selector("text=Incident updated.")
        assert page.locator("#incident-status").inner_text() == "Closed"
        assert page.locator("#incident-outcome").inner_text() == "Referred under safeguarding procedures"
        page.screenshot(path=str(SCREENSHOTS / "incident-closed.png"), full_page=True)

        dpo.goto(stack["url"] + "/reports/governors?period=term")  # after the DSL's casework
        dpo.wait_for_selector("#report-statuses")
        assert dpo.locator("section.kpis .kpi .n").first.inner_text() == "2"  # prompts checked
        assert dpo.locator("#report-statuses tr", has_text="Closed").inner_text().split() == ["Closed", "1"]
        assert "r.evans" not in dpo.content() and stack["zoe"] not in dpo.content()  # counts, no identities
        dpo.screenshot(path=str(SCREENSHOTS / "governors-report.png"), full_page=True)
        browser.close()

    with stack["app"].state.db.session() as session:
        incident = session.get(Incident, int(link.rsplit("/", 1)[1]))
        assert (incident.status, incident.outcome) == ("closed", "safeguarding_referral")
        trail = [(e.username, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                 if e.action.startswith(("incident.", "pupil."))]
    assert [a for a in trail if a[1] != "incident.view"] == [
        ("dee", "pupil.reidentify"), ("dee", "incident.note"), ("dee", "incident.update")]
