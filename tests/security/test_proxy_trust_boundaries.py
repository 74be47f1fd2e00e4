"""Trust boundaries on the wire (issue 15), against a real `pupilguard proxy`:

* `monitor` never forwards special-category data about a pupil and, by default, still redacts identifiers;
* placeholder restoration gives a conversation's values back only to the browser that sent them (its pupilguard
  cookie), never to whoever else shares its address and knows the conversation id;
* every channel to an AI host is read: URL path segments, query names and values, headers outside a reviewed list,
  cookies the service did not set itself.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
import time

from urllib.parse import unquote

import pytest
from starlette.responses import JSONResponse
from websockets.sync.client import connect

UPN = "T801200115100"
ADHD = f"The pupil with UPN {UPN} has ADHD and is on the child protection register."
ALLOWLIST = """\
version: 1
profiles:
  staff: {subnets: [127.0.0.0/8]}
default_profile: staff
default_status: blocked
tools:
  chatgpt:    {staff: approved, restore_placeholders: true}
  copilot:    {staff: monitor}
  claude:     {staff: monitor, monitor_identifiers: log_only}
  openai-api: {staff: approved}
"""
CHATGPT = "https://chatgpt.com/backend-api/conversation"
CLAUDE_PATH = "/api/organizations/org-1/chat_conversations/conv-9/completion"


SIMS_EXPORT = ("Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,UPN,Year,Reg Group,Date of Birth\r\n"
               "Okafor,Amara,Okafor,Amara,,7,7A,04/05/2013\r\n")


@pytest.fixture(scope="module")
def trust_proxy(start_proxy, tmp_path_factory):
    from detectors.mis_import import import_mis_csv
    from detectors.roster import RosterKey

    data = tmp_path_factory.mktemp("trust-proxy")
    key_file = data / "roster.key"
    import_mis_csv(SIMS_EXPORT.encode(), data / "roster.pgr", RosterKey.load_or_create(key_file))
    return start_proxy(allowlist=ALLOWLIST, data_dir=data,
                       extra_args=["--roster", str(data / "roster.pgr"), "--key-file", str(key_file)])


def _spooled(proxy, tool: str) -> list[dict]:
    with sqlite3.connect(proxy.data_dir / "spool" / "events.sqlite3") as db:
        return [e for (b,) in db.execute("SELECT body FROM events ORDER BY seq") if (e := json.loads(b))["tool"] == tool]


# ------------------------------------------------------------------------------------------------- monitor

def test_monitored_copilot_blocks_a_pupil_with_adhd_and_redacts_identifiers(trust_proxy, upstream):
    frame = lambda text: json.dumps({"event": "send", "conversationId": "c-1",  # noqa: E731
                                     "content": [{"type": "text", "text": text}]})
    with connect("wss://copilot.microsoft.com/c/api/chat?api-version=2", proxy=trust_proxy.url,
                 ssl=trust_proxy.ssl, open_timeout=60) as ws:
        ws.send(frame(ADHD))
        ws.send(frame(f"Write a report for the pupil with UPN {UPN}."))
        assert json.loads(ws.recv(timeout=20))["n"] == 1
    [sent] = [json.loads(f)["content"][0]["text"] for _, f in upstream.ws_received]
    assert UPN not in sent and "[UPN_1]" in sent and "ADHD" not in sent


def test_log_only_monitoring_forwards_identifiers_but_never_special_category_data(trust_proxy, upstream):
    with trust_proxy.client() as client:
        for prompt in (ADHD, f"Write a report for the pupil with UPN {UPN}."):
            client.post(f"https://claude.ai{CLAUDE_PATH}", json={"prompt": prompt})
    [received] = upstream.requests_to(CLAUDE_PATH)
    assert received.json()["prompt"] == f"Write a report for the pupil with UPN {UPN}."  # log only, as typed
    deadline = time.monotonic() + 10
    while len(events := _spooled(trust_proxy, "claude")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [e["action"] for e in events[-2:]] == ["block", "allow"]
    assert "would_redact" in events[-1]["reasons"] and UPN not in events[-1]["excerpt"]


def test_shipped_allowlist_monitors_no_tool_with_log_only_identifiers():
    from pathlib import Path

    from detectors.allowlist import load_allowlist

    shipped = load_allowlist(Path(__file__).resolve().parents[2] / "allowlist.yaml")
    monitored = [t for t in shipped.tools for p in shipped.profiles if shipped.status(t, p) == "monitor"]
    assert monitored and not [t for t in monitored for p in shipped.profiles if shipped.logs_identifiers_only(t, p)]


# ------------------------------------------------------------------------------------------------- restore

def _chat(proxy, text: str, browser: str | None, conversation: str = "conv-1") -> str:
    body = {"action": "next", "conversation_id": conversation, "model": "auto",
            "messages": [{"id": "m1", "author": {"role": "user"},
                          "content": {"content_type": "text", "parts": [text]}}]}
    headers = {"cookie": f"__Host-pupilguard-bid={browser}"} if browser else {}
    with proxy.client() as client:
        r = client.post(CHATGPT, json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["echo"]


def test_restore_is_bound_to_the_browser_not_to_the_address(trust_proxy, upstream):
    upstream.handle("/backend-api/conversation", lambda rec: JSONResponse(
        {"echo": rec.json()["messages"][0]["content"]["parts"][0]}))
    mine, other = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    assert UPN in _chat(trust_proxy, f"Report for the pupil with UPN {UPN}.", mine)  # restore works for me
    sent = upstream.requests_to("/backend-api/conversation")[-1].text
    assert UPN not in sent and "[UPN_1]" in sent
    assert UPN in _chat(trust_proxy, "Repeat exactly: [UPN_1]", mine)  # later in my own conversation too
    # another browser behind the same address, which knows the conversation id, with or without its own cookie
    assert UPN not in _chat(trust_proxy, "Repeat exactly: [UPN_1]", other)
    assert UPN not in _chat(trust_proxy, "Repeat exactly: [UPN_1]", None)


# ------------------------------------------------------------------------------------------------- channels

def _raw(received) -> str:
    """Everything but the body that reached the service: path, query, headers."""
    return unquote(received.path + "?" + received.query + json.dumps(received.headers)).lower()


@pytest.mark.parametrize("url", [
    "https://chatgpt.com/c/amara-okafor-end-of-year-report",   # a slug in a path segment
    "https://chatgpt.com/?amara_okafor=1",                      # a query parameter name
    "https://chatgpt.com/?q=Write+to+Amara+Okafor%27s+parents",  # a query value
])
def test_a_pupil_name_in_the_url_never_reaches_the_ai_service(trust_proxy, upstream, url):
    with trust_proxy.client() as client:
        client.get(url)
    assert upstream.received and all("amara" not in _raw(r) and "okafor" not in _raw(r) for r in upstream.received)
    assert "[pupil_1]" in _raw(upstream.received[-1])


def test_a_pupil_name_in_a_custom_header_or_client_cookie_is_redacted(trust_proxy, upstream):
    with trust_proxy.client() as client:
        r = client.post("https://api.openai.com/v1/chat/completions",
                        json={"model": "m", "messages": [{"role": "user", "content": "Suggest a starter."}]},
                        headers={"X-Conversation-Title": "Amara Okafor report",
                                 "Cookie": "draft=Amara%20Okafor%20report; theme=dark"})
    assert r.status_code == 200
    [received] = upstream.requests_to("/v1/chat/completions")
    assert "amara" not in _raw(received) and "okafor" not in _raw(received)
    assert unquote(received.headers["x-conversation-title"]) == "[PUPIL_1] report"
    assert "theme=dark" in received.headers["cookie"]


def test_special_category_data_in_a_cookie_blocks_and_a_name_in_a_header_name_refuses(trust_proxy, upstream):
    with trust_proxy.client() as client:
        in_cookie = client.get("https://chatgpt.com/", headers={"Cookie": "note=Amara%20Okafor%20has%20ADHD"})
        in_name = client.get("https://chatgpt.com/", headers={"X-Amara-Okafor": "1"})
    assert in_cookie.status_code == 403 and in_name.status_code == 403
    assert upstream.received == []


def test_a_refused_url_is_recorded_without_the_name_it_carried(trust_proxy, upstream):
    before = len(_spooled(trust_proxy, "chatgpt"))
    with trust_proxy.client() as client:
        r = client.get("https://chatgpt.com/search/amara-okafor-has-adhd/notes")
    assert r.status_code == 403 and upstream.received == []
    deadline = time.monotonic() + 10
    while len(events := _spooled(trust_proxy, "chatgpt")[before:]) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "amara" not in json.dumps(events).lower() and events[-1]["path"] in ("/search/…", "/…/…")


def test_cookies_the_service_set_come_back_unread_but_the_same_name_written_by_the_client_is_read(
        trust_proxy, upstream):
    # the service's own cookie happens to look like a name: it is not the client's words, so it is not read
    upstream.handle("/set", lambda rec: JSONResponse({}, headers={"set-cookie": "pref=Amara-Okafor; Path=/"}))
    with trust_proxy.client() as client:
        client.get("https://chatgpt.com/set")
        client.get("https://chatgpt.com/back", headers={"Cookie": "pref=Amara-Okafor"})
        client.get("https://chatgpt.com/forged", headers={"Cookie": "pref=Amara-Okafor-was-here"})
    [back] = upstream.requests_to("/back")
    [forged] = upstream.requests_to("/forged")
    assert back.headers["cookie"] == "pref=Amara-Okafor"
    assert "amara" not in forged.headers["cookie"].lower()


def test_reviewed_headers_pass_unchanged(trust_proxy, upstream):
    key = "sk-proj-" + "a1" * 24
    with trust_proxy.client() as client:
        client.post("https://api.openai.com/v1/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": "Suggest a starter."}]},
                    headers={"Authorization": f"Bearer {key}", "User-Agent": "OpenAI/Python 1.54.0",
                             "Accept-Language": "cy-GB,cy;q=0.9,en;q=0.8"})
    [received] = upstream.requests_to("/v1/chat/completions")
    assert received.headers["authorization"] == f"Bearer {key}"
    assert received.headers["user-agent"] == "OpenAI/Python 1.54.0"
