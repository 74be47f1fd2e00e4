"""Issue 14 leftover: a CONNECT to a bare IP address inside an AI provider's published range is decrypted and
inspected rather than refused, and the request inside must name one of that provider's catalogued hosts.

The proxy is told (with `--provider-ranges`) that 127.0.0.0/8 is Anthropic's, so a tunnel to the fake upstream's
address plays a tunnel to Anthropic's address; everything else is the real proxy, real TLS and the real engine."""
from __future__ import annotations

import json
import socket
import ssl

import pytest

pytestmark = pytest.mark.e2e

UPN = "T801200115100"


@pytest.fixture(scope="module")
def ranged_proxy(start_proxy, tmp_path_factory):
    ranges = tmp_path_factory.mktemp("ranges") / "ranges.yaml"
    ranges.write_text("version: 1\nproviders:\n  test-anthropic:\n    tools: [anthropic-api, claude]\n"
                      "    networks: [127.0.0.0/8]\n")
    return start_proxy(extra_args=["--provider-ranges", str(ranges)], workers=1)


def _exchange(proxy, port: int, raw: bytes, *, sni: str | None) -> bytes:
    """CONNECT 127.0.0.1:port through `proxy`, TLS with `sni` (or none), send `raw`; all that came back."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as sock:
        target = f"127.0.0.1:{port}".encode()
        sock.sendall(b"CONNECT " + target + b" HTTP/1.1\r\nHost: " + target + b"\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1024)
            if not chunk:
                break
            head += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            return head
        context = proxy.ssl
        context.check_hostname = sni is not None  # without a server name there is no name to check
        with context.wrap_socket(sock, server_hostname=sni) as tls:
            tls.sendall(raw)
            reply = b""
            try:
                while chunk := tls.recv(65536):
                    reply += chunk
            except (ssl.SSLError, OSError):
                pass
            return reply


def _messages(host: str, text: str) -> bytes:
    body = json.dumps({"model": "claude-x", "max_tokens": 5,
                       "messages": [{"role": "user", "content": text}]}).encode()
    return (f"POST /v1/messages HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.parametrize("sni", [None, "api.anthropic.com"])
def test_a_tunnel_to_a_providers_address_is_read_and_redacted(ranged_proxy, upstream, sni):
    reply = _exchange(ranged_proxy, upstream.port, _messages("api.anthropic.com", f"Pupil UPN {UPN} needs a report."),
                      sni=sni)
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    sent = upstream.requests_to("/v1/messages")
    assert len(sent) == 1 and UPN not in sent[0].text and "needs a report" in sent[0].text


@pytest.mark.parametrize("host", ["example.org", "api.openai.com"])
def test_a_request_naming_another_site_inside_a_providers_address_is_refused(ranged_proxy, upstream, host):
    reply = _exchange(ranged_proxy, upstream.port, _messages(host, "Hello"), sni=None)
    assert reply.startswith(b"HTTP/1.1 403"), reply[:200]
    assert upstream.received == []


def test_server_name_and_host_that_disagree_inside_a_providers_address_are_refused(ranged_proxy, upstream):
    reply = _exchange(ranged_proxy, upstream.port, _messages("api.openai.com", "Hello"), sni="api.anthropic.com")
    assert reply.startswith(b"HTTP/1.1 403") and upstream.received == []


def test_an_address_outside_every_range_is_still_refused(ranged_proxy, upstream):
    with socket.create_connection(("127.0.0.1", ranged_proxy.port), timeout=20) as sock:
        sock.sendall(b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 403")


def test_a_bad_ranges_file_stops_the_proxy_with_one_clear_line(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "ranges.yaml"
    bad.write_text("version: 1\nproviders:\n  x:\n    tools: [anthropic-api]\n    networks: [not-a-network]\n")
    (tmp_path / "allowlist.yaml").write_text("version: 1\nprofiles: {staff: {}}\ndefault_profile: staff\n")
    result = subprocess.run([sys.executable, "-m", "detectors.cli", "proxy", "--listen", "127.0.0.1:0",
                             "--data-dir", str(tmp_path / "d"), "--allowlist", str(tmp_path / "allowlist.yaml"),
                             "--provider-ranges", str(bad), "--workers", "1"],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 2 and "networks" in result.stderr, result.stderr
