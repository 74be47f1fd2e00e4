"""A stand-in AI service for trials and demos: it answers with exactly what it received.

`pupilguard trial` routes api.openai.com here (`--route`), so anyone can see, offline, what an AI provider
would have been sent after pupilguard's redaction. It speaks just enough of the OpenAI chat-completions and
Anthropic messages shapes for their SDKs and `curl` to show the echo as the assistant's reply.
"""
from __future__ import annotations

import argparse
import json
import ssl
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def write_self_signed(cert_path: Path, key_path: Path, hostnames: list[str]) -> None:
    """A throwaway certificate for the demo service; the proxy verifies it with --upstream-ca."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pupilguard demo upstream")])
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _user_text(body: dict) -> str:
    """The last user message, whatever shape (string or content parts) it was sent in."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return " ".join(part.get("text", "") for part in content or [] if isinstance(part, dict))
    return ""


class EchoHandler(BaseHTTPRequestHandler):
    server_version = "pupilguard-demo-upstream"
    protocol_version = "HTTP/1.1"  # keep connections open, as the real AI services do
    disable_nagle_algorithm = True  # headers and body are written apart: without this each reply waits ~40 ms

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        echo = f"The AI service received: {_user_text(body)}"
        if self.path.endswith("/messages"):
            reply = {
                "id": "msg_demo", "type": "message", "role": "assistant", "model": body.get("model", "demo"),
                "content": [{"type": "text", "text": echo}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }
        else:
            reply = {
                "id": "chatcmpl-demo", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "demo"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": echo}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        payload = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args) -> None:
        # Demo traffic may contain whatever the user typed: never log it.
        pass


def serve(listen: str, cert: Path, key: Path, ready: threading.Event | None = None) -> None:
    host, port = listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), EchoHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    if ready:
        ready.set()
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    args = parser.parse_args()
    serve(args.listen, args.cert, args.key)


if __name__ == "__main__":
    main()
