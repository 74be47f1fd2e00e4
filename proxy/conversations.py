"""Per-conversation placeholder maps, so the same pupil gets the same `[PUPIL_1]` across one person's prompts.

A conversation is one browser (its pupilguard cookie, see proxy/notices.py), else one person (proxy-authenticated
user, else client address), in one tool, narrowed by a conversation id when the tool sends one. The maps live only in this process's memory: they expire after a
period of inactivity, the oldest are dropped when there are too many, a map that grows too big forgets its older
values, and nothing is ever written to disk.

Scans of one conversation run concurrently (people behind one address must not queue behind each other's long
prompts): each scan starts from the map as it was, and its new placeholders are merged back afterwards. If two
scans gave the same placeholder to different values, the merge fails and the caller scans again.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache


def _new_placeholders() -> Any:
    from detectors import Placeholders

    return Placeholders()


# Values one conversation remembers - a whole year group's names. Past this (a script sending many pupils' data from
# one address), it keeps only the latest request's: the map travels to a worker and back with every request of the
# conversation, so one that only grew would make each of them slower.
MAX_VALUES = 250


@dataclass
class Conversation:
    placeholders: Any  # replaced, never mutated in place, so a scan's starting snapshot stays valid

    def merge(self, before: dict, after: Any) -> bool:
        """Adopt the placeholders a scan added (`after`) to the map it started from (`before`, a state dict).

        False if another scan of this conversation meanwhile gave one of those placeholders to another value
        (or this value another placeholder): the scan's output would then be inconsistent and must be redone.
        """
        current = self.placeholders.__getstate__()
        if current == before:
            self.placeholders = after
            return True
        new = after.__getstate__()
        merged = {name: dict(table) for name, table in current.items()}
        for key, token in new["by_key"].items():
            if key in before["by_key"]:
                continue
            if key in current["by_key"]:
                if current["by_key"][key] != token:
                    return False
                continue
            if token in current["originals"]:
                return False
            merged["by_key"][key] = token
            merged["originals"][token] = new["originals"][token]
        for prefix, count in new["counts"].items():
            merged["counts"][prefix] = max(count, merged["counts"].get(prefix, 0))
        self.placeholders = type(after)()
        self.placeholders.__setstate__(merged)
        return True

    def trim(self, latest: list[str]) -> None:
        """Past MAX_VALUES values, forget all but the `latest` request's placeholders (numbering carries on)."""
        if len(self.placeholders) > MAX_VALUES:
            self.placeholders = self.placeholders.only(latest)


class Conversations:
    def __init__(self, ttl_s: float = 3600.0, max_entries: int = 20_000,
                 clock: Callable[[], float] = time.monotonic,
                 factory: Callable[[], Any] = _new_placeholders) -> None:
        self.ttl_s, self.max_entries, self._factory = ttl_s, max_entries, factory
        # Least recently used first out when full; a conversation idle for ttl_s is gone (re-set on every use).
        self._items: TTLCache[str, Conversation] = TTLCache(maxsize=max_entries, ttl=ttl_s, timer=clock)
        self._mutex = threading.Lock()

    @staticmethod
    def key(tool: str, client_addr: str, user: str | None, conversation_id: str | None = None,
            browser: str | None = None) -> str:
        """An opaque key: a digest, so the table's keys reveal no addresses, user names or browser ids."""
        who = f"browser:{browser}" if browser else f"user:{user}" if user else f"addr:{client_addr}"
        raw = "\x1f".join((tool, who, conversation_id or ""))
        return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()

    def get(self, key: str) -> Conversation:
        with self._mutex:
            conv = self._items.get(key) or Conversation(self._factory())
            self._items[key] = conv  # setting it again restarts its idle time
            return conv

    def __len__(self) -> int:
        with self._mutex:
            self._items.expire()
            return len(self._items)
