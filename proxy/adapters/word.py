"""Word documents (.docx): every text in the file is read, and redacted texts are written back in place.

A .docx is a zip of XML parts. The text of the body, tables, headers, footers, footnotes, endnotes and comments -
tracked deletions and field codes included, since they leave with the file - are read as one text (the document
properties, title and author among them, follow it: properties.py): paragraphs on lines, table cells separated by
tabs, so that a recogniser sees "DOB<tab>14/03/2011" together. Each character of that text comes from one XML text node, or is a
separator. A redaction replaces a span with a placeholder; the placeholder goes into the node where the span starts
and the rest of the span is removed from the nodes it covers, so formatting and everything else in the file stay as
they were. A change the nodes cannot carry (across a paragraph or cell boundary) makes rebuild give None: the proxy
then blocks the upload rather than send it unredacted.
"""
from __future__ import annotations

import re
import zipfile

from lxml import etree

from .base import Extraction
from .edits import XML_PARSER, Piece, apply_edits, placeholder_edits, rezip, set_text, to_xml

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARTS = re.compile(r"^word/(?:document|header\d*|footer\d*|footnotes|endnotes|comments\w*)\.xml$")
_TEXT_NODES = {f"{_W}t", f"{_W}delText", f"{_W}instrText"}


def word_extraction(data: bytes, zf: zipfile.ZipFile) -> Extraction:
    text = "".join(p.text for p in _pieces(_parse(zf)))
    if not text.strip():
        return Extraction.empty(data, "docx", ["document_without_text"])

    def rebuild(new: list[str]) -> bytes | None:
        edits = placeholder_edits(text, new[0])
        if edits is None:
            return None
        trees = _parse(zf)  # a fresh copy to edit
        pieces = _pieces(trees)
        if not apply_edits(pieces, edits) or "".join(p.text for p in pieces) != new[0]:
            return None
        _write_back(pieces)
        return rezip(zf, {name: to_xml(tree) for name, tree in trees.items()})

    return Extraction([text], data, rebuild, "docx")


def word_owned(part: str, element: etree._Element) -> bool:
    """Does word_extraction read (and rewrite) this element's text? The rest of the package is read by package.py."""
    return element.tag in _TEXT_NODES and bool(_PARTS.match(part))


def _parse(zf: zipfile.ZipFile) -> dict[str, etree._Element]:
    return {name: etree.fromstring(zf.read(name), XML_PARSER) for name in _text_parts(zf)}


def _text_parts(zf: zipfile.ZipFile) -> list[str]:
    names = [n for n in zf.namelist() if _PARTS.match(n)]
    names.sort(key=lambda n: (n != "word/document.xml", n))  # the body first
    return names


def _pieces(trees: dict[str, etree._Element]) -> list[Piece]:
    out: list[Piece] = []
    for root in trees.values():
        _walk(root, out)
    return out


def _walk(element: etree._Element, out: list[Piece]) -> None:
    for child in element:
        tag = child.tag
        if tag in _TEXT_NODES:
            out.append(Piece(child.text or "", child))
        elif tag == f"{_W}tab":
            out.append(Piece("\t"))
        elif tag in (f"{_W}br", f"{_W}cr"):
            out.append(Piece("\n"))
        elif tag == f"{_W}noBreakHyphen":
            out.append(Piece("-"))
        elif tag == f"{_W}p":
            _walk(child, out)
            out.append(Piece("\n"))
        elif tag == f"{_W}tr":
            cells = [c for c in child if c.tag == f"{_W}tc"]
            for i, cell in enumerate(cells):
                _walk(cell, out)
                if out and out[-1].slot is None and out[-1].text == "\n":
                    out.pop()  # a cell's last paragraph ends at the cell, not on a line of its own
                out.append(Piece("\t" if i < len(cells) - 1 else "\n"))
        elif isinstance(tag, str):
            _walk(child, out)


def _write_back(pieces: list[Piece]) -> None:
    for piece in pieces:
        node = piece.slot
        if node is not None and node.text != piece.text:
            set_text(node, piece.text)
