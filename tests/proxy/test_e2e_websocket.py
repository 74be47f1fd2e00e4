"""Copilot WebSocket frames through the running proxy (websockets client), and monitor-only tools."""
from __future__ import annotations

import json
import sqlite3
import time

import httpx
from websockets.sync.client import connect

UPN = "T801200115100"
EMAIL = "jo.bloggs@example.com"
COPILOT = "wss://copilot.microsoft.com/c/api/chat?api-version=2"
UA = "pupilguard-tests/1"


def frame(text: str) -> str:
    return json.dumps({"event": "send", "conversationId": "conv-1", "mode": "chat",
                       "content": [{"type": "text", "text": text}]}, separators=(",", ":"))


def open_copilot(proxy):
    return connect(COPILOT, proxy=proxy.url, ssl=proxy.ssl,
                   user_agent_header=UA, open_timeout=60)


def test_copilot_frames_are_redacted_blocked_or_passed(proxy, upstream):
    with open_copilot(proxy) as ws:
        ws.send(frame(f"Draft a letter to {EMAIL} about the pupil with UPN {UPN}."))
        assert json.loads(ws.recv(timeout=20))["n"] == 1
        ws.send(frame(f"The pupil with UPN {UPN} has ADHD and is on the child protection register."))
        ws.send(frame("What is a good starter activity for fractions?"))
        # the blocked frame never reached the service: the next reply counts 2 frames, not 3
        assert json.loads(ws.recv(timeout=20))["n"] == 2

    frames = [json.loads(f) for _, f in upstream.ws_received]
    assert len(frames) == 2
    first = frames[0]["content"][0]["text"]
    assert "[EMAIL_1]" in first and "[UPN_1]" in first and UPN not in first and EMAIL not in first
    assert frames[0]["conversationId"] == "conv-1"  # the rest of the frame is untouched
    assert frames[1]["content"][0]["text"] == "What is a good starter activity for fractions?"

    # the page is told: the notice for this browser is waiting on the same-origin notices path
    with httpx.Client(proxy=proxy.url, verify=proxy.ssl) as client:
        notices = client.get("https://copilot.microsoft.com/__pupilguard/notices",
                             headers={"X-Pupilguard": "1", "User-Agent": UA}).json()["notices"]
    actions = sorted(n["action"] for n in notices)
    assert actions == ["blocked", "redacted"]
    assert all(UPN not in json.dumps(n) for n in notices)


def _spooled(proxy, tool: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(proxy.data_dir / "spool" / "events.sqlite3") as db:
            events = [json.loads(b) for (b,) in db.execute("SELECT body FROM events")]
        mine = [e for e in events if e["tool"] == tool]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.05)


def test_monitored_tool_still_redacts_and_records_every_prompt(proxy, upstream):
    path = "/api/organizations/org-1/chat_conversations/conv-9/completion"
    before = len(_spooled(proxy, "claude", 0))
    with proxy.client() as client:
        for prompt in (f"Write a report for the pupil with UPN {UPN}.", "Suggest a starter on fractions."):
            body = json.dumps({"prompt": prompt, "timezone": "Europe/London"})
            r = client.post(f"https://claude.ai{path}", content=body, headers={"content-type": "application/json"})
            assert r.status_code == 200
    redacted, allowed = upstream.requests_to(path)
    assert UPN not in redacted.text and "[UPN_1]" in redacted.json()["prompt"]  # monitor still redacts
    assert allowed.json()["prompt"] == "Suggest a starter on fractions."

    events = _spooled(proxy, "claude", before + 2)[before:]
    assert [e["action"] for e in events] == ["redact", "allow"]  # monitor records the allowed prompt too
    assert UPN not in events[0]["excerpt"] and "[UPN_1]" in events[0]["excerpt"]
