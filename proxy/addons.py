"""The proxy's mitmproxy addons, built in one place and in the order their hooks must run (as mitmproxy's own
`default_addons()`).

mitmproxy calls each hook on every addon in the order they were added, and several of ours depend on it; the
comments in `default_addons` say why each one is where it is.
"""
from __future__ import annotations

from typing import Any

from proxy.addon import PupilGuard
from proxy.connect_guard import ConnectGuard
from proxy.notices import NoticeAddon, NoticeBoard
from proxy.restore import RestoreAddon
from proxy.routing import Router
from proxy.settings import ProxySettings
from proxy.tenants import TenantRestrictions
from proxy.unknown_ai import UnknownAITools
from proxy.unreachable import Reachability


def default_addons(settings: ProxySettings, *, catalogue: Any, allowlist: Any, pool: Any, spool: Any, metrics: Any,
                   conversations: Any, directory: Any = None, pictures: Any = None,
                   state: dict[str, str] | None = None) -> list[Any]:
    """Every addon of `pupilguard proxy`, from its settings and the collaborators `proxy.cli` starts."""
    board = NoticeBoard()
    guard = PupilGuard(catalogue=catalogue, allowlist=allowlist, pool=pool, spool=spool, metrics=metrics,
                       conversations=conversations, notices=board, directory=directory, pictures=pictures)
    return [
        # First: a CONNECT to a bare IP address is refused, and a provider's address decrypted (next_layer), before
        # any other addon sees the tunnel; a fronted request is refused before anything reads it.
        ConnectGuard(catalogue),
        # Before the guard: its requestheaders takes our browser-id cookie off the request (the AI service never
        # gets it) and remembers it for the guard's notices; its request answers /__pupilguard/… itself, which
        # the guard then leaves alone (a flow with a response is decided).
        NoticeAddon(board, is_intercepted=guard.is_intercepted),
        # Before the guard: its responseheaders streams the replies it puts placeholders back into; the guard
        # then streams only the other event streams.
        RestoreAddon(),
        guard,
        # After the guard: the vendors' tenant headers go only on requests the guard let through.
        TenantRestrictions(allowlist, catalogue.allow_hosts_regexes()),
        # After every decision: a routed request is pointed at its route last ...
        Router(),
        # ... and is checked for reachability at the address it really goes to.
        Reachability(guard.service_of),
        # Hosts of AI tools that are not in the catalogue; bare IP addresses were the connect guard's.
        UnknownAITools(catalogue=catalogue, allowlist=allowlist, spool=spool, metrics=metrics, directory=directory,
                       central=settings.data_dir.resolve() / "central" / "ai_domains.txt"),
        # Last: its `running` hook comes after every other addon's (the tenant hosts are intercepted by then).
        Ready(state if state is not None else {}),
    ]


class Ready:
    """Marks /healthz ok once mitmproxy's servers are up (the `running` hook comes after they bind)."""

    def __init__(self, state: dict[str, str]) -> None:
        self.state = state

    def running(self) -> None:
        self.state["status"] = "ok"

    def done(self) -> None:
        self.state["status"] = "stopping"
