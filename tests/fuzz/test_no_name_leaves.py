"""Property: a rostered pupil's name, hidden anywhere in a request body, never reaches the AI service.

Random JSON documents get the name at a random key or value at a random depth; random Office documents get it in a
random part; bodies go out with random content encodings and charsets. Each one is decoded and read by the real
adapters and decided by the real detection engine (with a roster) exactly as the proxy does: the request is refused
(unreadable, blocked, or not rewritable), or what would be forwarded no longer holds the name. A smaller number go
through a real `pupilguard proxy` end to end. See conftest.py for the long run.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import string
import zipfile
import zlib

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.adapters import Extraction, extract
from proxy.bodies import BodyError, decode_request_body

NAMES = ["Ibrahim Warsame", "Aleksandra Nowak-Kowalska", "Priya Patel"]
FUZZ = settings.get_profile("pupilguard-fuzz")
# Each Office case builds, reads and rewrites a document: a third as many, unless the long run asks for a number.
OFFICE_EXAMPLES = int(os.environ.get("PUPILGUARD_FUZZ_OFFICE_EXAMPLES", "0")) or max(10, FUZZ.max_examples // 3)

ENDPOINTS = [("openai_chat", "/v1/chat/completions"), ("anthropic_messages", "/v1/messages"),
             ("gemini_api", "/v1beta/models/gemini-2.0-flash:generateContent"),
             ("chatgpt_web", "/backend-api/conversation"),
             ("claude_web", "/api/organizations/o/chat_conversations/c/completion"), ("generic", "/x")]
KEYS = ["model", "messages", "role", "content", "metadata", "user", "user_id", "tools", "function", "name",
        "description", "parameters", "properties", "required", "url", "callback_url", "type", "id", "text", "input",
        "signature", "response_format", "json_schema", "schema", "items", "enum", "generationConfig", "x"]


@pytest.fixture(scope="module")
def engine(roster_engine):
    """The engine with the shared test roster (tests/support/detectors.py), so the NAMES are pupils."""
    return roster_engine


def forwarded(engine, ex: Extraction | object, body: bytes) -> bytes | None:
    """What the proxy would send on: None when it refuses (unreadable, blocked, cannot be rewritten)."""
    if not isinstance(ex, Extraction):
        return None
    decision = engine.scan(ex.texts)
    if decision.action == "block":
        return None
    if decision.action == "allow":
        return body
    return ex.rebuild(decision.texts)


json_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
json_doc = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.sampled_from(KEYS) | st.text(min_size=1, max_size=8), inner, max_size=4),
                        max_leaves=25)


def plant(doc, name: str, data) -> object:
    """Put `name` at a random key or value of `doc` (wrapped in a new object or list for depth)."""
    containers = []

    def walk(node):
        if isinstance(node, (dict, list)):
            containers.append(node)
            for child in (node.values() if isinstance(node, dict) else node):
                walk(child)

    walk(doc)
    how = data.draw(st.sampled_from(["value", "key", "sentence", "nested"]))
    value = f"Notes on {name}." if how == "sentence" else name
    if how == "nested":
        value = {data.draw(st.sampled_from(KEYS)): [name]}
        for _ in range(data.draw(st.integers(0, 60))):
            value = {data.draw(st.sampled_from(KEYS)): value}
    if not containers:
        return {name: doc} if how == "key" else {"x": doc, data.draw(st.sampled_from(KEYS)): value}
    target = containers[data.draw(st.integers(0, len(containers) - 1))]
    if isinstance(target, list):
        target.insert(data.draw(st.integers(0, len(target))), {name: 1} if how == "key" else value)
    elif how == "key":
        target[name] = data.draw(json_leaf)
    else:
        target[data.draw(st.sampled_from(KEYS))] = value
    return doc


ENCODINGS = {"": lambda b: b, "gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress,
             "gzip, br": lambda b: brotli.compress(gzip.compress(b))}


def decoded_json_strings(body: bytes, charset: str) -> str:
    """Everything a JSON parser would read out of `body`: each key and string, unescaped."""
    try:
        doc = json.loads(body.decode(charset))
    except ValueError:
        return body.decode(charset, "replace")
    return json.dumps(doc, ensure_ascii=False)


@given(st.data())
@FUZZ
def test_a_name_anywhere_in_a_json_body_never_leaves(engine, data):
    name = data.draw(st.sampled_from(NAMES))
    doc = plant(data.draw(json_doc), name, data)
    charset = data.draw(st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
    body = json.dumps(doc, ensure_ascii=data.draw(st.booleans())).encode(charset)
    coding = data.draw(st.sampled_from(sorted(ENCODINGS)))
    adapter, path = data.draw(st.sampled_from(ENDPOINTS))
    try:
        plain = decode_request_body(ENCODINGS[coding](body), coding, 10 * 1024 * 1024)
    except BodyError:
        return  # refused
    out = forwarded(engine, extract(adapter, plain, "application/json", path), plain)
    if out is not None:
        assert name not in decoded_json_strings(out, charset if out is plain else "utf-8"), (adapter, coding)


# --- Office documents: the name in a random part ------------------------------------------------------------------

def _xml(root: str, namespaces: str, inner: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} {namespaces}>{inner}</{root.split()[0]}>'.encode()


_A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
_RUN = "<a:p><a:r><a:t>{}</a:t></a:r></a:p>"


def _core_properties(text: str) -> tuple[str, bytes]:
    """The document's own core properties (declared as such), with `text` as its author and last editor."""
    return ("docProps/core.xml", _xml(
        "cp:coreProperties", 'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"',
        f"<dc:creator>{text}</dc:creator><cp:lastModifiedBy>{text}</cp:lastModifiedBy>"))


def _docx_parts(text: str) -> dict[str, tuple[str, bytes]]:
    """part kind -> (zip path, content) holding `text`."""
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    return {
        "author property": _core_properties(text),
        "custom property": ("docProps/custom.xml", _xml(
            "Properties", 'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"',
            f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="Pupil">'
            f'<vt:lpwstr>{text}</vt:lpwstr></property>')),
        "chart": ("word/charts/chart1.xml", _xml(
            "c:chartSpace", f'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" {_A}',
            f"<c:chart><c:title><c:tx><c:rich>{_RUN.format(text)}</c:rich></c:tx></c:title></c:chart>")),
        "smartart": ("word/diagrams/data1.xml", _xml(
            "dgm:dataModel", f'xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" {_A}',
            f'<dgm:ptLst><dgm:pt modelId="1"><dgm:t>{_RUN.format(text)}</dgm:t></dgm:pt></dgm:ptLst>')),
        "glossary": ("word/glossary/document.xml", _xml(
            "w:glossaryDocument", w, f"<w:docParts><w:docPart><w:docPartBody><w:p><w:r><w:t>{text}</w:t></w:r>"
            "</w:p></w:docPartBody></w:docPart></w:docParts>")),
        "strict body": ("word/strict.xml", _xml(
            "w:document", 'xmlns:w="http://purl.oclc.org/ooxml/wordprocessingml/main"',
            f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body>")),
        "image alt text": ("word/media-alt.xml", _xml(
            "wp:inline", 'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"',
            f'<wp:docPr id="1" name="Picture 1" descr="Photo: {text}" title="{text}"/>')),
        "altChunk": ("word/afchunk.mht", f"MIME-Version: 1.0\r\n\r\n<html><body>{text}</body></html>".encode()),
        "comment": ("word/comments.xml", _xml(
            "w:comments", w, f'<w:comment w:id="0" w:author="{text}"><w:p><w:r><w:t>See {text}</w:t></w:r></w:p>'
            "</w:comment>")),
        "unknown part": ("customXml/item9.xml", _xml("notes", 'xmlns="urn:x"', f"<pupil>{text}</pupil>")),
    }


def _xlsx_parts(text: str) -> dict[str, tuple[str, bytes]]:
    s = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return {
        "author property": _core_properties(text),
        "cell comment": ("xl/comments1.xml", _xml(
            "comments", s, '<authors><author>Teacher</author></authors><commentList><comment ref="A1" authorId="0">'
            f"<text><r><t>About {text}</t></r></text></comment></commentList>")),
        "threaded comment": ("xl/threadedComments/threadedComment1.xml", _xml(
            "ThreadedComments", 'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"',
            f'<threadedComment ref="A1" id="{{1}}"><text>{text} was late</text></threadedComment>')),
        "chart sheet": ("xl/chartsheets/sheet9.xml", _xml("chartsheet", s, f'<sheetPr codeName="{text}"/>')),
        "defined name": ("xl/extra-names.xml", _xml(
            "workbook", s, f'<definedNames><definedName name="pupil">"{text}"</definedName></definedNames>')),
        "header and footer": ("xl/worksheets/sheet9.xml", _xml(
            "worksheet", s, f"<headerFooter><oddHeader>&amp;L{text}</oddHeader></headerFooter>")),
        "data validation": ("xl/worksheets/sheet8.xml", _xml(
            "worksheet", s, f'<dataValidations count="1"><dataValidation type="list" sqref="A1">'
            f'<formula1>"{text},Sam"</formula1></dataValidation></dataValidations>')),
        "formula": ("xl/worksheets/sheet7.xml", _xml(
            "worksheet", s, f'<sheetData><row r="1"><c r="A1" t="str"><f>"{text}"&amp;B1</f></c></row></sheetData>')),
    }


def _with_part(data: bytes, path: str, xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != path:  # a part of that name is replaced
                zout.writestr(info, zin.read(info))
        zout.writestr(path, xml)
    return out.getvalue()


def _base_documents() -> dict[str, bytes]:
    from tests.support.files import make_docx, make_xlsx
    return {"docx": make_docx(), "xlsx": make_xlsx()}


BASES = _base_documents()


def _zip_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


@given(st.data())
@settings(FUZZ, max_examples=OFFICE_EXAMPLES)
def test_a_name_in_any_part_of_an_office_document_never_leaves(engine, data):
    import base64
    name = data.draw(st.sampled_from(NAMES))
    words = st.text(alphabet=string.ascii_letters + " ,.", max_size=24)
    text = f"{data.draw(words)} {name} {data.draw(words)}".strip()  # the name amid other words
    kind = data.draw(st.sampled_from(["docx", "xlsx"]))
    parts = _docx_parts(text) if kind == "docx" else _xlsx_parts(text)
    chosen = data.draw(st.lists(st.sampled_from(sorted(parts)), min_size=1, max_size=3, unique=True))
    document = BASES[kind]
    for part in chosen:
        document = _with_part(document, *parts[part])
    how = data.draw(st.sampled_from(["upload", "base64 in JSON"]))
    if how == "upload":
        body = document
        ex = extract("upload", body, "application/octet-stream", "/v1/files")
    else:
        body = json.dumps({"model": "gpt-4o", "input": [{"role": "user", "content": [
            {"type": "input_file", "filename": "r." + kind,
             "file_data": base64.b64encode(document).decode()}]}]}).encode()
        ex = extract("openai_chat", body, "application/json", "/v1/responses")
    out = forwarded(engine, ex, body)
    if out is not None:
        sent = out if how == "upload" else base64.b64decode(json.loads(out)["input"][0]["content"][0]["file_data"])
        assert name not in _zip_text(sent), chosen


# --- end to end through a real proxy ------------------------------------------------------------------------------

UPN = "T801200115100"


@given(st.data())
@settings(FUZZ, max_examples=max(5, FUZZ.max_examples // 20))
def test_an_identifier_anywhere_in_a_json_body_never_reaches_the_upstream(proxy, fake_upstream, data):
    doc = plant(data.draw(json_doc), f"UPN {UPN}", data)
    coding = data.draw(st.sampled_from(sorted(ENCODINGS)))
    headers = {"content-type": "application/json"}
    if coding:
        headers["content-encoding"] = coding
    fake_upstream.clear()
    with proxy.client() as client:
        client.post("https://api.openai.com/v1/chat/completions",
                    content=ENCODINGS[coding](json.dumps(doc).encode()), headers=headers)
    assert not [r for r in fake_upstream.received if UPN.encode() in r.body]
