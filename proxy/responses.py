"""What a refused request gets back: the provider's own error shape for API clients (so SDKs raise their usual
permission error with our message), an HTML notice page for page navigations, plain JSON otherwise.

Messages name entity types and reasons, never the data itself; the HTML page escapes everything it shows.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

from mitmproxy import http

ENTITY_WORDS = {
    "PUPIL": "a pupil's name", "PERSON": "a person's name", "UK_UPN": "a UPN", "UK_ULN": "a ULN",
    "UK_UCI": "a UCI", "UK_NHS": "an NHS number", "UK_NINO": "a National Insurance number",
    "DATE_OF_BIRTH": "a date of birth", "UK_POSTCODE": "a postcode", "PHONE_NUMBER": "a phone number",
    "EMAIL_ADDRESS": "an email address", "SPECIAL_CATEGORY": "special-category information",
}
SPECIAL_WORDS = {
    "SEN": "special educational needs", "HEALTH": "health", "MENTAL_HEALTH": "mental health",
    "ETHNICITY": "ethnicity", "RELIGION": "religion", "SAFEGUARDING": "safeguarding",
    "LOOKED_AFTER": "looked-after status", "FSM": "free school meals / pupil premium", "SEXUALITY": "sexuality",
    "CRIMINAL": "criminal record",
}
# Fail-closed reasons, in the words a teacher needs.
REASON_SENTENCES = {
    "tool_blocked": "{tool} is not approved by your school for you to use.",
    "body_too_large": "it is too large to check for pupil data, so it was not sent to {tool}.",
    "unreadable_body": "it could not be read to check it for pupil data, so it was not sent to {tool}.",
    "analysis_timeout": "checking it for pupil data took too long, so it was not sent to {tool}. "
                        "Please try again.",
    "analysis_error": "it could not be checked for pupil data, so it was not sent to {tool}. Please try again.",
    "unredactable_body": "an attached file contains pupil data and cannot be edited, so it was not sent to "
                         "{tool}. Remove the pupil data from the file and try again.",
    "recheck_failed": "not all pupil data could be removed from it, so it was not sent to {tool}.",
    "unredactable_channel": "pupil data was in a header or cookie name, which cannot be changed, so it was not "
                            "sent to {tool}.",
    "not_recorded": "pupilguard could not record it for your school's data protection officer, so it was not "
                    "sent to {tool}. Please tell IT.",
}


def describe_entities(entities: dict[str, int]) -> str:
    words: list[str] = []
    for entity in sorted(entities):
        base, _, sub = entity.partition(":")
        word = (SPECIAL_WORDS.get(sub, sub.lower().replace("_", " ")) + " information") if sub \
            else ENTITY_WORDS.get(base, base.lower().replace("_", " "))
        if word not in words:
            words.append(word)
    return ", ".join(words)


@dataclass
class Refusal:
    tool: str  # display name
    reasons: list[str]
    entities: dict[str, int] = field(default_factory=dict)
    approved_tools: list[str] = field(default_factory=list)
    policy_url: str | None = None

    @property
    def message(self) -> str:
        sentence = next((REASON_SENTENCES[r] for r in self.reasons if r in REASON_SENTENCES), None)
        if sentence is None:
            found = describe_entities(self.entities) or "pupil data"
            sentence = (f"it contains pupil data that may not be sent to {{tool}} ({found}). "
                        "Remove it and try again.")
        parts = ["pupilguard blocked this request: " + sentence.format(tool=self.tool)]
        if "tool_blocked" in self.reasons and self.approved_tools:
            parts.append("Approved AI tools: " + ", ".join(self.approved_tools) + ".")
        if self.policy_url:
            parts.append(f"School AI policy: {self.policy_url}")
        return " ".join(parts)


def is_navigation(request: http.Request) -> bool:
    """A top-level page load the browser will render (rather than fetch/XHR from a script)."""
    mode = request.headers.get("sec-fetch-mode")
    if mode is not None:
        return mode == "navigate" or request.headers.get("sec-fetch-dest") == "document"
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def error_body(shape: str, refusal: Refusal) -> dict:
    msg = refusal.message
    if shape == "openai":
        return {"error": {"message": msg, "type": "invalid_request_error", "param": None,
                          "code": "pupil_data_blocked"}}
    if shape == "anthropic":
        return {"type": "error", "error": {"type": "permission_error", "message": msg}}
    if shape == "gemini":
        return {"error": {"code": 403, "message": msg, "status": "PERMISSION_DENIED"}}
    # web apps' own scripts commonly show a JSON error's "detail" to the user
    return {"detail": msg, "error": {"message": msg, "reasons": refusal.reasons, "blocked_by": "pupilguard"}}


def block_response(request: http.Request, shape: str, refusal: Refusal) -> http.Response:
    headers = {"Cache-Control": "no-store", "X-Pupilguard-Action": "block"}
    if is_navigation(request):  # fetch/XHR from a web app gets JSON its script can show, not a page
        return http.Response.make(403, notice_page(refusal).encode(),
                                  {**headers, "Content-Type": "text/html; charset=utf-8",
                                   "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
    return http.Response.make(403, json.dumps(error_body(shape, refusal)).encode(),
                              {**headers, "Content-Type": "application/json"})


def notice_page(refusal: Refusal) -> str:
    e = html.escape
    approved = "".join(f"<li>{e(t)}</li>" for t in refusal.approved_tools)
    approved_html = f"<p>AI tools you can use:</p><ul>{approved}</ul>" if approved else ""
    policy_html = (f'<p><a href="{e(refusal.policy_url, quote=True)}">Read the school\'s AI policy</a></p>'
                   if refusal.policy_url and refusal.policy_url.startswith(("https://", "http://")) else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Blocked by pupilguard</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}}
h1{{font-size:1.4rem}}</style></head>
<body><h1>{e(refusal.tool)} is blocked</h1>
<p>{e(refusal.message)}</p>{approved_html}{policy_html}
<p><small>pupilguard protects pupils' personal data. Ask your IT team if you think this is wrong.</small></p>
</body></html>
"""
