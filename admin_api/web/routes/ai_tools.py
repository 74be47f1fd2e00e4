"""The "AI tools seen" page: uncatalogued AI hosts the proxies recorded (the DPO sees new ones appear), IT's
one-step approval of a host per profile, and the central corrections to the proxies' list of AI domains."""
from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from admin_api import ai_tools, config_store
from admin_api.db import SessionDep
from admin_api.web.deps import PageUser
from admin_api.web.templating import flash, render, saved_message
from detectors.ai_domains import AIDomainsError
from detectors.allowlist import STATUSES, AllowlistError, load_allowlist

router = APIRouter(prefix="/it")


def _page(request: Request, db: Session, status_code: int = 200, **extra):
    text = config_store.get_setting(db, config_store.ALLOWLIST) or ""
    try:
        profiles = list(load_allowlist(text).profiles) if text else []
    except AllowlistError:
        profiles = []
    extra.setdefault("domains", config_store.get_setting(db, ai_tools.AI_DOMAINS) or "")
    return render(request, "ai_tools.html", status_code=status_code, title="AI tools seen", active="ai-tools",
                  hosts=ai_tools.seen_hosts(db, text), profiles=profiles, statuses=STATUSES, **extra)


@router.get("/ai-tools")
def ai_tools_page(request: Request, user: PageUser, db: SessionDep):
    return _page(request, db)


@router.post("/ai-tools/allow")
def allow_host(request: Request, user: PageUser, db: SessionDep, host: str = Form(..., max_length=253),
               profile: str = Form(..., max_length=64), status: str = Form(..., max_length=16)):
    try:
        pending = ai_tools.allow_host(db, request.app.state.settings, host, {profile: status}, user)
    except (ValueError, AllowlistError) as exc:
        db.rollback()
        return _page(request, db, status_code=400, error=str(exc))
    except config_store.NeedsDpo as exc:
        db.commit()
        return _page(request, db, status_code=403, error=str(exc))
    db.commit()
    flash(request, saved_message(pending, f"{host} is now {status} for {profile}. Proxies pick it up at their next "
                                          "configuration poll."), "success")
    return RedirectResponse("/it/ai-tools", status_code=303)


@router.post("/ai-tools/domains")
def save_domains(request: Request, user: PageUser, db: SessionDep,
                 domains: str = Form("", max_length=1_000_000)):
    domains = domains.replace("\r\n", "\n")
    try:
        ai_tools.set_ai_domains(db, domains, user.username)
    except AIDomainsError as exc:
        db.rollback()
        return _page(request, db, status_code=400, error=str(exc), domains=domains)
    db.commit()
    flash(request, "AI domain list saved. Proxies pick it up at their next configuration poll.", "success")
    return RedirectResponse("/it/ai-tools", status_code=303)
