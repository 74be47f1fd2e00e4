"""Typed, numbered placeholders: the same value gets the same `[PUPIL_1]` within a request and a conversation.

A `Placeholders` object lives in the caller's memory for one conversation (the proxy keeps one per user/session);
it is never persisted. Values are keyed by a normalised form, so "Oliver Smith", "OLIVER SMITH" and
"Oliver\u200b Smith" share one placeholder, and `restore` puts the first-seen original back.
"""
from __future__ import annotations

import re
import threading

from detectors.entities import placeholder_prefix

# Matches every placeholder this module can produce (and the proxy's restore buffering relies on this shape).
PLACEHOLDER_RE = re.compile(r"\[([A-Z]+)_(\d+)\]")

_DIGITS = {"UK_ULN", "UK_NHS", "PHONE_NUMBER"}
_CODES = {"UK_UPN", "UK_UCI", "UK_NINO", "UK_POSTCODE"}


def value_key(entity: str, value: str) -> str:
    """The form under which two spellings of one value meet."""
    if entity in _DIGITS:
        digits = re.sub(r"\D", "", value)
        return digits[-10:] if entity == "PHONE_NUMBER" else digits  # +44 7700... and 07700... meet
    if entity in _CODES:
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if entity in ("PUPIL", "PERSON"):
        from detectors.normalise import fold

        return fold(value)
    return " ".join(value.split()).casefold()


class Placeholders:
    """Per-conversation value <-> placeholder map. Thread-safe; memory only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], str] = {}
        self._originals: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, entity: str, value: str) -> str:
        prefix = placeholder_prefix(entity)
        key = (prefix, value_key(entity, value))
        with self._lock:
            existing = self._by_key.get(key)
            if existing:
                return existing
            self._counts[prefix] = self._counts.get(prefix, 0) + 1
            token = f"[{prefix}_{self._counts[prefix]}]"
            self._by_key[key] = token
            self._originals[token] = value
            return token

    def restore(self, text: str) -> str:
        """Put original values back for placeholders this conversation produced; others are left as they are."""
        with self._lock:
            originals = dict(self._originals)
        if not originals:
            return text
        return PLACEHOLDER_RE.sub(lambda m: originals.get(m.group(0), m.group(0)), text)

    def copy(self) -> Placeholders:
        clone = Placeholders()
        clone.__setstate__(self.__getstate__())
        return clone

    def only(self, tokens: list[str]) -> Placeholders:
        """A copy that knows only `tokens`' values. Numbering carries on from this map's, so a placeholder it hands
        out later can never be one that meant another value here."""
        state = self.__getstate__()
        originals = {t: state["originals"][t] for t in tokens if t in state["originals"]}
        clone = Placeholders()
        clone.__setstate__({"by_key": {k: t for k, t in state["by_key"].items() if t in originals},
                            "originals": originals, "counts": state["counts"]})
        return clone

    # Picklable, so a conversation's map can travel to a worker process and back (the lock cannot).
    def __getstate__(self) -> dict:
        with self._lock:
            return {"by_key": dict(self._by_key), "originals": dict(self._originals), "counts": dict(self._counts)}

    def __setstate__(self, state: dict) -> None:
        self._lock = threading.Lock()
        self._by_key = dict(state["by_key"])
        self._originals = dict(state["originals"])
        self._counts = dict(state["counts"])

    def __len__(self) -> int:
        with self._lock:
            return len(self._originals)

    def __contains__(self, token: object) -> bool:
        with self._lock:
            return token in self._originals
