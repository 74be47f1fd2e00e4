"""`--upstream-proxy`: pupilguard keeps the school's own filtering proxy in the chain (issue 12).

A second, real mitmproxy plays the school's filter - HTTPS inspection with its own CA and proxy authentication
required - and records what it sees. AI requests go through pupilguard first (decided, redacted) and then through
the filter; other sites are tunnelled by pupilguard untouched and reach the filter as they came."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import openai
import pytest

from tests.support.net import free_port
from tests.support.proxy import ssl_context

pytestmark = pytest.mark.e2e

UPN = "T801200115100"
FILTER_USER, FILTER_PASSWORD = "smoothwall", "s3cret pass"


@pytest.fixture(scope="module")
def school_filter(tmp_path_factory, fake_upstream):
    """The school's filter: mitmdump with proxy authentication, recording to a JSON-lines file."""
    home = tmp_path_factory.mktemp("school-filter")
    port, log = free_port(), home / "seen.jsonl"
    log.touch()
    script = str(__import__("pathlib").Path(__file__).with_name("school_filter.py"))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from mitmproxy.tools.main import mitmdump; mitmdump()",
         "--listen-host", "127.0.0.1", "--listen-port", str(port), "--set", f"confdir={home}",
         "--set", f"proxyauth={FILTER_USER}:{FILTER_PASSWORD}", "--set", "ssl_insecure=true",
         "--set", "connection_strategy=lazy", "-q", "-s", script],
        env={**__import__("os").environ, "SCHOOL_FILTER_LOG": str(log),
             "SCHOOL_FILTER_UPSTREAM": fake_upstream.address},
        stdout=subprocess.DEVNULL, stderr=open(home / "mitmdump.log", "wb"), start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError((home / "mitmdump.log").read_text())
            time.sleep(0.2)
    ca = home / "mitmproxy-ca-cert.pem"
    while not ca.exists():
        time.sleep(0.1)
    yield {"port": port, "ca": ca, "log": log}
    proc.terminate()
    proc.wait(20)


def _seen(school_filter) -> list[dict]:
    return [json.loads(line) for line in school_filter["log"].read_text().splitlines()]


@pytest.fixture(scope="module")
def chained(start_proxy, school_filter, tmp_path_factory):
    # the credentials in a file; the URL carries only the address (the URL form is checked in test_chain_options)
    auth = tmp_path_factory.mktemp("chain") / "filter-auth"
    auth.write_text(f"{FILTER_USER}:{FILTER_PASSWORD}\n")
    return start_proxy(workers=1, extra_args=[
        "--upstream-proxy", f"http://127.0.0.1:{school_filter['port']}", "--upstream-proxy-auth-file", str(auth),
        "--upstream-ca", str(school_filter["ca"])])  # pupilguard trusts the filter's inspection CA, as in a school


def test_the_filter_sees_every_ai_request_after_redaction_and_never_the_name(chained, school_filter, upstream):
    school_filter["log"].write_text("")
    client = openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0,
                           http_client=httpx.Client(proxy=chained.url, verify=chained.ssl))
    for i in range(3):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[
            {"role": "user", "content": f"Write report comment {i} for the pupil with UPN {UPN}."}])
        assert reply.choices[0].message.content.startswith("Echo:")
    seen = [r for r in _seen(school_filter) if r["kind"] == "request"]
    chats = [r for r in seen if r["path"] == "/v1/chat/completions"]
    assert len(chats) == 3 and all(r["host"] == "api.openai.com" for r in chats)
    assert all(f"report comment {i}" in chats[i]["body"] for i in range(3))
    assert UPN not in school_filter["log"].read_text()  # not in a body, a path or anywhere else the filter saw
    assert all(UPN not in r.text for r in upstream.requests_to("/v1/chat/completions"))
    assert not any(r["refused"] for r in _seen(school_filter) if r["kind"] == "connect")  # authenticated


def test_a_blocked_ai_request_never_reaches_the_filter(chained, school_filter, upstream):
    school_filter["log"].write_text("")
    with chained.client() as client:
        r = client.post("https://api.openai.com/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": f"Pupil UPN {UPN} has ADHD and is on the child protection register."}]})
    assert r.status_code == 403
    assert UPN not in school_filter["log"].read_text() and upstream.received == []


def test_other_sites_are_tunnelled_through_the_filter_untouched(chained, school_filter, upstream):
    school_filter["log"].write_text("")
    # pupilguard does not decrypt a non-AI site: the certificate the browser sees is the filter's own
    with httpx.Client(proxy=chained.url, verify=ssl_context(school_filter["ca"]), timeout=30) as client:
        r = client.get("https://www.bbc.co.uk/news?q=ours")
    assert r.status_code == 200
    seen = _seen(school_filter)
    assert any(s["kind"] == "connect" and s["authority"] == "www.bbc.co.uk:443" and not s["refused"] for s in seen)
    assert any(s["kind"] == "request" and s["host"] == "www.bbc.co.uk" and s["path"] == "/news?q=ours" for s in seen)


def test_without_the_filters_password_nothing_gets_through(start_proxy, school_filter, upstream):
    wrong = start_proxy(workers=1, extra_args=[
        "--upstream-proxy", f"http://{FILTER_USER}:wrong@127.0.0.1:{school_filter['port']}",
        "--upstream-ca", str(school_filter["ca"])])
    with wrong.client() as client:
        r = client.post("https://api.openai.com/v1/chat/completions",
                        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]})
    assert r.status_code >= 400 and upstream.received == []
