"""A stand-in AI service for trials and demos: it answers with exactly what it received.

`pupilguard trial` routes api.openai.com and chatgpt.com here (`--route`), so anyone can see, offline, what an AI
provider would have been sent after pupilguard's redaction. It speaks just enough of the OpenAI chat-completions
and Anthropic messages shapes for their SDKs and `curl` to show the echo as the assistant's reply, and serves a
small chat page in ChatGPT's place: its script posts in ChatGPT's web shape and shows the streamed reply, so a
browser through the proxy shows what a teacher sees (the in-page banner, the block page).
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


CHAT_PATH = "/backend-api/conversation"  # ChatGPT's prompt path, so the proxy treats the page's posts as prompts
CHAT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo chat (pupilguard trial)</title><script src="/app.js" defer></script>
<style>body{font:16px system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
textarea{width:100%;font:inherit}
#reply{white-space:pre-wrap;border:1px solid #ccc;padding:.5rem;min-height:3rem}</style>
</head><body><main><h1>Demo chat</h1>
<p>This page stands in for ChatGPT in the pupilguard trial: the "AI" answers with what it received.</p>
<label for="prompt">Message</label>
<textarea id="prompt" rows="4">Write a short report comment for Oliver Smith, who has worked hard in maths.</textarea>
<p><button id="send" type="button">Send</button> <span id="status"></span></p>
<div id="reply" aria-live="polite"></div></main></body></html>
"""
CHAT_SCRIPT = """document.addEventListener("DOMContentLoaded", function () {
  var prompt = document.getElementById("prompt"), reply = document.getElementById("reply"),
      status = document.getElementById("status");
  document.getElementById("send").addEventListener("click", async function () {
    reply.textContent = ""; status.textContent = "sending";
    var body = {action: "next", model: "auto", messages: [{id: crypto.randomUUID(), author: {role: "user"},
                content: {content_type: "text", parts: [prompt.value]}}]};
    var r = await fetch("%s", {method: "POST", body: JSON.stringify(body),
                                headers: {"content-type": "application/json", accept: "text/event-stream"}});
    if (!r.ok) { status.textContent = "not sent (" + r.status + ")"; return; }
    var text = await r.text();
    text.split("\\n").forEach(function (line) {
      if (line.indexOf("data: {") !== 0) return;
      var event = JSON.parse(line.slice(6));
      if (event.v) reply.textContent += event.v;
    });
    status.textContent = "done";
  });
});
""" % CHAT_PATH


def _user_text(body: dict) -> str:
    """The last user message, whatever shape (string or content parts) it was sent in."""
    for message in reversed(body.get("messages") or []):
        if (message.get("role") or (message.get("author") or {}).get("role")) != "user":
            continue
        content = message.get("content")
        if isinstance(content, dict):  # ChatGPT's web shape: {"content_type": "text", "parts": [...]}
            content = [{"text": part} for part in content.get("parts", []) if isinstance(part, str)]
        if isinstance(content, str):
            return content
        return " ".join(part.get("text", "") for part in content or [] if isinstance(part, dict))
    return ""


class EchoHandler(BaseHTTPRequestHandler):
    server_version = "pupilguard-demo-upstream"
    protocol_version = "HTTP/1.1"  # keep connections open, as the real AI services do
    disable_nagle_algorithm = True  # headers and body are written apart: without this each reply waits ~40 ms

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.split("?")[0] == "/app.js":
            self._send(200, CHAT_SCRIPT.encode(), "text/javascript; charset=utf-8")
        else:
            self._send(200, CHAT_PAGE.encode(), "text/html; charset=utf-8",
                       {"Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'"})

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        echo = f"The AI service received: {_user_text(body)}"
        if self.path.split("?")[0] == CHAT_PATH:  # streamed a few characters at a time, as chat sites do
            events = "".join(f"data: {json.dumps({'v': echo[i:i + 8]})}\n\n" for i in range(0, len(echo), 8))
            self._send(200, (events + "data: [DONE]\n\n").encode(), "text/event-stream")
            return
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
        self._send(200, json.dumps(reply).encode(), "application/json")

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
