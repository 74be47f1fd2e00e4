"""Spreadsheets (.xlsx): every sheet read as text, and redacted cells written back into the workbook.

The text is each sheet's name on a line, then its rows, cells separated by tabs, values as Excel shows them (dates,
numbers) - read by openpyxl. A redaction must lie within one cell. A changed text cell gets its new text in the
shared string table it points to (every cell showing that string shows the new text; the proxy's read-back refuses
the file if that is not what the engine decided for them all); any other changed cell (a number such as a ULN, a
date of birth, a formula's result) becomes a plain text cell. A change in a sheet's name, or across cells, cannot be
written: rebuild gives None and the proxy blocks the upload.
"""
from __future__ import annotations

import io
import posixpath
import zipfile

from lxml import etree
from openpyxl.utils import get_column_letter

from .base import Extraction
from .edits import XML_PARSER, Piece, apply_edits, placeholder_edits, rezip, set_text, to_xml

_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SHARED_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def xlsx_extraction(data: bytes, zf: zipfile.ZipFile) -> Extraction:
    pieces = _pieces(data)
    text = "".join(p.text for p in pieces)
    if not text.strip():
        return Extraction.empty(data, "xlsx", ["document_without_text"])

    def rebuild(new: list[str]) -> bytes | None:
        edits = placeholder_edits(text, new[0])
        fresh = [Piece(p.text, p.slot) for p in pieces]  # a copy to edit
        if edits is None or not apply_edits(fresh, edits):
            return None
        changed = {p.slot: p.text for p, old in zip(fresh, pieces) if p.slot is not None and p.text != old.text}
        return _rewrite(zf, changed)

    return Extraction([text], data, rebuild, "xlsx")


def xlsx_owned(part: str, element: etree._Element) -> bool:
    """Does xlsx_extraction read this element's text: a cell's value or inline string, a shared string? (openpyxl
    reads them through the cells.) Formulas, headers, validations and the rest are read by package.py."""
    tag = element.tag
    if part.startswith("xl/worksheets/"):
        return tag == f"{_S}v" or (tag == f"{_S}t" and element.getparent() is not None
                                   and element.getparent().tag in (f"{_S}is", f"{_S}r"))
    return part == "xl/sharedStrings.xml" and tag == f"{_S}t"


def _pieces(data: bytes) -> list[Piece]:
    """Sheet names and rows as text; each non-empty cell a piece whose slot is (sheet name, row, column)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        lines: list[list[Piece]] = []
        for ws in wb.worksheets:
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


def _rewrite(zf: zipfile.ZipFile, changed: dict[tuple[str, int, int], str]) -> bytes | None:
    paths, shared_path = _parts(zf)
    trees: dict[str, etree._Element] = {}
    cells: dict[str, dict[str, etree._Element]] = {}  # sheet path -> cell reference ("B2") -> <c>
    shared: dict[int, str] = {}
    for (title, row, column), text in changed.items():
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
