"""Text hidden inside a prompt by an encoding a model undoes on request: base64 runs ("decode this: VGhlIHB1cGls...").

`hidden_texts(text)` returns the decoded texts; the engine scans them with the prompt (so `pupilguard scan` and
`eval` judge exactly what the proxy judges), and an identifier found only inside one is an evasion: the prompt is
blocked and the DPO sees why. Only runs that decode to valid UTF-8 text with letters count; a key, a hash, an
image or other binary does not.
"""
from __future__ import annotations

import base64
import binascii
import itertools
import re

__all__ = ["hidden_texts"]

# 24+ base64 characters (18+ bytes), standard or URL-safe alphabet, possibly wrapped onto several lines.
# (Line breaks inside the character classes, not as alternatives: the same runs, several times faster to find.)
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])(?:[A-Za-z0-9+/\r\n]{24,}|[A-Za-z0-9_\-\r\n]{24,})={0,2}")
_MAX_DECODED = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")  # Cc except \t \n \v \f \r ESC


def hidden_texts(text: str) -> list[str]:
    """The texts hidden as base64 runs inside `text`, decoded (at most 1 MiB in all)."""
    out: list[str] = []
    budget = _MAX_DECODED
    for m in _B64_RUN.finditer(text):
        body = re.sub(r"\s+", "", m.group()).rstrip("=")
        if len(body) < 24 or budget <= 0:
            continue
        body = body[:-1] if len(body) % 4 == 1 else body  # a stray character after the last full group
        padded = body + "=" * (-len(body) % 4)
        try:
            raw = (base64.urlsafe_b64decode(padded) if ("-" in body or "_" in body)
                   else base64.b64decode(padded, validate=True))
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if _looks_like_text(decoded) and sum(ch.isalpha() for ch in decoded) >= len(decoded) // 3:
            out.append(decoded)
            budget -= len(raw)
    return out


def _looks_like_text(text: str) -> bool:
    if "\x00" in text:
        return False
    allowed = max(2, len(text) // 200)
    return sum(1 for _ in itertools.islice(_CONTROL.finditer(text), allowed + 1)) <= allowed
