"""One AI host, however it is spelt: trailing dot, case, full-width and IDNA forms all reach pupilguard.

"CHATGPT.COM." and "ｃｈａｔｇｐｔ．ｃｏｍ" are chatgpt.com to DNS and to the service; a PAC file, catalogue or route that
matched only the plain spelling would send them DIRECT, unscanned. The PAC test runs the generated file in real
Chromium: the proxy it names is a listener that records each CONNECT it gets (a DIRECT connection never reaches it).
"""
from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from proxy.addons.routing import parse_routes
from proxy.catalogue import default_catalogue, normalise_host
from proxy.commands.pac import pac_file
from tests.support.proxy import ThreadedServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FORMS = ["chatgpt.com.", "CHATGPT.COM", "ＣＨＡＴＧＰＴ．ｃｏｍ", "chatgpt。com", "ChatGPT.com.:443"]


@pytest.mark.parametrize("form", FORMS)
def test_every_spelling_of_an_ai_host_is_that_host(form):
    assert normalise_host(form) == "chatgpt.com"
    assert default_catalogue().for_host(form).id == "chatgpt"
    assert parse_routes([f"{form.split(':')[0]}=127.0.0.1:9"]) == {"chatgpt.com": ("127.0.0.1", 9)}


def test_wildcard_hosts_and_non_ai_hosts():
    cat = default_catalogue()
    assert cat.for_host("MY-RESOURCE.OPENAI.AZURE.COM.").id == "azure-openai"
    assert cat.for_host("openai.azure.com.") is None and cat.for_host("chatgpt.com.evil.example") is None
    assert normalise_host("bücher.example") == "xn--bcher-kva.example"
    assert normalise_host("[::1]:8443") == "[::1]"


class ConnectRecorder:
    """Stands in for the proxy: records the target of each CONNECT and hangs up."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.targets: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    continue
                if line.startswith("CONNECT "):
                    self.targets.append(line.split()[1])


@pytest.mark.browser
def test_generated_pac_file_sends_every_spelling_of_an_ai_host_to_the_proxy_in_chromium():
    from playwright.sync_api import Error, sync_playwright

    recorder = ConnectRecorder()
    hosts = [h for s in default_catalogue().services for h in s.hosts]
    pac = pac_file(f"127.0.0.1:{recorder.port}", hosts)
    server = ThreadedServer(Starlette(routes=[Route("/proxy.pac", lambda _: Response(
        pac, media_type="application/x-ns-proxy-autoconfig"))])).start()
    visits = {  # typed address -> what Chromium asks the proxy for
        "https://chatgpt.com./": "chatgpt.com.:443",
        "https://CHATGPT.COM/": "chatgpt.com:443",
        "https://ＣＨＡＴＧＰＴ．ｃｏｍ/": "chatgpt.com:443",   # full-width: Chromium's IDNA mapping
        "https://CLAUDE.AI./": "claude.ai.:443",
        "https://my-resource.openai.azure.com./": "my-resource.openai.azure.com.:443",
    }
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                f"--proxy-pac-url=http://127.0.0.1:{server.port}/proxy.pac"])
            page = browser.new_page()
            for url in [*visits, "https://example.org/"]:
                try:
                    page.goto(url, timeout=10_000)
                except Error:
                    pass  # the recorder hangs up; only where Chromium sent the request matters
            browser.close()
    finally:
        server.stop()
        recorder.sock.close()
    deadline = time.monotonic() + 5
    while set(visits.values()) - set(recorder.targets) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set(visits.values()) <= set(recorder.targets), f"went DIRECT: {set(visits.values()) - set(recorder.targets)}"
    assert not [t for t in recorder.targets if "example.org" in t]  # everything else stays DIRECT
