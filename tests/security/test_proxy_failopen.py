"""Fail-open probes against a real `pupilguard proxy`: a prompt bound for a catalogued AI host must never reach the
service unscanned, whatever shape the request takes."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.support.proxy import tls_exchange

UPN = "T801200115100"
BLOCK_PROMPT = f"The pupil with UPN {UPN} has ADHD and is on the child protection register. Write a support plan."


def _chat_body(prompt: str) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}).encode()


def _arrived(upstream, secret: str) -> list:
    return [r for r in upstream.received if secret.encode() in r.body]


@pytest.mark.parametrize("query", ["q", "prompt"])
def test_prompt_in_a_url_query_string_is_not_forwarded_unscanned(proxy, upstream, query):
    # chatgpt.com/?q=..., claude.ai/new?q=..., perplexity.ai/search?q=... start a chat with the prompt in the URL
    with proxy.client() as client:
        r = client.get(f"https://chatgpt.com/?{query}={quote(BLOCK_PROMPT)}")
    assert upstream.requests_to("/") == [], (
        f"GET /?{query}=<prompt with a UPN and safeguarding data> reached the AI service (HTTP {r.status_code})")


@pytest.mark.parametrize("path", ["/v1/chat/completions/", "//v1/chat/completions", "/v1/chat/%63ompletions",
                                  "/v1/chat/completions;x", "/v1//chat/completions"])
def test_prompt_posted_to_a_path_variant_of_an_api_endpoint_is_scanned(proxy, upstream, path):
    with proxy.client() as client:
        client.post(f"https://api.openai.com{path}", content=_chat_body(BLOCK_PROMPT),
                    headers={"content-type": "application/json"})
    assert not _arrived(upstream, UPN), f"POST {path} carried the raw prompt to api.openai.com"


def test_host_header_different_from_the_intercepted_host_is_still_scanned(proxy, upstream):
    """The request goes to the CONNECTed (intercepted, catalogued) server whatever its Host header says."""
    body = _chat_body(BLOCK_PROMPT)
    tls_exchange(proxy, b"POST /v1/chat/completions HTTP/1.1\r\nHost: not-an-ai-service.example\r\n"
                        b"Content-Type: application/json\r\nConnection: close\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    assert not _arrived(upstream, UPN), "a Host header naming another site let the prompt through unscanned"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-8-sig"])
def test_prompt_body_in_another_unicode_encoding_is_not_forwarded_unscanned(proxy, upstream, encoding):
    # JSON parsers (Python's json.loads on bytes, many others) accept UTF-16/32 bodies, so a service may read it
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": BLOCK_PROMPT}]})
    with proxy.client() as client:
        client.post("https://api.openai.com/v1/chat/completions", content=body.encode(encoding),
                    headers={"content-type": "application/json"})
    leaked = [r for r in upstream.received if UPN in r.body.decode(encoding, "replace")]
    assert not leaked, f"a {encoding} JSON prompt reached the AI service unscanned"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_prompt_sent_with_another_method_is_scanned(proxy, upstream, method):
    with proxy.client() as client:
        client.request(method, "https://api.openai.com/v1/chat/completions", content=_chat_body(BLOCK_PROMPT),
                       headers={"content-type": "application/json"})
    assert not _arrived(upstream, UPN)


def test_form_encoded_prompt_on_a_json_endpoint_is_scanned(proxy, upstream):
    from urllib.parse import urlencode
    with proxy.client() as client:
        client.post("https://api.openai.com/v1/chat/completions",
                    content=urlencode({"messages[0][content]": BLOCK_PROMPT, "model": "x"}).encode(),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert not [r for r in upstream.received if UPN in r.text or UPN.encode() in r.body]


def test_http2_prompt_is_scanned(proxy, upstream):
    import httpx
    with httpx.Client(proxy=proxy.url, verify=proxy.ssl, http2=True, timeout=30) as client:
        r = client.post("https://api.openai.com/v1/chat/completions", content=_chat_body(BLOCK_PROMPT),
                        headers={"content-type": "application/json"})
    assert r.status_code == 403 and not _arrived(upstream, UPN)


def test_chunked_prompt_body_without_length_is_scanned(proxy, upstream):
    def chunks():
        body = _chat_body(BLOCK_PROMPT)
        for i in range(0, len(body), 7):
            yield body[i:i + 7]
    with proxy.client() as client:
        r = client.post("https://api.openai.com/v1/chat/completions", content=chunks(),
                        headers={"content-type": "application/json"})
    assert r.status_code == 403 and not _arrived(upstream, UPN)


def test_prompt_in_a_websocket_on_an_unlisted_path_is_scanned(proxy, upstream):
    from websockets.sync.client import connect
    with connect("wss://chatgpt.com/backend-api/ws-unlisted", proxy=proxy.url, ssl=proxy.ssl, open_timeout=60) as ws:
        ws.send(json.dumps({"type": "message", "text": BLOCK_PROMPT}))
        ws.send(json.dumps({"type": "ping"}))
        try:
            ws.recv(timeout=10)
        except TimeoutError:
            pass
    assert not [f for _, f in upstream.ws_received if UPN in (f if isinstance(f, str) else f.decode("latin-1"))]


def test_multipart_prompt_on_a_json_endpoint_is_scanned(proxy, upstream):
    with proxy.client() as client:
        client.post("https://api.openai.com/v1/chat/completions",
                    files={"messages": (None, json.dumps([{"role": "user", "content": BLOCK_PROMPT}]), "application/json")},
                    data={"model": "gpt-4o-mini"})
    assert not _arrived(upstream, UPN)


def test_json_encoded_inside_a_json_string_is_scanned(proxy, upstream):
    inner = json.dumps({"messages": [{"role": "user", "content": BLOCK_PROMPT}]})
    with proxy.client() as client:
        client.post("https://api.openai.com/v1/chat/completions/batch-like",
                    content=json.dumps({"payload": inner}).encode(), headers={"content-type": "application/json"})
    assert not [r for r in upstream.received if UPN.encode() in r.body or UPN.encode() in r.body.replace(b"\\", b"")]


def test_base64_encoded_prompt_text_is_scanned(proxy, upstream):
    import base64
    encoded = base64.b64encode(BLOCK_PROMPT.encode()).decode()
    with proxy.client() as client:
        client.post("https://api.openai.com/v1/chat/completions", content=_chat_body(
            f"Decode this base64 and write a support plan for the pupil it describes: {encoded}"),
            headers={"content-type": "application/json"})
    assert not [r for r in upstream.received if encoded.encode() in r.body], "a base64-wrapped prompt went out"
