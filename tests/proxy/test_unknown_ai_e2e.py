"""AI tools not in the catalogue (issue 12): a connection to a listed generative-AI host is decided by host alone
(blocked for pupils, monitored for staff here), recorded as "AI tool not in the catalogue" (host, profile, user;
no content) and never decrypted; `ai_hosts` approves one host in one step; the admin service's list additions and
removals are picked up without a restart. Real proxy processes with proxy authentication ("any" password)."""
from __future__ import annotations

import base64
import json
import socket
import sqlite3
import ssl
import time

import pytest

from tests.support.proxy import STAFF_ALLOWLIST

pytestmark = pytest.mark.e2e

ALLOWLIST = (STAFF_ALLOWLIST + "uncatalogued_ai: {staff: monitor, pupil: blocked}\n"
             "ai_hosts: {gamma.app: {staff: approved}}\n")


@pytest.fixture(scope="module")
def guarded(start_proxy):
    return start_proxy(allowlist=ALLOWLIST, extra_args=["--proxyauth", "any"], workers=1)


def _connect(proxy, host: str, user: str) -> tuple[bytes, socket.socket]:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=20)
    auth = base64.b64encode(f"{user}:pw".encode()).decode()
    sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\nProxy-Authorization: Basic {auth}\r\n\r\n"
                 .encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length")), 0)
    while len(head.split(b"\r\n\r\n", 1)[1]) < length:
        head += sock.recv(4096)
    return head, sock


def _events(proxy) -> list[dict]:
    with sqlite3.connect(proxy.data_dir / "spool" / "events.sqlite3") as db:
        return [e for (b,) in db.execute("SELECT body FROM events ORDER BY seq")
                if (e := json.loads(b))["tool"] == "uncatalogued"]


def test_a_pupil_is_refused_an_uncatalogued_ai_tool_and_the_dpo_sees_it(guarded, upstream):
    head, sock = _connect(guarded, "app.tome.app", "pupil1")
    sock.close()
    assert head.startswith(b"HTTP/1.1 403") and b"app.tome.app is an AI tool that is not approved" in head
    assert b"school.example/ai-policy" in head
    event = [e for e in _events(guarded) if e["host"] == "app.tome.app"][-1]
    assert (event["action"], event["profile"], event["user"], event["path"]) == ("block", "pupil", "pupil1", "/")
    assert event["reasons"] == ["uncatalogued_ai_tool", "blocked"]
    assert event["excerpt"] == "" and event["entities"] == {}


def test_staff_are_monitored_by_host_without_decryption(guarded, upstream):
    before = len(_events(guarded))
    for _ in range(3):  # a browser opens several connections: recorded once a minute per person and host
        head, sock = _connect(guarded, "www.suno.com", "t.teacher")
        assert head.startswith(b"HTTP/1.1 200")
        # tunnelled, not intercepted: the proxy never answers the TLS handshake with a certificate of its own
        with pytest.raises((ssl.SSLError, OSError)):
            with guarded.ssl.wrap_socket(sock, server_hostname="www.suno.com"):
                pass
        sock.close()
    new = _events(guarded)[before:]
    assert [(e["host"], e["action"], e["profile"], e["user"]) for e in new] == [
        ("www.suno.com", "allow", "staff", "t.teacher")]
    assert new[0]["reasons"] == ["uncatalogued_ai_tool", "monitor"]
    assert upstream.received == []


def test_ai_hosts_approves_one_tool_in_one_step(guarded, upstream):
    before = len(_events(guarded))
    head, sock = _connect(guarded, "gamma.app", "t.teacher")
    sock.close()
    assert head.startswith(b"HTTP/1.1 200") and len(_events(guarded)) == before  # approved: not recorded
    head, sock = _connect(guarded, "gamma.app", "pupil1")
    sock.close()
    assert head.startswith(b"HTTP/1.1 403")  # approved for staff only


def test_other_sites_are_not_touched(guarded, upstream):
    before = len(_events(guarded))
    head, sock = _connect(guarded, "www.bbc.co.uk", "pupil1")
    sock.close()
    assert head.startswith(b"HTTP/1.1 200") and len(_events(guarded)) == before


def test_the_admin_services_list_changes_apply_without_a_restart(guarded, upstream):
    central = guarded.data_dir / "central"
    central.mkdir(exist_ok=True)
    (central / "ai_domains.txt").write_text("# from the admin service\nai.example.com\n!tome.app\n")
    try:
        deadline = time.monotonic() + 30
        while True:
            head, sock = _connect(guarded, "chat.ai.example.com", "pupil1")
            sock.close()
            if head.startswith(b"HTTP/1.1 403") or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert head.startswith(b"HTTP/1.1 403")
        head, sock = _connect(guarded, "tome.app", "pupil1")
        sock.close()
        assert head.startswith(b"HTTP/1.1 200")  # taken off the list by the admin
    finally:
        (central / "ai_domains.txt").unlink()
