"""Placeholder restoration through a running `pupilguard proxy`, seen by the real openai and anthropic SDKs.

The fake upstream echoes the prompt it received (placeholders) back, streamed a couple of characters per event as
models do, so placeholders arrive cut across events and network chunks; the SDK must still see the originals.
"""
from __future__ import annotations

import gzip
import json
import threading
import time

import anthropic
import httpx
import httpx2
import openai
import pytest
from starlette.responses import Response, StreamingResponse

UPN = "T801200115100"
EMAIL = "jo.bloggs@example.com"
PROMPT = f"Write a short report comment for the pupil with UPN {UPN} (parent email {EMAIL}); she has worked hard."
ALLOWLIST = """\
version: 1
policy_url: https://school.example/ai-policy
profiles:
  staff: {subnets: [127.0.0.0/8]}
default_profile: staff
default_status: blocked
tools:
  openai-api:    {staff: approved, restore_placeholders: true}
  anthropic-api: {staff: approved, restore_placeholders: true}
  gemini-api:    {staff: approved}
"""


@pytest.fixture(scope="module")
def restore_proxy(start_proxy):
    return start_proxy(allowlist=ALLOWLIST)


def _prompt(body: bytes) -> str:
    doc = json.loads(body)
    content = doc["messages"][-1]["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def _openai_chunks(text: str, size: int = 2) -> bytes:
    out = []
    for i in range(0, len(text), size):
        out.append({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": "gpt-test", "choices": [{"index": 0, "delta": {"content": text[i:i + size]},
                                                      "finish_reason": None}]})
    events = "".join(f"data: {json.dumps(c)}\n\n" for c in out)
    return (events + "data: [DONE]\n\n").encode()


def _openai(proxy) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0,
                         http_client=httpx.Client(proxy=proxy.url, verify=proxy.ssl, timeout=60))


@pytest.mark.parametrize("compressed", [False, True], ids=["chunked", "gzip"])
def test_openai_stream_gets_original_values_back(restore_proxy, upstream, compressed):
    first_seen = threading.Event()
    streamed: list[bool] = []

    def reply(req):
        body = _openai_chunks("Echo: " + _prompt(req.body))
        if compressed:
            return Response(gzip.compress(body), media_type="text/event-stream",
                            headers={"content-encoding": "gzip"})

        def pieces():
            chunks = [body[i:i + 37] for i in range(0, len(body), 37)]
            yield from chunks[:len(chunks) // 2]
            # The rest only once the client has text: proves the proxy streams rather than buffers the reply.
            streamed.append(first_seen.wait(10))
            yield from chunks[len(chunks) // 2:]
        return StreamingResponse(pieces(), media_type="text/event-stream")

    upstream.handle("/v1/chat/completions", reply)
    stream = _openai(restore_proxy).chat.completions.create(
        model="gpt-test", stream=True, messages=[{"role": "user", "content": PROMPT}])
    text = ""
    for chunk in stream:
        text += chunk.choices[0].delta.content or ""
        first_seen.set()
    if not compressed:
        assert streamed == [True]

    [received] = upstream.requests_to("/v1/chat/completions")
    sent = _prompt(received.body)
    assert UPN not in sent and EMAIL not in sent and "[UPN_1]" in sent and "[EMAIL_1]" in sent
    assert text == "Echo: " + PROMPT


def test_openai_json_reply_gets_original_values_back(restore_proxy, upstream):
    reply = _openai(restore_proxy).chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": PROMPT}])
    [received] = upstream.requests_to("/v1/chat/completions")
    assert UPN not in received.text
    assert reply.choices[0].message.content == "Echo: " + PROMPT   # the default fake reply echoes the prompt


def test_anthropic_stream_with_pings_gets_original_values_back(restore_proxy, upstream):
    def reply(req):
        text = "Echo: " + _prompt(req.body)

        def event(name, data):
            return f"event: {name}\ndata: {json.dumps(data)}\n\n"

        parts = [event("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test", "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}}),
                 event("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {"type": "text", "text": ""}})]
        for i in range(0, len(text), 3):
            parts.append(event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                       "delta": {"type": "text_delta", "text": text[i:i + 3]}}))
            if i % 12 == 0:
                parts.append(event("ping", {"type": "ping"}))
        parts += [event("content_block_stop", {"type": "content_block_stop", "index": 0}),
                  event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                             "stop_sequence": None},
                                          "usage": {"output_tokens": 5}}),
                  event("message_stop", {"type": "message_stop"})]
        return StreamingResponse((p.encode() for p in parts), media_type="text/event-stream")

    upstream.handle("/v1/messages", reply)
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url="https://api.anthropic.com", max_retries=0,
                                 http_client=httpx2.Client(proxy=restore_proxy.url, verify=restore_proxy.ssl,
                                                           timeout=60))
    with client.messages.stream(model="claude-test", max_tokens=100,
                                messages=[{"role": "user", "content": PROMPT}]) as stream:
        text = "".join(stream.text_stream)
    [received] = upstream.requests_to("/v1/messages")
    assert UPN not in received.text and EMAIL not in received.text
    assert text == "Echo: " + PROMPT
