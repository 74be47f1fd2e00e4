"""The web UI in Debian's Chromium (Playwright), against the real app served by uvicorn on a loopback port."""
from __future__ import annotations

import contextlib
import csv
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from admin_api import accounts, config_store
from admin_api.app import create_app
from admin_api.settings import Settings
from admin_api.store import store_events
from detectors.events import Event
from tests.support.browser import ARGS, CHROMIUM, SCREENSHOTS, serving

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
XSS = ('<script>window.__pwned = "script"</script><img src=x onerror="window.__pwned=\'img\'">'
       ' Notes on [PUPIL_1]')
SIMS_CSV = ("Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,DOB,Reg Group\r\n"
            "O'Brien,Zoë,O'Brien,Zoë,14/03/2013,7A\r\nOkafor,Chidi,Okafor,Chidi,02/09/2012,8B\r\n")


def _event(**fields) -> Event:
    base = dict(event_id=uuid.uuid4(), time=datetime.now(UTC) - timedelta(hours=2), proxy_id="site-a",
                client_addr="10.0.0.5", user="t.teacher", profile="staff", department="Science", tool="chatgpt",
                host="chatgpt.com", path="/backend-api/conversation", action="redact",
                reasons=["identifier_redacted"], entities={"PUPIL": 1}, excerpt="Report for [PUPIL_1]",
                analysis_ms=9.0)
    return Event(**(base | fields))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real app (SQLite) with an account per role, a roster and a fortnight of events, on a free port."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    data_dir = tmp_path_factory.mktemp("browser")
    app = create_app(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir}/admin.sqlite3",
                              cookie_secure=False, secret_key="b" * 48))
    now = datetime.now(UTC)
    with app.state.db.session() as session:
        for role in ("dpo", "it", "viewer"):
            accounts.create_user(session, role, PASSWORD, role)
        accounts.create_user(session, "locky", PASSWORD, "viewer")
        config_store.store_roster_upload(session, SIMS_CSV.encode(), app.state.roster_key, "setup")
        session.commit()
        zoe = config_store.find_pupil_refs(session, app.state.roster_key, "Zoe O'Brien")
        tools = ["chatgpt", "gemini", "copilot", "claude"]
        events = [
            _event(time=now - timedelta(days=i % 14, hours=i % 5), tool=tools[i % 4],
                   action=("block", "redact", "redact", "allow")[i % 4], profile=("staff", "pupil")[i % 2],
                   department=("Science", "English", "SEN team")[i % 3],
                   entities={("PUPIL", "UK_UPN", "SPECIAL_CATEGORY:SEN", "EMAIL_ADDRESS")[i % 4]: 1 + i % 2})
            for i in range(60)
        ]
        events.append(_event(time=now - timedelta(minutes=5), action="block", tool="chatgpt", pupil_refs=zoe,
                             reasons=["special_category_with_identifier"], excerpt=XSS,
                             entities={"PUPIL": 1, "SPECIAL_CATEGORY:SEN": 1}, user="<b>bold</b>"))
        store_events(session, events)
        session.commit()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with serving(app, port):
        yield {"url": f"http://127.0.0.1:{port}", "app": app, "xss_event": events[-1], "zoe": zoe}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_errors.append(m.text))
    yield page
    context.close()


def sign_in(page, server, username, password=PASSWORD):
    page.goto(server["url"] + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")


def test_dpo_reviews_filters_opens_exports_and_finds_a_pupil(page, server, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, server, "dpo")
    page.wait_for_selector("#chart-timeline")
    # Dashboard: every chart drew bars for the data.
    assert page.locator("#kpi-total").inner_text() == "61"
    assert page.locator("#chart-timeline rect.bar").count() >= 14
    assert page.locator("#chart-tools rect.bar").count() == 4
    assert page.locator("#chart-entities rect.bar").count() >= 4
    assert page.locator("#chart-profiles rect.bar").count() >= 2
    assert page.locator("#chart-departments rect.bar").count() >= 3
    box = page.locator("#chart-timeline").bounding_box()
    assert box["width"] > 600 and box["height"] > 150
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    # Filter the event list.
    page.click("nav >> text=Events")
    page.select_option("#f-action", "block")
    page.select_option("#f-tool", "chatgpt")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/events?*action=block*")
    rows = page.locator("table.events tbody tr")
    expected = 1 + sum(1 for i in range(60) if i % 4 == 0 and ("chatgpt", "gemini", "copilot", "claude")[i % 4] == "chatgpt")
    assert rows.count() == expected
    assert page.locator("#event-count").inner_text() == f"{expected} events"
    assert page.locator("table.events .pill-redact").count() == 0
    # The user name with markup shows as text in the list.
    assert page.locator("table.events td", has_text="<b>bold</b>").count() == 1

    # Open the script-laden event: its excerpt is text, nothing ran.
    page.click(f'a[href="/events/{server["xss_event"].event_id}"]')
    page.wait_for_selector("#excerpt")
    assert "<script>window.__pwned" in page.locator("#excerpt").inner_text()
    assert "onerror=" in page.locator("#excerpt").inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#excerpt img, #excerpt script").count() == 0
    assert page.locator("#excerpt mark").inner_text() == "[PUPIL_1]"
    assert "Special-category information about an identifiable person" in page.locator("#reasons").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "event.png"), full_page=True)

    # Export the filtered view.
    page.go_back()
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.startswith("pupilguard-events-")
    target = tmp_path / "export.csv"
    download.save_as(target)
    exported = list(csv.DictReader(target.open(encoding="utf-8")))
    assert len(exported) == expected and {r["action"] for r in exported} == {"block"}

    # Find a pupil by name as typed, with different case, accents and apostrophe.
    page.click("nav >> text=Find a pupil")
    page.fill("#pupil-query", "zoe o’brien")
    page.click("form[action='/pupils'] button[type=submit]")
    page.wait_for_selector("#pupil-found")
    assert server["zoe"][0] in page.locator(".pupil-result h2").inner_text()
    assert page.locator(f'.pupil-result a[href="/events/{server["xss_event"].event_id}"]').count() == 1
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert "o’brien" not in page.content().lower()  # the query is not echoed back
    assert page.csp_errors == []


def test_the_viewer_sees_statistics_only(page, server):
    sign_in(page, server, "viewer")
    page.wait_for_selector("#chart-timeline rect.bar")
    assert page.locator("nav[aria-label=Main] a").all_inner_texts() == ["Dashboard"]
    response = page.goto(server["url"] + "/events")
    assert response.status == 403 and "Not allowed" in page.content()
    assert page.goto(server["url"] + f'/events/{server["xss_event"].event_id}').status == 403


def test_it_sees_events_but_no_excerpts(page, server):
    sign_in(page, server, "it")
    page.wait_for_selector("#chart-timeline")
    page.goto(server["url"] + f'/events/{server["xss_event"].event_id}')
    assert page.locator("#excerpt-hidden").is_visible()
    assert page.locator("#excerpt").count() == 0 and "Notes on" not in page.content()
    assert page.locator("#export-csv").count() == 0
    page.goto(server["url"] + "/it/proxies")
    page.fill("#proxy-name", "site-b")
    page.click("form[action='/it/proxies'] button[type=submit]")
    assert page.locator("#new-token").inner_text().startswith("pgp_")


def test_five_wrong_passwords_lock_the_account(page, server):
    for _ in range(accounts.MAX_FAILURES):
        sign_in(page, server, "locky", "wrong password")
        assert page.locator("#login-error").is_visible()
    sign_in(page, server, "locky")
    assert page.locator("#login-error").is_visible() and "/login" in page.url


def test_a_form_without_its_csrf_token_is_refused(page, server):
    sign_in(page, server, "dpo")
    page.goto(server["url"] + "/users")
    page.fill("#nu-username", "mallory")
    page.fill("#nu-password", "long enough password")
    page.eval_on_selector("form[action='/users'] input[name=csrf_token]", "el => el.remove()")
    with page.expect_response(lambda r: r.url.endswith("/users") and r.request.method == "POST") as info:
        page.click("form[action='/users'] button[type=submit]")
    assert info.value.status == 403
    assert "Missing or invalid CSRF token" in page.content() and "Nothing was changed" in page.content()
    page.goto(server["url"] + "/users")
    assert "mallory" not in page.content()
