"""Property: a pupil's name shown in a PICTURE inside an Office file never reaches the AI service.

A screenshot of a class list pasted into a Word document, a slide or a workbook is a picture in word/media,
ppt/media or xl/media of the .docx, .pptx or .xlsx. The file goes out as a multipart upload or as base64 inside
JSON (OpenAI's input_file), the ways the AI services take files. First in process, the adapters' two passes with
the real OCR (Tesseract) exactly as the proxy runs them, with random pupils, wording, formats and files; then
through a real `pupilguard proxy`, where what the fake upstream received is unzipped and each picture in it read
back with OCR. A name beside special-category information (an EHCP) is blocked as special; a picture in the file
that cannot be read refuses the file, as an unreadable uploaded picture does; text or a document stored under a
picture's name is read too; a picture naming nobody passes.
"""
from __future__ import annotations

import base64
import io
import json
import re
import time
import zipfile

import docx
import openai
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.drawing.image import Image as SheetImage
from PIL import Image, ImageDraw, ImageFont

from proxy.adapters import Extraction, extract
from proxy.adapters.images import ImageReader, Reading, ReadingCache, changed_words, reading_images
from proxy.ocr import OcrSpec, _Fail, read_picture, render_picture
from tests.support.pictures import FONTS, PUPILS, SIMS_EXPORT, names_found, read_text, start_roster_proxy

FUZZ = settings.get_profile("pupilguard-fuzz")
SPEC = OcrSpec()
KINDS = ["docx", "pptx", "xlsx"]
MEDIA = {"docx": "word/media/", "pptx": "ppt/media/", "xlsx": "xl/media/"}
MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def picture(lines: list[str], fmt: str = "PNG", px: int = 22) -> bytes:
    """A small screenshot-like picture: black lines of text on white, in DejaVu Sans."""
    font = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), px)
    width = max(int(font.getlength(line)) for line in lines) + 2 * px
    im = Image.new("RGB", (width, int(px * 1.8) * len(lines) + px), "white")
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(lines):
        draw.text((px, px // 2 + int(px * 1.8) * i), line, font=font, fill="black")
    out = io.BytesIO()
    im.save(out, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


# --- Office files holding a picture, as Word, Excel and PowerPoint write them -------------------------------------

def _docx(image: bytes) -> bytes:
    d = docx.Document()
    d.add_paragraph("Class list attached.")
    d.add_picture(io.BytesIO(image))
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _xlsx(image: bytes) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Class", "7A"])
    ws.add_image(SheetImage(io.BytesIO(image)), "C3")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_P = ('xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
      'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"')
_RELS = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{}">{{}}</Relationships>'.format(
    "http://schemas.openxmlformats.org/package/2006/relationships")
_REL = ('<Relationship Id="{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{}" '
        'Target="{}"/>')


def _pptx(image: bytes, ext: str) -> bytes:
    """One slide with a title and the picture (no PowerPoint writer is installed: the parts PowerPoint needs)."""
    ppt = "application/vnd.openxmlformats-officedocument.presentationml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Default Extension="{ext}" ContentType="image/{"jpeg" if ext == "jpeg" else ext}"/>'
            f'<Override PartName="/ppt/presentation.xml" ContentType="{ppt}.presentation.main+xml"/>'
            f'<Override PartName="/ppt/slides/slide1.xml" ContentType="{ppt}.slide+xml"/></Types>'),
        "_rels/.rels": _RELS.format(_REL.format("rId1", "officeDocument", "ppt/presentation.xml")),
        "ppt/presentation.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><p:presentation {_P}><p:sldIdLst><p:sldId id="256" '
            'r:id="rId2"/></p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/></p:presentation>'),
        "ppt/_rels/presentation.xml.rels": _RELS.format(_REL.format("rId2", "slide", "slides/slide1.xml")),
        "ppt/slides/slide1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><p:sld {_P}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r>'
            '<a:t>Class list</a:t></a:r></a:p></p:txBody></p:sp><p:pic><p:nvPicPr><p:cNvPr id="4" name="Picture 3"/>'
            '</p:nvPicPr><p:blipFill><a:blip r:embed="rId3"/></p:blipFill></p:pic></p:spTree></p:cSld></p:sld>'),
        "ppt/slides/_rels/slide1.xml.rels": _RELS.format(_REL.format("rId3", "image", f"../media/image1.{ext}")),
        f"ppt/media/image1.{ext}": image,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return out.getvalue()


def office_with_picture(kind: str, image: bytes) -> bytes:
    ext = "jpeg" if image.startswith(b"\xff\xd8") else "png"
    document = {"docx": _docx, "xlsx": _xlsx}[kind](image) if kind != "pptx" else _pptx(image, ext)
    with zipfile.ZipFile(io.BytesIO(document)) as zf:  # the builders really put the picture where Office does
        assert any(n.startswith(MEDIA[kind]) and zf.read(n) == image for n in zf.namelist())
    return document


def make_docx_naming(text: str) -> bytes:
    d = docx.Document()
    d.add_paragraph(text)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def with_media_replaced(document: bytes, kind: str, data: bytes) -> bytes:
    """`document` with the bytes of its picture replaced by `data` (a corrupt picture, under the same name)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(document)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, data if info.filename.startswith(MEDIA[kind]) else src.read(info))
    return out.getvalue()


def corrupt(image: bytes) -> bytes:
    """A PNG whose header is real (signature and IHDR) and whose pixels are garbage: it looks like a picture and
    cannot be decoded."""
    return image[:33] + bytes(range(256)) * 4


# --- what would reach the AI service -------------------------------------------------------------------------------

def office_files_in(body: bytes) -> list[bytes]:
    """Every Office file a request body carries: a multipart part's content, or base64 in a JSON string."""
    found: list[bytes] = []
    if body.startswith(b"--"):
        boundary = body.split(b"\r\n", 1)[0]
        for part in body.split(boundary):
            content = part.split(b"\r\n\r\n", 1)[-1].removesuffix(b"\r\n")
            if content.startswith(b"PK\x03\x04"):
                found.append(content)
    for value in re.findall(rb'"(?:data:[^",;]*;base64,)?(UEsDB[A-Za-z0-9+/=]+)"', body):
        found.append(base64.b64decode(value))
    return found


def names_leaving(document: bytes) -> list[str]:
    """The rostered names anyone could read in `document`: in the text of its parts, or by OCR of its pictures."""
    found: list[str] = []
    with zipfile.ZipFile(io.BytesIO(document)) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            if data.startswith((b"\x89PNG", b"\xff\xd8\xff")):
                found += names_found(read_text(data))
            else:
                found += names_found(data.decode("utf-8", "replace"))
    return found


def multipart(filename: str, document: bytes, mime: str) -> tuple[bytes, str]:
    boundary = "pupilguardfuzzboundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {mime}\r\n\r\n").encode() + document + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def as_json(filename: str, document: bytes) -> bytes:
    return json.dumps({"model": "gpt-4o", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "Summarise this for the class."},
        {"type": "input_file", "filename": filename, "file_data": base64.b64encode(document).decode()}]}]}).encode()


# --- in process: the adapters' two passes with real OCR, as the proxy runs them ------------------------------------

READINGS = ReadingCache()  # each distinct picture is read once for the whole module


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """The engine with the roster of the pupils in tests/support/pictures.py."""
    from tests.support.detectors import engine_for_roster

    return engine_for_roster(SIMS_EXPORT, tmp_path_factory.mktemp("office-pictures"))


def _read(reader: ImageReader) -> None:
    for key, (kind, data) in list(reader.pending.items()):
        try:
            reading = read_picture(data, SPEC, time.monotonic() + 60)
        except _Fail as exc:
            reading = Reading(kind=kind, failed=str(exc))
        reader.readings[key] = reading
        READINGS.put(key, reading)
    reader.pending.clear()


def forwarded(engine, adapter: str, body: bytes, content_type: str, path: str) -> tuple[bytes | None, str]:
    """What the proxy would send on, and why: (None, reason) when it refuses. The two passes of
    proxy/adapters/images.py: read the pictures, read the body again, redraw pictures a change needs."""
    reader = ImageReader(READINGS, deadline=time.monotonic() + 120)

    def read_body() -> Extraction | object:
        with reading_images(reader):
            return extract(adapter, body, content_type, path)

    ex = read_body()
    if reader.pending and isinstance(ex, Extraction):
        _read(reader)
        ex = read_body()
    if not isinstance(ex, Extraction):
        return None, f"unreadable:{ex.reason}"
    assert not reader.pending, "a picture still unread after the second pass"
    decision = engine.scan(ex.texts)
    if decision.action == "block":
        return None, "block:" + ",".join(decision.reasons)
    if decision.action == "allow":
        return body, "allow"
    out = ex.rebuild(decision.texts)
    while out is None and reader.pending_renders:
        for key, (data, reading, new) in list(reader.pending_renders.items()):
            boxes = [(w.frame, w.box) for w in changed_words(reading, new[0])]
            reader.add_render(key, render_picture(data, boxes, SPEC), reading)
        reader.pending_renders.clear()
        out = ex.rebuild(decision.texts)
    return out, "redact" if out is not None else "unredactable"


def send(engine, kind: str, document: bytes, how: str) -> tuple[bytes | None, str]:
    filename = f"class-list.{kind}"
    if how == "multipart":
        body, ctype = multipart(filename, document, MIME[kind])
        return forwarded(engine, "upload", body, ctype, "/v1/files")
    return forwarded(engine, "openai_chat", as_json(filename, document), "application/json", "/v1/responses")


PICTURE_TEXTS = {
    "alone": lambda first, last: [f"{first} {last}"],
    "in a list": lambda first, last: ["Year 7 Maths Assessment", f"{first} {last}    72%", "Mark scheme B"],
    "surname first": lambda first, last: ["Pupil", f"{last}, {first}"],
}
# Three of the pupils: OCR reads each distinct picture once, so the few the property draws stay quick
PUPILS_DRAWN = [p for p in PUPILS if p[0] in ("Leo", "Priya", "Thomas")]


@pytest.mark.slow
@given(st.data())
@settings(FUZZ, max_examples=max(8, FUZZ.max_examples // 4))
def test_a_name_in_a_picture_in_any_office_file_never_leaves(engine, data):
    first, last = data.draw(st.sampled_from(PUPILS_DRAWN))
    layout = data.draw(st.sampled_from(sorted(PICTURE_TEXTS)))
    fmt = data.draw(st.sampled_from(["PNG", "JPEG"]))
    kind = data.draw(st.sampled_from(KINDS))
    how = data.draw(st.sampled_from(["multipart", "base64 in JSON"]))
    image = picture(PICTURE_TEXTS[layout](first, last), fmt)
    out, why = send(engine, kind, office_with_picture(kind, image), how)
    if out is not None:
        files = office_files_in(out)
        assert files, (kind, how, why)  # the document went on: it is read back, pictures and all
        for document in files:
            assert not {first, last} & set(names_leaving(document)), (kind, how, layout, fmt, why)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_name_with_an_ehcp_in_a_picture_in_an_office_file_is_blocked_as_special(engine, kind):
    image = picture(["Pupil: Leo Fischer", "SEN status: EHCP (autism)"])
    out, why = send(engine, kind, office_with_picture(kind, image), "base64 in JSON")
    assert out is None and why.startswith("block:") and "special" in why, why


def test_a_corrupt_picture_in_an_office_file_refuses_the_file(engine):
    """A picture that cannot be decoded is refused, as an uploaded one is (README: "a picture that cannot be read
    ... is refused"): what it shows is unknown."""
    document = with_media_replaced(office_with_picture("docx", picture(["Leo Fischer"])), "docx",
                                   corrupt(picture(["Leo Fischer"])))
    for how in ("multipart", "base64 in JSON"):
        out, why = send(engine, "docx", document, how)
        assert out is None and why == "unreadable:image_unreadable", (how, why)


DISGUISES = {  # what can sit under a picture's name (and declared type) in word/media
    "text": b"Pupil list\nLeo Fischer, 7A, EHCP (autism)\n",
    "UTF-16 text": "Pupil list\nLeo Fischer, 7A, EHCP (autism)\n".encode("utf-16-le"),
    "a document": make_docx_naming("Leo Fischer has an EHCP (autism)."),
}


@pytest.mark.parametrize("disguise", sorted(DISGUISES))
def test_whatever_hides_under_a_pictures_name_in_an_office_file_is_read(engine, disguise):
    """A part is what its bytes are: text or a document named image1.png is read, with or without OCR."""
    document = with_media_replaced(office_with_picture("docx", picture(["Year 7"])), "docx", DISGUISES[disguise])
    out, why = send(engine, "docx", document, "multipart")
    assert out is None and why == "block:special_category_with_identifier", why
    body, ctype = multipart("notes.docx", document, MIME["docx"])
    assert any("Fischer" in t for t in extract("upload", body, ctype, "/v1/files").texts)  # no reader: still read


@pytest.mark.slow
def test_a_picture_naming_nobody_in_an_office_file_passes_unchanged(engine):
    """The control: the proxy reads the picture and lets a file that names nobody through byte for byte."""
    document = office_with_picture("docx", picture(["Year 7 Maths Assessment", "Mean mark 72%"]))
    body, ctype = multipart("marks.docx", document, MIME["docx"])
    out, why = forwarded(engine, "upload", body, ctype, "/v1/files")
    assert (out, why) == (body, "allow")


# --- end to end: through a real proxy, what the fake upstream received ---------------------------------------------

@pytest.fixture(scope="module")
def roster_proxy(start_proxy, tmp_path_factory: pytest.TempPathFactory):
    """A proxy with a roster of the pupils in the pictures, pictures read within 20 s."""
    return start_roster_proxy(start_proxy, tmp_path_factory.mktemp("office-pictures-proxy"))


def post(proxy, kind: str, document: bytes, how: str):
    filename = f"class-list.{kind}"
    with proxy.client() as client:
        if how == "multipart":
            body, ctype = multipart(filename, document, MIME[kind])
            return client.post("https://api.openai.com/v1/files", content=body,
                               headers={"content-type": ctype, "authorization": "Bearer sk-test"})
        return client.post("https://api.openai.com/v1/responses", content=as_json(filename, document),
                           headers={"content-type": "application/json", "authorization": "Bearer sk-test"})


def assert_nothing_readable_arrived(upstream, pupils: list[tuple[str, str]]) -> None:
    """No full name in any received body's bytes; no forename or surname in the text or pictures of any Office
    file in it."""
    words = {n for pupil in pupils for n in pupil}
    for received in upstream.received:
        assert not any(f"{first} {last}".encode() in received.body for first, last in pupils)
        for document in office_files_in(received.body):
            assert not words & set(names_leaving(document))


@pytest.mark.slow
@pytest.mark.parametrize("kind,how", [("docx", "multipart"), ("pptx", "base64 in JSON"),
                                      ("xlsx", "multipart"), ("docx", "base64 in JSON")])
def test_a_class_list_screenshot_in_an_office_file_never_reaches_the_upstream(roster_proxy, upstream, kind, how):
    image = picture(["Year 7 Maths Assessment", "Leo Fischer    72%", "Priya Sharma    65%"])
    reply = post(roster_proxy, kind, office_with_picture(kind, image), how)
    assert_nothing_readable_arrived(upstream, [("Leo", "Fischer"), ("Priya", "Sharma")])
    assert reply.status_code == 403 and "pupilguard blocked this request" in reply.text
    assert "Fischer" not in reply.text


@pytest.mark.slow
def test_a_screenshot_naming_a_pupil_with_an_ehcp_in_a_pptx_is_blocked_as_special(roster_proxy, upstream):
    image = picture(["Pupil: Leo Fischer", "SEN status: EHCP (autism)"])
    reply = post(roster_proxy, "pptx", office_with_picture("pptx", image), "multipart")
    assert reply.status_code == 403 and "special" in reply.text and "Fischer" not in reply.text
    assert_nothing_readable_arrived(upstream, [("Leo", "Fischer")])


@pytest.mark.slow
def test_a_corrupt_picture_in_a_docx_is_refused_and_a_picture_naming_nobody_passes(roster_proxy, upstream):
    named = office_with_picture("docx", picture(["Leo Fischer"]))
    reply = post(roster_proxy, "docx", with_media_replaced(named, "docx", corrupt(picture(["Leo Fischer"]))),
                 "base64 in JSON")
    assert reply.status_code == 403 and "picture" in reply.text
    assert upstream.received == []

    clean = office_with_picture("docx", picture(["Year 7 Maths Assessment", "Mean mark 72%"]))
    assert post(roster_proxy, "docx", clean, "multipart").status_code == 200
    [received] = upstream.requests_to("/v1/files")
    assert office_files_in(received.body) == [clean]  # read, named nobody, went on byte for byte


def test_openai_sdk_refuses_to_upload_a_workbook_with_a_class_list_picture(roster_proxy, upstream):
    """The real openai SDK's multipart, not ours: the upload is refused and the upstream never sees the file."""
    import httpx

    client = openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0,
                           http_client=httpx.Client(proxy=roster_proxy.url, verify=roster_proxy.ssl, timeout=120))
    image = picture(["Year 7 Maths Assessment", "Thomas Whitfield    81%"])
    with pytest.raises(openai.PermissionDeniedError):
        client.files.create(file=("marks.xlsx", office_with_picture("xlsx", image)), purpose="assistants")
    assert upstream.requests_to("/v1/files") == []
