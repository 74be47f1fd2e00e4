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
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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
    last_used: float

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
        self.ttl_s, self.max_entries, self._clock, self._factory = ttl_s, max_entries, clock, factory
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._mutex = threading.Lock()

    @staticmethod
    def key(tool: str, client_addr: str, user: str | None, conversation_id: str | None = None,
            browser: str | None = None) -> str:
        """An opaque key: a digest, so the table's keys reveal no addresses, user names or browser ids."""
        who = f"browser:{browser}" if browser else f"user:{user}" if user else f"addr:{client_addr}"
        raw = "\x1f".join((tool, who, conversation_id or ""))
        return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()

    def get(self, key: str) -> Conversation:
        now = self._clock()
        with self._mutex:
            self._expire(now)
            conv = self._items.get(key)
            if conv is None:
                conv = Conversation(self._factory(), now)
                self._items[key] = conv
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
            else:
                self._items.move_to_end(key)
            conv.last_used = now
            return conv

    def __len__(self) -> int:
        with self._mutex:
            self._expire(self._clock())
            return len(self._items)

    def _expire(self, now: float) -> None:
        while self._items:
            key, oldest = next(iter(self._items.items()))
            if now - oldest.last_used <= self.ttl_s:
                break
            del self._items[key]
