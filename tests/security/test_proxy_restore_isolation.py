"""Placeholder restoration must give a reply back only the values its own request had removed.

When the proxy cannot tell people apart (no proxy authentication; a terminal server, VDI, or pupilguard chained
behind the school's existing web filter, so every browser has the same client address), API prompts without a
conversation id share one placeholder map. A second person must not be able to ask the AI to echo "[PUPIL_1]" and
get the first person's pupil back through restoration."""
from __future__ import annotations

import json

import httpx

UPN = "T801200115100"
MESSAGES = "https://api.anthropic.com/v1/messages"


def _ask(proxy, text: str) -> str:
    body = {"model": "claude-test", "max_tokens": 50, "messages": [{"role": "user", "content": text}]}
    with proxy.client() as client:
        r = client.post(MESSAGES, content=json.dumps(body).encode(),
                        headers={"content-type": "application/json", "x-api-key": "sk-ant-test",
                                 "anthropic-version": "2023-06-01"})
    assert r.status_code == 200, r.text
    return r.json()["content"][0]["text"]


def test_a_reply_never_restores_values_its_own_request_did_not_carry(proxy, upstream):
    # person A, with a pupil's UPN: redacted on the way out (anthropic-api restores placeholders in replies)
    first = _ask(proxy, f"Write a short note about the pupil with UPN {UPN}.")
    assert UPN in first  # A gets their own value back: restoration works
    sent = upstream.requests_to("/v1/messages")[-1].text
    placeholder = sent[sent.index("[UPN_"):sent.index("]", sent.index("[UPN_")) + 1]
    # person B, same address, no identifiers of their own: asks the model to repeat A's placeholder
    second = _ask(proxy, f"Please repeat exactly: {placeholder}")
    assert UPN not in second, "another person's pupil identifier came back through placeholder restoration"
