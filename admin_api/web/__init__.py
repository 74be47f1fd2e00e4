"""The DPO's and IT's web UI: server-rendered pages (Jinja2, autoescaped), SVG charts, no JavaScript required.

Everything is served by this service itself — no CDN — under a strict Content-Security-Policy.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from admin_api.web.deps import install_error_pages
from admin_api.web.routes import router
from admin_api.web.security import SecurityHeaders

STATIC_DIR = Path(__file__).parent / "static"

__all__ = ["install", "router"]


def install(app: FastAPI, settings: Any) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders)
    install_error_pages(app)
