"""Headless Chromium through a running `pupilguard proxy` to a fake chat site with a strict CSP.

The browser trusts the proxy's CA the way a school's managed devices do: the CA certificate is imported into the
NSS database of a temporary home directory (certutil), not by ignoring certificate errors. The site (see
tests/support/chat_site.py) allows only its own scripts, requires Trusted Types and reports CSP violations.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chat_site import CSP_NONCE, CSP_NONCE_REPORT_ONLY, CSP_SELF, FakeChatSite

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PUPIL = "Amara Okafor"
POLICY_URL = "https://school.example/ai-policy"
ALLOWLIST = f"""\
version: 1
policy_url: {POLICY_URL}
profiles:
  staff: {{subnets: [127.0.0.0/8]}}
  pupil: {{subnets: [10.1.0.0/16]}}
default_profile: pupil
default_status: blocked
tools:
  chatgpt: {{staff: approved, pupil: blocked, restore_placeholders: true}}
  gemini:  {{staff: approved, pupil: approved}}
"""
SIMS_EXPORT = (
    "Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,UPN,Year,Reg Group,Date of Birth\r\n"
    "Okafor,Amara,Okafor,Amara,,7,7A,04/05/2013\r\n"
    "Whitfield,Thomas,Whitfield,Tom,,8,8C,11/09/2012\r\n"
)


@pytest.fixture(scope="module")
def notice_proxy(start_proxy, tmp_path_factory: pytest.TempPathFactory):
    """A proxy with a roster, where ChatGPT is approved for staff and restores placeholders in replies."""
    from detectors.mis_import import import_mis_csv
    from detectors.roster import RosterKey

    data = tmp_path_factory.mktemp("notice-proxy")
    key_file = data / "roster.key"
    import_mis_csv(SIMS_EXPORT.encode(), data / "roster.pgr", RosterKey.load_or_create(key_file))
    return start_proxy(allowlist=ALLOWLIST, data_dir=data,
                       extra_args=["--roster", str(data / "roster.pgr"), "--key-file", str(key_file)])


@pytest.fixture(scope="module")
def browser_home(notice_proxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME whose NSS database trusts the proxy's CA, as on a managed device."""
    if not shutil.which("certutil"):
        pytest.fail("certutil missing: apt-get install libnss3-tools (see .ci/system-deps.sh)")
    home = tmp_path_factory.mktemp("browser-home")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "pupilguard proxy CA",
                    "-i", str(notice_proxy.ca)], check=True)
    return home


@pytest.fixture(scope="module")
def browser(notice_proxy, browser_home: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, env={**os.environ, "HOME": str(browser_home)},
                              args=[*LAUNCH_ARGS, f"--proxy-server={notice_proxy.url}"])
        yield b
        b.close()


@pytest.fixture(params=["script-src-self", "nonce-strict-dynamic+report-only"])
def site(request, upstream) -> FakeChatSite:
    if request.param == "script-src-self":
        return FakeChatSite(upstream, CSP_SELF)
    return FakeChatSite(upstream, CSP_NONCE, CSP_NONCE_REPORT_ONLY)


class Page:
    """One browser profile (own cookie jar) on the fake ChatGPT, recording console messages."""

    def __init__(self, browser, screenshots: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1100, "height": 700})
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.screenshots = screenshots
        self.page.goto("https://chatgpt.com/")

    def send(self, text: str) -> str:
        self.page.fill("#prompt", text)
        self.page.click("#send")
        # (locators, not wait_for_function: that evaluates a string, which this page's CSP rightly refuses)
        self.page.locator("#status", has_text=re.compile(r"^(done|error)")).wait_for(timeout=20_000)
        return self.page.text_content("#status")

    def banner(self, role: str):
        # the banner lives in an open shadow root, which Playwright's CSS locators pierce
        return self.page.locator(f"pupilguard-notice [role={role}]")

    def csp_problems(self) -> list:
        violations = self.page.evaluate("window.cspViolations")
        console = [c for c in self.console if "Content Security Policy" in c or "Trusted" in c
                   or c.startswith("pageerror")]
        return violations + console


def test_banner_after_redacted_and_blocked_prompts(browser, site: FakeChatSite, upstream, tmp_path: Path):
    other = Page(browser, tmp_path)              # a second browser profile on the same machine
    me = Page(browser, tmp_path)

    # 1. redacted: the service sees a placeholder; the page shows the notice and the reply with the name back
    assert me.send(f"Write a short report for {PUPIL} about fractions.") == "done"
    assert len(site.prompts) == 1
    assert PUPIL not in site.prompts[0] and "Amara" not in site.prompts[0] and "[PUPIL_1]" in site.prompts[0]
    status = me.banner("status")
    status.wait_for(timeout=15_000)
    assert "pupilguard removed a pupil's name from your last message to ChatGPT." in status.text_content()
    assert status.locator("a").get_attribute("href") == POLICY_URL
    assert me.page.text_content("#reply") == f"You said: Write a short report for {PUPIL} about fractions."
    me.page.screenshot(path=str(tmp_path / "redacted.png"))

    # 2. blocked: nothing reaches the service; the page says why
    assert me.send(f"{PUPIL} has ADHD and dyslexia, write her an EHCP support plan.").startswith("error")
    alert = me.banner("alert")
    alert.wait_for(timeout=15_000)
    assert "pupilguard stopped your message to ChatGPT" in alert.text_content()
    assert "special-category information" in alert.text_content()
    assert len(site.prompts) == 1
    me.page.screenshot(path=str(tmp_path / "blocked.png"))

    # 3. the other profile, same address and browser, saw none of it (two more poll rounds)
    other.page.wait_for_timeout(4500)
    assert other.page.locator("pupilguard-notice").count() == 0

    # 4. dismissable from the keyboard
    alert.locator("button").focus()
    me.page.keyboard.press("Enter")
    assert me.banner("alert").count() == 0
    me.banner("status").locator("button").focus()
    me.page.keyboard.press("Escape")
    assert me.page.locator("pupilguard-notice").count() == 0

    # 5. our script and its polling broke no rule of the site's CSP (page events, console, report-uri)
    assert me.csp_problems() == [] and other.csp_problems() == []
    assert site.csp_reports == []
    me.context.close()
    other.context.close()
