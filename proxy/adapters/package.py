"""Everything else in an Office package: the parts the Word and Excel rewriters do not own, read, never rewritten.

A .docx or .xlsx is a zip of parts whose kinds are listed in [Content_Types].xml; which parts exist is up to the
sender, not to a list of names we know. SmartArt, charts and chart sheets,
comments and threaded comments, glossary documents, altChunk imports, image alt text (docPr descr/title), formulas,
headers and footers, data-validation lists, defined names, strict-OOXML parts, and the text in its pictures (OCR,
when the proxy reads pictures: images.py) - all are read here, as one text.
They are scanned but cannot be rewritten: a redaction there makes rebuild give None, and the proxy blocks the file.
Document properties (core, app, custom) and who wrote comments and changes are read and rewritten by
properties.py, and skipped here.
A part we cannot read (an OLE object, a macro project, an unknown binary) makes the file CannotRead.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable

from lxml import etree

from .base import CannotRead
from .edits import XML_PARSER
from .fields import opaque
from .images import current_reader, image_kind
from .properties import AUTHORSHIP

__all__ = ["package_text"]

_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_MEDIA = re.compile(r"^(?:image|audio|video)/|font|obfuscated")
_EMBEDDED_DOCUMENT = re.compile(r"officedocument\.(?:wordprocessingml|spreadsheetml|presentationml)\.(?:document|sheet|"
                                r"presentation)|package$|macroEnabled|\.template")
# Formatting definitions: style, font and theme names and settings, written by the application, not the author.
# The reviewed list of parts not read (a font called "Times New Roman" is not a person).
_FORMATTING = re.compile(r"\.(?:styles|stylesWithEffects|theme|themeOverride|fontTable|settings|webSettings|numbering|"
                         r"calcChain|tableStyles|presProps|viewProps)\+xml$")
_TEXT_TYPES = re.compile(r"^text/|html|rtf|afchunk", re.IGNORECASE)
_TOKEN = re.compile(r"^[A-Za-z0-9_.:#/{}\-]*$")
_NUMBERISH = re.compile(r"^[\d\s.,:%+\-eE]*$")

# Written by the application, never by a person: which program and template made the file.
_MACHINE_TAGS = {"Application", "AppVersion", "Template", "DocSecurity", "generator"}
# Spreadsheet headers and footers carry formatting codes glued to the words ("&LLeo Fischer&R&P"): read without them.
_HEADER_FOOTER = {"oddHeader", "evenHeader", "firstHeader", "oddFooter", "evenFooter", "firstFooter"}
_HEADER_CODE = re.compile(r'&(?:"[^"]*"|K[0-9A-Fa-f]{6}|K\d{2}[+-]\d{3}|\d+|.)', re.DOTALL)
# `owned(part, element)` -> True when the rewriter of the main text already reads this element's text.
Owned = Callable[[str, etree._Element], bool]


def content_types(zf: zipfile.ZipFile, *, overrides_only: bool = False) -> dict[str, str]:
    """Every member's content type, from [Content_Types].xml (Override by part name, else Default by extension);
    with `overrides_only`, only the members declared one by one."""
    try:
        root = etree.fromstring(zf.read("[Content_Types].xml"), XML_PARSER)
    except KeyError:
        return {}
    defaults = {d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iter(f"{_CT}Default")}
    overrides = {o.get("PartName", "").lstrip("/"): o.get("ContentType", "") for o in root.iter(f"{_CT}Override")}
    if overrides_only:
        return {n: overrides[n] for n in zf.namelist() if n in overrides}
    return {n: overrides.get(n) or defaults.get(posixpath.splitext(n)[1].lstrip(".").lower(), "")
            for n in zf.namelist()}


def _words(value: str | None) -> bool:
    """Text worth reading: not empty, not a number, not one machine token (rId5, 00A1B2C3, center, 0x0409)."""
    if not value or not value.strip() or _NUMBERISH.match(value) or opaque(value.strip()):
        return False
    token = value.strip()
    return not (_TOKEN.match(token) and (token[0].islower() or token.isupper() or any(c.isdigit() for c in token)))


def _xml_text(name: str, data: bytes, owned: Owned, authored: frozenset[str] = frozenset()) -> list[str]:
    try:
        root = etree.fromstring(data, XML_PARSER)
    except etree.XMLSyntaxError:
        raise CannotRead("file_corrupt:office") from None
    out: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions are not part of the document
        local = etree.QName(element).localname
        by_author = name in authored  # authorship here is read and rewritten by properties.py
        text = _HEADER_CODE.sub(" ", element.text or "") if local in _HEADER_FOOTER else element.text
        if (not owned(name, element) and _words(text) and local not in _MACHINE_TAGS
                and not (by_author and local == "author")):
            out.append(text.strip())
        if _words(element.tail):
            out.append(element.tail.strip())
        out.extend(v.strip() for k, v in element.attrib.items() if _words(v) and not k.startswith("{http://www.w3")
                   and not (by_author and etree.QName(k).localname in AUTHORSHIP))
    return out


def package_text(zf: zipfile.ZipFile, owned: Owned, read_file: Callable[[bytes, str], list[str]],
                 metadata: tuple[list[str], list[str]] = ([], [])) -> str:
    """The text of every part of the package not already read by `owned`'s rewriter, a line each.
    `read_file(data, name)` reads an embedded document (a .docx inside a .docx) and returns its texts;
    `metadata` (properties.metadata_parts) names the property parts, and the parts whose authorship, that
    properties.py reads."""
    types = content_types(zf)
    properties, authored = frozenset(metadata[0]), frozenset(metadata[1])
    lines: list[str] = []
    for info in zf.infolist():
        name, ctype = info.filename, types.get(info.filename, "")
        if name.endswith("/") or name == "[Content_Types].xml" or _FORMATTING.search(ctype) or name in properties:
            continue
        data = zf.read(info)
        if name.endswith(".rels") or "relationships" in ctype:
            lines += [t for t in _external_targets(data)]
        elif ctype.endswith("xml") or (not ctype and data.lstrip().startswith(b"<")):
            lines += _xml_text(name, data, owned, authored)
        elif ctype.endswith("vmlDrawing") or name.lower().endswith(".vml"):
            lines += _vml_text(name, data, owned)  # legacy shapes: every comment of a spreadsheet has one
        elif _MEDIA.search(ctype) or "printerSettings" in ctype:
            if _readable_media(data):
                # Skipped, a class list screenshot pasted into a document left with the file unread, as did text
                # or a document under a picture's name. Read-only here: a name in it blocks the file, and a
                # picture that cannot be read refuses it.
                lines += read_file(data, name)
            continue  # sounds, videos, fonts, printer settings; pictures when the proxy reads none (no OCR)
        elif _EMBEDDED_DOCUMENT.search(ctype) or data.startswith(b"PK\x03\x04") or data.startswith(b"%PDF"):
            lines += read_file(data, name)  # an embedded workbook or document: read it whole, or CannotRead
        elif _TEXT_TYPES.search(ctype) or name.lower().endswith((".mht", ".html", ".htm", ".txt", ".rtf")):
            lines.append(data.decode("utf-8", "replace"))  # altChunk imports: read as text
        else:
            raise CannotRead(f"file_embedded_object:{ctype.rsplit('.', 1)[-1][:40] or 'unknown'}")
    return "\n".join(lines)


def _readable_media(data: bytes) -> bool:
    """A part declared a picture, sound or font whose bytes are something we read, as an upload would be: a picture
    (OCR, when the proxy reads pictures: images.py), a document, or text. Told by its bytes, never the declared
    type; anything else (a real sound, a font, a picture with no OCR) is skipped."""
    from .files import sniff_text  # files.py imports this module, so its text sniffing is imported when used

    return ((image_kind(data) is not None and current_reader() is not None)
            or data.startswith((b"PK\x03\x04", b"%PDF")) or sniff_text(data) is not None)


_LENIENT = etree.HTMLParser(no_network=True)


def _vml_text(name: str, data: bytes, owned: Owned) -> list[str]:
    """VML as Office writes it is often not well-formed XML (`<br>` left open): read it as XML if it is, else with
    a lenient parser, every text, tail and attribute value alike."""
    try:
        return _xml_text(name, data, owned)
    except CannotRead:
        pass
    root = etree.fromstring(data, _LENIENT)
    out: list[str] = []
    for element in (root.iter() if root is not None else ()):
        out += [v.strip() for v in (element.text, element.tail) if isinstance(element.tag, str) and _words(v)]
        out += [v.strip() for v in element.attrib.values() if _words(v)]
    return out


def _external_targets(data: bytes) -> list[str]:
    """Hyperlinks and other external targets: a link can spell a name ("https://x/Leo Fischer")."""
    try:
        root = etree.fromstring(data, XML_PARSER)
    except etree.XMLSyntaxError:
        raise CannotRead("file_corrupt:office") from None
    return [r.get("Target", "") for r in root if r.get("TargetMode") == "External" and r.get("Target")]
