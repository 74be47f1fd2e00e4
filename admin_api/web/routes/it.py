"""IT pages: allowlist editor, roster upload, proxy tokens and health. Open to IT and the DPO."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import audit, config_store, proxies
from admin_api.db import SessionDep
from admin_api.forms import FormDep, UploadedFile
from admin_api.models import RosterUpload, Setting
from admin_api.web.deps import PageUser
from detectors.allowlist import AllowlistError
from detectors.mis_import import MisImportError
from admin_api.web.templating import flash, render, saved_message

router = APIRouter(prefix="/it")

# A proxy that has not called in for this long is shown as "not seen recently" (they poll config every minute).
STALE_AFTER = timedelta(minutes=10)


def _proxies_page(request: Request, db: Session, status_code: int = 200, **extra):
    now = datetime.now(UTC)
    rows = []
    for proxy in proxies.list_proxies(db):
        if proxy.revoked_at is not None:
            health = ("revoked", "grey")
        elif proxy.last_seen_at is None:
            health = ("never seen", "redact")
        elif now - proxy.last_seen_at > STALE_AFTER:
            health = ("not seen recently", "block")
        else:
            health = ("healthy", "allow")
        rows.append((proxy, health))
    return render(request, "proxies.html", status_code=status_code, title="Proxies", active="proxies",
                  rows=rows, stale_minutes=int(STALE_AFTER.total_seconds() // 60), **extra)


@router.get("/proxies")
def proxies_page(request: Request, user: PageUser, db: SessionDep):
    return _proxies_page(request, db)


@router.post("/proxies")
def create_proxy_token(
    request: Request,
    user: PageUser,
    db: SessionDep,
    name: str = Form(...),
):
    try:
        proxy, token = proxies.create_token(db, name.strip())
    except proxies.ProxyTokenError as exc:
        db.rollback()
        return _proxies_page(request, db, status_code=400, error=str(exc))
    audit.record(db, user.username, "proxy_token.create", target=proxy.name)
    db.commit()
    # Shown on this response only; the store keeps a hash. no-store (SecurityHeaders) keeps it out of caches.
    return _proxies_page(request, db, new_token=token, new_name=proxy.name)


@router.post("/proxies/{name}/revoke")
def revoke_proxy_token(
    request: Request, name: str, user: PageUser, db: SessionDep
):
    try:
        proxy = proxies.revoke_token(db, name)
    except proxies.ProxyTokenError as exc:
        db.rollback()
        return _proxies_page(request, db, status_code=404, error=str(exc))
    audit.record(db, user.username, "proxy_token.revoke", target=proxy.name)
    db.commit()
    flash(request, f"Token of proxy {proxy.name} revoked. It can no longer send events or fetch config.", "success")
    return RedirectResponse("/it/proxies", status_code=303)


# --- allowlist ---------------------------------------------------------------------------------------------------

def _allowlist_page(request: Request, db: Session, text: str | None = None, status_code: int = 200, **extra):
    row = db.get(Setting, config_store.ALLOWLIST)
    if text is None:
        text = row.value if row is not None else ""
    return render(request, "allowlist.html", status_code=status_code, title="Allowlist", active="allowlist",
                  text=text, row=row, **extra)


@router.get("/allowlist")
def allowlist_page(request: Request, user: PageUser, db: SessionDep):
    return _allowlist_page(request, db)


@router.post("/allowlist")
def save_allowlist(
    request: Request,
    user: PageUser,
    db: SessionDep,
    yaml_text: str = Form(..., alias="allowlist"),
):
    yaml_text = yaml_text.replace("\r\n", "\n")  # browsers submit textareas with CRLF
    try:
        pending = config_store.change(db, request.app.state.settings, config_store.ALLOWLIST, yaml_text, user)
    except AllowlistError as exc:
        db.rollback()
        return _allowlist_page(request, db, text=yaml_text, status_code=400, error=str(exc))
    except config_store.NeedsDpo as exc:
        db.commit()  # the refusal's audit row
        return _allowlist_page(request, db, text=yaml_text, status_code=403, error=str(exc))
    db.commit()
    flash(request, saved_message(pending, "Allowlist saved. Proxies pick it up at their next configuration poll."),
          "success")
    return RedirectResponse("/it/allowlist", status_code=303)


# --- roster ------------------------------------------------------------------------------------------------------

MAX_ROSTER_BYTES = 64 * 1024 * 1024  # a 250,000-pupil trust export is ~30 MB


def _roster_page(request: Request, db: Session, status_code: int = 200, **extra):
    uploads = db.scalars(select(RosterUpload).order_by(RosterUpload.id.desc()).limit(10)).all()
    return render(request, "roster.html", status_code=status_code, title="Roster", active="roster",
                  uploads=uploads, max_mb=MAX_ROSTER_BYTES // (1024 * 1024), **extra)


@router.get("/roster")
def roster_page(request: Request, user: PageUser, db: SessionDep):
    return _roster_page(request, db)


@router.post("/roster")
def upload_roster(request: Request, form: FormDep, user: PageUser, db: SessionDep):
    # The MIS export is plaintext pupil data: admin_api.forms parsed it in memory (once per request); here it is
    # hashed and dropped — never written to disk, logged, or echoed back (the report holds counts, row numbers and
    # column names only).
    export = form.get("export")
    if not isinstance(export, UploadedFile) or not export.data:
        return _roster_page(request, db, status_code=400, error="Choose the MIS export file (CSV) to upload.")
    if len(export.data) > MAX_ROSTER_BYTES:
        return _roster_page(request, db, status_code=413,
                            error=f"The file is larger than {MAX_ROSTER_BYTES // (1024 * 1024)} MB.")
    try:
        result = config_store.store_roster_upload(db, export.data, request.app.state.roster_key, user.username)
    except MisImportError as exc:
        db.rollback()
        return _roster_page(request, db, status_code=400, error=str(exc))
    db.commit()
    return _roster_page(request, db, result=result, report=result.report)
