"""Fail-open probes against a real `pupilguard proxy`: a prompt bound for a catalogued AI host must never reach the
service unscanned, whatever shape the request takes."""
from __future__ import annotations

import json
import socket
import ssl
from urllib.parse import quote

import pytest

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
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:
        sock.sendall(b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1024)
        assert head.startswith(b"HTTP/1.1 200"), head
        with proxy.ssl.wrap_socket(sock, server_hostname="api.openai.com") as tls:
            tls.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: not-an-ai-service.example\r\n"
                        b"Content-Type: application/json\r\nConnection: close\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            reply = b""
            try:
                while chunk := tls.recv(65536):
                    reply += chunk
            except (ssl.SSLError, OSError):
                pass
    assert not _arrived(upstream, UPN), "a Host header naming another site let the prompt through unscanned"
