"""Document properties (core, extended and custom: docProps/core.xml, app.xml, custom.xml) and who wrote what
(comment and tracked-change authors, their initials, the people list): read and rewritten.

Every Word, Excel and PowerPoint file carries some - an author and a "last modified by" at least, often a company,
a manager, a title and custom properties - so a name there must not refuse the whole file. They are read as lines
after the document's own text, scanned by the same engine, and a redaction is written into the property in place:
the file goes on with its metadata cleaned. Which parts are properties is decided by their content type (a part
that only calls itself docProps/core.xml, undeclared, is read, read only, by package.py like any other part).

Every text and attribute value is read except timestamps and flags of their exact shape (created, modified,
"false"), so nothing in these parts is skipped by name. Authorship is the same story spread over the package: every
comment and every tracked change names its author (`w:author`, `w:initials`; a workbook's comment `<author>` list;
the people and persons parts' display names and user ids). Those attributes and elements, in every XML part that
has them, are read and rewritten here too, and package.py leaves them to this module.
"""
from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

from .base import CannotRead, Extraction
from .edits import XML_PARSER, Piece, apply_edits, placeholder_edits, rezip, to_xml
from .fields import opaque

__all__ = ["PROPERTY_TYPES", "AUTHORSHIP", "metadata_parts", "with_properties"]

PROPERTY_TYPES = re.compile(r"(?:package\.core-properties|officedocument\.extended-properties|"
                            r"officedocument\.custom-properties)\+xml$")
# What cannot spell a name: numbers, W3C timestamps, booleans, GUIDs and hashes (fields.opaque).
_VALUE = re.compile(r"^\s*(?:[\d\s.,:%+\-eE]*|\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}"
                    r"|\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?)?|true|false)\s*$")
_XML_NS = "{http://www.w3.org/"  # xsi:type, xml:lang: schema machinery, not content
# Attributes (and, for `author`, elements) that name the person who wrote a comment or a change, by local name.
AUTHORSHIP = frozenset({"author", "initials", "displayName", "userId"})
_AUTHORSHIP_BYTES = re.compile(rb"author|initials|displayName|userId")


def metadata_parts(zf: zipfile.ZipFile, types: dict[str, str], declared: dict[str, str]) -> tuple[list[str],
                                                                                                  list[str]]:
    """The property parts and the other XML parts that name an author, in package order. A property part is
    declared as one by name (`declared`: the Overrides, as Office writes them): a Default that made every .xml a
    "property" would otherwise hand the document's own body to this module as well as to its rewriter."""
    properties, authored = [], []
    for name, ctype in types.items():
        if PROPERTY_TYPES.search(declared.get(name, "")):
            properties.append(name)
        elif ctype.endswith("xml") and _AUTHORSHIP_BYTES.search(zf.read(name)):
            authored.append(name)
    return properties, authored


def _readable(value: str | None) -> bool:
    return bool(value and value.strip()) and not _VALUE.match(value) and not opaque(value.strip())


def _parse(zf: zipfile.ZipFile, names: list[str]) -> dict[str, etree._Element]:
    try:
        return {name: etree.fromstring(zf.read(name), XML_PARSER) for name in names}
    except etree.XMLSyntaxError:
        raise CannotRead("file_corrupt:office") from None


def _pieces(trees: dict[str, etree._Element], authored: frozenset[str] = frozenset()) -> list[Piece]:
    """Each text, tail and attribute value of the property parts, and each authorship attribute or element of the
    `authored` parts, a line each; its slot says where it lives."""
    out: list[Piece] = []
    for name, root in trees.items():
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue  # XML comments and processing instructions are not read by Office
            if name in authored:
                if etree.QName(element).localname == "author" and _readable(element.text):
                    out += [Piece(element.text, (element, None)), Piece("\n")]
                for key, value in element.attrib.items():
                    if etree.QName(key).localname in AUTHORSHIP and _readable(value):
                        out += [Piece(value, (element, key)), Piece("\n")]
                continue
            if _readable(element.text):
                out += [Piece(element.text, (element, None)), Piece("\n")]
            for key, value in element.attrib.items():
                if not key.startswith(_XML_NS) and _readable(value):
                    out += [Piece(value, (element, key)), Piece("\n")]
            if _readable(element.tail):
                out += [Piece(element.tail, (element, "tail")), Piece("\n")]
    return out


def _write_back(pieces: list[Piece]) -> None:
    for piece in pieces:
        if piece.slot is None:
            continue
        element, where = piece.slot
        if where is None:
            element.text = piece.text
        elif where == "tail":
            element.tail = piece.text
        else:
            element.set(where, piece.text)


def with_properties(main: Extraction, zf: zipfile.ZipFile, parts: tuple[list[str], list[str]]) -> Extraction:
    """`main` (a document's own text, one text or none) with the property and authorship lines added after it
    (`parts` from metadata_parts); rebuild writes the body through `main` and these here, into the parts as
    `main` rewrote them. A span across the two cannot be written (None: blocked)."""
    names, authored = parts[0] + parts[1], frozenset(parts[1])
    pieces = _pieces(_parse(zf, names), authored)
    if not pieces:
        return main
    props = "".join(p.text for p in pieces)
    head = main.texts[0] if main.texts else None
    cut = len(head) + 1 if head is not None else 0
    text = props if head is None else head + "\n" + props

    def rebuild(new: list[str]) -> bytes | None:
        edits = placeholder_edits(text, new[0])
        if edits is None:
            return None
        body = [e for e in edits if head is not None and e[1] <= len(head)]
        inside = [(s - cut, e - cut, r) for s, e, r in edits if s >= cut]
        if len(body) + len(inside) != len(edits):
            return None  # a redaction over the line between the body and the properties
        data = main.original
        if head is not None:
            new_head = head
            for start, end, replacement in sorted(body, reverse=True):
                new_head = new_head[:start] + replacement + new_head[end:]
            data = main.rebuild([new_head, *new[1:]])
            if data is None:
                return None
        if inside:
            rewritten = zipfile.ZipFile(io.BytesIO(data))  # the body's edits are in the same parts: keep them
            trees = _parse(rewritten, names)
            fresh = _pieces(trees, authored)
            if not apply_edits(fresh, inside):
                return None
            _write_back(fresh)
            data = rezip(rewritten, {n: to_xml(t) for n, t in trees.items()})
        return data

    notes = [n for n in main.notes if n != "document_without_text"]
    return Extraction([text, *main.texts[1:]], main.original, rebuild, main.adapter, notes, main.conversation)
