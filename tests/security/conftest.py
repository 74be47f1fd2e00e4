"""The security review's tests reuse the proxy and admin test fixtures (real proxy processes, real admin app)."""
import socket
import ssl

from tests.admin_api.conftest import *  # noqa: F401,F403
from tests.admin_api.conftest import _cheap_password_hashing  # noqa: F401
from tests.proxy.conftest import *  # noqa: F401,F403

def tls_exchange(proxy, raw: bytes) -> bytes:
    """Send `raw` bytes inside a CONNECT tunnel to api.openai.com through `proxy`; everything it answered."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:
        sock.sendall(b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1024)
        assert head.startswith(b"HTTP/1.1 200"), head
        with proxy.ssl.wrap_socket(sock, server_hostname="api.openai.com") as tls:
            tls.sendall(raw)
            reply = b""
            try:
                while chunk := tls.recv(65536):
                    reply += chunk
            except (ssl.SSLError, OSError):
                pass
            return reply
