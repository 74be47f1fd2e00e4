"""Page-level dependencies: sign-in required (redirect to the login page) and role checks (a 403 page)."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse

from admin_api import permissions
from admin_api.alerts import CONTACT_ROLES, missing_contacts
from admin_api.db import SessionDep
from admin_api.models import User
from admin_api.web_session import CsrfError, csrf_protect, user_from_cookie


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class PageForbidden(Exception):
    pass


def page_user(request: Request, _csrf: Annotated[None, Depends(csrf_protect)], db: SessionDep) -> User:
    """Dependency for pages: the signed-in user (cookie only — never HTTP Basic in a browser), if
    admin_api.permissions grants their role this page.

    Sync, so FastAPI runs the database lookup in the thread pool, not on the event loop."""
    user = user_from_cookie(request, db)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    if not permissions.role_may_use(user.role, request):
        raise PageForbidden()
    if user.role == "dpo":  # set-up is not finished until both alert contacts have confirmed: every page says so
        request.state.unconfirmed_contacts = [CONTACT_ROLES[r] for r in missing_contacts(db)]
    return user


PageUser = Annotated[User, Depends(page_user)]


def safe_next(url: str | None) -> str:
    # Only same-site paths: "//evil.example" or "https://..." would make the login page an open redirect.
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


def install_error_pages(app: FastAPI) -> None:
    from admin_api.web.templating import render

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='')}", status_code=303)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError):
        if request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        return render(request, "error.html", status_code=403, title="Form expired or not ours",
                      message=f"{exc.detail} Nothing was changed.")

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden):
        return render(request, "error.html", status_code=403, title="Not allowed",
                      message="Your role does not give access to this page.")

