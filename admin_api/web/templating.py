"""Jinja2 environment for every page: autoescape always on, whatever the template's file name."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from admin_api import labels
from admin_api.permissions import ROLE_LABELS, visible_pages
from admin_api.web_session import csrf_token

TEMPLATE_DIR = Path(__file__).parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,  # every template, not only *.html: an excerpt full of <script> renders as text
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=env)

def fmt_time(value: datetime | None, with_seconds: bool = False) -> Markup | str:
    """UK time as the school reads it; the UTC time on hover (and machine-readable)."""
    if value is None:
        return "—"
    utc = value.astimezone(UTC)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc.isoformat(), utc.strftime("%Y-%m-%d %H:%M:%S UTC"), labels.london(value, with_seconds))


def fmt_int(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def query_with(params: dict[str, Any], **changes: Any) -> str:
    """The current filter query string with some values replaced (for paging and export links)."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "", [])}
    return urlencode(merged, doseq=True)


env.filters["time"] = fmt_time
env.filters["int"] = fmt_int
# plain English for every code shown: {{ e.tool | tool_label }}, {{ i.severity | level_label }}…
env.filters.update({f"{name}_label": getattr(labels, name) for name in (
    "entity", "reason", "tool", "level", "action", "status", "outcome", "audit_action", "detail")})
env.filters["level_name"] = labels.level_name  # the CSS class / query value of a severity level
env.globals["labels"] = labels
env.globals["query_with"] = query_with
env.globals["ROLE_LABELS"] = ROLE_LABELS


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A one-off message shown on the next page (after a redirect)."""
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], [kind, message]]


def saved_message(pending: object | None, done: str) -> str:
    """What to tell the user after config_store.change: done, or kept for a second DPO."""
    if pending is None:
        return done
    return "Saved for approval: this change weakens protection, so it applies once another DPO approves it."


def render(request: Request, template: str, status_code: int = 200, **context: Any):
    user = getattr(request.state, "user", None)
    messages = request.session.pop("flash", []) if "session" in request.scope else []
    nav = visible_pages(user.role) if user is not None else []
    unconfirmed = getattr(request.state, "unconfirmed_contacts", [])  # set by web.deps.page_user for the DPO
    return templates.TemplateResponse(
        request,
        template,
        {"user": user, "nav": nav, "messages": messages, "csrf_token": csrf_token(request),
         "unconfirmed_contacts": unconfirmed, **context},
        status_code=status_code,
    )
