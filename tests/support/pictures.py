"""Pictures for the OCR tests, made in the suite: class lists drawn with Pillow in common fonts and sizes, and OCR
to read a picture back as the AI service would see it. Fonts are Debian's DejaVu (fonts-dejavu-core)."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
PUPILS = [("Amara", "Okafor"), ("Thomas", "Whitfield"), ("Leo", "Fischer"), ("Siân", "Pritchard"),
          ("Rhys", "Llewelyn"), ("Priya", "Sharma")]
# A roster in the shape of a SIMS export, for `pupilguard roster import`
SIMS_EXPORT = "Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,Year,Reg Group\r\n" + "".join(
    f"{last},{first},{last},{first},7,7A\r\n" for first, last in PUPILS)
MARKS = ["72%", "65%", "81%", "58%", "90%", "77%"]
# (font file, pixel size): a sans, a serif and a monospaced face, small to large
STYLES = [("DejaVuSans.ttf", 14), ("DejaVuSerif.ttf", 17), ("DejaVuSansMono.ttf", 20)]


def class_list(styles=STYLES, fmt: str = "PNG", size: tuple[int, int] | None = None, **save: object) -> bytes:
    """Tables of the rostered pupils' names and marks under a heading, one table per font style."""
    blocks = []
    for face, px in styles:
        font = ImageFont.truetype(str(FONTS / face), px)
        row = int(px * 1.9)
        im = Image.new("RGB", (34 * px, row * (len(PUPILS) + 2)), "white")
        draw = ImageDraw.Draw(im)
        draw.text((px, px // 2), "Year 7 Maths Assessment", font=font, fill="black")
        draw.text((px, px // 2 + row), "Pupil", font=font, fill="black")
        draw.text((20 * px, px // 2 + row), "Mark", font=font, fill="black")
        for i, ((first, last), mark) in enumerate(zip(PUPILS, MARKS)):
            y = px // 2 + row * (i + 2)
            draw.text((px, y), f"{first} {last}", font=font, fill="black")
            draw.text((20 * px, y), mark, font=font, fill="black")
        blocks.append(im)
    width = max(b.width for b in blocks)
    sheet = Image.new("RGB", size or (width, sum(b.height for b in blocks)), "white")
    y = 0
    for b in blocks:
        sheet.paste(b, (0, y))
        y += b.height
    if fmt == "GIF":
        sheet = sheet.convert("P", palette=Image.Palette.ADAPTIVE)
    out = io.BytesIO()
    sheet.save(out, format=fmt, **save)
    return out.getvalue()


def read_text(data: bytes) -> str:
    """What OCR reads in a picture (at twice its size, so that small text is read at its best)."""
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    im = Image.open(io.BytesIO(data))
    im = im.convert("L")
    im = im.resize((im.width * 2, im.height * 2), Image.Resampling.LANCZOS)
    return pytesseract.image_to_string(im, lang="eng+cym")


def names_found(text: str) -> list[str]:
    """The rostered forenames and surnames that appear in `text` as words (accents ignored, any case)."""
    folded = text.lower().replace("â", "a")
    words = set(re.findall(r"[a-z]+", folded))
    return [n for first, last in PUPILS for n in (first, last) if n.lower().replace("â", "a") in words]


def start_roster_proxy(start_proxy, data: Path, *extra_args: str):
    """A proxy (from the `start_proxy` fixture) with a roster of the pupils in the pictures, pictures read within
    20 s; `data` is its data directory."""
    from detectors.mis_import import import_mis_csv
    from detectors.roster import RosterKey

    key_file = data / "roster.key"
    import_mis_csv(SIMS_EXPORT.encode(), data / "roster.pgr", RosterKey.load_or_create(key_file))
    return start_proxy(data_dir=data, extra_args=["--roster", str(data / "roster.pgr"), "--key-file", str(key_file),
                                                  "--ocr-budget-ms", "20000", *extra_args])
