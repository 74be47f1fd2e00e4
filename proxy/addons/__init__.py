"""The proxy's mitmproxy addons, built in one place and in the order their hooks must run (as mitmproxy's own
`default_addons()`).

Each module of this package is one addon: the hooks mitmproxy calls, using the collaborators around them in
`proxy/` (which never import an addon). mitmproxy calls each hook on every addon in the order they were added,
and several of ours depend on it; the comments in `default_addons` say why each one is where it is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from proxy.addons.connect_guard import ConnectGuard
from proxy.addons.guard import PupilGuard
from proxy.addons.notices import NoticeAddon
from proxy.addons.restore import RestoreAddon
from proxy.addons.routing import Router
from proxy.addons.tenants import TenantRestrictions
from proxy.addons.unknown_ai import UnknownAITools
from proxy.addons.unreachable import Reachability
from proxy.notices import NoticeBoard

if TYPE_CHECKING:  # only named in annotations; directory and ocr are imported only when they are switched on
    from proxy.allowlist_watch import AllowlistWatcher
    from proxy.catalogue import Catalogue
    from proxy.conversations import Conversations
    from proxy.directory import GroupDirectory
    from proxy.metrics import Metrics
    from proxy.ocr import Pictures
    from proxy.settings import ProxySettings
    from proxy.spool import Spool
    from proxy.workers import ScanPool


def default_addons(settings: ProxySettings, *, catalogue: Catalogue, allowlist: AllowlistWatcher, pool: ScanPool,
                   spool: Spool, metrics: Metrics, conversations: Conversations,
                   directory: GroupDirectory | None = None, pictures: Pictures | None = None,
                   state: dict[str, str] | None = None) -> list[object]:
    """Every addon of `pupilguard proxy`, from its settings and the collaborators `proxy.commands.proxy` starts."""
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
