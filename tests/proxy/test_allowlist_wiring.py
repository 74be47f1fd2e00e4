"""The allowlist on the wire: profiles by subnet and by proxy-authenticated user, blocked tools refused with a
notice, and the file reloaded without a restart (a bad file keeps the old rules)."""
from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

pytestmark = pytest.mark.e2e

ALLOW_PROMPT = "Suggest a starter activity about the water cycle."
CHAT = "https://api.openai.com/v1/chat/completions"


@pytest.fixture(scope="module")
def authproxy(start_proxy):
    # any user/password is accepted; the user name picks the profile (pupil1 -> pupil)
    return start_proxy(extra_args=["--proxyauth", "any"], workers=1)


def chat(proxy, user: str) -> httpx.Response:
    with proxy.client(user=user) as client:
        return client.post(CHAT, json={"model": "m", "messages": [{"role": "user", "content": ALLOW_PROMPT}]})


def wait_for(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_pupil_is_refused_a_blocked_tool_staff_is_not(authproxy, upstream):
    staff = chat(authproxy, "teacher1")  # not listed by name: 127.0.0.1 is in the staff subnet
    assert staff.status_code == 200
    pupil = chat(authproxy, "pupil1")
    assert pupil.status_code == 403
    message = pupil.json()["error"]["message"]
    assert "OpenAI API is not approved by your school" in message and "Approved AI tools: Gemini API" in message
    assert "https://school.example/ai-policy" in message
    assert len(upstream.requests_to("/v1/chat/completions")) == 1  # only the staff request arrived


def test_pupil_sdk_gets_permission_denied(authproxy, upstream):
    client = openai.OpenAI(api_key="sk", base_url="https://api.openai.com/v1", max_retries=0,
                           http_client=httpx.Client(proxy=f"http://pupil1:x@127.0.0.1:{authproxy.port}",
                                                    verify=authproxy.ssl))
    with pytest.raises(openai.PermissionDeniedError, match="not approved"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": ALLOW_PROMPT}])
    assert upstream.requests_to("/v1/chat/completions") == []


def test_navigation_to_a_blocked_web_tool_gets_an_escaped_notice_page(authproxy, upstream):
    with authproxy.client(user="pupil1") as client:
        r = client.get("https://chatgpt.com/", headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
                                                        "Accept": "text/html"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "ChatGPT is blocked" in page
    assert 'href="https://school.example/ai-policy"' in page
    assert "Gemini API" not in page  # a pupil's only approved tool is an API: no use to someone in a browser
    assert upstream.received == []


def test_allowlist_reloads_without_restart_and_bad_files_are_refused(authproxy, upstream):
    path = authproxy.extra["allowlist"]
    original = path.read_text()
    try:
        assert chat(authproxy, "pupil1").status_code == 403
        time.sleep(0.05)
        path.write_text(original.replace("openai-api:    {staff: approved, pupil: blocked",
                                         "openai-api:    {staff: approved, pupil: approved"))
        wait_for(lambda: chat(authproxy, "pupil1").status_code == 200)

        errors_before = authproxy.metric("pupilguard_allowlist_reload_errors_total")
        path.write_text(original.replace("default_profile: pupil", "default_profile: nobody"))
        wait_for(lambda: authproxy.metric("pupilguard_allowlist_reload_errors_total") == errors_before + 1)
        assert chat(authproxy, "pupil1").status_code == 200  # still the last good allowlist
        logged = [json.loads(line) for line in authproxy.logs().splitlines() if line.startswith("{")]
        errors = [e for e in logged if e["message"].startswith("allowlist not reloaded")]
        assert errors and "default_profile" in errors[-1]["error"] and "line" in errors[-1]["error"]
    finally:
        path.write_text(original)
    wait_for(lambda: chat(authproxy, "pupil1").status_code == 403)


def test_unlisted_ai_service_gets_the_default_status(authproxy, upstream):
    # deepseek is catalogued but not in this allowlist: default_status blocked applies to everyone
    with authproxy.client(user="teacher1") as client:
        r = client.post("https://chat.deepseek.com/api/v0/chat/completion", json={"prompt": ALLOW_PROMPT})
    assert r.status_code == 403 and upstream.received == []


def _run_cli(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "detectors.cli", "proxy", *args], capture_output=True, text=True,
                          timeout=120)


def test_a_bad_allowlist_stops_start_up_with_the_line_to_fix(tmp_path):
    bad = tmp_path / "allowlist.yaml"
    bad.write_text("version: 1\nprofiles:\n  staff: {subnets: [not-a-subnet]}\ndefault_profile: staff\n")
    done = _run_cli("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"), "--allowlist", str(bad))
    assert done.returncode == 2
    assert "line 3" in done.stderr and "subnets" in done.stderr and "Traceback" not in done.stderr


def test_plain_http_admin_url_to_another_machine_is_refused(tmp_path):
    allow = tmp_path / "allowlist.yaml"
    allow.write_text("version: 1\nprofiles:\n  staff: {subnets: [127.0.0.0/8]}\ndefault_profile: staff\n")
    done = _run_cli("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"), "--allowlist", str(allow),
                    "--admin-url", "http://10.0.0.5:8700", "--admin-token", "t")
    assert done.returncode == 2 and "use https" in done.stderr
