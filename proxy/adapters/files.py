"""Text inside files: plain-text files in any common encoding, DOCX, XLSX, PDF, other Office/ODF zips, base64.

Plain-text files are rewritten in their own encoding (BOM kept), Word documents and spreadsheets in place (word.py,
excel.py). Other binary document formats (PDF, ODF, PowerPoint) are read but not rewritten: their `rebuild` returns
None for changed texts, which tells the proxy to block rather than forward the original. Pictures and the
image-only pages of PDFs are read by OCR when the proxy gives a reader (images.py); without one, and for audio and
video, media is let through with a note. Any other binary is `CannotRead`: an unread file must not reach an AI
service.

What a file *is* is decided from its content, never from the declared type or name (both are the sender's
word): anything that decodes as text is scanned as text, and media must have the real structure of its format.

(Slightly over 350 lines: each file format's reader and rewriter sit together so that the "decided from
content" rule is applied the same way to every format in one place.)
"""
from __future__ import annotations

import base64
import binascii
import io
import re
import itertools
import zipfile
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from detectors.decode import hidden_texts as decoded_runs  # the proxy and `pupilguard scan` decode alike

from .base import CannotRead, Extraction, plus_read_only
from .excel import xlsx_extraction
from .images import current_reader, image_extraction, image_kind, pdf_scan_text
from .package import content_types, package_text
from .properties import metadata_parts, with_properties
from .word import word_extraction, word_owned

__all__ = ["TextCodec", "sniff_text", "text_extraction", "file_extraction", "base64_extraction", "decoded_runs",
           "MAX_UNZIPPED"]

MAX_UNZIPPED = 64 * 1024 * 1024  # Office files are zips: refuse to inflate zip bombs past this
_MAX_ZIP_MEMBERS = 5000


@dataclass(frozen=True)
class TextCodec:
    encoding: str
    bom: bytes = b""

    def decode(self, data: bytes) -> str:
        return data[len(self.bom):].decode(self.encoding)

    def encode(self, text: str) -> bytes:
        # Placeholders are ASCII and every other character came from this encoding, so strict is safe.
        return self.bom + text.encode(self.encoding)


_BOMS = [
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
]


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")  # Cc except \t \n \v \f \r ESC


def _looks_like_text(text: str) -> bool:
    if "\x00" in text:
        return False
    allowed = max(2, len(text) // 200)
    return sum(1 for _ in itertools.islice(_CONTROL.finditer(text), allowed + 1)) <= allowed


def sniff_text(data: bytes) -> tuple[str, TextCodec] | None:
    """Decode bytes that are meant to be text: BOM (UTF-8/16/32), BOM-less UTF-16, UTF-8, then Windows-1252.

    None for binary data (NULs or many control characters): a PNG must not be 'read' as Windows-1252 text.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            codec = TextCodec(enc, bom)
            try:
                text = codec.decode(data)
            except UnicodeDecodeError:
                return None
            return (text, codec) if _looks_like_text(text) else None
    candidates = []
    if len(data) >= 4 and len(data) % 2 == 0:
        odd_nuls, even_nuls = data[1::2].count(0), data[0::2].count(0)
        half = len(data) // 2
        if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
            candidates.append(TextCodec("utf-16-le"))
        elif even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
            candidates.append(TextCodec("utf-16-be"))
    candidates += [TextCodec("utf-8"), TextCodec("cp1252"), TextCodec("latin-1")]
    for codec in candidates:
        try:
            text = codec.decode(data)
        except UnicodeDecodeError:
            continue
        return (text, codec) if _looks_like_text(text) else None
    return None


def text_extraction(data: bytes, codec: TextCodec, text: str, adapter: str = "text") -> Extraction:
    if not text.strip():
        return Extraction.empty(data, adapter)
    return Extraction([text], data, lambda new: codec.encode(new[0]), adapter)


# --- binary documents ---------------------------------------------------------------------------------------------

def _u32(data: bytes, at: int, order: str = "big") -> int:
    return int.from_bytes(data[at:at + 4], order) if len(data) >= at + 4 else -1


def _mp3_frame(h: bytes) -> bool:
    """An MPEG audio frame header: sync, and no reserved version, layer, bitrate or sample rate."""
    return (len(h) >= 4 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0 and (h[1] >> 3) & 3 != 1 and (h[1] >> 1) & 3 != 0
            and (h[2] >> 4) not in (0, 15) and (h[2] >> 2) & 3 != 3 and h[3] & 3 != 2)


def _is_media(data: bytes) -> bool:
    """An image, audio or video file, recognised by its real structure: never by the declared type, the file
    name, or a two-byte prefix ("BMI survey..." is not a bitmap). Called only for data that is not text."""
    n = len(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data[12:16] == b"IHDR"
    if data.startswith(b"\xff\xd8\xff"):  # JPEG: SOI then a marker (APPn, DQT, SOF, COM...)
        return n > 3 and data[3] >= 0xC0
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return n >= 13
    if data[:4] == b"RIFF":  # WebP, WAV, AVI
        return data[8:12] in (b"WEBP", b"WAVE", b"AVI ") and _u32(data, 4, "little") >= 4
    if data[:4] == b"FORM":  # AIFF
        return data[8:12] in (b"AIFF", b"AIFC")
    if data[4:8] == b"ftyp":  # MP4, MOV, M4A, HEIC, AVIF, 3GP: an ISO box of a plausible size and brand
        size = _u32(data, 0)
        return 8 <= size <= n and re.fullmatch(rb"[A-Za-z0-9 ]{4}", data[8:12]) is not None
    if data.startswith(b"OggS"):
        return n >= 27 and data[4] == 0
    if data.startswith(b"fLaC"):
        return n >= 8 and data[4] & 0x7F == 0  # STREAMINFO comes first
    if data.startswith(b"\x1aE\xdf\xa3"):  # Matroska / WebM (EBML)
        return True
    if data.startswith(b"ID3"):  # MP3 with an ID3v2 tag: version 2-4 and a sync-safe size
        return n >= 10 and data[3] in (2, 3, 4) and data[4] != 0xFF and all(b < 0x80 for b in data[6:10])
    if data[:1] == b"\xff" and n >= 4:  # raw MPEG audio frames, or AAC (ADTS)
        return _mp3_frame(data) or (data[1] & 0xF6 == 0xF0 and (data[2] >> 2) & 0xF < 13)
    if data.startswith(b"BM"):  # BMP: the header's file size, pixel offset and DIB header size all agree
        size, offset, dib = _u32(data, 2, "little"), _u32(data, 10, "little"), _u32(data, 14, "little")
        return (size in (0, n) and dib in (12, 40, 52, 56, 64, 108, 124) and 14 + dib <= offset <= n)
    if data[:4] in (b"II*\x00", b"MM\x00*"):  # TIFF: the first IFD lies inside the file
        return 8 <= _u32(data, 4, "little" if data[0] == 0x49 else "big") < n
    if data.startswith(b"\x00\x00\x01\x00"):  # ICO
        return n >= 22 and data[4:6] != b"\x00\x00"
    if data.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):  # MPEG-PS / MPEG video
        return True
    if data.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):  # ASF: WMA, WMV
        return True
    if data.startswith(b"FLV\x01"):
        return True
    if data.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):  # JPEG XL
        return True
    return n >= 376 and data[0] == data[188] == data[376] == 0x47  # MPEG-TS: a sync byte every 188 bytes


_TEXTISH = bytes([0, 9, 10, 13, *range(32, 127)])
_RUN = re.compile(rb"[\x20-\x7e\t\r\n]{4,}")


def _hidden_text(data: bytes) -> str | None:
    """Text dressed up as media: a media header, then words with NULs between the letters (so that it is not
    "text"). Real images and sound are compressed or sampled bytes, mostly outside printable ASCII; a file whose
    bytes are nearly all printable or NUL gives up the text its NULs hide. None for real media."""
    sample = data[:65536]
    if len(sample.translate(None, _TEXTISH)) > 0.1 * len(sample):
        return None
    stripped = data.replace(b"\x00", b"")
    runs = _RUN.findall(stripped)
    found = sum(len(r) for r in runs)
    if found < 64 or found < 0.5 * len(stripped):
        return None
    return "\n".join(r.decode("ascii") for r in runs)


def _read_only(data: bytes, text: str, adapter: str) -> Extraction:
    """Text read from a format we cannot rewrite: rebuild with changes -> None (the proxy blocks)."""
    if not text.strip():
        return Extraction.empty(data, adapter, ["document_without_text"])
    return Extraction([text], data, lambda _new: None, adapter)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise CannotRead("file_corrupt:zip") from None
    if len(infos) > _MAX_ZIP_MEMBERS or sum(i.file_size for i in infos) > MAX_UNZIPPED:
        raise CannotRead("file_too_large:zip")
    if len({i.filename for i in infos}) != len(infos):
        raise CannotRead("file_corrupt:zip")  # two members of one name: we would read one, a reader the other
    return zf


_MAX_EMBEDDING = 3  # a document inside a document inside a document: deeper ones are refused


def _package_extraction(data: bytes, zf: zipfile.ZipFile, depth: int) -> Extraction:
    """A Word document or workbook is rewritten in place, and the document properties of any Office file
    (properties.py); every other part of the package (package.py), and any other zipped-XML format (PowerPoint
    slides, OpenDocument), is read but cannot be rewritten."""
    names = set(zf.namelist())
    if not any(n.endswith(".xml") for n in names):
        raise CannotRead("file_archive")
    if depth > _MAX_EMBEDDING:
        raise CannotRead("file_embedded_too_deep")

    def embedded(inner: bytes, name: str) -> list[str]:
        return file_extraction(inner, "", name, depth + 1).texts

    if "word/document.xml" in names:
        main, owned = word_extraction(data, zf), word_owned
    elif "xl/workbook.xml" in names:
        main, owned = xlsx_extraction(data, zf)
    else:
        main, owned = Extraction.empty(data, "office_xml", ["document_without_text"]), (lambda _n, _e: False)
    metadata = metadata_parts(zf, content_types(zf), content_types(zf, overrides_only=True))
    main = with_properties(main, zf, metadata)  # author, company, title, who commented...: cleaned, not a block
    rest = package_text(zf, owned, embedded, metadata)
    if not main.texts and rest.strip():
        main.notes = [n for n in main.notes if n != "document_without_text"]
    return plus_read_only(main, [rest], "office_parts_read_only")


def _pdf_text(data: bytes) -> list[str]:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise CannotRead("file_encrypted:pdf")
    return [page.extract_text() or "" for page in reader.pages]


def _pdf_extraction(data: bytes) -> Extraction:
    """A PDF's text, read-only. Pages without text (scans) are OCR'd when the proxy reads pictures (images.py):
    their text is scanned too, and a redaction there blocks the file like any other PDF redaction."""
    pages = _pdf_text(data)
    text = "\n".join(pages)
    images = current_reader()
    if images is None or all(p.strip() for p in pages):
        return _read_only(data, text, "pdf")
    scanned = pdf_scan_text(data, images)
    if scanned is None:
        return Extraction.empty(data, "pdf", ["image_pending"])
    ex = _read_only(data, "\n".join(t for t in (text, scanned) if t.strip()), "pdf")
    ex.notes.append("scanned_pdf")
    return ex


def file_extraction(data: bytes, mime: str = "", filename: str = "", _depth: int = 0) -> Extraction:
    """The text of one uploaded or embedded file. CannotRead for files that must not pass unread."""
    mime = (mime or "").split(";")[0].strip().lower()
    name = (filename or "").lower()
    try:
        if data.startswith(b"%PDF") or (mime == "application/pdf" and b"%PDF" in data[:1024]):
            return _pdf_extraction(data)
        if data.startswith(b"PK\x03\x04"):
            return _package_extraction(data, _open_zip(data), _depth)
    except CannotRead:
        raise
    except Exception:  # noqa: BLE001 - third-party parsers raise anything on hostile files; report, never crash
        kind = "pdf" if data.startswith(b"%PDF") else "office"
        raise CannotRead(f"file_corrupt:{kind}") from None
    # Text first: a CSV declared as image/png, or one whose first line happens to start with "BM" or "ID3", is read
    # like any text file. Only what is not text at all can be media.
    sniffed = sniff_text(data)
    if sniffed is not None:
        return text_extraction(data, sniffed[1], sniffed[0], "text_file")
    if _is_media(data):
        hidden = _hidden_text(data)
        if hidden is not None:  # scanned; it cannot be rewritten, so a needed change blocks
            return _read_only(data, hidden, "media_text")
        images, kind = current_reader(), image_kind(data)
        if images is not None and kind is not None:  # the proxy reads the text in pictures (OCR)
            return image_extraction(data, kind, images)
        return Extraction.empty(data, "media", ["media_not_scanned"])
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CannotRead("file_legacy_office")
    kind = name.rsplit(".", 1)[-1] if "." in name else (mime or "unknown")
    raise CannotRead(f"file_binary:{kind[:40]}")


# --- base64 and data: URLs inside JSON ---------------------------------------------------------------------------

_DOCUMENT_MAGIC = (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_DATA_URL = re.compile(r"^data:([^,;]*)((?:;[^,;]*)*?)(;base64)?,", re.IGNORECASE | re.DOTALL)
_B64 = re.compile(r"^[A-Za-z0-9+/\-_\s]+={0,2}\s*$")


def base64_extraction(value: str, mime: str = "", filename: str = "",
                      *, strict: bool = True) -> Extraction | None:
    """The text of a file carried as base64 (optionally a `data:` URL) inside a JSON string; rebuild re-encodes.

    strict=True (a field known to hold file data): undecodable content is CannotRead. strict=False (guessing
    in unknown JSON): None when the string is not base64 of a readable file, so it is treated as plain text.
    """
    prefix, payload = "", value
    is_b64 = True
    m = _DATA_URL.match(value)
    if m:
        prefix, payload = value[:m.end()], value[m.end():]
        mime = m.group(1) or mime
        is_b64 = bool(m.group(3))
    if not is_b64:  # data:text/plain,Hello%20there
        raw = unquote_to_bytes(payload)
        sniffed = sniff_text(raw)
        if sniffed is None:
            if strict:
                raise CannotRead("file_binary:data_url")
            return None
        text, codec = sniffed
        inner = text_extraction(raw, codec, text, "data_url")
        return _wrap(value, inner, lambda b: prefix + quote(b, safe="/:;,=?&+"))
    if not _B64.match(payload):
        if strict:
            raise CannotRead("file_not_base64")
        return None
    compact = re.sub(r"\s+", "", payload)
    urlsafe = "-" in compact or "_" in compact
    try:
        raw = base64.urlsafe_b64decode(compact) if urlsafe else base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        if strict:
            raise CannotRead("file_not_base64") from None
        return None
    # a document is read even where we were only guessing; so is a picture, when the proxy reads pictures
    picture = current_reader() is not None and image_kind(raw) is not None and _is_media(raw)
    if strict or raw.startswith(_DOCUMENT_MAGIC) or picture:
        inner = file_extraction(raw, mime, filename)
    else:
        sniffed = sniff_text(raw)
        if sniffed is None or not any(ch.isalpha() for ch in sniffed[0]):
            return None
        inner = text_extraction(raw, sniffed[1], sniffed[0], "text_file")
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return _wrap(value, inner, lambda b: prefix + encode(b).decode("ascii"))


def _wrap(original: str, inner: Extraction, encode) -> Extraction:
    def rebuild(new: list[str]) -> str | None:
        data = inner.rebuild(new)
        return None if data is None else encode(data)

    return Extraction(inner.texts, original, rebuild, inner.adapter, inner.notes)
