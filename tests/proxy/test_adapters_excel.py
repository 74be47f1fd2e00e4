"""Spreadsheets: every sheet is read, and pupils' names, numbers and dates of birth are redacted in the cells - a
markbook goes out with [PUPIL_1] instead of a name and the marks untouched, instead of being refused."""
from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile

import openpyxl

from tests.support.proxy import upload_through
from proxy.adapters.files import file_extraction

NAME, OTHER, ULN = "Leo Fischer", "Amelia Watson", 9876543210


def as_excel_saves_it(data: bytes) -> bytes:
    """openpyxl writes each text into its cell; Excel keeps texts once, in a shared string table the cells point to.
    The same workbook, the way Excel saves it."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    src = zipfile.ZipFile(io.BytesIO(data))
    strings: list[str] = []

    def shared(m: re.Match) -> str:
        text = html.unescape(m.group(3))
        if text not in strings:
            strings.append(text)
        return f'<c r="{m.group(1)}"{m.group(2)} t="s"><v>{strings.index(text)}</v></c>'

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = src.read(info).decode()
            if info.filename.startswith("xl/worksheets/"):
                part = re.sub(r'<c r="(\w+)"((?: s="\d+")?) t="inlineStr"><is><t>(.*?)</t></is></c>', shared, part)
            elif info.filename == "xl/_rels/workbook.xml.rels":
                part = part.replace("</Relationships>", '<Relationship Id="rIdStrings" Type="http://schemas.'
                                    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                                    'Target="sharedStrings.xml"/></Relationships>')
            elif info.filename == "[Content_Types].xml":
                part = part.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            dst.writestr(info, part)
        items = "".join(f"<si><t>{html.escape(t)}</t></si>" for t in strings)
        dst.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst '
                     f'xmlns="{main}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>')
    return out.getvalue()


def markbook(sheet: str = "Year 9 maths") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["Name", "ULN", "DOB", "Test 1", "Test 2", "Total"])
    ws.append([NAME, ULN, dt.datetime(2011, 3, 14), 34, 41, "=D2+E2"])
    ws.append([OTHER, 9876543211, dt.datetime(2011, 7, 2), 28, 39, "=D3+E3"])
    ws["A2"].font = openpyxl.styles.Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return as_excel_saves_it(buf.getvalue())


def redact(text: str) -> str:
    return text.replace(NAME, "[PUPIL_1]").replace(str(ULN), "[ULN_1]").replace("2011-03-14 00:00:00", "[DOB_1]")


def test_a_markbook_is_redacted_cell_by_cell_and_the_marks_stay_numbers():
    data = markbook()
    ex = file_extraction(data)
    assert ex.adapter == "xlsx"
    assert ex.texts[0].splitlines()[:3] == ["Year 9 maths", "Name\tULN\tDOB\tTest 1\tTest 2\tTotal",
                                             f"{NAME}\t{ULN}\t2011-03-14 00:00:00\t34\t41\t"]  # no cached total
    assert b"<sst" in zipfile.ZipFile(io.BytesIO(data)).read("xl/sharedStrings.xml")
    assert ex.rebuild(ex.texts) == data  # nothing to redact: forwarded byte for byte
    new = ex.rebuild([redact(ex.texts[0]), *ex.texts[1:]])
    assert new is not None
    assert file_extraction(new).texts == [redact(ex.texts[0]), *ex.texts[1:]]  # what the proxy reads back
    ws = openpyxl.load_workbook(io.BytesIO(new)).active
    assert [c.value for c in ws[2]] == ["[PUPIL_1]", "[ULN_1]", "[DOB_1]", 34, 41, "=D2+E2"]
    assert [c.value for c in ws[3]][:2] == [OTHER, 9876543211]  # not redacted here: untouched
    assert ws["A2"].font.bold  # the cell keeps its style
    parts = zipfile.ZipFile(io.BytesIO(new))
    everything = b"".join(parts.read(n) for n in parts.namelist())
    assert NAME.encode() not in everything and str(ULN).encode() not in everything


def test_a_pupil_named_sheet_or_a_change_across_cells_cannot_be_written_so_the_upload_is_refused():
    ex = file_extraction(markbook(sheet=NAME))
    # the sheet name: formulas refer to it
    assert ex.rebuild([ex.texts[0].replace(NAME, "[PUPIL_1]"), *ex.texts[1:]]) is None
    ex = file_extraction(markbook())
    assert ex.rebuild([ex.texts[0].replace(f"{NAME}\t{ULN}", "[PUPIL_1]"), *ex.texts[1:]]) is None


def test_one_shared_string_shown_in_cells_the_engine_treated_differently_fails_the_read_back():
    wb = openpyxl.Workbook()
    wb.active.append([NAME, "note"])
    wb.active.append([NAME, "note"])
    buf = io.BytesIO()
    wb.save(buf)
    ex = file_extraction(as_excel_saves_it(buf.getvalue()))
    first_only = ex.texts[0].replace(NAME, "[PUPIL_1]", 1)
    rebuilt = ex.rebuild([first_only, *ex.texts[1:]])
    assert rebuilt is not None and file_extraction(rebuilt).texts != [first_only]  # the proxy would refuse it
    both = ex.texts[0].replace(NAME, "[PUPIL_1]")
    assert file_extraction(ex.rebuild([both, *ex.texts[1:]])).texts == [both, *ex.texts[1:]]


def test_a_spreadsheet_upload_through_the_proxy_arrives_redacted(proxy, upstream):
    ws = openpyxl.load_workbook(io.BytesIO(upload_through(proxy, upstream, "marks.xlsx", markbook()))).active
    names = [ws.cell(row, 1).value for row in (2, 3)]
    assert NAME not in names and OTHER not in names and all(n.startswith("[PERSON_") for n in names)
    assert [ws.cell(2, col).value for col in (4, 5)] == [34, 41]


def test_text_outside_the_cells_is_read_and_blocks_if_it_must_change():
    # headers (their formatting codes glued to the words), data-validation lists and formula literals
    import io
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.oddHeader.left.text = NAME
    ws["A1"] = f'="{NAME}"&"!"'
    from openpyxl.worksheet.datavalidation import DataValidation
    dv = DataValidation(type="list", formula1=f'"{NAME},Sam Smith"')
    ws.add_data_validation(dv)
    dv.add("B1")
    buf = io.BytesIO()
    wb.save(buf)
    ex = file_extraction(buf.getvalue())
    rest = ex.texts[1]
    assert rest.count(NAME) == 3 and f"&L{NAME}" not in rest
    assert ex.rebuild([ex.texts[0], rest.replace(NAME, "[PUPIL_1]")]) is None  # read only: the proxy blocks
