"""Office document properties (issue 14): every Word, Excel and PowerPoint file has an author, a "last modified by",
often a company, a manager and custom properties. A name there is cleaned - redacted in the property, like the text
of the document - and the file goes on; it used to refuse the whole file, which blocked ordinary staff documents.
A part that merely calls itself a property part (no property content type) is still read only: a name there
blocks, because nothing in the package passes unread."""
from __future__ import annotations

import io
import re
import zipfile

import docx
import openpyxl
import pytest

from proxy.adapters.files import file_extraction
from tests.support.files import edited
from tests.support.proxy import upload_through

PUPIL = "Priya Patel"  # on the test roster
STAFF = "Sarah Jones"  # a teacher: not on the roster
CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"


@pytest.fixture(scope="module")
def engine(roster_engine):
    """The engine with the test roster (tests/support/detectors.py)."""
    return roster_engine


def custom_properties(value: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/'
            'officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
            'docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Pupil">'
            f'<vt:lpwstr>{value}</vt:lpwstr></property></Properties>').encode()


def with_company(data: bytes, company: str, manager: str) -> bytes:
    app = zipfile.ZipFile(io.BytesIO(data)).read("docProps/app.xml")
    app = re.sub(rb"</Properties>\s*$", f"<Company>{company}</Company><Manager>{manager}</Manager></Properties>"
                 .encode(), app)
    return edited(data, {"docProps/app.xml": app})


def pupil_report() -> bytes:
    """A report written about a pupil, by the pupil's own account (a shared laptop), with the name in every
    property Word shows under File > Info."""
    d = docx.Document()
    d.add_paragraph(f"End of term report for {PUPIL}: settled well in Year 8.")
    props = d.core_properties
    props.author = props.last_modified_by = PUPIL
    props.title, props.subject, props.keywords = f"Report - {PUPIL}", PUPIL, f"report, {PUPIL}"
    props.comments, props.category = f"Draft for {PUPIL}'s parents", PUPIL
    buf = io.BytesIO()
    d.save(buf)
    data = with_company(buf.getvalue(), f"{PUPIL} Ltd", PUPIL)
    return edited(data, {"docProps/custom.xml": custom_properties(PUPIL)}, {"docProps/custom.xml": CUSTOM_TYPE})


def everything(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


def sent_on(engine, data: bytes) -> bytes | None:
    """What the proxy forwards for this upload (None: refused), checked by the read-back the proxy makes."""
    ex = file_extraction(data)
    decision = engine.scan(ex.texts)
    if decision.action == "allow":
        return data
    if decision.action == "block":
        return None
    new = ex.rebuild(decision.texts)
    assert new is None or file_extraction(new).texts == decision.texts
    return new


def test_a_word_file_about_and_by_a_pupil_goes_out_with_its_properties_cleaned_and_its_text_redacted(engine):
    sent = sent_on(engine, pupil_report())
    assert sent is not None, "blocked: the properties should have been cleaned"
    assert "Priya" not in everything(sent) and "Patel" not in everything(sent)
    d = docx.Document(io.BytesIO(sent))  # still a document Word opens
    assert re.fullmatch(r"End of term report for \[PUPIL_\d+\]: settled well in Year 8\.", d.paragraphs[0].text)
    props = d.core_properties
    assert re.fullmatch(r"\[PUPIL_\d+\]", props.author) and props.last_modified_by == props.author
    assert re.fullmatch(r"Report - \[PUPIL_\d+\]", props.title)
    app = zipfile.ZipFile(io.BytesIO(sent)).read("docProps/app.xml").decode()
    assert re.search(r"<Company>\[PUPIL_\d+\][^<]*</Company><Manager>\[PUPIL_\d+\]</Manager>", app)
    custom = zipfile.ZipFile(io.BytesIO(sent)).read("docProps/custom.xml").decode()
    assert re.search(r"<vt:lpwstr>\[PUPIL_\d+\]</vt:lpwstr>", custom)


def test_a_workbook_by_a_pupil_goes_out_with_its_properties_cleaned_and_its_cells_redacted(engine):
    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Mark"])
    wb.active.append([PUPIL, 41])
    wb.properties.creator = wb.properties.lastModifiedBy = PUPIL
    wb.properties.title = f"Marks for {PUPIL}"
    buf = io.BytesIO()
    wb.save(buf)
    sent = sent_on(engine, with_company(buf.getvalue(), "Ysgol Gyfun", PUPIL))
    assert sent is not None and "Priya" not in everything(sent)
    book = openpyxl.load_workbook(io.BytesIO(sent))
    assert re.fullmatch(r"\[PUPIL_\d+\]", book.active["A2"].value) and book.active["B2"].value == 41
    assert re.fullmatch(r"\[PUPIL_\d+\]", book.properties.creator)
    assert re.search(r"<Manager>\[PUPIL_\d+\]</Manager>", zipfile.ZipFile(io.BytesIO(sent)).read("docProps/app.xml")
                     .decode())


def test_a_presentation_whose_only_name_is_its_author_is_cleaned_not_refused(engine):
    # PowerPoint slides are read only; the properties of any Office package are rewritten all the same
    core = ('<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
            'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms='
            '"http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:creator>{PUPIL}</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">2026-01-05T09:00:00Z'
            '</dcterms:created></cp:coreProperties>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-'
                    'types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/docProps/'
                    'core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>')
        zf.writestr("ppt/slides/slide1.xml", '<p:sld xmlns:p="urn:p" xmlns:a="urn:a"><a:t>Coastal erosion</a:t>'
                    '</p:sld>')
        zf.writestr("docProps/core.xml", core)
    sent = sent_on(engine, buf.getvalue())
    assert sent is not None and PUPIL not in everything(sent)
    assert "2026-01-05T09:00:00Z" in everything(sent)  # timestamps are not names: untouched


def test_comment_and_tracked_change_authors_are_cleaned_not_a_block(engine):
    # every comment and every tracked change names its author: a teacher's review must not refuse the file
    d = docx.Document()
    d.add_paragraph("Lesson plan: coastal erosion, Year 10.")
    buf = io.BytesIO()
    d.save(buf)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    change = (f'<w:p><w:ins w:id="1" w:author="{STAFF}" w:date="2026-01-05T09:00:00Z"><w:r><w:t>Add a map.</w:t>'
              f'</w:r></w:ins></w:p>').encode()
    comments = (f'<w:comments xmlns:w="{w}"><w:comment w:id="0" w:author="{STAFF}" w:initials="SJ"><w:p><w:r>'
                f"<w:t>Good plan for {PUPIL}'s group</w:t></w:r></w:p></w:comment></w:comments>").encode()
    body = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("word/document.xml").replace(b"<w:sectPr",
                                                                                         change + b"<w:sectPr", 1)
    data = edited(buf.getvalue(), {"word/document.xml": body, "word/comments.xml": comments},
                  {"word/comments.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"})
    sent = sent_on(engine, data)
    assert sent is not None, "blocked: comment and change authors should have been cleaned"
    text = everything(sent)
    assert STAFF not in text and "Jones" not in text and "Priya" not in text
    assert re.search(r'w:author="\[PERSON_\d+\]"', text) and "Add a map." in text
    assert re.search(r"Good plan for \[PUPIL_\d+\]'s group", text)  # the comment's words are the body's


def test_a_property_part_without_its_content_type_is_still_read_and_a_name_there_blocks(engine):
    d = docx.Document()
    d.add_paragraph("Lesson plan")
    buf = io.BytesIO()
    d.save(buf)
    undeclared = edited(buf.getvalue(), {"docProps/custom.xml": custom_properties(PUPIL)})  # no Override
    assert sent_on(engine, undeclared) is None


def test_a_redaction_over_the_line_between_text_and_properties_cannot_be_written():
    ex = file_extraction(pupil_report())
    across = ex.texts[0].replace("Year 8.\n\nReport", "[PUPIL_1]", 1)
    assert across != ex.texts[0] and ex.rebuild([across, *ex.texts[1:]]) is None


# ---------------------------------------------------------------------------------------------- on the wire

@pytest.mark.e2e
def test_an_ordinary_staff_document_with_an_author_is_not_blocked(proxy, upstream):
    d = docx.Document()
    d.add_paragraph("Lesson plan: coastal erosion along the Holderness coast, Year 10 geography.")
    d.core_properties.author = d.core_properties.last_modified_by = STAFF
    buf = io.BytesIO()
    d.save(buf)
    sent = upload_through(proxy, upstream, "lesson.docx", buf.getvalue())
    d = docx.Document(io.BytesIO(sent))
    assert d.paragraphs[0].text.startswith("Lesson plan: coastal erosion")
    assert STAFF not in everything(sent)  # this proxy has no roster: the engine's NER takes the author for a person
    assert re.fullmatch(r"\[PERSON_\d+\]", d.core_properties.author)
