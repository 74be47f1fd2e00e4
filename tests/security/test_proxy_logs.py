"""The proxy's log must never carry request content, even for requests it cannot parse."""
from __future__ import annotations

import socket
import time

from tests.support.proxy import tls_exchange

SECRET = "T801200115100"


def test_malformed_requests_do_not_put_their_content_in_the_log(proxy):
    bad = [
        f"GET /v1/models?q=pupil {SECRET} has ADHD HTTP/1.1\r\nHost: api.openai.com\r\n\r\n".encode(),
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nX-Note: {SECRET}\x00\r\n\r\n".encode(),
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 5x{SECRET}\r\n\r\n".encode(),
        f"{SECRET} /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n\r\n".encode(),
    ]
    for raw in bad:
        tls_exchange(proxy, raw)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:  # plain-HTTP proxy request
        sock.sendall(f"GET http://api.openai.com/v1/x?q={SECRET} HTTP/1.1 junk\r\n\r\n".encode())
        try:
            sock.recv(65536)
        except OSError:
            pass
    time.sleep(1.0)
    assert SECRET not in proxy.logs(), "request content written to the proxy log"
