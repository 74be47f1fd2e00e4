"""When an AI service cannot be reached (its name does not resolve, it refuses the connection, its TLS fails), a
teacher sees a pupilguard page in the school's languages and a program gets the provider's error shape with the
code `ai_service_unreachable` - not mitmproxy's bare 502 page. Through a real proxy, with real failing upstreams."""
from __future__ import annotations

import json
import socket
import threading

import httpx
import openai
import pytest

from tests.support.net import free_port

pytestmark = pytest.mark.e2e

NAVIGATE = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "accept": "text/html"}


@pytest.fixture(scope="module")
def not_tls():
    """A server that accepts connections and answers in plain text: every TLS handshake with it fails."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


@pytest.fixture(scope="module")
def cut_off(start_proxy, not_tls):
    """A proxy for which OpenAI's API and ChatGPT refuse connections, Claude's name does not resolve and Gemini's
    API does not speak TLS; every other AI service is reachable (the test's fake upstream). Pages in Welsh first."""
    closed = free_port()  # nothing listens here
    return start_proxy(env={"PUPILGUARD_PAGE_LANGUAGES": "cy,en"}, extra_args=[
        "--route", f"api.openai.com=127.0.0.1:{closed}", "--route", f"chatgpt.com=127.0.0.1:{closed}",
        "--route", "claude.ai=no-such-host.invalid:443",
        "--route", f"generativelanguage.googleapis.com=127.0.0.1:{not_tls}"])


def test_an_api_client_gets_the_providers_error_with_a_code_of_its_own(cut_off):
    client = openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0,
                           http_client=httpx.Client(proxy=cut_off.url, verify=cut_off.ssl))
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
    assert raised.value.status_code == 502
    assert raised.value.code == "ai_service_unreachable"
    assert "could not connect to OpenAI" in raised.value.message and "refused" in raised.value.message


def test_a_teacher_sees_the_schools_page_in_welsh_and_english(cut_off):
    with cut_off.client() as client:
        page = client.get("https://chatgpt.com/", headers=NAVIGATE)
    assert page.status_code == 502 and page.headers["content-type"].startswith("text/html")
    assert "mitmproxy" not in page.text.lower()
    assert "Nid oes modd cyrraedd ChatGPT" in page.text and "gwrthodwyd y cysylltiad" in page.text
    assert "ChatGPT cannot be reached" in page.text and "Nothing was sent" in page.text
    assert page.text.index('lang="cy"') < page.text.index('<section lang="en"')  # Welsh first, as configured


def test_a_name_that_does_not_resolve_is_named_as_such(cut_off):
    with cut_off.client() as client:
        page = client.get("https://claude.ai/new", headers=NAVIGATE)
    assert page.status_code == 502 and "its address could not be found" in page.text


def test_a_tls_failure_upstream_gets_the_gemini_error_shape(cut_off):
    with cut_off.client() as client:
        reply = client.post("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
                            json={"contents": [{"parts": [{"text": "Hello"}]}]})
    assert reply.status_code == 502 and reply.headers["x-pupilguard-error"] == "ai_service_unreachable"
    error = reply.json()["error"]
    assert error["status"] == "UNAVAILABLE" and "secure connection could not be checked" in error["message"]


def test_services_that_can_be_reached_are_untouched(cut_off, upstream):
    with cut_off.client() as client:
        reply = client.post("https://api.anthropic.com/v1/messages", headers={"x-api-key": "k"},
                            json={"model": "claude-sonnet-4-5", "max_tokens": 10,
                                  "messages": [{"role": "user", "content": "Hello"}]})
    assert reply.status_code == 200, reply.text
    assert json.loads(upstream.requests_to("/v1/messages")[-1].body)["messages"][0]["content"] == "Hello"
