"""Every part of an Office file that can carry text is read (issue 14): one test per part type the red team listed,
each with a rostered name placed where Word or Excel keeps it. The name is read (it is in what the engine scans),
and it never goes out: the file is redacted in place, or refused when the part cannot be rewritten safely. Also
the places openpyxl alone does not read: shared strings no cell points to, cells outside the declared dimension,
two cells at one reference, a sheet the workbook does not list, phonetic runs, strict OOXML."""
from __future__ import annotations

import io
import re
import zipfile

import docx
import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.worksheet.datavalidation import DataValidation

from proxy.adapters.base import CannotRead
from proxy.adapters.files import file_extraction
from tests.support.files import edited

NAME = "Priya Patel"  # on the test roster
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@pytest.fixture(scope="module")
def engine(roster_engine):
    """The engine with the test roster (tests/support/detectors.py)."""
    return roster_engine


def sent_on(engine, data: bytes) -> bytes | None:
    """What the proxy forwards (None: refused), with the read-back the proxy makes."""
    try:
        ex = file_extraction(data)
    except CannotRead:
        return None
    decision = engine.scan(ex.texts)
    if decision.action == "allow":
        return data
    if decision.action == "block":
        return None
    new = ex.rebuild(decision.texts)
    return new if new is not None and file_extraction(new).texts == decision.texts else None


def everything(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


def save(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def ct(kind: str) -> str:
    return f"application/vnd.openxmlformats-officedocument.{kind}+xml"


def word_doc() -> bytes:
    d = docx.Document()
    d.add_paragraph("Lesson plan for Year 8")
    return save(d)


def workbook(**cells) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.active.title = "Marks"
    wb.active["A1"] = "Mark"
    for ref, value in cells.items():
        wb.active[ref] = value
    return wb


# --- one document per part type of issue 14 ------------------------------------------------------------------------

def docx_smartart() -> bytes:
    xml = (f'<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" xmlns:a="{A}">'
           f'<dgm:ptLst><dgm:pt modelId="1"><dgm:t><a:p><a:r><a:t>{NAME}</a:t></a:r></a:p></dgm:t></dgm:pt>'
           "</dgm:ptLst></dgm:dataModel>")
    return edited(word_doc(), {"word/diagrams/data1.xml": xml.encode()},
                  {"word/diagrams/data1.xml": ct("drawingml.diagramData")})


def docx_chart() -> bytes:
    xml = (f'<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:a="{A}"><c:chart>'
           f"<c:title><c:tx><c:rich><a:p><a:r><a:t>Progress of {NAME}</a:t></a:r></a:p></c:rich></c:tx></c:title>"
           "</c:chart></c:chartSpace>")
    return edited(word_doc(), {"word/charts/chart1.xml": xml.encode()}, {"word/charts/chart1.xml": ct("drawingml.chart")})


def docx_altchunk() -> bytes:
    return edited(word_doc(), {"word/afchunk1.mht": f"MIME-Version: 1.0\r\n\r\n<html><body>{NAME}</body></html>"
                               .encode()}, {"word/afchunk1.mht": "message/rfc822"})


def docx_embedded_document() -> bytes:
    inner = docx.Document()
    inner.add_paragraph(f"Reading age of {NAME}: 9")
    return edited(word_doc(), {"word/embeddings/Document1.docx": save(inner)})


def docx_glossary() -> bytes:
    xml = (f'<w:glossaryDocument xmlns:w="{W}"><w:docParts><w:docPart><w:docPartBody><w:p><w:r><w:t>{NAME}</w:t>'
           "</w:r></w:p></w:docPartBody></w:docPart></w:docParts></w:glossaryDocument>")
    return edited(word_doc(), {"word/glossary/document.xml": xml.encode()},
                  {"word/glossary/document.xml": ct("wordprocessingml.document.glossary")})


def docx_alt_text() -> bytes:
    drawing = (f'<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
               f'wordprocessingDrawing"><wp:docPr id="1" name="Picture 1" descr="Photo of {NAME} on the trip"/>'
               "</wp:inline></w:drawing></w:r></w:p>").encode()
    return edited(word_doc(), {}, change={"word/document.xml": (b"<w:sectPr", drawing + b"<w:sectPr")})


def docx_comment() -> bytes:
    xml = (f'<w:comments xmlns:w="{W}"><w:comment w:id="0" w:author="Mr Hall"><w:p><w:r><w:t>Ask {NAME}</w:t>'
           "</w:r></w:p></w:comment></w:comments>")
    return edited(word_doc(), {"word/comments.xml": xml.encode()},
                  {"word/comments.xml": ct("wordprocessingml.comments")})


def docx_header() -> bytes:
    d = docx.Document()
    d.add_paragraph("Lesson plan")
    d.sections[0].header.paragraphs[0].text = f"About {NAME}"
    return save(d)


def xlsx_cell_comment() -> bytes:
    wb = workbook()
    wb.active["A1"].comment = Comment(f"Check with {NAME}", "Mr Hall")
    return save(wb)


def xlsx_threaded_comment() -> bytes:
    xml = ('<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
           f'<threadedComment ref="A1" id="{{1}}"><text>{NAME} was late</text></threadedComment></ThreadedComments>')
    return edited(save(workbook()), {"xl/threadedComments/threadedComment1.xml": xml.encode()},
                  {"xl/threadedComments/threadedComment1.xml": "application/vnd.ms-excel.threadedcomments+xml"})


def xlsx_formula_literal() -> bytes:
    return save(workbook(B1=f'="{NAME}"&" absent"'))


def xlsx_header_footer() -> bytes:
    wb = workbook()
    wb.active.oddFooter.center.text = NAME
    return save(wb)


def xlsx_data_validation() -> bytes:
    wb = workbook()
    dv = DataValidation(type="list", formula1=f'"{NAME},Sam Smith"')
    wb.active.add_data_validation(dv)
    dv.add("B1")
    return save(wb)


def xlsx_defined_name() -> bytes:
    name = f'<definedNames><definedName name="pupil">"{NAME}"</definedName></definedNames>'.encode()
    return edited(save(workbook()), {}, change={"xl/workbook.xml": (b"</sheets>", b"</sheets>" + name)})


def xlsx_chart_sheet() -> bytes:
    xml = (f'<chartsheet xmlns="{S}"><sheetPr/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
           f'<headerFooter><oddHeader>&amp;C{NAME}</oddHeader></headerFooter></chartsheet>')
    return edited(save(workbook()), {"xl/chartsheets/sheet1.xml": xml.encode()},
                  {"xl/chartsheets/sheet1.xml": ct("spreadsheetml.chartsheet")})


def xlsx_chart() -> bytes:
    xml = (f'<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:a="{A}"><c:chart>'
           f'<c:plotArea><c:barChart><c:ser><c:tx><c:v>{NAME}</c:v></c:tx></c:ser></c:barChart></c:plotArea>'
           "</c:chart></c:chartSpace>")
    return edited(save(workbook()), {"xl/charts/chart1.xml": xml.encode()}, {"xl/charts/chart1.xml": ct("drawingml.chart")})


def xlsx_embedded_object() -> bytes:
    return edited(save(workbook()), {"xl/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0" + NAME.encode() + bytes(64)})


PARTS = {f.__name__: f for f in [docx_smartart, docx_chart, docx_altchunk, docx_embedded_document, docx_glossary,
                                 docx_alt_text, docx_comment, docx_header, xlsx_cell_comment, xlsx_threaded_comment,
                                 xlsx_formula_literal, xlsx_header_footer, xlsx_data_validation, xlsx_defined_name,
                                 xlsx_chart_sheet, xlsx_chart, xlsx_embedded_object]}


@pytest.mark.parametrize("build", PARTS.values(), ids=PARTS.keys())
def test_a_name_in_each_part_type_is_read_and_never_leaves(engine, build):
    data = build()
    try:
        assert NAME in "\n".join(file_extraction(data).texts)  # read, not waved through
    except CannotRead:
        assert build is xlsx_embedded_object  # an OLE object cannot be read: refused
    sent = sent_on(engine, data)
    assert sent is None or NAME not in everything(sent)


def test_a_spreadsheet_with_an_ordinary_comment_is_not_refused(engine):
    # Excel keeps a legacy VML shape for every cell comment: it is read, not taken for an unknown object; the
    # comment's author (a teacher) is cleaned like a document property
    wb = workbook()
    wb.active["A1"].comment = Comment("Check the total", "Mrs Evans")
    sent = sent_on(engine, save(wb))
    assert sent is not None and "Evans" not in everything(sent)
    assert openpyxl.load_workbook(io.BytesIO(sent)).active["A1"].comment.text == "Check the total"


# --- what openpyxl alone does not read ---------------------------------------------------------------------------

def with_shared_strings(data: bytes, items: list[str]) -> bytes:
    table = f'<sst xmlns="{S}">' + "".join(items) + "</sst>"
    return edited(data, {"xl/sharedStrings.xml": table.encode()},
                  {"xl/sharedStrings.xml": ct("spreadsheetml.sharedStrings")},
                  {"xl/_rels/workbook.xml.rels": (b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.'
                   b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                   b"</Relationships>")})


def test_a_shared_string_no_cell_points_to_is_read_and_redacted_in_the_table(engine):
    # the cells are inline strings: the table's one item is referenced by nothing, and would have gone out unread
    data = with_shared_strings(save(workbook(B1="absent")), [f"<si><t>Report on {NAME}</t></si>"])
    assert any(f"Report on {NAME}" in t for t in file_extraction(data).texts)
    sent = sent_on(engine, data)
    assert sent is not None and NAME not in everything(sent)
    table = zipfile.ZipFile(io.BytesIO(sent)).read("xl/sharedStrings.xml").decode()
    assert re.search(r"<t>Report on \[PUPIL_\d+\]</t>", table)
    assert openpyxl.load_workbook(io.BytesIO(sent)).active["B1"].value == "absent"


def test_phonetic_runs_of_a_shared_string_are_read():
    data = with_shared_strings(save(workbook()), [f'<si><t>Mark</t><rPh sb="0" eb="1"><t>{NAME}</t></rPh></si>'])
    assert NAME in "\n".join(file_extraction(data).texts)


def test_a_cell_outside_the_declared_dimension_is_read(engine):
    data = save(workbook(Z50=NAME))
    lying = edited(data, {}, change={"xl/worksheets/sheet1.xml": (b'<dimension ref="A1:Z50"/>',
                                                                   b'<dimension ref="A1:A1"/>')})
    assert lying != data and NAME in file_extraction(lying).texts[0]
    sent = sent_on(engine, lying)
    assert sent is not None and NAME not in everything(sent)


def test_two_cells_at_one_reference_are_refused():
    data = save(workbook(B1="absent"))
    twice = edited(data, {}, change={"xl/worksheets/sheet1.xml": (
        b'<c r="B1" t="inlineStr">', f'<c r="B1" t="inlineStr"><is><t>{NAME}</t></is></c><c r="B1" t="inlineStr">'
        .encode())})
    assert twice != data
    with pytest.raises(CannotRead):
        file_extraction(twice)


def test_a_sheet_the_workbook_does_not_list_is_read(engine):
    orphan = (f'<worksheet xmlns="{S}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{NAME}</t></is></c>'
              "</row></sheetData></worksheet>")
    data = edited(save(workbook()), {"xl/worksheets/sheet9.xml": orphan.encode()},
                  {"xl/worksheets/sheet9.xml": ct("spreadsheetml.worksheet")})
    assert NAME in "\n".join(file_extraction(data).texts)
    assert sent_on(engine, data) is None  # not a sheet the rewriter owns: read only, so the name blocks


def test_a_strict_ooxml_workbook_is_read_or_refused_never_forwarded_unread(engine):
    strict = save(workbook(B1=NAME))
    with zipfile.ZipFile(io.BytesIO(strict)) as zf:
        parts = {n: zf.read(n).replace(S.encode(), b"http://purl.oclc.org/ooxml/spreadsheetml/main")
                 for n in zf.namelist() if n.startswith("xl/") and n.endswith(".xml")}
    data = edited(strict, parts)
    sent = sent_on(engine, data)
    assert sent is None or NAME not in everything(sent)


def test_two_members_of_one_name_are_refused():
    # we would read one of them, another reader the other
    data = save(workbook())
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as zf, pytest.warns(UserWarning):
        zf.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{S}"><sheetData><row r="1"><c r="A1" '
                    f't="inlineStr"><is><t>{NAME}</t></is></c></row></sheetData></worksheet>')
    with pytest.raises(CannotRead):
        file_extraction(buf.getvalue())


def test_a_default_content_type_cannot_make_the_body_a_property_part(engine):
    d = docx.Document()
    d.add_paragraph(f"Report for {NAME}")
    data = save(d)
    lying = edited(data, {}, change={"[Content_Types].xml": (
        b'<Default Extension="xml" ContentType="application/xml"/>',
        b'<Default Extension="xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>')})
    assert lying != data
    sent = sent_on(engine, lying)
    assert sent is None or NAME not in everything(sent)
