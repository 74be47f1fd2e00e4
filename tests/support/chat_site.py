"""A fake AI chat site with a strict Content-Security-Policy, for the in-page notice browser test.

It plays chatgpt.com on the shared fake upstream (tests/support/proxy.py routes every catalogued host there): the
page posts the typed prompt with fetch to the catalogued prompt path /backend-api/conversation in ChatGPT's body
shape, and shows the reply streamed back as server-sent events, a few characters per event as real services do.
The page's CSP (CSP_SELF or CSP_NONCE) allows only the site's own scripts, requires Trusted Types and reports
violations to /csp-report; the page also records `securitypolicyviolation` events in `window.cspViolations`.
"""
from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from starlette.responses import PlainTextResponse, Response, StreamingResponse

PROMPT_PATH = "/backend-api/conversation"
# Two real-world shapes of strict policy. {nonce} is the site's own fresh nonce for its own script.
CSP_SELF = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
            "require-trusted-types-for 'script'; trusted-types fakechat; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'; report-uri /csp-report")
# Nonce + 'strict-dynamic' (a same-origin URL is not enough), fetches only to the API path, and a report-only
# policy that is just as strict: our script and poll must be allowed by what the proxy adds, nothing else.
CSP_NONCE = ("default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; "
             "connect-src https://chatgpt.com/backend-api/; style-src 'self'; require-trusted-types-for 'script'; "
             "base-uri 'none'; report-uri /csp-report")
CSP_NONCE_REPORT_ONLY = "script-src 'nonce-{nonce}'; connect-src 'none'; report-uri /csp-report"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fake chat</title>
<script src="/app.js" nonce="{nonce}"></script>
<link rel="stylesheet" href="/app.css">
</head><body>
<main><h1>Fake chat</h1>
<label for="prompt">Message</label>
<textarea id="prompt" rows="4" cols="60"></textarea>
<button id="send" type="button">Send</button>
<p id="status"></p>
<div id="reply"></div>
</main></body></html>
"""

# The site's own code, written as a strict-CSP site must be: no inline script, no innerHTML, no eval.
APP_JS = r"""
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
});
document.addEventListener("DOMContentLoaded", function () {
  var prompt = document.getElementById("prompt"), reply = document.getElementById("reply"),
      status = document.getElementById("status");
  document.getElementById("send").addEventListener("click", async function () {
    reply.textContent = "";
    status.textContent = "sending";
    var body = { action: "next", model: "auto", parent_message_id: "client-created-root",
                 messages: [{ id: crypto.randomUUID(), author: { role: "user" },
                              content: { content_type: "text", parts: [prompt.value] } }] };
    try {
      var r = await fetch("/backend-api/conversation", { method: "POST", body: JSON.stringify(body),
        headers: { "content-type": "application/json", accept: "text/event-stream" } });
      if (!r.ok) { status.textContent = "error " + r.status; return; }
      var reader = r.body.getReader(), decoder = new TextDecoder(), buf = "";
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) break;
        buf += decoder.decode(chunk.value, { stream: true });
        var lines = buf.split("\n");
        buf = lines.pop();
        lines.forEach(function (line) {
          if (line.indexOf("data: {") !== 0) return;
          var event = JSON.parse(line.slice(6));
          if (typeof event.v === "string") reply.textContent += event.v;
        });
      }
      status.textContent = "done";
    } catch (e) {
      status.textContent = "error " + e;
    }
  });
});
"""

APP_CSS = "body { font: 16px serif; margin: 2em; } #reply { white-space: pre-wrap; border: 1px solid #ccc; }"


def _prompt_text(body: bytes) -> str:
    try:
        doc = json.loads(body)
        return " ".join(p for m in doc["messages"] for p in m["content"]["parts"] if isinstance(p, str))
    except (ValueError, KeyError, TypeError):
        return ""


class FakeChatSite:
    """Installs the site's paths on the shared fake upstream; keeps the prompts and CSP reports it received."""

    def __init__(self, upstream: Any, csp: str = CSP_SELF, csp_report_only: str | None = None) -> None:
        self.upstream, self.csp, self.csp_report_only = upstream, csp, csp_report_only
        self.prompts: list[str] = []
        self.csp_reports: list[bytes] = []
        self._lock = threading.Lock()
        upstream.handle("/", self._page)
        upstream.handle("/app.js", lambda r: Response(APP_JS, media_type="text/javascript"))
        upstream.handle("/app.css", lambda r: Response(APP_CSS, media_type="text/css"))
        upstream.handle(PROMPT_PATH, self._converse)
        upstream.handle("/csp-report", self._report)

    def _page(self, req: Any) -> Response:
        nonce = secrets.token_urlsafe(16)
        headers = {"content-security-policy": self.csp.format(nonce=nonce), "cache-control": "no-cache"}
        if self.csp_report_only:
            headers["content-security-policy-report-only"] = self.csp_report_only.format(nonce=nonce)
        return Response(PAGE.replace("{nonce}", nonce), media_type="text/html; charset=utf-8", headers=headers)

    def _report(self, req: Any) -> Response:
        with self._lock:
            self.csp_reports.append(req.body)
        return PlainTextResponse("", status_code=204)

    def _converse(self, req: Any) -> Response:
        text = _prompt_text(req.body)
        with self._lock:
            self.prompts.append(text)
        answer = f"You said: {text}"

        def events() -> Iterator[bytes]:
            # A few characters per event, so placeholders arrive cut across events as they do from real models.
            yield f'data: {json.dumps({"type": "message", "id": str(uuid.uuid4())})}\n\n'.encode()
            for i in range(0, len(answer), 3):
                yield f'data: {json.dumps({"v": answer[i:i + 3]})}\n\n'.encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")
