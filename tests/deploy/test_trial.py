"""End to end: what `make run` starts (`pupilguard trial`), driven with the curl lines and the browser command it
prints: the teacher sees the banner and the block page, the DPO sees the teacher's events."""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PUPILGUARD = Path(sys.executable).parent / "pupilguard"
TEACHER = "teacher"  # the proxy login the trial creates

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    data = tmp_path_factory.mktemp("trial")
    env = {k: v for k, v in os.environ.items() if k != "PUPILGUARD_ROSTER_KEY"}
    process = subprocess.Popen(
        [str(PUPILGUARD), "trial", "--data-dir", str(data), "--proxy-listen", "127.0.0.1:0",
         "--admin-listen", "127.0.0.1:0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    lines = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C to stop" in line:
            break
    output = "".join(lines)
    if "Press Ctrl-C to stop" not in output:
        process.kill()
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in data.glob("*.log"))
        pytest.fail(f"trial did not start:\n{output}\n{logs}")
    yield process, output, data
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def _run_printed_curl(output: str, index: int) -> str:
    curl = [line for line in output.splitlines() if line.startswith("curl ")][index]
    assert shutil.which("curl"), "curl is needed to follow the printed instructions"
    reply = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=60)
    assert reply.returncode == 0, reply.stderr
    return reply.stdout


def test_printed_curl_line_shows_the_pupil_redacted(trial):
    reply = _run_printed_curl(trial[1], 0)
    assert "The AI service received:" in reply
    assert "Oliver Smith" not in reply and "T801200115100" not in reply
    assert "[PUPIL_1]" in reply and "[UPN_1]" in reply


def test_printed_special_category_prompt_is_stopped(trial):
    reply = _run_printed_curl(trial[1], 1)
    assert "The AI service received:" not in reply  # it never left
    assert "pupilguard blocked" in reply and "Oliver" not in reply


def test_dashboard_login_printed_works(trial):
    _, output, _ = trial
    match = re.search(r"Dashboard:\s+(\S+)\s+login: (\S+) / (\S+)", output)
    assert match, output
    url, user, password = match.groups()
    with httpx.Client(base_url=url, follow_redirects=True) as client:
        assert client.get("/healthz").status_code == 200
        # HTTP Basic is accepted on the JSON API for scripts; the same credentials sign in to the UI.
        assert client.get("/api/v1/stats", auth=(user, password)).status_code == 200
        assert client.get("/api/v1/stats", auth=(user, "wrong-password")).status_code == 401


@pytest.mark.browser
def test_printed_browser_command_shows_the_teacher_the_banner_and_the_block_page(trial, tmp_path):
    from playwright.sync_api import sync_playwright

    _, output, _ = trial
    argv = shlex.split(re.search(r"^Browser:\s+(.+)$", output, re.M).group(1))
    teacher, password = re.search(r"proxy login: (\S+) / (\S+)", output).groups()
    flags = dict(arg.split("=", 1) for arg in argv[1:-1] if "=" in arg)
    others = [arg for arg in argv[1:-1] if "=" not in arg or arg.startswith("--ignore-certificate-errors")]
    with sync_playwright() as p:
        # The printed settings: its profile, its proxy (Playwright answers the proxy's login prompt), and trust in
        # the trial CA by key hash only (no certificate errors are ignored otherwise).
        context = p.chromium.launch_persistent_context(
            flags["--user-data-dir"], executable_path=shutil.which(argv[0]) or "/usr/bin/chromium",
            args=[*others, "--no-sandbox", "--disable-gpu"],
            proxy={"server": flags["--proxy-server"], "username": teacher, "password": password})
        try:
            page = context.new_page()
            page.goto(argv[-1])
            page.click("#send")
            page.locator("#status", has_text="done").wait_for(timeout=30_000)
            assert "Oliver Smith" not in page.text_content("#reply") and "[PUPIL_1]" in page.text_content("#reply")
            banner = page.locator("pupilguard-notice [role=status]")
            banner.wait_for(timeout=15_000)
            assert "pupilguard removed a pupil's name" in banner.text_content()
            page.screenshot(path=str(tmp_path / "trial-banner.png"))

            blocked = page.goto(re.search(r"then try (https://\S+)", output).group(1))
            assert blocked.status == 403 and "is blocked" in page.text_content("h1")
        finally:
            context.close()

    match = re.search(r"Dashboard:\s+(\S+)\s+login: (\S+) / (\S+)", output)
    url, user, dpo_password = match.groups()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the proxy delivers events in batches
        events = httpx.get(f"{url}api/v1/events", auth=(user, dpo_password)).json()["items"]
        if any(event.get("user") == teacher for event in events):
            break
        time.sleep(1)
    else:
        pytest.fail(f"no event shows the teacher's proxy login: {events}")


def test_a_blocked_prompt_is_an_incident_alerting_the_contacts_the_trial_set(trial):
    _, output, _ = trial
    assert re.search(r"Alerts to:\s+DSL dsl@trial\.invalid, DPO dpo@trial\.invalid", output), output
    url, user, password = re.search(r"Dashboard:\s+(\S+)\s+login: (\S+) / (\S+)", output).groups()
    _run_printed_curl(output, 1)  # the special-category prompt
    with httpx.Client(base_url=url, auth=(user, password)) as client:
        deadline = time.monotonic() + 60  # the proxy's spool delivers within seconds
        while time.monotonic() < deadline:
            incidents = client.get("/api/v1/incidents").json()["items"]
            if any(i["user"] == TEACHER and i["severity"] == "special_category" for i in incidents):
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"no special-category incident for the teacher: {incidents}")
    with httpx.Client(base_url=url, follow_redirects=True) as browser:  # the DPO's Alert contacts page
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
        browser.post("/login", data={"username": user, "password": password, "csrf_token": token})
        page = browser.get("/alerts/contacts").text
    assert "dsl@trial.invalid" in page and "dpo@trial.invalid" in page


def test_ctrl_c_stops_everything(trial):
    process, output, data = trial
    ports = [int(re.search(pattern, output).group(1)) for pattern in
             (r"Proxy:\s+http://127\.0\.0\.1:(\d+)", r"Dashboard:\s+http://127\.0\.0\.1:(\d+)")]
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)  # an impatient second Ctrl-C must not leave anything running
    assert process.wait(timeout=60) == 0
    time.sleep(0.5)
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    leftovers = subprocess.run(["pgrep", "-f", str(data)], capture_output=True, text=True).stdout
    assert leftovers == "", f"processes still running: {leftovers}"
