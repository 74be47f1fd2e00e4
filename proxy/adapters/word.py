"""Word documents (.docx): every text in the file is read, and redacted texts are written back in place.

A .docx is a zip of XML parts. The text of the body, tables, headers, footers, footnotes, endnotes and comments -
tracked deletions and field codes included, since they leave with the file - and the document's title, subject,
description and keywords are read as one text: paragraphs on lines, table cells separated by tabs, so that a
recogniser sees "DOB<tab>14/03/2011" together. Each character of that text comes from one XML text node, or is a
separator. A redaction replaces a span with a placeholder; the placeholder goes into the node where the span starts
and the rest of the span is removed from the nodes it covers, so formatting and everything else in the file stay as
they were. A change the nodes cannot carry (across a paragraph or cell boundary) makes rebuild give None: the proxy
then blocks the upload rather than send it unredacted.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from detectors.placeholders import PLACEHOLDER_RE

from .base import Extraction

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARTS = re.compile(r"^word/(?:document|header\d*|footer\d*|footnotes|endnotes|comments\w*)\.xml$")
_PROPERTIES = "docProps/core.xml"
_PROPERTY_TAGS = {"{http://purl.org/dc/elements/1.1/}title", "{http://purl.org/dc/elements/1.1/}subject",
                  "{http://purl.org/dc/elements/1.1/}description",
                  "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}keywords"}
_TEXT_NODES = {f"{_W}t", f"{_W}delText", f"{_W}instrText"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


@dataclass
class _Piece:
    text: str
    node: etree._Element | None = None  # the text node this piece is; None for a separator


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
        if not _apply(pieces, edits) or "".join(p.text for p in pieces) != new[0]:
            return None
        return _rezip(zf, trees)

    return Extraction([text], data, rebuild, "docx")


def _parse(zf: zipfile.ZipFile) -> dict[str, etree._Element]:
    return {name: etree.fromstring(zf.read(name), _PARSER) for name in _text_parts(zf)}


def _text_parts(zf: zipfile.ZipFile) -> list[str]:
    names = [n for n in zf.namelist() if _PARTS.match(n)]
    names.sort(key=lambda n: (n != "word/document.xml", n))  # the body first
    return names + ([_PROPERTIES] if _PROPERTIES in zf.namelist() else [])


def _pieces(trees: dict[str, etree._Element]) -> list[_Piece]:
    out: list[_Piece] = []
    for name, root in trees.items():
        if name == _PROPERTIES:
            for node in root:
                if node.tag in _PROPERTY_TAGS and node.text:
                    out += [_Piece(node.text, node), _Piece("\n")]
        else:
            _walk(root, out)
    return out


def _walk(element: etree._Element, out: list[_Piece]) -> None:
    for child in element:
        tag = child.tag
        if tag in _TEXT_NODES:
            out.append(_Piece(child.text or "", child))
        elif tag == f"{_W}tab":
            out.append(_Piece("\t"))
        elif tag in (f"{_W}br", f"{_W}cr"):
            out.append(_Piece("\n"))
        elif tag == f"{_W}noBreakHyphen":
            out.append(_Piece("-"))
        elif tag == f"{_W}p":
            _walk(child, out)
            out.append(_Piece("\n"))
        elif tag == f"{_W}tr":
            cells = [c for c in child if c.tag == f"{_W}tc"]
            for i, cell in enumerate(cells):
                _walk(cell, out)
                if out and out[-1].node is None and out[-1].text == "\n":
                    out.pop()  # a cell's last paragraph ends at the cell, not on a line of its own
                out.append(_Piece("\t" if i < len(cells) - 1 else "\n"))
        elif isinstance(tag, str):
            _walk(child, out)


def placeholder_edits(old: str, new: str) -> list[tuple[int, int, str]] | None:
    """The (start, end, placeholder) replacements that turn `old` into `new`, when `new` is `old` with some spans
    replaced by placeholders; None if that is not how `new` came about (or it cannot be told unambiguously)."""
    tokens = list(PLACEHOLDER_RE.finditer(new))
    segments = [new[a:b] for a, b in zip([0] + [t.end() for t in tokens], [t.start() for t in tokens] + [len(new)])]
    if not old.startswith(segments[0]):
        return None
    pos, edits = len(segments[0]), []
    for i, token in enumerate(tokens):
        after = segments[i + 1]
        if i == len(tokens) - 1:
            end = len(old) - len(after) if old.endswith(after) else -1
        else:
            end = old.find(after, pos + 1) if after else -1  # adjacent placeholders: where one ends is unknown
        if end <= pos:
            return None
        if old[pos:end] != token.group():
            edits.append((pos, end, token.group()))
        pos = end + len(after)
    return edits if pos == len(old) else None


def _apply(pieces: list[_Piece], edits: list[tuple[int, int, str]]) -> bool:
    starts, offset = [], 0
    for piece in pieces:
        starts.append(offset)
        offset += len(piece.text)
    for start, end, replacement in sorted(edits, reverse=True):  # right to left: earlier offsets stay valid
        covered = [i for i, p in enumerate(pieces) if starts[i] < end and start < starts[i] + len(p.text)]
        if not covered or any(pieces[i].node is None for i in covered):
            return False  # the span runs over a paragraph, cell or line boundary
        first, last = covered[0], covered[-1]
        head = pieces[first].text[:start - starts[first]]
        tail = pieces[last].text[end - starts[last]:]
        for i in covered:
            pieces[i].text = ""
        pieces[first].text = head + replacement + (tail if first == last else "")
        if first != last:
            pieces[last].text = tail
    for piece in pieces:
        if piece.node is not None and piece.node.text != piece.text:
            piece.node.text = piece.text
            if piece.node.tag == f"{_W}t" and piece.text != piece.text.strip():
                piece.node.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return True


def _rezip(zf: zipfile.ZipFile, trees: dict[str, etree._Element]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as new:
        for info in zf.infolist():
            if info.filename in trees:
                data = etree.tostring(trees[info.filename], xml_declaration=True, encoding="UTF-8", standalone=True)
            else:
                data = zf.read(info)
            new.writestr(info, data, compress_type=info.compress_type)
    return out.getvalue()
