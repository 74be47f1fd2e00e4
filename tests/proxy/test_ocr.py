"""OCR without a proxy: the real Tesseract and Pillow in proxy/ocr.py, the adapters' two passes over a body with a
picture (proxy/adapters/images.py), and the words a teacher reads when a picture is refused."""
from __future__ import annotations

import asyncio
import base64
import io
import json
import time

import pytest
from PIL import Image, PngImagePlugin

from proxy.adapters import extract
from proxy.adapters.images import ImageReader, Reading, Word, changed_words, digest, reading_images
from proxy.ocr import OcrPool, OcrSpec, ReadJob, read_picture, render_picture
from tests.support.pictures import class_list, names_found

SPEC = OcrSpec()


def _png(**info: str) -> bytes:
    meta = PngImagePlugin.PngInfo()
    for key, value in info.items():
        meta.add_text(key, value)
    return class_list(styles=[("DejaVuSans.ttf", 18)], pnginfo=meta)


def test_a_picture_is_read_with_word_boxes_and_its_metadata_text():
    reading = read_picture(_png(Author="Leo Fischer"), SPEC, time.monotonic() + 60)
    text, metadata = reading.texts
    assert len(names_found(text)) == 12 and "Mark" in text
    assert metadata == "Leo Fischer"  # a name hidden in a PNG text chunk is scanned too
    amara = next(w for w in reading.words if text[w.start:w.end] == "Amara")
    im = Image.open(io.BytesIO(_png()))
    left, top, right, bottom = amara.box
    assert 0 <= left < right <= im.width // 3 and 0 <= top < bottom <= im.height  # in the names column


def test_changed_words_are_the_words_a_placeholder_replaced():
    text = "Pupil Mark\nLeo Fischer 72%\nPriya Sharma 65%"
    words = []
    for i, token in enumerate(text.replace("\n", " ").split(" ")):
        start = text.index(token, words[-1].end if words else 0)
        words.append(Word(start, start + len(token), 0, (i, i, i + 1, i + 1)))
    reading = Reading([text], words, "png")
    new = "Pupil Mark\n[PUPIL_1] 72%\nPriya Sharma 65%"
    assert [text[w.start:w.end] for w in changed_words(reading, new)] == ["Leo", "Fischer"]
    both = "Pupil Mark\n[PUPIL_1] 72%\n[PUPIL_2] 65%"
    assert [text[w.start:w.end] for w in changed_words(reading, both)] == ["Leo", "Fischer", "Priya", "Sharma"]
    assert changed_words(reading, text) == []


@pytest.mark.parametrize("fmt,save", [("PNG", {}), ("JPEG", {"quality": 95}), ("WEBP", {}), ("GIF", {})])
def test_a_redrawn_picture_keeps_format_and_size_fills_the_box_and_drops_metadata(fmt, save):
    exif = Image.Exif()
    exif[0x010E] = "Report on Leo Fischer"  # ImageDescription
    extra = {"exif": exif.tobytes()} if fmt in ("JPEG", "WEBP", "PNG") else {"comment": b"Leo Fischer"}
    original = class_list(styles=[("DejaVuSans.ttf", 18)], fmt=fmt, **save, **extra)
    out = render_picture(original, [(0, (20, 60, 120, 80))], SPEC)
    im = Image.open(io.BytesIO(out))
    assert im.format == fmt and im.size == Image.open(io.BytesIO(original)).size
    assert not im.getexif() and "comment" not in im.info and b"Fischer" not in out
    assert im.convert("L").crop((22, 62, 118, 78)).getextrema()[1] < 40  # filled (dark), whatever the codec


def test_pictures_that_cannot_be_read_are_refused_by_code():
    from proxy.ocr import _Fail

    with pytest.raises(_Fail, match="image_unreadable"):
        read_picture(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, SPEC, time.monotonic() + 10)
    with pytest.raises(_Fail, match="image_too_large"):
        read_picture(class_list(styles=[("DejaVuSans.ttf", 14)]), OcrSpec(max_pixels=10_000), time.monotonic() + 10)


@pytest.mark.e2e  # the OCR pool's worker is a process of its own
def test_the_pool_gives_up_at_the_budget_and_reads_the_next_picture():
    big = Image.effect_noise((1200, 1200), 90).convert("RGB")
    buf = io.BytesIO()
    big.save(buf, format="PNG")
    pool = OcrPool(size=1)
    pool.start()
    try:
        async def both():
            slow = await pool.run(ReadJob("png", buf.getvalue(), 0.3), 0.3)
            fine = await pool.run(ReadJob("png", _png(), 30.0), 30.0)
            return slow, fine

        slow, fine = asyncio.run(both())
    finally:
        pool.close()
    assert slow.failed == "ocr_timeout" and slow.reading is None
    assert fine.failed is None and len(names_found(fine.reading.texts[0])) == 12


def test_a_chat_body_is_read_in_two_passes_and_rebuilt_with_the_redrawn_picture():
    """The adapters' protocol: the picture is pending, then read; a changed text asks for a redrawn picture,
    and the rebuilt body reads back as exactly the approved texts."""
    picture = _png()
    url = "data:image/png;base64," + base64.b64encode(picture).decode()
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Summarise"}, {"type": "image_url", "image_url": {"url": url}}]}]}).encode()
    reader = ImageReader()
    with reading_images(reader):
        first = extract("openai_chat", body, "application/json")
    assert first.texts == ["Summarise"] and list(reader.pending) == [digest(picture)]

    reader.readings[digest(picture)] = read_picture(picture, SPEC, time.monotonic() + 60)
    reader.pending.clear()
    with reading_images(reader):
        second = extract("openai_chat", body, "application/json")
    ocr_text = second.texts[1]
    assert second.texts[0] == "Summarise" and "Leo Fischer" in ocr_text

    approved = ["Summarise", ocr_text.replace("Leo Fischer", "[PUPIL_1]")]
    assert second.rebuild(approved) is None and len(reader.pending_renders) == 1  # the picture is redrawn first
    [(key, (data, reading, new))] = reader.pending_renders.items()
    redrawn = render_picture(data, [(w.frame, w.box) for w in changed_words(reading, new[0])], SPEC)
    reader.add_render(key, redrawn, reading)
    rebuilt = second.rebuild(approved)
    sent = json.loads(rebuilt)["messages"][0]["content"][1]["image_url"]["url"]
    assert base64.b64decode(sent.split(",", 1)[1]) == redrawn
    with reading_images(reader):
        assert extract("openai_chat", rebuilt, "application/json").texts == approved


def test_without_a_reader_pictures_pass_with_a_note_as_before():
    url = "data:image/png;base64," + base64.b64encode(_png()).decode()
    body = json.dumps({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]})
    ex = extract("openai_chat", body.encode(), "application/json")
    assert ex.texts == [] and "media_not_scanned" in ex.notes


def test_every_picture_refusal_has_english_and_welsh_words():
    from proxy.addons.guard import _PICTURE_REASONS
    from proxy.responses import REASON_SENTENCES, REASON_SENTENCES_CY

    for code in _PICTURE_REASONS | {"scanned_pdf"}:
        assert "{tool}" in REASON_SENTENCES[code] and "{tool}" in REASON_SENTENCES_CY[code]
