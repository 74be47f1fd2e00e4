"""Text in pictures: images (PNG, JPEG, WebP, GIF, BMP, TIFF) and the image-only pages of scanned PDFs.

The adapters stay pure and synchronous; OCR is slow and runs in its own worker processes (proxy/ocr.py). The two
meet through an `ImageReader`, set for the duration of one extraction (`reading_images`):

1. the first extraction asks the reader for each picture's text. A picture not read yet is recorded as pending and
   its text left out for now;
2. the proxy OCRs the pending pictures (off the event loop, with its own budget) and puts the readings in the
   reader, then extracts again: now every picture has its text, a slot like any other;
3. when the engine changes a picture's text, `rebuild` asks the reader for the picture with those words filled in.
   The first time, that is recorded as pending too and the rebuild gives None; the proxy draws the boxes (again in
   the OCR workers) and rebuilds once more. The rewritten picture's reading is the approved text, so reading the
   rewritten request back gives exactly the texts the engine approved.

A picture that cannot be read (corrupt, too big, over its time budget) is `CannotRead`: the request is refused.
Without a reader (WebSocket frames, `pupilguard scan`) pictures are let through with a note, as before OCR.
"""
from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .base import CannotRead, Extraction

__all__ = ["Word", "Reading", "ImageReader", "ReadingCache", "reading_images", "current_reader", "image_kind",
           "image_extraction", "changed_words", "digest"]

# What we OCR and can write back in the same format (Pillow's names).
IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF", "bmp": "BMP", "tiff": "TIFF"}


@dataclass(frozen=True)
class Word:
    """One recognised word: its place in the reading's first text, and its box in the picture's own pixels."""

    start: int
    end: int
    frame: int
    box: tuple[int, int, int, int]  # left, top, right, bottom


@dataclass
class Reading:
    """What OCR found in one picture: texts[0] the visible text, texts[1] (when present) its metadata text
    (EXIF, PNG text chunks, comments). `failed` is a machine code when the picture could not be read."""

    texts: list[str] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    kind: str = ""
    frames: int = 1
    failed: str | None = None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ReadingCache:
    """Readings of recent pictures by content hash, shared by all requests: a chat client sends the whole
    conversation, its pictures included, with every turn, and each is read once. Bounded; kept in memory only."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[str, Reading] = OrderedDict()

    def get(self, key: str) -> Reading | None:
        reading = self._items.get(key)
        if reading is not None:
            self._items.move_to_end(key)
        return reading

    def put(self, key: str, reading: Reading) -> None:
        if reading.failed in ("ocr_timeout", "ocr_busy", "ocr_unavailable"):
            return  # a busy moment is not a property of the picture: try again next time
        self._items[key] = reading
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass
class ImageReader:
    """One request's pictures: the readings known, those still to read, and the rewritten pictures."""

    cache: ReadingCache = field(default_factory=ReadingCache)
    readings: dict[str, Reading] = field(default_factory=dict)
    pending: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # hash -> (kind, data)
    renders: dict[tuple[str, tuple[str, ...]], bytes] = field(default_factory=dict)
    pending_renders: dict[tuple[str, tuple[str, ...]], tuple[bytes, Reading, list[str]]] = field(default_factory=dict)
    failed_renders: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    deadline: float = 0.0  # time.monotonic() by which this request's pictures must be read

    def reading(self, data: bytes, kind: str) -> Reading | None:
        key = digest(data)
        found = self.readings.get(key) or self.cache.get(key)
        if found is None:
            self.pending[key] = (kind, data)
            return None
        self.readings[key] = found
        return found

    def rendered(self, data: bytes, reading: Reading, new: list[str]) -> bytes | None:
        key = (digest(data), tuple(new))
        out = self.renders.get(key)
        if out is None and key not in self.failed_renders:
            self.pending_renders[key] = (data, reading, new)
        return out

    def add_render(self, key: tuple[str, tuple[str, ...]], out: bytes, reading: Reading) -> None:
        """A rewritten picture; its reading is the approved text (what the request is read back against)."""
        self.renders[key] = out
        approved = Reading(list(key[1]), [], reading.kind, reading.frames)
        self.readings[digest(out)] = approved
        self.cache.put(digest(out), approved)


_READER: ContextVar[ImageReader | None] = ContextVar("pupilguard_image_reader", default=None)


@contextmanager
def reading_images(reader: ImageReader | None) -> Iterator[None]:
    token = _READER.set(reader)
    try:
        yield
    finally:
        _READER.reset(token)


def current_reader() -> ImageReader | None:
    return _READER.get()


def image_kind(data: bytes) -> str | None:
    """The picture formats we read, by their signature (the caller has checked the file's real structure)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def _failed(reading: Reading) -> None:
    if reading.failed:
        raise CannotRead(reading.failed)


def image_extraction(data: bytes, kind: str, reader: ImageReader) -> Extraction:
    """A picture's visible text (and metadata text) as slots; rebuild gives the picture with changed words filled."""
    reading = reader.reading(data, kind)
    if reading is None:
        return Extraction.empty(data, "image", ["image_pending"])
    _failed(reading)
    texts = list(reading.texts)
    if not any(t.strip() for t in texts):
        return Extraction.empty(data, "image", ["image_without_text"])

    def rebuild(new: list[str]) -> bytes | None:
        if reading.frames > 1:
            return None  # an animation: its frames are read, but not rewritten (the request is refused)
        return reader.rendered(data, reading, new)

    return Extraction(texts, data, rebuild, "image", ["image_read"])


def pdf_scan_text(data: bytes, reader: ImageReader) -> str | None:
    """The OCR text of a PDF's image-only pages, or None while they are still to read. CannotRead if they cannot
    be read."""
    reading = reader.reading(data, "pdf")
    if reading is None:
        return None
    _failed(reading)
    return "\n".join(reading.texts)


_SMALL_GAP = 3  # characters left "unchanged" between two changes: chance matches inside a placeholder


def changed_words(reading: Reading, new_text: str) -> list[Word]:
    """The words of the reading's visible text that the engine changed (replaced by a placeholder, or removed).

    The texts are aligned character by character; a word is filled when any of its characters changed. Short
    runs that happen to match inside a replacement ("L" of "Leo" and of "[PUPIL_1]") count as changed.
    """
    old = reading.texts[0] if reading.texts else ""
    if old == new_text:
        return []
    ranges: list[list[int]] = []
    for tag, i1, i2, _j1, _j2 in SequenceMatcher(None, old, new_text, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        lo, hi = (i1, i2) if i2 > i1 else (max(0, i1 - 1), i1 + 1)  # an insertion touches its neighbours
        if ranges and lo - ranges[-1][1] <= _SMALL_GAP and not re.search(r"\n", old[ranges[-1][1]:lo]):
            ranges[-1][1] = max(ranges[-1][1], hi)
        else:
            ranges.append([lo, hi])
    return [w for w in reading.words if any(w.start < hi and lo < w.end for lo, hi in ranges)]
