"""OCR for the proxy: the text of pictures and scanned PDF pages, read and rewritten in worker processes.

Tesseract (Debian's `tesseract-ocr`, English and Welsh data) through pytesseract, pictures through Pillow, PDF pages
drawn by poppler's `pdftoppm`. All of it runs in a small pool of its own processes (`OcrPool`), apart from the
detection workers and at a lower CPU priority than them, one Tesseract thread each: the pool's size is the
concurrency cap, so pictures queue behind each other and never take the CPU from text prompts. A hostile picture
that crashes a decoder takes down one OCR process, which is replaced; never the proxy.

Each request's pictures share one time budget (`Pictures.budget_s`), queueing included; a picture that is not
read in time, is too big, or cannot be decoded gets a failed `Reading`, and the adapters refuse the request
(proxy/adapters/images.py describes the two passes). Readings are cached by content hash, in memory only.

(Over 350 lines on purpose: the OCR worker pool, its time budget and its cache are one guarantee: every
picture is read in time or the request is refused; they are checked together.)
"""
from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import subprocess
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Any

from proxy.adapters.images import IMAGE_FORMATS, ImageReader, Reading, ReadingCache, Word, changed_words
from proxy.workers import PoolError, _Worker, serve_jobs

log = logging.getLogger(__name__)

__all__ = ["OcrSpec", "OcrPool", "OcrResult", "Pictures", "ReadJob", "RenderJob", "read_picture", "read_pdf",
           "render_picture"]

_OCR_NICE = 15  # below the detection workers (0 and 10): a text prompt's scan always comes first


@dataclass(frozen=True)
class OcrSpec:
    """How the OCR processes read: plain values, so the spec pickles into a spawned process."""

    langs: str = "eng+cym"
    max_pixels: int = 40_000_000  # one picture or page; beyond it the picture is refused (image_too_large)
    max_frames: int = 10  # frames of an animated GIF/WebP read
    max_pages: int = 20  # image-only PDF pages read
    pdf_dpi: int = 150  # the usual scanning resolution: 200 reads no better and takes a third longer
    upscale_below: int = 1_200_000  # pixels: smaller pictures (screen text) are read at twice their size

    def build(self) -> OcrSpec:
        """Check Tesseract and its language data are installed; the pool reports what is missing."""
        import pytesseract

        try:
            have = set(pytesseract.get_languages(config=""))
        except Exception as exc:  # noqa: BLE001 - TesseractNotFoundError and friends
            raise RuntimeError(f"tesseract is not installed ({type(exc).__name__}); "
                               "apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-cym") from None
        missing = [lang for lang in self.langs.split("+") if lang not in have]
        if missing:
            raise RuntimeError(f"tesseract language data missing: {', '.join(missing)} "
                               f"(apt-get install {' '.join('tesseract-ocr-' + m for m in missing)})")
        return self


@dataclass(frozen=True)
class ReadJob:
    """Read the text of a picture or a scanned PDF (`kind`: png, jpeg, ..., pdf) within `seconds`."""

    kind: str
    data: bytes
    seconds: float


@dataclass(frozen=True)
class RenderJob:
    """Redraw a picture with each (frame, box) filled."""

    kind: str
    data: bytes
    boxes: list[tuple[int, tuple[int, int, int, int]]] = field(default_factory=list)


@dataclass(frozen=True)
class OcrResult:
    """An OCR worker's answer: a reading, a redrawn picture, or the machine code of why there is neither."""

    reading: Reading | None = None
    picture: bytes | None = None
    failed: str | None = None

    @classmethod
    def failure(cls, code: str) -> OcrResult:
        return cls(failed=code)


class _Fail(Exception):
    """A picture that cannot be read; the message is a machine code."""


# ---------------------------------------------------------------------------------------------- in the worker

def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0.05:
        raise _Fail("ocr_timeout")
    return left


def _open(data: bytes, spec: OcrSpec) -> Any:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = spec.max_pixels  # Pillow refuses decompression bombs past twice this
    try:
        im = Image.open(io.BytesIO(data))
        size = im.width * im.height
    except Image.DecompressionBombError:
        raise _Fail("image_too_large") from None
    except Exception:  # noqa: BLE001 - a corrupt or hostile file
        raise _Fail("image_unreadable") from None
    if size > spec.max_pixels:
        raise _Fail("image_too_large")
    if im.format not in IMAGE_FORMATS.values():
        raise _Fail("image_unreadable")
    return im


def _grey(frame: Any) -> Any:
    """The frame as grey on white (transparent parts of a screenshot are white, not black, to Tesseract)."""
    from PIL import Image

    rgba = frame.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("L")


def _ocr(image: Any, spec: OcrSpec, deadline: float) -> dict:
    import pytesseract

    try:
        return pytesseract.image_to_data(image, lang=spec.langs, config="--psm 3",
                                         output_type=pytesseract.Output.DICT, timeout=_remaining(deadline))
    except RuntimeError as exc:  # pytesseract's "Tesseract process timeout"
        raise _Fail("ocr_timeout" if "timeout" in str(exc).lower() else "image_unreadable") from None
    except pytesseract.TesseractError:
        raise _Fail("image_unreadable") from None


class _Text:
    """Assembles recognised words into text - a space between words, a line break between lines, a blank line
    between blocks - and remembers where each word is."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.words: list[Word] = []
        self._line: tuple | None = None

    def add(self, data: dict, frame: int, scale: float) -> None:
        for i, word in enumerate(data["text"]):
            if data["level"][i] != 5 or not word.strip():
                continue
            line = (frame, data["block_num"][i], data["par_num"][i], data["line_num"][i])
            if self._line is not None:
                sep = " " if line == self._line else ("\n" if line[:2] == self._line[:2] else "\n\n")
                self.parts.append(sep)
                self.length += len(sep)
            self._line = line
            left, top = data["left"][i] / scale, data["top"][i] / scale
            box = (int(left), int(top), int(left + data["width"][i] / scale + 0.999),
                   int(top + data["height"][i] / scale + 0.999))
            self.words.append(Word(self.length, self.length + len(word.strip()), frame, box))
            self.parts.append(word.strip())
            self.length += len(word.strip())

    @property
    def text(self) -> str:
        return "".join(self.parts)


_XMP_TEXT = re.compile(rb">([^<>]{2,})<")


def _metadata_text(im: Any) -> str:
    """Words a picture carries besides its pixels: PNG text chunks, comments, EXIF strings, XMP values."""
    found: list[str] = []
    for key, value in im.info.items():
        if key in ("icc_profile", "exif", "dpi", "transparency", "background", "duration", "loop", "xmp"):
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
    try:
        exif = im.getexif()
        values = list(exif.values()) + list(exif.get_ifd(0x8769).values())
    except Exception:  # noqa: BLE001 - a broken EXIF block: its strings are not read, and it is stripped on rewrite
        values = []
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace").replace("\x00", "")
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
    xmp = im.info.get("xmp")
    if isinstance(xmp, bytes):
        found += [m.decode("utf-8", "replace").strip() for m in _XMP_TEXT.findall(xmp) if m.strip()]
    return "\n".join(found)


def read_picture(data: bytes, spec: OcrSpec, deadline: float) -> Reading:
    im = _open(data, spec)
    frames = getattr(im, "n_frames", 1) or 1
    if frames > spec.max_frames:
        raise _Fail("image_too_many_frames")
    text = _Text()
    try:
        metadata = _metadata_text(im)
        for frame in range(frames):
            im.seek(frame)
            grey = _grey(im)
            scale = 2.0 if grey.width * grey.height <= spec.upscale_below else 1.0
            if scale != 1.0:
                from PIL import Image

                grey = grey.resize((int(grey.width * scale), int(grey.height * scale)), Image.Resampling.LANCZOS)
            text.add(_ocr(grey, spec, deadline), frame, scale)
    except _Fail:
        raise
    except Exception:  # noqa: BLE001 - a truncated or hostile file fails when decoded
        raise _Fail("image_unreadable") from None
    kind = next(k for k, v in IMAGE_FORMATS.items() if v == im.format)
    return Reading([text.text] + ([metadata] if metadata else []), text.words, kind, frames)


def read_pdf(data: bytes, spec: OcrSpec, deadline: float) -> Reading:
    """The OCR text of a PDF's pages that have no text of their own (scans), each drawn by pdftoppm."""
    import pypdf
    from PIL import Image

    try:
        pdf = pypdf.PdfReader(io.BytesIO(data))
        if pdf.is_encrypted:
            pdf.decrypt("")
        pages = [(i, p) for i, p in enumerate(pdf.pages) if not (p.extract_text() or "").strip()]
        sizes = [(i, float(p.mediabox.width) / 72, float(p.mediabox.height) / 72) for i, p in pages]
    except Exception:  # noqa: BLE001
        raise _Fail("file_corrupt:pdf") from None
    if len(pages) > spec.max_pages:
        raise _Fail("pdf_too_many_scanned_pages")
    texts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pupilguard-ocr-") as tmp:
        path = os.path.join(tmp, "in.pdf")
        with open(path, "wb") as f:
            f.write(data)
        for i, width_in, height_in in sizes:
            area = max(width_in * height_in, 0.01)
            dpi = int(min(spec.pdf_dpi, (spec.max_pixels / area) ** 0.5))
            if dpi < 72:
                raise _Fail("image_too_large")
            out = os.path.join(tmp, f"p{i}")
            try:
                subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "-f", str(i + 1),
                                "-l", str(i + 1), path, out], check=True, capture_output=True,
                               timeout=_remaining(deadline))
                page = Image.open(out + ".png")
                page.load()
            except subprocess.TimeoutExpired:
                raise _Fail("ocr_timeout") from None
            except (subprocess.CalledProcessError, OSError):
                raise _Fail("file_corrupt:pdf") from None
            text = _Text()
            text.add(_ocr(page, spec, deadline), 0, 1.0)
            texts.append(text.text)
    return Reading(["\n\n".join(t for t in texts if t)], [], "pdf", len(pages))


def render_picture(data: bytes, boxes: list[tuple[int, tuple[int, int, int, int]]], spec: OcrSpec) -> bytes:
    """The picture with each box filled, in its own format and size; metadata (EXIF, text chunks, XMP) dropped,
    the colour profile kept."""
    from PIL import Image, ImageDraw

    im = _open(data, spec)
    if (getattr(im, "n_frames", 1) or 1) > 1:
        raise _Fail("image_animated")
    fmt, mode = im.format, im.mode
    icc = im.info.get("icc_profile")
    alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info)
    work = im.convert("RGBA" if alpha else "RGB")
    draw = ImageDraw.Draw(work)
    for _frame, (left, top, right, bottom) in boxes:
        pad = max(2, (bottom - top) // 6)
        draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), fill=(0, 0, 0, 255) if alpha else (0, 0, 0))
    if fmt == "GIF" or (mode == "P" and not alpha and fmt in ("PNG", "BMP", "TIFF")):
        work = work.convert("P", palette=Image.Palette.ADAPTIVE) if not alpha else work
    elif mode in ("L", "LA", "CMYK", "I;16", "1") and not alpha:
        work = work.convert("L" if mode in ("I;16", "1") else mode)
    elif mode == "LA":
        work = work.convert("LA")
    work.info = {}  # convert() carries the original's metadata (a GIF comment, EXIF) over: none of it goes out
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        options.update(quality=90)
    elif fmt == "WEBP":
        options.update(quality=90)
    out = io.BytesIO()
    work.save(out, format=fmt, **options)
    return out.getvalue()


def _serve_ocr(conn: Connection, spec: OcrSpec, nice: int = 0) -> None:
    """OCR process: answer each ReadJob or RenderJob with an OcrResult."""
    os.environ["OMP_THREAD_LIMIT"] = "1"  # one Tesseract thread: the pool's size is how many cores OCR may take
    serve_jobs(conn, spec.build, _answer, nice)


def _answer(spec: OcrSpec, job: ReadJob | RenderJob) -> OcrResult:
    try:
        if isinstance(job, ReadJob):
            deadline = time.monotonic() + job.seconds
            read = read_pdf if job.kind == "pdf" else read_picture
            return OcrResult(reading=read(job.data, spec, deadline))
        return OcrResult(picture=render_picture(job.data, job.boxes, spec))
    except _Fail as exc:
        return OcrResult.failure(str(exc))
    except Exception as exc:  # noqa: BLE001 - never the content, only the class name
        log.error("ocr job failed", extra={"error": type(exc).__name__})
        return OcrResult.failure("image_unreadable")


class _OcrWorker(_Worker):
    target = staticmethod(_serve_ocr)


class OcrPool:
    """`size` OCR processes, handed out first come first served; `await pool.run(job, seconds)`."""

    def __init__(self, spec: OcrSpec | None = None, size: int = 1) -> None:
        self.spec = spec or OcrSpec()
        self.size = max(1, size)
        self._workers = [_OcrWorker(self.spec, i, hard_limit_s=1.0) for i in range(self.size)]  # type: ignore[arg-type]
        for worker in self._workers:
            worker.nice = _OCR_NICE
        self._idle: list[_Worker] = []
        self._waiting: deque[asyncio.Future] = deque()
        self.error: str | None = "not started"

    def start(self) -> None:
        """Start the OCR processes. Raises PoolError (Tesseract or its language data missing)."""
        for worker in self._workers:
            worker.spawn()
        try:
            for worker in self._workers:
                worker.wait_ready(60)
        except PoolError as exc:
            self.close()
            self.error = str(exc)
            raise
        self._idle = list(self._workers)
        self.error = None

    @property
    def healthy(self) -> int:
        return sum(1 for w in self._workers if w.process is not None and w.process.is_alive())

    async def run(self, job: ReadJob | RenderJob, seconds: float) -> OcrResult:
        """The worker's answer, or a failure: ocr_busy when no worker came free in time, ocr_timeout when the job
        ran past its time, ocr_unavailable when OCR could not start."""
        if self.error is not None:
            return OcrResult.failure("ocr_unavailable")
        started = time.monotonic()
        worker = await self._acquire(seconds)
        if worker is None:
            return OcrResult.failure("ocr_busy")
        left = seconds - (time.monotonic() - started)
        if isinstance(job, ReadJob):
            job = replace(job, seconds=left)  # the time spent queueing comes off the reading's
        call = asyncio.get_running_loop().create_task(worker.call(job, limit_s=left + 2.0))
        call.add_done_callback(lambda done: (done.cancelled() or done.exception(), self._release(worker)))
        try:
            return await asyncio.shield(call)
        except Exception as exc:  # noqa: BLE001 - a stuck or crashed worker (replaced by call): fail closed
            return OcrResult.failure("ocr_timeout" if isinstance(exc, TimeoutError) else "image_unreadable")

    async def _acquire(self, seconds: float) -> _Worker | None:
        if self._idle:
            return self._idle.pop()
        granted = asyncio.get_running_loop().create_future()
        self._waiting.append(granted)
        try:
            return await asyncio.wait_for(asyncio.shield(granted), max(0.0, seconds))
        except TimeoutError:
            if granted.done() and not granted.cancelled():
                self._release(granted.result())
            else:
                granted.cancel()
            return None

    def _release(self, worker: _Worker) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def close(self) -> None:
        for worker in self._workers:
            worker.closing = True
        for worker in self._workers:
            worker.stop()


class Pictures:
    """What the addon holds: a reader per request, and the OCR of its pending pictures within `budget_s`."""

    def __init__(self, pool: OcrPool, budget_s: float = 30.0, cache: ReadingCache | None = None,
                 metrics: Any = None) -> None:
        self.pool, self.budget_s, self.metrics = pool, budget_s, metrics
        self.cache = cache or ReadingCache()

    def reader(self) -> ImageReader:
        return ImageReader(self.cache, deadline=time.monotonic() + self.budget_s)

    def _left(self, reader: ImageReader) -> float:
        return reader.deadline - time.monotonic()

    async def _run(self, job: ReadJob | RenderJob, left: float) -> OcrResult:
        if left <= 0:
            return OcrResult.failure("ocr_timeout")
        if self.metrics is not None:
            self.metrics.ocr_running.inc()
        try:
            return await self.pool.run(job, left)
        finally:
            if self.metrics is not None:
                self.metrics.ocr_running.dec()

    async def read(self, reader: ImageReader) -> None:
        """OCR every pending picture, one at a time (one request never holds more than one OCR process)."""
        started = time.monotonic()
        for key, (kind, data) in list(reader.pending.items()):
            left = self._left(reader)
            result = await self._run(ReadJob(kind, data, left), left)
            reading = result.reading or Reading(kind=kind, failed=result.failed or "image_unreadable")
            reader.readings[key] = reading
            self.cache.put(key, reading)
            if reading.failed and self.metrics is not None:
                self.metrics.ocr_failures.labels(reading.failed).inc()
        reader.pending.clear()
        if self.metrics is not None:
            self.metrics.ocr_seconds.observe(time.monotonic() - started)

    async def render(self, reader: ImageReader) -> None:
        """Draw the pending rewrites: each picture with the words the engine changed filled in."""
        for key, (data, reading, new) in list(reader.pending_renders.items()):
            words = changed_words(reading, new[0]) if new else []
            boxes = [(w.frame, w.box) for w in words]
            left = self._left(reader)
            result = await self._run(RenderJob(reading.kind, data, boxes), left)
            if result.picture is not None:
                reader.add_render(key, result.picture, reading)
            else:
                reader.failed_renders.add(key)
        reader.pending_renders.clear()

