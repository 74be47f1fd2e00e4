"""Spreadsheets (.xlsx): every sheet read as text, and redacted cells written back into the workbook.

The text is each sheet's name on a line, then its rows, cells separated by tabs, values as Excel shows them (dates,
numbers) - read by openpyxl. A redaction must lie within one cell. A changed text cell gets its new text in the
shared string table it points to (every cell showing that string shows the new text; the proxy's read-back refuses
the file if that is not what the engine decided for them all); any other changed cell (a number such as a ULN, a
date of birth, a formula's result) becomes a plain text cell. A change in a sheet's name, or across cells, cannot be
written: rebuild gives None and the proxy blocks the upload.

What openpyxl reads is not all the file holds: shared strings no cell points to, cells outside the declared
dimension, a second cell at the same reference. So the sheets are read with their dimension ignored, a cell
counts as read only when openpyxl returned it, the unreferenced shared strings follow the sheets as lines of their
own (rewritten in the table like any other), a workbook with two cells at one reference or two sheets of one name
is refused, and everything else in a sheet part is read (read only) by package.py.
"""
from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable

from lxml import etree
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple

from .base import CannotRead, Extraction
from .edits import XML_PARSER, Piece, apply_edits, placeholder_edits, rezip, set_text, to_xml

_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SHARED_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def xlsx_extraction(data: bytes, zf: zipfile.ZipFile) -> tuple[Extraction, Callable[[str, etree._Element], bool]]:
    """The workbook's text and how to write it back, and `owned(part, element)`: does this text read (and rewrite)
    the element's text? (The rest of the package is read by package.py.)"""
    pieces = _pieces(data)
    owned_cells, shared_path, unreferenced = _coverage(zf, {p.slot for p in pieces if p.slot is not None})
    for index, value in unreferenced:
        pieces += [Piece("\n"), Piece(value, index)]
    text = "".join(p.text for p in pieces)

    def owned(part: str, element: etree._Element) -> bool:
        tag, parent = element.tag, element.getparent()
        if part in owned_cells:
            if tag == f"{_S}v" or (tag == f"{_S}t" and parent is not None and parent.tag in (f"{_S}is", f"{_S}r")):
                cell = next(element.iterancestors(f"{_S}c"), None)
                return cell is not None and cell.get("r") in owned_cells[part]
            return False
        # every item of the table is read: through the cells that show it, or as an unreferenced string
        return (part == shared_path and tag == f"{_S}t" and parent is not None
                and (parent.tag == f"{_S}si" or (parent.tag == f"{_S}r" and parent.getparent() is not None
                                                  and parent.getparent().tag == f"{_S}si")))

    if not text.strip():
        return Extraction.empty(data, "xlsx", ["document_without_text"]), owned

    def rebuild(new: list[str]) -> bytes | None:
        edits = placeholder_edits(text, new[0])
        fresh = [Piece(p.text, p.slot) for p in pieces]  # a copy to edit
        if edits is None or not apply_edits(fresh, edits):
            return None
        changed = {p.slot: p.text for p, old in zip(fresh, pieces) if p.slot is not None and p.text != old.text}
        return _rewrite(zf, changed)

    return Extraction([text], data, rebuild, "xlsx"), owned


def _coverage(zf: zipfile.ZipFile, read: set) -> tuple[dict[str, set[str]], str | None, list[tuple[int, str]]]:
    """Which cells of each sheet part openpyxl read (by reference), the shared string table's path, and the
    (index, text) of each shared string no read cell points to."""
    paths, shared_path = _parts(zf)
    owned: dict[str, set[str]] = {}
    referenced: set[int] = set()
    for title, path in paths.items():
        seen: set[str] = set()
        owned[path] = set()
        for cell in etree.fromstring(zf.read(path), XML_PARSER).iter(f"{_S}c"):
            ref = cell.get("r")
            if ref in seen:
                raise CannotRead("file_corrupt:xlsx")  # two cells at one reference: openpyxl shows only one
            seen.add(ref)
            try:
                at = (title, *coordinate_to_tuple(ref)) if ref else None
            except ValueError:
                at = None
            if at in read:
                owned[path].add(ref)
                if cell.get("t") == "s":
                    referenced.add(int(cell.findtext(f"{_S}v")))
    unreferenced = []
    if shared_path is not None and shared_path in zf.namelist():
        items = etree.fromstring(zf.read(shared_path), XML_PARSER).findall(f"{_S}si")
        for index, item in enumerate(items):
            # as openpyxl reads an item: its plain text, then its rich-text runs (phonetic runs: package.py)
            value = (item.findtext(f"{_S}t") or "") + "".join(t.text or "" for t in item.iterfind(f"{_S}r/{_S}t"))
            if index not in referenced and value.strip():
                unreferenced.append((index, value))
    return owned, shared_path, unreferenced


def _pieces(data: bytes) -> list[Piece]:
    """Sheet names and rows as text; each non-empty cell a piece whose slot is (sheet name, row, column)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if len({ws.title for ws in wb.worksheets}) != len(wb.worksheets):
            raise CannotRead("file_corrupt:xlsx")  # cells are found by sheet name
        lines: list[list[Piece]] = []
        for ws in wb.worksheets:
            ws.reset_dimensions()  # the declared dimension is the sender's word: read every row and cell
            lines.append([Piece(str(ws.title))])
            for row in ws.iter_rows():
                cells = [Piece(str(c.value), (ws.title, c.row, c.column)) if c.value is not None else Piece("")
                         for c in row]
                if any(p.text for p in cells):
                    line = []
                    for i, cell in enumerate(cells):
                        line += [Piece("\t")] * (i > 0) + [cell]
                    lines.append(line)
    finally:
        wb.close()
    out: list[Piece] = []
    for i, line in enumerate(lines):
        out += [Piece("\n")] * (i > 0) + line
    return out


def _rewrite(zf: zipfile.ZipFile, changed: dict[tuple[str, int, int] | int, str]) -> bytes | None:
    paths, shared_path = _parts(zf)
    trees: dict[str, etree._Element] = {}
    cells: dict[str, dict[str, etree._Element]] = {}  # sheet path -> cell reference ("B2") -> <c>
    shared: dict[int, str] = {}
    for slot, text in changed.items():
        if isinstance(slot, int):  # a shared string no cell points to
            if shared.setdefault(slot, text) != text:
                return None
            continue
        title, row, column = slot
        path = paths.get(title)
        if path is None:
            return None
        if path not in trees:
            trees[path] = etree.fromstring(zf.read(path), XML_PARSER)
            cells[path] = {c.get("r"): c for c in trees[path].iter(f"{_S}c")}
        cell = cells[path].get(f"{get_column_letter(column)}{row}")
        if cell is None:
            return None
        if cell.get("t") == "s":
            index = int(cell.findtext(f"{_S}v"))
            if shared.setdefault(index, text) != text:
                return None  # one shared string, two different redactions
            continue
        for child in list(cell):
            cell.remove(child)
        cell.set("t", "inlineStr")
        set_text(etree.SubElement(etree.SubElement(cell, f"{_S}is"), f"{_S}t"), text)
    if shared:
        if shared_path is None:
            return None
        table = trees.setdefault(shared_path, etree.fromstring(zf.read(shared_path), XML_PARSER))
        items = table.findall(f"{_S}si")
        for index, text in shared.items():
            for child in list(items[index]):
                items[index].remove(child)
            set_text(etree.SubElement(items[index], f"{_S}t"), text)
    return rezip(zf, {path: to_xml(tree) for path, tree in trees.items()})


def _parts(zf: zipfile.ZipFile) -> tuple[dict[str, str], str | None]:
    """Sheet name -> the zip path of its XML, and the shared string table's path, from the workbook's
    relationships."""
    workbook = etree.fromstring(zf.read("xl/workbook.xml"), XML_PARSER)
    rels = list(etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"), XML_PARSER).iter(f"{_REL}Relationship"))

    def path(target: str) -> str:
        return target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)

    targets = {r.get("Id"): path(r.get("Target", "")) for r in rels}
    sheets = {sheet.get("name"): targets.get(sheet.get(f"{_R}id"), "") for sheet in workbook.iter(f"{_S}sheet")}
    shared = next((path(r.get("Target", "")) for r in rels if r.get("Type") == _SHARED_TYPE), None)
    return sheets, shared
