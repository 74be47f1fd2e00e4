"""Writing a redaction back into a document: which spans became which placeholders, and which pieces of the
document (text nodes, cells) carry them.

A document's text is a sequence of pieces: editable ones (a Word text node, a spreadsheet cell) and fixed separators
(line and cell breaks). The engine returns the redacted text only; `placeholder_edits` recovers the replaced spans,
and `apply_edits` puts each placeholder where its span begins and removes the rest of the span from the pieces it
covers. A span over a separator cannot be carried: the document then cannot be rewritten (the proxy blocks it).
"""
from __future__ import annotations

import bisect
import copy
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from lxml import etree

from detectors.placeholders import PLACEHOLDER_RE

# Office XML from an upload is hostile input: no entity expansion, no network.
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass
class Piece:
    text: str
    slot: Any = None  # where the text lives in the document (an XML node, a cell); None for a separator


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


def apply_edits(pieces: list[Piece], edits: list[tuple[int, int, str]]) -> bool:
    """Change the pieces' texts as `edits` say; False if an edit covers a separator."""
    starts, offset = [], 0
    for piece in pieces:
        starts.append(offset)
        offset += len(piece.text)
    for start, end, replacement in sorted(edits, reverse=True):  # right to left: earlier offsets stay valid
        first_candidate = max(0, bisect.bisect_right(starts, start) - 1)
        covered = [i for i in range(first_candidate, bisect.bisect_left(starts, end))
                   if start < starts[i] + len(pieces[i].text)]
        if not covered or any(pieces[i].slot is None for i in covered):
            return False  # the span runs over a paragraph, cell or line boundary
        first, last = covered[0], covered[-1]
        head = pieces[first].text[:start - starts[first]]
        tail = pieces[last].text[end - starts[last]:]
        for i in covered:
            pieces[i].text = ""
        pieces[first].text = head + replacement + (tail if first == last else "")
        if first != last:
            pieces[last].text = tail
    return True


def rezip(zf: zipfile.ZipFile, replaced: dict[str, bytes]) -> bytes:
    """The archive again, member for member, with `replaced` members' new contents."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as new:
        for info in zf.infolist():
            data = replaced[info.filename] if info.filename in replaced else zf.read(info)
            # a copy: writing records offsets in the ZipInfo, which would spoil later reads of `zf`
            new.writestr(copy.copy(info), data, compress_type=info.compress_type)
    return out.getvalue()


def set_text(node: etree._Element, text: str) -> None:
    """An Office XML text node's new text; leading or trailing spaces are kept only when the node says so."""
    node.text = text
    if text != text.strip():
        node.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def to_xml(tree: etree._Element) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True)
