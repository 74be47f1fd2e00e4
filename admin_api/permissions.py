"""Who may do what in the admin service: the roles, and every JSON API route and web page, by role.

Two tables. `ROLES` names each role, its label and the permissions it holds; adding a role is one line there
(the database's list of roles, the users page and the grants all follow). `ROUTES` says what each route needs — a
permission, or one of the access kinds that are not about roles (public, a proxy token, monitoring). Route
handlers ask for the user as `ApiUser` (JSON API: 401 / 403; admin_api.identity) or `PageUser` (web pages: the
login page / a 403 page; admin_api.web.deps); both look the route up here, so a route missing from `ROUTES` is
refused for everyone — and tests/admin_api/test_permissions.py fails until it is added. The web menu is derived
from the same tables (`visible_pages`).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request


class Permission(StrEnum):
    ACCOUNT = "account"                    # sign out, change one's own password
    VIEW_STATS = "view_stats"              # dashboard and statistics (counts only)
    VIEW_EVENTS = "view_events"            # event list and detail: metadata, never the text
    VIEW_EVENT_TEXT = "view_event_text"    # redacted excerpts and pupil refs, CSV export
    FIND_PUPIL = "find_pupil"              # subject-access search by name or UPN
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    EDIT_ALLOWLIST = "edit_allowlist"      # changes that keep or raise protection
    UPLOAD_ROSTER = "upload_roster"
    MANAGE_PROXIES = "manage_proxies"
    EDIT_POLICY = "edit_policy"
    SET_RETENTION = "set_retention"
    WEAKEN_PROTECTION = "weaken_protection"  # see admin_api/protection.py: monitor, approve a tool, restore...
    REVIEW_ALERTS = "review_alerts"        # integrity and protection alerts; approve others' pending changes
    CASEWORK = "casework"                  # incidents and "who is P-XXXX?" (admin_api.incidents: which ones)
    REVIEW_SENDERS = "review_senders"      # who sent it (per member of staff / department), false positives
    SET_CONTACTS = "set_contacts"          # the DSL's and DPO's alert contacts
    VIEW_REPORTS = "view_reports"          # the governors' report


class Access(StrEnum):
    """Routes whose access is not a question of staff roles."""

    PUBLIC = "public"          # sign-in, liveness, the API reference
    PROXY = "proxy"            # a proxy's bearer token (routers/deps.require_proxy)
    MONITORING = "monitoring"  # a metrics token or a loopback client (routers/health.py)


P = Permission


@dataclass(frozen=True)
class Role:
    label: str
    grants: frozenset[Permission]


# Every role, and what it may do. One line per role; the order is the users page's.
ROLES: dict[str, Role] = {
    "dpo": Role("Data Protection Officer", frozenset(Permission)),
    "dsl": Role("Designated Safeguarding Lead", frozenset({P.ACCOUNT, P.VIEW_STATS, P.CASEWORK})),
    "it": Role("IT administrator", frozenset({P.ACCOUNT, P.VIEW_STATS, P.VIEW_EVENTS, P.EDIT_ALLOWLIST,
                                              P.UPLOAD_ROSTER, P.MANAGE_PROXIES})),
    "viewer": Role("Viewer (statistics only)", frozenset({P.ACCOUNT, P.VIEW_STATS})),
}
GRANTS = {name: role.grants for name, role in ROLES.items()}
ROLE_LABELS = {name: role.label for name, role in ROLES.items()}


def roles_with(permission: Permission) -> tuple[str, ...]:
    return tuple(name for name, role in ROLES.items() if permission in role.grants)

# Every route of the app ("METHOD path template") and what it needs.
ROUTES: dict[str, Permission | Access] = {
    # sign-in, health, API reference
    "GET /login": Access.PUBLIC,
    "POST /login": Access.PUBLIC,
    "GET /login/oidc": Access.PUBLIC,
    "GET /login/oidc/callback": Access.PUBLIC,
    "GET /healthz": Access.PUBLIC,  # liveness for everyone; the detail only for monitoring (routers/health.py)
    "GET /metrics": Access.MONITORING,
    "GET /docs": Access.PUBLIC,
    "GET /openapi.json": Access.PUBLIC,
    # proxies
    "POST /api/v1/events": Access.PROXY,
    "GET /api/v1/config": Access.PROXY,
    "GET /api/v1/config/roster": Access.PROXY,
    # one's own account
    "POST /logout": P.ACCOUNT,
    "GET /account/password": P.ACCOUNT,
    "POST /account/password": P.ACCOUNT,
    # statistics
    "GET /": P.VIEW_STATS,
    "GET /api/v1/stats": P.VIEW_STATS,
    # events
    "GET /events": P.VIEW_EVENTS,
    "GET /events/{event_id}": P.VIEW_EVENTS,
    "GET /api/v1/events": P.VIEW_EVENTS,
    "GET /api/v1/events/{event_id}": P.VIEW_EVENTS,
    "GET /events/export.csv": P.VIEW_EVENT_TEXT,
    "GET /api/v1/events/export.csv": P.VIEW_EVENT_TEXT,
    "GET /pupils": P.FIND_PUPIL,
    "POST /pupils": P.FIND_PUPIL,
    "POST /api/v1/pupils/search": P.FIND_PUPIL,
    # audit
    "GET /audit": P.VIEW_AUDIT,
    "GET /api/v1/audit": P.VIEW_AUDIT,
    # users
    "GET /users": P.MANAGE_USERS,
    "POST /users": P.MANAGE_USERS,
    "POST /users/{user_id}/unlock": P.MANAGE_USERS,
    "POST /users/{user_id}/password": P.MANAGE_USERS,
    "POST /users/{user_id}/{change}": P.MANAGE_USERS,
    # configuration the proxies fetch
    "GET /it/allowlist": P.EDIT_ALLOWLIST,
    "POST /it/allowlist": P.EDIT_ALLOWLIST,
    "PUT /api/v1/config/allowlist": P.EDIT_ALLOWLIST,
    "GET /policy": P.EDIT_POLICY,
    "POST /policy": P.EDIT_POLICY,
    "PUT /api/v1/config/policy": P.EDIT_POLICY,
    "GET /it/ai-tools": P.EDIT_ALLOWLIST,  # AI tools not in the catalogue: seen, approved per host
    "POST /it/ai-tools/allow": P.EDIT_ALLOWLIST,
    "POST /it/ai-tools/domains": P.EDIT_ALLOWLIST,
    "GET /api/v1/ai-tools/uncatalogued": P.VIEW_EVENTS,
    "POST /api/v1/ai-tools/allow": P.EDIT_ALLOWLIST,
    "PUT /api/v1/config/ai-domains": P.EDIT_ALLOWLIST,
    "GET /it/roster": P.UPLOAD_ROSTER,
    "POST /it/roster": P.UPLOAD_ROSTER,
    "POST /api/v1/config/roster": P.UPLOAD_ROSTER,
    "GET /retention": P.SET_RETENTION,
    "POST /retention": P.SET_RETENTION,
    "POST /retention/purge": P.SET_RETENTION,
    # proxies' tokens and health
    "GET /it/proxies": P.MANAGE_PROXIES,
    "POST /it/proxies": P.MANAGE_PROXIES,
    "POST /it/proxies/{name}/revoke": P.MANAGE_PROXIES,
    "GET /api/v1/proxies": P.MANAGE_PROXIES,
    # alerts and changes waiting for a second DPO
    "GET /alerts": P.REVIEW_ALERTS,
    "POST /alerts/{alert_id}/acknowledge": P.REVIEW_ALERTS,
    "POST /changes/{change_id}/{decision}": P.REVIEW_ALERTS,
    # casework
    "GET /incidents": P.CASEWORK,
    "GET /incidents/{incident_id}": P.CASEWORK,
    "POST /incidents/{incident_id}": P.CASEWORK,
    "POST /incidents/{incident_id}/notes": P.CASEWORK,
    "GET /api/v1/incidents": P.CASEWORK,
    "GET /api/v1/incidents/{incident_id}": P.CASEWORK,
    "PATCH /api/v1/incidents/{incident_id}": P.CASEWORK,
    "POST /api/v1/incidents/{incident_id}/notes": P.CASEWORK,
    "GET /pupils/identify": P.CASEWORK,
    "POST /pupils/identify": P.CASEWORK,
    "GET /incidents/false-positives": P.REVIEW_SENDERS,
    "GET /senders/{view}": P.REVIEW_SENDERS,
    "GET /alerts/contacts": P.SET_CONTACTS,
    "POST /alerts/contacts": P.SET_CONTACTS,
    "GET /alerts/confirm/{token}": Access.PUBLIC,  # the token in the test message is the credential
    "POST /alerts/confirm/{token}": Access.PUBLIC,
    "GET /reports/governors": P.VIEW_REPORTS,
    "GET /reports/governors.pdf": P.VIEW_REPORTS,
}

# The web menu, in order: (key, page, label). Each entry shows to the roles that may open its page.
MENU: tuple[tuple[str, str, str], ...] = (
    ("dashboard", "/", "Dashboard"),
    ("incidents", "/incidents", "Incidents"),
    ("events", "/events", "Events"),
    ("senders", "/senders/staff", "Who sent it"),
    ("pupils", "/pupils", "Find a pupil"),
    ("alerts", "/alerts", "Alerts"),
    ("contacts", "/alerts/contacts", "Alert contacts"),
    ("allowlist", "/it/allowlist", "Allowlist"),
    ("ai-tools", "/it/ai-tools", "AI tools seen"),
    ("policy", "/policy", "Policy"),
    ("roster", "/it/roster", "Roster"),
    ("proxies", "/it/proxies", "Proxies"),
    ("retention", "/retention", "Retention"),
    ("report", "/reports/governors", "Governors' report"),
    ("audit", "/audit", "Audit log"),
    ("users", "/users", "Users"),
)


def allows(role: str | None, permission: Permission) -> bool:
    return role is not None and permission in GRANTS.get(role, frozenset())


def route_key(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def required(request: Request) -> Permission | Access | None:
    """What the matched route needs; None for a route missing from the table (refused)."""
    return ROUTES.get(route_key(request))


def role_may_use(role: str | None, request: Request) -> bool:
    need = required(request)
    return isinstance(need, Permission) and allows(role, need)


def visible_pages(role: str | None) -> list[tuple[str, str, str]]:
    return [(key, page, label) for key, page, label in MENU
            if isinstance(need := page_needs(page), Permission) and allows(role, need)]


def page_needs(page: str) -> Permission | Access:
    """What GET `page` needs: its own row, or the row of the path template it matches ("/senders/staff")."""
    if (need := ROUTES.get(f"GET {page}")) is not None:
        return need
    parts = page.split("/")
    for key, need in ROUTES.items():
        method, _, template = key.partition(" ")
        pattern = template.split("/")
        if method == "GET" and len(pattern) == len(parts) and all(
                p == q or (p.startswith("{") and p.endswith("}")) for p, q in zip(pattern, parts)):
            return need
    raise KeyError(page)
