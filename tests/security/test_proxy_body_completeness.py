"""Issue 14, the proxy half: no byte of a request to an AI service leaves unread. Each attack the red team found
is replayed through a real `pupilguard proxy` (real TLS interception, the real adapters and detection workers):
the upstream must never receive the identifier, whichever field, key, encoding or connection it hides in."""
from __future__ import annotations

import gzip
import json
import socket

import pytest

from tests.support.proxy import tls_exchange

UPN = "T801200115100"
PII = f"Pupil UPN {UPN} has ADHD and is on the child protection register."
CHAT = "https://api.openai.com/v1/chat/completions"


def _chat(**extra) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Write a report comment."}], **extra}


def _nested(depth: int, leaf: dict) -> dict:
    for _ in range(depth):
        leaf = {"items": leaf}
    return leaf


JSON_ATTACKS = {
    "structured-output property name": _chat(response_format={"type": "json_schema", "json_schema": {
        "name": "comments", "schema": {"type": "object", "properties": {PII: {"type": "string"}}}}}),
    "metadata key": _chat(metadata={PII: "x"}),
    "model": {**_chat(), "model": PII},
    "user": _chat(user=PII),
    "user_id": _chat(user_id=PII),
    "key ending in url": _chat(callback_url=f"https://example.com/notes?about={PII}"),
    "tool name": _chat(tools=[{"type": "function", "function": {"name": f"note-{UPN}", "parameters": {}}}]),
    "schema description 70 deep in an unknown field": _chat(extension=_nested(70, {"description": PII})),
    "schema description 300 deep": _chat(extension=_nested(300, {"description": PII})),
}


@pytest.mark.parametrize("case", sorted(JSON_ATTACKS))
def test_json_field_or_key_is_never_forwarded_unread(proxy, upstream, case):
    with proxy.client() as client:
        client.post(CHAT, content=json.dumps(JSON_ATTACKS[case]).encode(), headers={"content-type": "application/json"})
    assert not [r for r in upstream.received if UPN.encode() in r.body], f"{case}: the UPN reached the service"


def test_nhs_number_sent_as_a_json_number_is_read(proxy, upstream):
    with proxy.client() as client:
        client.post(CHAT, content=json.dumps(_chat(metadata={"nhs_number": 9434765919})).encode(),
                    headers={"content-type": "application/json"})
    assert not [r for r in upstream.received if b"9434765919" in r.body]


def test_duplicate_messages_key_is_refused(proxy, upstream):
    # Python keeps the last duplicate, some servers the first: whichever we read, the service may read the other
    body = ('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"' + PII + '"}],'
            '"messages":[{"role":"user","content":"hello"}]}').encode()
    with proxy.client() as client:
        r = client.post(CHAT, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 403 and upstream.received == []


def test_redacted_schema_property_name_is_rewritten_not_dropped(proxy, upstream):
    doc = _chat(response_format={"type": "json_schema", "json_schema": {"name": "c", "schema": {
        "type": "object", "properties": {f"UPN {UPN}": {"type": "string"}}, "required": [f"UPN {UPN}"]}}})
    with proxy.client() as client:
        r = client.post(CHAT, content=json.dumps(doc).encode(), headers={"content-type": "application/json"})
    sent = upstream.requests_to("/v1/chat/completions")
    if r.status_code == 200:  # redacted: the key and the `required` entry that names it carry the same placeholder
        schema = json.loads(sent[-1].body)["response_format"]["json_schema"]["schema"]
        assert list(schema["properties"]) == schema["required"] and UPN not in schema["required"][0]
    else:
        assert r.status_code == 403 and sent == []


def test_unknown_content_encoding_on_an_uncatalogued_path_is_refused(proxy, upstream):
    with proxy.client() as client:
        r = client.post("https://api.openai.com/v1/not-in-the-catalogue", content=b"\x00\x01" + PII.encode(),
                        headers={"content-type": "application/json", "content-encoding": "x-custom"})
        r2 = client.post("https://api.openai.com/v1/not-in-the-catalogue", content=gzip.compress(PII.encode())[:20],
                         headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert (r.status_code, r2.status_code) == (403, 403) and upstream.received == []


def _connect(proxy, target: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:
        sock.sendall(b"CONNECT " + target + b" HTTP/1.1\r\nHost: " + target + b"\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1024)
            if not chunk:
                break
            head += chunk
        return head


@pytest.mark.parametrize("address", ["127.0.0.1", "[::1]"])
def test_connect_to_an_ip_address_is_refused(proxy, fake_upstream, address):
    # A tunnel to a bare address is never intercepted: inside it, `Host: api.openai.com` would reach the service unread
    head = _connect(proxy, f"{address}:{fake_upstream.port}".encode())
    assert head.startswith(b"HTTP/1.1 403"), head[:60]


def test_connect_to_an_allowed_address_is_tunnelled(start_proxy, fake_upstream):
    allowed = start_proxy(extra_args=["--allow-ip", "127.0.0.0/8"], workers=1)
    assert _connect(allowed, f"127.0.0.1:{fake_upstream.port}".encode()).startswith(b"HTTP/1.1 200")


def test_tls_server_name_and_host_header_that_disagree_are_refused(proxy, upstream):
    body = json.dumps({"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}).encode()
    reply = tls_exchange(proxy, b"POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\n"
                                b"Content-Type: application/json\r\nConnection: close\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    assert reply.startswith(b"HTTP/1.1 403") and upstream.received == []
