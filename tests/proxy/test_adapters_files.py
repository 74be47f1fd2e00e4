"""File uploads: multipart bodies with txt/csv/md/json/docx/pdf/xlsx files built here, odd text encodings,
unreadable and hostile files."""
import io
import zipfile

import pytest

from proxy.adapters import Extraction, Unreadable, extract_for
from proxy.adapters.files import MAX_UNZIPPED, sniff_text
from proxy.catalogue import Catalogue
from tests.support.files import make_docx, make_pdf, make_png, make_xlsx

BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture(scope="module")
def cat():
    return Catalogue.load()


def multipart(*parts: tuple[dict, bytes], boundary: str = BOUNDARY) -> bytes:
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode()
        out += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def file_part(name: str, data: bytes, ctype: str, field: str = "file") -> tuple[dict, bytes]:
    return {"Content-Disposition": f'form-data; name="{field}"; filename="{name}"', "Content-Type": ctype}, data


def field(name: str, value: str) -> tuple[dict, bytes]:
    return {"Content-Disposition": f'form-data; name="{name}"'}, value.encode()


def upload(cat, body, ctype=CTYPE, service="openai-api", path="/v1/files"):
    result = extract_for(cat.service(service), body, ctype, path)
    if isinstance(result, Extraction):
        assert result.rebuild(result.texts) == body
    return result


@pytest.mark.parametrize("name,ctype,text", [
    ("notes.txt", "text/plain", "Leo Fischer was upset today.\n"),
    ("class.csv", "text/csv", "Name,UPN\r\nLeo Fischer,A820106510023\r\n"),
    ("plan.md", "text/markdown", "# Plan\n- Leo Fischer: extra time\n"),
    ("data.json", "application/json", '{"pupil": "Leo Fischer", "upn": "A820106510023"}'),
])
def test_text_files_are_read_and_rewritten(cat, name, ctype, text):
    body = multipart(field("purpose", "assistants"), file_part(name, text.encode(), ctype))
    ex = upload(cat, body)
    assert ex.texts == ["assistants", text, name]  # the file name is read too
    new = ex.rebuild(["assistants", text.replace("Leo Fischer", "[PUPIL_1]"), name])
    assert new == body.replace(b"Leo Fischer", b"[PUPIL_1]")
    assert ex.rebuild(["assistants", text, "[PUPIL_1].txt"]) is None  # a file name is not rewritten: block


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "utf-8"])
def test_text_file_encodings_round_trip_in_their_own_encoding(cat, encoding):
    text = "Zoë O’Brien – café rota £5\r\nLeo Fischer\r\n"
    data = text.encode(encoding)
    body = multipart(file_part("rota.txt", data, "text/plain"))
    ex = upload(cat, body)
    assert ex.texts == [text, "rota.txt"]
    new = ex.rebuild([text.replace("Zoë O’Brien", "[PUPIL_1]"), "rota.txt"])
    assert new == body.replace(data, text.replace("Zoë O’Brien", "[PUPIL_1]").encode(encoding))
    assert upload(cat, new).texts == [text.replace("Zoë O’Brien", "[PUPIL_1]"), "rota.txt"]  # read back


def test_sniff_text_refuses_binary():
    assert sniff_text(bytes(range(256))) is None
    assert sniff_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") is None
    assert sniff_text(b"") == ("", sniff_text(b"")[1])
    assert sniff_text("caf\xe9".encode("cp1252"))[0] == "café"
    assert sniff_text(b"\x81\x8d ok")[1].encoding == "latin-1"  # bytes undefined in cp1252 still decode


def test_docx_upload_is_read_and_rewritten_inside_the_multipart_body(cat):
    data = make_docx()
    body = multipart(field("purpose", "assistants"), file_part(
        "note.docx", data, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    ex = upload(cat, body)
    assert ex.texts[0] == "assistants"
    assert "Pastoral note for Amelia Watson" in ex.texts[1]
    assert "UPN\tA820106510023" in ex.texts[1] and "CONFIDENTIAL" in ex.texts[1]
    assert ex.texts[-1] == "note.docx"  # then the package's other parts (read only), then the file name
    new_texts = ["assistants", ex.texts[1].replace("Amelia Watson", "[PUPIL_1]"), *ex.texts[2:]]
    new = ex.rebuild(new_texts)
    assert upload(cat, new).texts == new_texts  # what the proxy reads back (more in test_adapters_word.py)
    assert ex.rebuild(ex.texts) == body  # nothing to redact: forwarded as it was


def test_xlsx_and_pdf_uploads(cat):
    body = multipart(file_part("y9.xlsx", make_xlsx(), "application/octet-stream"),
                     file_part("letter.pdf", make_pdf("Dear parent of Leo Fischer, UPN A820106510023"),
                               "application/pdf"))
    ex = upload(cat, body)
    assert len(ex.texts) == 5  # the workbook's cells, its other parts, its name; the letter, its name
    assert "Year 9" in ex.texts[0] and "Leo Fischer\t14/03/2011\tEAL" in ex.texts[0]
    assert ex.texts[2] == "y9.xlsx" and ex.texts[4] == "letter.pdf"
    assert "Dear parent of Leo Fischer, UPN A820106510023" in ex.texts[3]
    assert ex.rebuild([*ex.texts[:3], "x", ex.texts[4]]) is None


def test_encrypted_pdf_cannot_be_read_so_it_is_blocked(cat):
    body = multipart(file_part("secret.pdf", make_pdf("Leo Fischer", encrypt=True), "application/pdf"))
    result = upload(cat, body)
    assert result == Unreadable("file_encrypted:pdf")


def test_corrupt_pdf_and_docx_are_unreadable(cat):
    for name, data in (("bad.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4),
                       ("bad.docx", b"PK\x03\x04" + bytes(range(256)) * 4)):
        result = upload(cat, multipart(file_part(name, data, "application/octet-stream")))
        assert isinstance(result, Unreadable) and result.reason.startswith("file_corrupt"), result


def test_zip_bomb_inside_a_docx_is_refused(cat):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"<w:document>" + b" " * (MAX_UNZIPPED + 1) + b"</w:document>")
    result = upload(cat, multipart(file_part("bomb.docx", buf.getvalue(), "application/octet-stream")))
    assert len(buf.getvalue()) < MAX_UNZIPPED // 100
    assert result == Unreadable("file_too_large:zip")


def test_pptx_like_office_zip_text_is_read(cat):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("ppt/slides/slide1.xml", '<p:sld xmlns:p="urn:p" xmlns:a="urn:a">'
                                             '<a:t>Award for Leo Fischer &amp; family</a:t></p:sld>')
    ex = upload(cat, multipart(file_part("awards.pptx", buf.getvalue(), "application/octet-stream")))
    assert ex.texts == ["Award for Leo Fischer & family", "awards.pptx"]
    assert ex.rebuild(["Award for [PUPIL_1] & family", "awards.pptx"]) is None


def test_images_pass_unscanned_with_a_note_but_unknown_binaries_are_blocked(cat):
    ex = upload(cat, multipart(file_part("photo.png", make_png(), "image/png")))
    assert ex.texts == ["photo.png"] and "media_not_scanned" in ex.notes  # only its name is read
    ex = upload(cat, multipart(file_part("photo.bin", make_png(), "application/octet-stream")))
    assert ex.texts == ["photo.bin"] and "media_not_scanned" in ex.notes  # the content decides, not the type
    result = upload(cat, multipart(file_part("tool.exe", b"MZ\x90\x00" + bytes(range(256)) * 4,
                                             "application/octet-stream")))
    assert result == Unreadable("file_binary:exe")
    result = upload(cat, multipart(file_part("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(300),
                                             "application/msword")))
    assert result == Unreadable("file_legacy_office")


CLASS_LIST = "Name,UPN,Needs\nLeo Fischer,A820106510023,ADHD; child protection plan\n"


@pytest.mark.parametrize("data,ctype", [
    (CLASS_LIST.encode(), "image/png"),                          # a text file declared as an image
    (CLASS_LIST.encode("utf-16"), "audio/mpeg"),                 # ... in UTF-16, declared as audio
    (("BMI survey\n" + CLASS_LIST).encode(), "text/csv"),        # starts with the bitmap magic "BM"
    (("ID3 group\n" + CLASS_LIST).encode(), "text/plain"),       # ... or the MP3 tag magic "ID3"
    (("\xff\xfbOK\n" + CLASS_LIST).encode("cp1252"), "video/mp4"),  # ... or an MPEG frame sync
    (("RIFF1234WAVE\n" + CLASS_LIST).encode(), "audio/wav"),
])
def test_text_is_scanned_whatever_its_declared_type_or_first_bytes(cat, data, ctype):
    ex = upload(cat, multipart(file_part("pupils.png", data, ctype)))
    assert isinstance(ex, Extraction) and ex.texts[1:] == ["pupils.png"] and "A820106510023" in ex.texts[0]
    assert "media_not_scanned" not in ex.notes
    new = ex.rebuild([ex.texts[0].replace("A820106510023", "[UPN_1]"), "pupils.png"])
    assert b"A820106510023" not in new.replace(b"\x00", b"") and b"[" in new.replace(b"\x00", b"")


def _media_samples() -> dict[str, bytes]:
    import struct
    pixels = b"\x10\x20\x30\x00" * 4
    bmp = b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 54) + struct.pack(
        "<IiiHHIIiiII", 40, 2, 2, 1, 32, 0, len(pixels), 2835, 2835, 0, 0) + pixels
    frame = b"\xff\xfb\x90\x64" + bytes(413)  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
    id3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"TIT2\x00\x00\x00\x00\x00\x00" + frame
    wav = b"RIFF" + struct.pack("<I", 36 + 8) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8) \
        + b"data" + struct.pack("<I", 8) + bytes(8)
    mp4 = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00isomiso2" + struct.pack(">I", 8) + b"free"
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
    return {"png": make_png(), "bmp": bmp, "mp3": frame * 3, "id3": id3, "wav": wav, "mp4": mp4, "jpeg": jpeg}


@pytest.mark.parametrize("kind", sorted(_media_samples()))
def test_real_media_is_recognised_by_its_structure_alone(cat, kind):
    data = _media_samples()[kind]
    ex = upload(cat, multipart(file_part(f"x.{kind}", data, "application/octet-stream")))
    assert isinstance(ex, Extraction) and ex.texts == [f"x.{kind}"] and "media_not_scanned" in ex.notes


@pytest.mark.parametrize("prefix", [b"BM", b"ID3", b"\xff\xfb", b"?\x00\x00\x00ftyp", b"RIFF\x00\x00\x00\x00WAVE"])
def test_binary_behind_a_weak_media_magic_is_read_or_blocked_never_waved_through(cat, prefix):
    # NULs make it "not text"; a two-byte magic must not make it "media" either
    data = prefix + "\x00".join(CLASS_LIST).encode("latin-1")
    result = upload(cat, multipart(file_part("x.bin", data, "image/bmp")))
    if isinstance(result, Extraction):  # UTF-16 by its NUL pattern: then it is read as text, and scanned
        assert any("A820106510023" in t for t in result.texts), result.notes
    else:
        assert result.reason.startswith("file_binary"), result


def test_text_hidden_behind_a_real_media_header_is_still_read(cat):
    # a valid ID3 tag, then the class list with a NUL after every two characters: not "text", not UTF-16
    header = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10)
    hidden = b"".join(CLASS_LIST.encode()[i:i + 2] + b"\x00" for i in range(0, len(CLASS_LIST), 2)) * 3
    ex = upload(cat, multipart(file_part("song.mp3", header + hidden, "audio/mpeg")))
    assert isinstance(ex, Extraction) and any("A820106510023" in t for t in ex.texts)
    assert ex.rebuild([t.replace("A820106510023", "[UPN_1]") for t in ex.texts]) is None  # cannot rewrite: block


def test_base64_text_declared_as_an_image_is_scanned(cat):
    import base64
    import json
    b64 = base64.b64encode(CLASS_LIST.encode()).decode()
    body = json.dumps({"contents": [{"parts": [{"text": "Describe"}, {"inlineData": {"mimeType": "image/png",
                                                                                        "data": b64}}]}]}).encode()
    ex = extract_for(cat.service("gemini-api"), body, "application/json", "/v1beta/models/m:generateContent")
    assert isinstance(ex, Extraction) and CLASS_LIST in ex.texts
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"filename": "a.png", "file_data": "data:image/png;base64," + b64}}]}]}).encode()
    ex = extract_for(cat.service("openai-api"), body, "application/json", "/v1/chat/completions")
    assert isinstance(ex, Extraction) and CLASS_LIST in ex.texts


def test_raw_upload_body_is_the_file(cat):
    # Gemini resumable upload / ChatGPT blob PUT: the body is the file itself
    data = "Leo Fischer, Year 9\n".encode("utf-16")
    ex = upload(cat, data, "text/plain", "gemini-api", "/upload/v1beta/files?upload_id=abc&upload_protocol=resumable")
    assert ex.texts == ["Leo Fischer, Year 9\n"]
    assert ex.rebuild(["[PUPIL_1], Year 9\n"]) == "[PUPIL_1], Year 9\n".encode("utf-16")
    pdf = make_pdf("Leo Fischer")
    ex = upload(cat, pdf, "application/octet-stream", "chatgpt", "/file-AbC123?se=2025&sig=x")
    assert "Leo Fischer" in ex.texts[0]
    meta = b'{"file": {"display_name": "Leo Fischer report"}}'
    ex = upload(cat, meta, "application/json", "gemini-api", "/upload/v1beta/files")
    assert ex.texts == ["Leo Fischer report"]


def test_multipart_related_with_json_metadata_and_base64_part(cat):
    boundary = "gc0p4Jq0M2Yt08jU534c0p"
    body = multipart(
        ({"Content-Type": "application/json; charset=UTF-8"}, b'{"file":{"display_name":"Leo Fischer notes"}}'),
        ({"Content-Type": "text/plain", "Content-Transfer-Encoding": "base64"},
         b"TGVvIEZpc2NoZXIgaXMgaW4gOVI="),  # "Leo Fischer is in 9R"
        boundary=boundary)
    ctype = f'multipart/related; boundary="{boundary}"'
    ex = upload(cat, body, ctype, "gemini-api", "/upload/v1beta/files?uploadType=multipart")
    assert ex.texts == ["Leo Fischer notes", "Leo Fischer is in 9R"]
    new = ex.rebuild(["[PUPIL_1] notes", "[PUPIL_1] is in 9R"])
    assert upload(cat, new, ctype, "gemini-api", "/upload/v1beta/files?uploadType=multipart").texts == \
        ["[PUPIL_1] notes", "[PUPIL_1] is in 9R"]  # what the proxy reads back before sending it
    assert b'"display_name": "[PUPIL_1] notes"' in new or b'"display_name":"[PUPIL_1] notes"' in new
    import base64
    encoded = new.split(b"\r\n\r\n")[2].split(b"\r\n")[0]
    assert base64.b64decode(encoded) == b"[PUPIL_1] is in 9R"


def test_multipart_preamble_epilogue_filename_star_and_boundary_in_quotes(cat):
    body = (b"preamble\r\n" + multipart(
        ({"Content-Disposition": "form-data; name=\"file\"; filename*=UTF-8''Zo%C3%AB.txt",
          "Content-Type": "text/plain"}, "Zoë's targets".encode())) + b"epilogue")
    ex = upload(cat, body, f'multipart/form-data; boundary="{BOUNDARY}"')
    assert ex.texts == ["Zoë's targets", "Zoë.txt"]
    assert ex.rebuild(["[PUPIL_1]'s targets", "Zoë.txt"]) == body.replace("Zoë".encode(), b"[PUPIL_1]")


def test_malformed_multipart_falls_back_or_blocks(cat):
    truncated = multipart(file_part("a.txt", b"Leo Fischer", "text/plain"))[:-30]
    ex = upload(cat, truncated)
    assert isinstance(ex, Extraction) and "Leo Fischer" in ex.texts[0]  # scanned as whole text
    missing_boundary = extract_for(cat.service("openai-api"), b"\x00\x01" * 100, "multipart/form-data", "/v1/files")
    assert isinstance(missing_boundary, Unreadable)
