"""The admin service: `create_app(settings) -> FastAPI`.

Start-up brings the schema to the latest migration and seeds the centrally managed config; the lifespan runs the
retention purge on a timer. JSON API routers live in admin_api/routers; the DPO web UI in admin_api/web.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import alerts, config_store, web, web_session
from .accounts import AddressThrottle
from .db import Database, migrate
from .metrics import Metrics
from .retention import purge_periodically
from .routers import ai_tools, config, docs, events, health, incidents, ingest, proxies
from .settings import Settings

MAX_BODY = 16 * 1024 * 1024  # a full 500-event batch is ~3 MB
# Paths allowed more: the roster upload page takes a large trust's MIS export (~30 MB for 250k pupils).
# So does "who is P-XXXX?", which reads the DSL's MIS export in memory.
LARGE_BODY_PATHS = {"/it/roster": 64 * 1024 * 1024, "/api/v1/config/roster": 64 * 1024 * 1024,
                    "/pupils/identify": 64 * 1024 * 1024}


class BodyLimit:
    """Refuse request bodies over MAX_BODY with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = LARGE_BODY_PATHS.get(scope["path"], MAX_BODY)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _too_large(scope, receive, send)
        seen = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit and not refused:
                # answer 413 ourselves and tell the app the client went away, so it stops reading
                refused = True
                await _too_large(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise


class RequestTiming:
    """Request durations by route template and status for /metrics (pure ASGI: streamed exports stay streamed)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", "other")
            self.metrics.requests.labels(route, str(status)).observe(time.perf_counter() - started)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"detail": "Request body too large."}, 413)(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    db = Database(settings.database_url or "")
    if settings.migrate_on_start:
        migrate(db.engine)
    with db.session() as session:
        config_store.seed(session, settings)
        alerts.seed(session, settings)
        session.commit()
    dispatcher = alerts.Dispatcher(db, alerts.Channels.from_settings(settings))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(
            purge_periodically(db, settings, on_purge=lambda p: app.state.metrics.purged.inc(p.deleted))
        )]
        if settings.alert_interval_seconds > 0:
            tasks.append(asyncio.create_task(alerts.deliver_periodically(dispatcher, settings.alert_interval_seconds)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            db.dispose()

    app = FastAPI(
        title="pupilguard admin API",
        version="1",
        description="Event store, statistics and export for the DPO; configuration and ingest for proxies.",
        lifespan=lifespan,
        docs_url=None,   # routers/docs.py serves it without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.metrics = Metrics(db)
    app.state.roster_key = config_store.roster_key(settings)
    app.state.address_throttle = AddressThrottle()  # failed sign-ins per client address (admin_api.accounts)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes each rejected value back; a rejected value may be a raw prompt, so name only
        # where and why.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    for router in (ingest.router, events.router, incidents.router, config.router, proxies.router, health.router, ai_tools.router):
        app.include_router(router)
    docs.install(app)
    web_session.install(app, settings)
    web.install(app, settings)
    app.include_router(web.router)
    app.add_middleware(RequestTiming, metrics=app.state.metrics)
    app.add_middleware(BodyLimit)
    return app
