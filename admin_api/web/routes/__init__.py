"""Page routers, one module per area; `router` is what the app factory includes."""
from fastapi import APIRouter

from admin_api.web.routes import account, ai_tools, alerts, dashboard, events, incidents, it, manage, reports

router = APIRouter(include_in_schema=False)
for module in (account, alerts, dashboard, events, incidents, it, manage, reports, ai_tools):
    router.include_router(module.router)
