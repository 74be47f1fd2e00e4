"""End to end through a running `pupilguard proxy`: real SDKs, real TLS with the proxy's CA, a local fake AI service.

The fake upstream records exactly what arrived, so these tests see what an AI provider would have been sent.
"""
from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import ssl
import time

import anthropic
import brotli
import httpx
import httpx2
import openai
import pytest
import zstandard

UPN = "T801200115100"
EMAIL = "jo.bloggs@example.com"
REDACT_PROMPT = (f"Write a short report comment for the pupil with UPN {UPN} (parent email {EMAIL}); "
                 "she has worked hard.")
BLOCK_PROMPT = f"The pupil with UPN {UPN} has ADHD and is on the child protection register. Write a support plan."
ALLOW_PROMPT = "Suggest three strategies for supporting a Year 8 pupil with dyslexia in history lessons."
CHAT = "https://api.openai.com/v1/chat/completions"


def openai_client(proxy) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0,
                         http_client=httpx.Client(proxy=proxy.url, verify=proxy.ssl, timeout=60))


def spooled_events(proxy) -> list[dict]:
    with sqlite3.connect(proxy.data_dir / "spool" / "events.sqlite3") as db:
        return [json.loads(body) for (body,) in db.execute("SELECT body FROM events ORDER BY seq")]


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def assert_never_stored(proxy, *secrets: str) -> None:
    """The raw values appear nowhere the proxy writes: spool database files and its log."""
    blobs = [p.read_bytes() for p in (proxy.data_dir / "spool").iterdir()] + [proxy.log_path.read_bytes()]
    for secret in secrets:
        assert not any(secret.encode() in blob for blob in blobs), "raw personal data written to disk"


# ---------------------------------------------------------------------------------------------- OpenAI SDK

def test_openai_redacted_prompt_arrives_valid_with_placeholders(proxy, upstream):
    client = openai_client(proxy)
    reply = client.chat.completions.create(
        model="gpt-4o-mini", temperature=0.2,
        messages=[{"role": "system", "content": "You are a helpful teaching assistant."},
                  {"role": "user", "content": REDACT_PROMPT}])

    [received] = upstream.requests_to("/v1/chat/completions")
    assert received.host == "api.openai.com"  # Host kept; only the connection was routed
    assert int(received.headers["content-length"]) == len(received.body)
    doc = received.json()  # still valid JSON
    assert doc["model"] == "gpt-4o-mini" and doc["temperature"] == 0.2
    assert doc["messages"][0] == {"role": "system", "content": "You are a helpful teaching assistant."}
    sent = doc["messages"][1]["content"]
    assert UPN not in sent and EMAIL not in sent
    assert "[UPN_1]" in sent and "[EMAIL_1]" in sent
    assert sent.startswith("Write a short report comment for the pupil with UPN [UPN_1]")
    # restore_placeholders is off for openai-api in this allowlist: the reply comes back as the service sent it
    assert "[UPN_1]" in reply.choices[0].message.content

    event = wait_for(lambda: [e for e in spooled_events(proxy) if e["action"] == "redact"
                              and "[UPN_1]" in e["excerpt"]])[-1]
    assert event["tool"] == "openai-api" and event["host"] == "api.openai.com"
    assert event["entities"].get("UK_UPN") == 1 and event["profile"] == "staff"
    assert event["path"] == "/v1/chat/completions" and event["client_addr"] == "127.0.0.1"
    assert_never_stored(proxy, UPN, EMAIL)


def test_openai_blocked_prompt_never_arrives_and_sdk_raises_our_message(proxy, upstream):
    client = openai_client(proxy)
    with pytest.raises(openai.PermissionDeniedError) as excinfo:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": BLOCK_PROMPT}])
    assert excinfo.value.status_code == 403
    assert "pupilguard blocked this request" in str(excinfo.value)
    assert UPN not in str(excinfo.value)
    assert upstream.requests_to("/v1/chat/completions") == []
    event = wait_for(lambda: [e for e in spooled_events(proxy) if e["action"] == "block"
                              and any(k.startswith("SPECIAL_CATEGORY") for k in e["entities"])])[-1]
    assert UPN not in event["excerpt"]
    assert_never_stored(proxy, UPN)


def test_openai_clean_prompt_is_forwarded_byte_for_byte(proxy, upstream):
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ALLOW_PROMPT}]},
                      indent=3).encode()
    with proxy.client() as client:
        r = client.post(CHAT, content=body, headers={"content-type": "application/json", "x-custom": "kept"})
    assert r.status_code == 200
    [received] = upstream.requests_to("/v1/chat/completions")
    assert received.body == body and received.headers["x-custom"] == "kept"


def test_same_value_keeps_its_placeholder_across_a_conversation(proxy, upstream):
    client = openai_client(proxy)
    first = [{"role": "user", "content": f"Summarise the attendance of the pupil with UPN {UPN}."}]
    client.chat.completions.create(model="m", messages=first)
    second = first + [{"role": "assistant", "content": "Done."},
                      {"role": "user", "content": f"Email the summary to {EMAIL} and mention UPN {UPN} again."}]
    client.chat.completions.create(model="m", messages=second)
    _, again = upstream.requests_to("/v1/chat/completions")
    msgs = again.json()["messages"]
    assert "[UPN_1]" in msgs[0]["content"] and "[UPN_1]" in msgs[2]["content"]
    assert UPN not in again.text and EMAIL not in again.text


# ---------------------------------------------------------------------------------------------- Anthropic SDK

def anthropic_client(proxy) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url="https://api.anthropic.com", max_retries=0,
                               http_client=httpx2.Client(proxy=proxy.url, verify=proxy.ssl, timeout=60))


def test_anthropic_system_and_blocks_are_redacted(proxy, upstream):
    message = anthropic_client(proxy).messages.create(
        model="claude-test", max_tokens=100, system=f"Context: the pupil's UPN is {UPN}.",
        messages=[{"role": "user", "content": [{"type": "text", "text": f"Write to {EMAIL} about progress."}]}])
    assert message.content[0].type == "text"
    [received] = upstream.requests_to("/v1/messages")
    doc = received.json()
    assert "[UPN_1]" in doc["system"] and UPN not in received.text
    assert doc["messages"][0]["content"][0]["text"] == "Write to [EMAIL_1] about progress."


def test_anthropic_block_raises_permission_error(proxy, upstream):
    with pytest.raises(anthropic.PermissionDeniedError) as excinfo:
        anthropic_client(proxy).messages.create(model="claude-test", max_tokens=10,
                                                messages=[{"role": "user", "content": BLOCK_PROMPT}])
    assert "pupilguard blocked this request" in str(excinfo.value)
    assert upstream.requests_to("/v1/messages") == []


# ---------------------------------------------------------------------------------------------- bodies

@pytest.mark.parametrize("coding,compress", [
    ("gzip", gzip.compress), ("br", brotli.compress), ("zstd", zstandard.ZstdCompressor().compress),
])
def test_compressed_request_bodies_are_read_and_rewritten(proxy, upstream, coding, compress):
    doc = {"model": "m", "messages": [{"role": "user", "content": REDACT_PROMPT}]}
    with proxy.client() as client:
        r = client.post(CHAT, content=compress(json.dumps(doc).encode()),
                        headers={"content-type": "application/json", "content-encoding": coding})
    assert r.status_code == 200
    [received] = upstream.requests_to("/v1/chat/completions")
    assert "content-encoding" not in received.headers  # rewritten bodies go out as identity
    assert int(received.headers["content-length"]) == len(received.body)
    assert "[UPN_1]" in received.json()["messages"][0]["content"] and UPN not in received.text


def test_compressed_clean_body_is_forwarded_untouched(proxy, upstream):
    raw = gzip.compress(json.dumps({"model": "m", "messages": [{"role": "user", "content": ALLOW_PROMPT}]}).encode())
    with proxy.client() as client:
        r = client.post(CHAT, content=raw, headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert r.status_code == 200
    [received] = upstream.requests_to("/v1/chat/completions")
    assert received.headers.get("content-encoding") == "gzip" and received.body == raw


def test_oversize_and_bomb_bodies_are_blocked(proxy, upstream):
    big = json.dumps({"model": "m", "messages": [{"role": "user", "content": "a " * (6 * 1024 * 1024)}]}).encode()
    bomb = gzip.compress(b'{"model": "m", "messages": [{"role": "user", "content": "' + b"0" * (12 * 1024 * 1024)
                         + b'"}]}')
    assert len(bomb) < 100_000
    with proxy.client() as client:
        r1 = client.post(CHAT, content=big, headers={"content-type": "application/json"})
        r2 = client.post(CHAT, content=bomb, headers={"content-type": "application/json", "content-encoding": "gzip"})
    for r in (r1, r2):
        assert r.status_code == 403
        assert "too large" in r.json()["error"]["message"]
    assert upstream.requests_to("/v1/chat/completions") == []
    reasons = [e["reasons"] for e in spooled_events(proxy)]
    assert reasons.count(["body_too_large"]) >= 2


def test_unreadable_prompt_body_is_blocked_not_forwarded_blind(proxy, upstream):
    with proxy.client() as client:
        r = client.post(CHAT, content=bytes(range(256)) * 4, headers={"content-type": "application/octet-stream"})
        corrupt = client.post(CHAT, content=b"\x1f\x8b\x08\x00garbage",
                              headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert r.status_code == 403 and corrupt.status_code == 403
    assert "could not be read" in r.json()["error"]["message"]
    assert upstream.requests_to("/v1/chat/completions") == []


def test_prompt_in_the_url_query_is_redacted_too(proxy, upstream):
    from urllib.parse import parse_qs, quote

    with proxy.client() as client:
        r = client.get(f"https://chatgpt.com/?model=auto&q={quote(REDACT_PROMPT)}")
    assert r.status_code == 200
    [received] = upstream.requests_to("/")
    params = parse_qs(received.query)
    assert params["model"] == ["auto"]
    assert "[UPN_1]" in params["q"][0] and UPN not in received.query and EMAIL not in params["q"][0]


def test_prompt_to_an_unlisted_path_of_an_ai_host_is_still_scanned(proxy, upstream):
    with proxy.client() as client:
        r = client.post("https://api.openai.com/v1/some/new/endpoint", json={"input": BLOCK_PROMPT})
    assert r.status_code == 403 and upstream.received == []


def test_non_prompt_paths_of_approved_tools_pass(proxy, upstream):
    with proxy.client() as client:
        r = client.get("https://api.openai.com/v1/models")
    assert r.status_code == 200 and upstream.requests_to("/v1/models")


# ---------------------------------------------------------------------------------------------- interception

def _peer_issuer(proxy, host: str, port: int, cafile) -> str:
    """CONNECT through the proxy, do TLS for `host`, return the issuer CN of the certificate presented."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1024)
        assert head.startswith(b"HTTP/1.1 200"), head
        ctx = ssl.create_default_context(cafile=str(cafile))
        with ctx.wrap_socket(sock, server_hostname=host) as tls:
            cert = tls.getpeercert()
    return dict(x[0] for x in cert["issuer"])["commonName"]


def test_non_ai_host_is_tunnelled_with_its_own_certificate(proxy, fake_upstream, test_ca):
    # localhost is not in the catalogue: the client sees the server's real certificate, not the proxy's
    assert _peer_issuer(proxy, "localhost", fake_upstream.port, test_ca.ca_cert) == "pupilguard tests upstream CA"
    with pytest.raises(ssl.SSLCertVerificationError):
        _peer_issuer(proxy, "localhost", fake_upstream.port, proxy.ca)
    with httpx.Client(proxy=proxy.url, verify=ssl.create_default_context(cafile=str(test_ca.ca_cert))) as client:
        assert client.post(f"https://localhost:{fake_upstream.port}/v1/chat/completions",
                           json={"messages": [{"role": "user", "content": BLOCK_PROMPT}]}).status_code == 200


def test_ai_host_is_intercepted_with_the_pupilguard_ca(proxy):
    assert _peer_issuer(proxy, "api.openai.com", 443, proxy.ca).startswith("pupilguard CA")


def test_ca_files(proxy):
    key = proxy.data_dir / "ca" / "mitmproxy-ca.pem"
    assert key.stat().st_mode & 0o077 == 0
    public = proxy.ca.read_text()
    assert "BEGIN CERTIFICATE" in public and "PRIVATE KEY" not in public


def test_metrics_count_decisions(proxy, upstream):
    before = proxy.metric("pupilguard_requests_total", tool="openai-api", action="allow")
    with proxy.client() as client:
        client.post(CHAT, json={"model": "m", "messages": [{"role": "user", "content": ALLOW_PROMPT}]})
    assert proxy.metric("pupilguard_requests_total", tool="openai-api", action="allow") == before + 1
    assert proxy.metric("pupilguard_detection_seconds_count", tool="openai-api") >= 1
    health = httpx.get(f"{proxy.metrics_url}/healthz").json()
    assert health["status"] == "ok" and health["workers"] == 3  # 2 general + 1 for short prompts
