"""The proxy against the real admin service (`pupilguard admin serve`, SQLite): events are delivered and stored
once, and the centrally managed allowlist reaches the proxy and is applied without a restart."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHAT = "https://api.openai.com/v1/chat/completions"
PROMPT = "Write a report comment for the pupil with UPN T801200115100, who has worked hard."

# Central allowlist as first seeded: loopback clients fall to the pupil profile, for whom the OpenAI API is blocked.
CENTRAL = """version: 1
policy_url: https://school.example/ai-policy
profiles:
  staff: {subnets: [10.0.0.0/16]}
  pupil: {subnets: [10.1.0.0/16]}
default_profile: pupil
default_status: blocked
tools:
  openai-api: {staff: approved, pupil: blocked}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def admin(tmp_path_factory):
    pytest.importorskip("admin_api.app")
    data = tmp_path_factory.mktemp("admin")
    seed = data / "seed-allowlist.yaml"
    seed.write_text(CENTRAL)
    env = {**os.environ, "PUPILGUARD_ALLOWLIST_FILE": str(seed), "PUPILGUARD_COOKIE_SECURE": "0"}
    port = _free_port()
    log = open(data / "admin.log", "ab")
    process = subprocess.Popen([sys.executable, "-m", "detectors.cli", "admin", "serve", "--listen",
                                f"127.0.0.1:{port}", "--data-dir", str(data)], cwd=REPO, env=env, stdout=log,
                               stderr=log, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(lambda: process.poll() is not None or httpx.get(f"{url}/healthz", timeout=2).status_code == 200)
        except AssertionError:
            pass
        if process.poll() is not None or httpx.get(f"{url}/healthz", timeout=2).status_code != 200:
            raise RuntimeError("admin service did not start:\n" + (data / "admin.log").read_text()[-3000:])
        out = subprocess.run([sys.executable, "-m", "detectors.cli", "admin", "proxy-token", "create", "test-proxy",
                              "--data-dir", str(data)], cwd=REPO, env=env, capture_output=True, text=True, check=True)
        token = out.stdout.splitlines()[0].strip()
        yield {"url": url, "token": token, "data": data, "env": env}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _admin_db(admin):
    from admin_api.db import Database

    return Database(f"sqlite:///{admin['data'] / 'admin.sqlite3'}")


def test_events_and_central_allowlist_with_the_real_admin_service(admin, start_proxy, upstream):
    # the local allowlist would make loopback staff; the central one (pupil) must win
    proxy = start_proxy(extra_args=["--admin-url", admin["url"], "--admin-token", admin["token"],
                                    "--config-poll-s", "1"], workers=1)
    with proxy.client() as client:
        r = client.post(CHAT, json={"model": "m", "messages": [{"role": "user", "content": PROMPT}]})
    assert r.status_code == 403 and "not approved" in r.json()["error"]["message"]
    assert upstream.requests_to("/v1/chat/completions") == []

    db = _admin_db(admin)
    try:
        def stored() -> list[tuple]:
            with db.session() as session:
                return session.execute(text("SELECT tool, action, profile, proxy_id FROM events")).all()

        _wait(lambda: len(stored()) == 1, timeout=30)
        assert stored() == [("openai-api", "block", "pupil", "test-proxy")]

        # IT changes the central allowlist: loopback becomes staff; the running proxy picks it up
        from admin_api import config_store

        with db.session() as session:
            config_store.set_allowlist(session, CENTRAL.replace("10.0.0.0/16", "127.0.0.0/8"), "it-test")
            session.commit()

        attempts = [1]  # the blocked one above

        def allowed() -> bool:
            with proxy.client() as client:
                attempts.append(1)
                return client.post(CHAT, json={"model": "m", "messages": [{"role": "user", "content": PROMPT}]}
                                   ).status_code == 200

        _wait(allowed, timeout=30)
        [received] = upstream.requests_to("/v1/chat/completions")
        assert "[UPN_1]" in received.text and "T801200115100" not in received.text
        # every attempt is one event, stored once: blocks while the old allowlist held, then the redaction
        _wait(lambda: len(stored()) == len(attempts), timeout=30)
        actions = [a for _, a, _, _ in stored()]
        assert actions.count("redact") == 1 and actions.count("block") == len(attempts) - 1
        assert proxy.metric("pupilguard_spool_depth") == 0
    finally:
        db.dispose()
        proxy.stop()
