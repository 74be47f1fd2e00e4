"""Word documents: every text in the file is read, and a pupil's name or number is redacted in place - the upload
goes out as a valid .docx with its formatting, instead of being refused."""
from __future__ import annotations

import io
import re
import zipfile

import docx
import pytest
from docx.shared import Pt

from tests.support.proxy import upload_through
from proxy.adapters import Extraction
from proxy.adapters.base import CannotRead
from proxy.adapters.files import file_extraction
from proxy.adapters.edits import placeholder_edits

NAME, UPN = "Amelia Watson", "T801200115100"  # a UPN with a valid check letter


def save(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def report() -> bytes:
    """A pastoral note as a teacher writes one: the name split over two formatted runs, a table, a header, a title."""
    d = docx.Document()
    d.core_properties.title = f"Note on {NAME}"
    p = d.add_paragraph("Pastoral note for ")
    first = p.add_run("Amelia")
    first.bold = True
    p.add_run(" Watson, who has settled well.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "UPN", UPN
    table.cell(1, 0).text, table.cell(1, 1).text = "Form", "9R"
    d.sections[0].header.paragraphs[0].text = f"CONFIDENTIAL - {NAME}"
    small = d.add_paragraph().add_run("  indented, with spaces kept  ")
    small.font.size = Pt(8)
    return save(d)


def redacted(text: str) -> str:
    return text.replace(NAME, "[PUPIL_1]").replace(UPN, "[UPN_1]")


def test_every_text_of_the_document_is_read_with_its_layout():
    data = report()
    ex = file_extraction(data)
    assert isinstance(ex, Extraction) and ex.adapter == "docx"
    text = ex.texts[0]
    assert f"Pastoral note for {NAME}, who has settled well." in text.splitlines()
    assert f"UPN\t{UPN}" in text.splitlines() and "Form\t9R" in text.splitlines()  # cells on one line
    assert f"CONFIDENTIAL - {NAME}" in text and f"Note on {NAME}" in text  # header and title
    assert ex.rebuild(ex.texts) == data  # nothing to redact: forwarded byte for byte


def test_redaction_is_written_into_the_document_and_keeps_its_formatting():
    data = report()
    ex = file_extraction(data)
    new = ex.rebuild([redacted(ex.texts[0]), *ex.texts[1:]])
    assert new is not None
    assert file_extraction(new).texts == [redacted(ex.texts[0]), *ex.texts[1:]]  # what the proxy reads back
    d = docx.Document(io.BytesIO(new))
    runs = d.paragraphs[0].runs
    assert [r.text for r in runs] == ["Pastoral note for ", "[PUPIL_1]", ", who has settled well."]
    assert runs[1].bold  # the placeholder sits in the run where the name began
    assert d.tables[0].cell(0, 1).text == "[UPN_1]"
    assert d.sections[0].header.paragraphs[0].text == "CONFIDENTIAL - [PUPIL_1]"
    assert d.core_properties.title == "Note on [PUPIL_1]"
    assert d.paragraphs[1].runs[0].text == "  indented, with spaces kept  "
    assert d.paragraphs[1].runs[0].font.size == Pt(8)
    archive = zipfile.ZipFile(io.BytesIO(new))
    everything = b"".join(archive.read(n) for n in archive.namelist())  # the parts, uncompressed
    assert b"Amelia" not in everything and b"Watson" not in everything and UPN.encode() not in everything
    # parts without text (styles, settings, media) travel byte for byte
    before, after = zipfile.ZipFile(io.BytesIO(data)), zipfile.ZipFile(io.BytesIO(new))
    assert before.namelist() == after.namelist()
    assert before.read("word/styles.xml") == after.read("word/styles.xml")


def with_body_xml(extra: str, doctype: str = "") -> bytes:
    """A document whose body gets `extra` WordprocessingML appended (what python-docx cannot write), and the
    document part a `doctype`."""
    data = save(docx.Document())
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = src.read(info)
            if info.filename == "word/document.xml":
                declaration, _, rest = part.partition(b"?>")
                rest = rest.replace(b"<w:sectPr", extra.encode() + b"<w:sectPr", 1)
                part = declaration + b"?>" + doctype.encode() + rest
            dst.writestr(info, part)
    return out.getvalue()


def test_tracked_deletions_and_field_codes_leave_with_the_file_so_they_are_read_and_redacted():
    data = with_body_xml(
        f'<w:p><w:r><w:t xml:space="preserve">Report for </w:t></w:r>'
        f'<w:del w:id="1" w:author="T" w:date="2026-01-01T00:00:00Z"><w:r><w:delText>{NAME}</w:delText></w:r></w:del>'
        f'<w:r><w:instrText xml:space="preserve"> MERGEFIELD {UPN} </w:instrText></w:r></w:p>')
    ex = file_extraction(data)
    assert ex.texts[0].startswith(f"Report for {NAME} MERGEFIELD {UPN} \n")
    new = ex.rebuild([redacted(ex.texts[0]), *ex.texts[1:]])
    assert file_extraction(new).texts == [redacted(ex.texts[0]), *ex.texts[1:]]
    assert NAME.encode() not in zipfile.ZipFile(io.BytesIO(new)).read("word/document.xml")


def test_a_change_across_a_cell_or_paragraph_boundary_cannot_be_written_so_the_upload_is_refused():
    ex = file_extraction(report())
    across = ex.texts[0].replace(f"UPN\t{UPN}", "[UPN_1]")
    assert ex.rebuild([across, *ex.texts[1:]]) is None
    assert ex.rebuild([ex.texts[0] + "!", *ex.texts[1:]]) is None  # not a redaction at all


def test_a_document_with_an_entity_bomb_is_read_without_expanding_it():
    bomb = ('<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')
    ex = file_extraction(with_body_xml("<w:p><w:r><w:t>&d;</w:t></w:r></w:p>", doctype=bomb))
    assert "aaaaaaaaaa" * 100 not in "".join(ex.texts)


@pytest.mark.parametrize("old,new,edits", [
    ("Oliver Smith and Oliver Smith is", "[PUPIL_1] and [PUPIL_1] is", [(0, 12, "[PUPIL_1]"), (17, 29, "[PUPIL_1]")]),
    ("UPN T801200115100", "UPN [UPN_1]", [(4, 17, "[UPN_1]")]),
    ("Already [PUPIL_1] here", "Already [PUPIL_1] here", []),
    ("Oliver Smith", "[PUPIL_1]", [(0, 12, "[PUPIL_1]")]),
])
def test_placeholder_edits_find_the_replaced_spans(old, new, edits):
    assert placeholder_edits(old, new) == edits


@pytest.mark.parametrize("old,new", [
    ("Oliver Smith", "Oliver Smith!"),          # an edit that is not a placeholder
    ("Oliver Smith", "[PUPIL_1][UPN_1]"),      # adjacent placeholders: where one value ends is unknown
    ("Hello", "Goodbye [PUPIL_1]"),
])
def test_placeholder_edits_refuse_what_is_not_a_redaction(old, new):
    assert placeholder_edits(old, new) is None


# ---------------------------------------------------------------------------------------------- on the wire

def test_a_word_upload_through_the_proxy_arrives_redacted_and_still_a_document(proxy, upstream):
    sent = upload_through(proxy, upstream, "note.docx", report())
    d = docx.Document(io.BytesIO(sent))
    # this proxy has no roster: NER finds the name; numbering carries on from earlier prompts from this address
    assert re.fullmatch(r"Pastoral note for \[PERSON_\d+\], who has settled well\.", d.paragraphs[0].text)
    assert re.fullmatch(r"\[UPN_\d+\]", d.tables[0].cell(0, 1).text)
    archive = zipfile.ZipFile(io.BytesIO(sent))
    everything = b"".join(archive.read(n) for n in archive.namelist())  # the parts, uncompressed
    assert b"Amelia" not in everything and b"Watson" not in everything and UPN.encode() not in everything


# ------------------------------------------------------------------- every other part of the package (package.py)

def with_part(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(name, content)
    return out.getvalue()


CUSTOM = (b'<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
          b'2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
          b'<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Pupil"><vt:lpwstr>'
          + NAME.encode() + b'</vt:lpwstr></property></Properties>')


@pytest.mark.parametrize("part,content", [
    ("docProps/custom.xml", CUSTOM),
    ("word/charts/chart1.xml", f'<c:chartSpace xmlns:c="urn:c"><c:v>{NAME}</c:v></c:chartSpace>'.encode()),
    ("word/glossary/document.xml", f'<w:glossaryDocument xmlns:w="urn:w"><w:t>{NAME}</w:t></w:glossaryDocument>'
     .encode()),
    ("word/drawing.xml", f'<wp:docPr xmlns:wp="urn:wp" id="1" name="Picture 1" descr="Photo of {NAME}"/>'.encode()),
    ("word/afchunk.mht", f"<html><body>{NAME}</body></html>".encode()),
])
def test_text_in_a_part_the_rewriter_does_not_own_is_read_and_blocks_if_it_must_change(part, content):
    ex = file_extraction(with_part(report(), part, content))
    assert NAME in ex.texts[1] and "office_parts_read_only" in ex.notes
    assert ex.rebuild([redacted(ex.texts[0]), redacted(ex.texts[1])]) is None  # read only: the proxy blocks


def test_strict_ooxml_is_read_not_waved_through():
    strict = (b'<?xml version="1.0"?><w:document xmlns:w="http://purl.oclc.org/ooxml/wordprocessingml/main">'
              b'<w:body><w:p><w:r><w:t>' + NAME.encode() + b'</w:t></w:r></w:p></w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", strict)
    ex = file_extraction(buf.getvalue())
    assert any(NAME in t for t in ex.texts)


def test_embedded_documents_are_read_and_embedded_objects_refused():
    inner = report()
    ex = file_extraction(with_part(save(docx.Document()), "word/embeddings/Document1.docx", inner))
    assert any(NAME in t for t in ex.texts)  # the embedded document's own text
    ole = with_part(save(docx.Document()), "word/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0" + bytes(64))
    with pytest.raises(CannotRead):
        file_extraction(ole)
