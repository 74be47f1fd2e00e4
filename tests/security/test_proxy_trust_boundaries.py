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


@pytest.fixture(scope="module")
def trust_proxy(start_proxy):
    return start_proxy(allowlist=ALLOWLIST)


def _spooled(proxy, tool: str) -> list[dict]:
    with sqlite3.connect(proxy.data_dir / "spool" / "events.sqlite3") as db:
        return [e for (b,) in db.execute("SELECT body FROM events ORDER BY seq") if (e := json.loads(b))["tool"] == tool]


# ------------------------------------------------------------------------------------------------- monitor

def test_monitored_copilot_blocks_a_pupil_with_adhd_and_redacts_identifiers(trust_proxy, upstream):
    frame = lambda text: json.dumps({"event": "send", "conversationId": "c-1",  # noqa: E731
                                     "content": [{"type": "text", "text": text}]})
    with connect("wss://copilot.microsoft.com/c/api/chat?api-version=2", proxy=trust_proxy.url,
                 ssl=trust_proxy.ssl, open_timeout=20) as ws:
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
