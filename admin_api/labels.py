"""Plain-English labels for every code the admin service shows: data types, reasons, tools, severities, incident
statuses and outcomes, audit actions and roles. Templates use them as Jinja filters (web/templating.py), e-mails
and reports call them directly. An unknown code falls back to a readable form of itself, never to nothing.

Tool names mirror the proxy's AI catalogue (admin_api may not import proxy); a tool missing here reads as its id.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import severity

LONDON = ZoneInfo("Europe/London")

ENTITIES = {
    "PUPIL": "Pupil's name", "PERSON": "Person's name", "UK_UPN": "Unique Pupil Number (UPN)",
    "UK_ULN": "Unique Learner Number (ULN)", "UK_UCI": "Unique Candidate Identifier (UCI)",
    "UK_NHS": "NHS number", "UK_NINO": "National Insurance number", "DATE_OF_BIRTH": "Date of birth",
    "UK_ADDRESS": "Home address", "UK_POSTCODE": "Postcode", "LOCATION": "Address or place", "PHONE_NUMBER": "Phone number",
    "EMAIL_ADDRESS": "E-mail address", "SPECIAL_CATEGORY": "Special-category information",
}
SPECIAL = {
    "SEN": "Special educational needs", "HEALTH": "Health", "MENTAL_HEALTH": "Mental health",
    "ETHNICITY": "Ethnicity", "RELIGION": "Religion", "SAFEGUARDING": "Safeguarding / child protection",
    "LOOKED_AFTER": "Looked-after status", "FSM": "Free school meals / pupil premium", "SEXUALITY": "Sexuality",
    "CRIMINAL": "Criminal record",
}
REASONS = {
    "identifier_redacted": "Pupil identifiers were replaced with placeholders",
    "special_category_with_identifier": "Special-category information about an identifiable person",
    "special_category": "Special-category information (blocked by policy)",
    "policy_block": "A data type the policy blocks outright",
    "tool_blocked": "AI tool not approved for this person",
    "monitor_only": "Monitor only: sent unchanged and logged",
    "would_block": "Would have been blocked (monitor only)",
    "would_redact": "Would have been redacted (monitor only)",
    "would_allow": "Would have been allowed",
    "analysis_error": "Could not be checked, so it was stopped",
    "analysis_timeout": "Checking took too long, so it was stopped",
    "unreadable_body": "Could not be read, so it was stopped",
    "body_too_large": "Too large to check, so it was stopped",
    "unredactable_body": "An attached file held pupil data that could not be removed",
    "recheck_failed": "Pupil data remained after redaction, so it was stopped",
    "evasion": "Pupil data hidden by an encoding, so it was stopped",
    "picture_redacted": "Names were blacked out in a picture (OCR)",
    "scanned_pdf": "A scanned PDF held pupil data; scans cannot be edited, so it was stopped",
    "image_too_large": "A picture was too large to read, so it was stopped",
    "image_unreadable": "A picture could not be read, so it was stopped",
    "image_too_many_frames": "An animated picture had too many frames to read, so it was stopped",
    "pdf_too_many_scanned_pages": "A scanned PDF had too many pages to read, so it was stopped",
    "ocr_timeout": "Reading a picture took too long, so it was stopped",
    "ocr_busy": "No OCR worker came free in time, so it was stopped",
    "ocr_unavailable": "OCR is not installed on the proxy, so the picture was stopped",
}
TOOLS = {
    "chatgpt": "ChatGPT", "claude": "Claude", "gemini": "Gemini", "copilot": "Microsoft Copilot",
    "m365-copilot": "Microsoft 365 Copilot", "perplexity": "Perplexity", "deepseek": "DeepSeek",
    "meta-ai": "Meta AI", "grok": "Grok", "character-ai": "Character.AI", "poe": "Poe", "le-chat": "Le Chat",
    "google-ai-studio": "Google AI Studio", "notebooklm": "NotebookLM", "qwen": "Qwen Chat", "you-com": "You.com",
    "pi": "Pi", "phind": "Phind", "openai-api": "OpenAI API", "azure-openai": "Azure OpenAI",
    "anthropic-api": "Anthropic API", "gemini-api": "Gemini API", "mistral-api": "Mistral API",
    "deepseek-api": "DeepSeek API", "groq-api": "Groq API", "xai-api": "xAI API",
    "perplexity-api": "Perplexity API", "unknown": "Unknown AI service",
}
ACTIONS = {"allow": "Allowed", "redact": "Redacted", "block": "Blocked"}
SEVERITIES = {
    severity.SAFEGUARDING: "Safeguarding", severity.SPECIAL_CATEGORY: "Special category",
    severity.IDENTIFIERS: "Pupil identifiers", severity.UNAPPROVED_TOOL: "Unapproved tool",
    severity.FAIL_CLOSED: "Stopped unchecked", severity.NONE: "Nothing to review",
}
STATUSES = {"new": "New", "in_review": "In review", "escalated": "Escalated to the DSL", "closed": "Closed",
            "open": "Open (not closed)"}
OUTCOMES = {
    "spoke_to_staff": "Spoke to the member of staff", "guidance_given": "Guidance or training given",
    "safeguarding_referral": "Referred under safeguarding procedures", "reported_to_ico": "Reported to the ICO",
    "no_action_appropriate": "No action: use was appropriate", "false_positive": "No action: false positive",
}
AUDIT_ACTIONS = {
    "login": "Signed in", "logout": "Signed out", "login.failed": "Failed sign-in",
    "password.change": "Changed own password", "user.create": "Created an account",
    "user.password_reset": "Reset a password", "user.unlock": "Unlocked an account",
    "user.disable": "Disabled an account", "user.enable": "Enabled an account", "user.role": "Changed a role",
    "events.list": "Listed events", "events.view": "Viewed an event (API)", "event.view": "Viewed an event",
    "events.export": "Exported events (CSV)", "stats.view": "Viewed statistics", "audit.view": "Viewed the audit log",
    "pupil.search": "Searched for a pupil", "pupil.reidentify": "Re-identified a pupil reference",
    "allowlist.update": "Changed the allowlist", "policy.update": "Changed the policy",
    "policy.reset": "Reset the policy", "retention.update": "Changed retention", "retention.purge": "Purged events",
    "roster.upload": "Uploaded the roster", "proxies.list": "Listed proxies",
    "proxy_token.create": "Created a proxy token", "proxy_token.revoke": "Revoked a proxy token",
    "proxy.token_create": "Created a proxy token", "proxy.token_revoke": "Revoked a proxy token",
    "incident.update": "Changed an incident", "incident.note": "Added a note to an incident",
    "incident.view": "Viewed an incident", "incidents.list": "Listed incidents",
    "alerts.contact": "Set an alert contact", "alerts.confirm": "Confirmed an alert contact",
    "senders.view": "Viewed who sent it", "report.view": "Viewed the governors' report",
    "report.pdf": "Downloaded the governors' report",
}
FIELD_NAMES = {"status": "Status", "assignee": "Assigned to", "outcome": "Outcome", "filters": "Filters",
               "returned": "Results", "found": "Found", "with_text": "With text", "pupil_refs": "Pupil references",
               "pupils_found": "Pupils found", "events": "Events", "characters": "Characters", "role": "Role",
               "deleted": "Deleted", "days": "Days", "bytes": "Bytes", "matched": "Matched", "page": "Next page"}


def _readable(code: str) -> str:
    return code.replace("_", " ").replace("-", " ").strip().capitalize() or "—"


def entity(code: str) -> str:
    base, _, sub = code.partition(":")
    if sub:
        return f"Special category: {SPECIAL.get(sub, _readable(sub))}"
    return ENTITIES.get(base, _readable(base))


def reason(code: str) -> str:
    if code.startswith("would_") and code not in REASONS:
        return f"Would have been {code[6:]}ed (monitor only)"
    return REASONS.get(code, _readable(code))


def tool(code: str | None) -> str:
    return "—" if not code else TOOLS.get(code, code)


def level(value: int | None) -> str:
    return "—" if value is None else SEVERITIES.get(value, str(value))


def level_name(value: int) -> str:
    return severity.NAMES.get(value, "none")


def action(code: str) -> str:
    return ACTIONS.get(code, _readable(code))


def status(code: str | None) -> str:
    return "—" if not code else STATUSES.get(code, _readable(code))


def outcome(code: str | None) -> str:
    return "—" if not code else OUTCOMES.get(code, _readable(code))


def audit_action(code: str) -> str:
    return AUDIT_ACTIONS.get(code, _readable(code))


def london(value: datetime | None, with_seconds: bool = False) -> str:
    """A UTC time as the school reads it (Europe/London, BST in summer)."""
    if value is None:
        return "—"
    return value.astimezone(LONDON).strftime("%d %b %Y %H:%M:%S" if with_seconds else "%d %b %Y %H:%M")


def detail(value: Any) -> str:
    """An audit entry's detail as a sentence-like line ("Status: New → Closed; Outcome: …"), not a Python repr."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            name = FIELD_NAMES.get(key, _readable(str(key)))
            if key in ("status", "outcome") and isinstance(item, list) and len(item) == 2:
                convert = status if key == "status" else outcome
                item = f"{convert(item[0])} → {convert(item[1])}"
            elif isinstance(item, list) and len(item) == 2 and key == "assignee":
                item = f"{item[0] or 'nobody'} → {item[1] or 'nobody'}"
            parts.append(f"{name}: {detail(item)}")
        return "; ".join(parts) if parts else "—"
    if isinstance(value, list):
        return ", ".join(detail(v) for v in value) if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value is None else str(value)
