"""Every field of a prompt body that the AI service reads must be scanned: personal data hidden in a field the
adapter does not pick (system/tool messages, tool descriptions, instructions, page context) must not go out raw."""
from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

UPN = "T801200115100"
PII = f"The pupil with UPN {UPN} has ADHD and is on the child protection register."

OPENAI_CHAT = "/v1/chat/completions"
CASES = {
    "assistant message": (OPENAI_CHAT, {"model": "m", "messages": [
        {"role": "assistant", "content": PII}, {"role": "user", "content": "Continue."}]}),
    "tool message": (OPENAI_CHAT, {"model": "m", "messages": [
        {"role": "user", "content": "Look it up."},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "lookup", "arguments": json.dumps({"note": PII})}}]},
        {"role": "tool", "tool_call_id": "c1", "content": PII}]}),
    "developer message": (OPENAI_CHAT, {"model": "m", "messages": [
        {"role": "developer", "content": [{"type": "text", "text": PII}]}, {"role": "user", "content": "Go."}]}),
    "tool description": (OPENAI_CHAT, {"model": "m", "messages": [{"role": "user", "content": "Hi"}],
                                       "tools": [{"type": "function", "function": {
                                           "name": "f", "description": PII, "parameters": {"type": "object"}}}]}),
    "prediction": (OPENAI_CHAT, {"model": "m", "messages": [{"role": "user", "content": "Hi"}],
                                 "prediction": {"type": "content", "content": PII}}),
    "responses instructions": ("/v1/responses", {"model": "m", "instructions": PII, "input": "Go."}),
    "responses input items": ("/v1/responses", {"model": "m", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": PII}]}]}),
    "legacy completions": ("/v1/completions", {"model": "m", "prompt": [PII]}),
}
ANTHROPIC = {
    "tool_result block": {"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                      "content": [{"type": "text", "text": PII}]}]}]},
    "text document": {"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": [{"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                                                     "data": PII}},
                                     {"type": "text", "text": "Summarise."}]}]},
    "tool description": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}],
                         "tools": [{"name": "f", "description": PII, "input_schema": {"type": "object"}}]},
    "tool_use input": {"model": "m", "max_tokens": 5, "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"note": PII}}]},
        {"role": "user", "content": "ok"}]},
}
GEMINI = {
    "systemInstruction": {"systemInstruction": {"parts": [{"text": PII}]}, "contents": [{"parts": [{"text": "Go"}]}]},
    "functionResponse": {"contents": [{"role": "user", "parts": [{"functionResponse": {
        "name": "f", "response": {"note": PII}}}]}]},
}


@pytest.mark.parametrize("case", sorted(ANTHROPIC))
def test_anthropic_request_fields_are_all_scanned(proxy, upstream, case):
    with proxy.client() as client:
        client.post("https://api.anthropic.com/v1/messages", content=json.dumps(ANTHROPIC[case]).encode(),
                    headers={"content-type": "application/json", "anthropic-version": "2023-06-01"})
    assert not [r for r in upstream.received if UPN.encode() in r.body], f"{case}: the UPN reached the service"


@pytest.mark.parametrize("case", sorted(GEMINI))
def test_gemini_request_fields_are_all_scanned(proxy, upstream, case):
    with proxy.client() as client:
        client.post("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
                    content=json.dumps(GEMINI[case]).encode(), headers={"content-type": "application/json"})
    assert not [r for r in upstream.received if UPN.encode() in r.body], f"{case}: the UPN reached the service"


@pytest.mark.parametrize("case", sorted(CASES))
def test_openai_request_fields_are_all_scanned(proxy, upstream, case):
    path, doc = CASES[case]
    with proxy.client() as client:
        client.post(f"https://api.openai.com{path}", content=json.dumps(doc).encode(),
                    headers={"content-type": "application/json"})
    assert not [r for r in upstream.received if UPN.encode() in r.body], f"{case}: the UPN reached the service"


def test_copilot_frame_with_page_context_is_scanned(proxy, upstream):
    frame = json.dumps({"event": "send", "conversationId": "conv-ctx", "mode": "chat",
                        "content": [{"type": "text", "text": "Summarise this page."}],
                        "context": {"edge_pageContent": PII}})
    with connect("wss://copilot.microsoft.com/c/api/chat?api-version=2", proxy=proxy.url, ssl=proxy.ssl,
                 open_timeout=60) as ws:
        ws.send(frame)
        ws.send(json.dumps({"event": "ping"}))
        try:
            ws.recv(timeout=10)
        except TimeoutError:
            pass
    assert not [f for _, f in upstream.ws_received if UPN in (f if isinstance(f, str) else f.decode("utf-8", "replace"))]


TEXT_FILE = f"Pupil list\nName,UPN,Needs\nZoe,{UPN},ADHD; child protection plan\n"


@pytest.mark.parametrize(("content", "mime"), [
    (TEXT_FILE.encode(), "text/plain"),                       # the control: an honest text file
    (TEXT_FILE.encode(), "image/png"),                        # a text file declared as an image
    (("BMI survey\n" + TEXT_FILE).encode(), "text/csv"),      # a text file that happens to start with "BM"
    (("ID3 group\n" + TEXT_FILE).encode(), "text/plain"),     # ... or with "ID3"
])
def test_uploaded_text_file_is_scanned_whatever_it_claims_to_be(proxy, upstream, content, mime):
    with proxy.client() as client:
        client.post("https://api.openai.com/v1/files", data={"purpose": "assistants"},
                    files={"file": ("pupils.txt", content, mime)})
    assert not [r for r in upstream.received if UPN.encode() in r.body], "an unscanned file carried the UPN out"


def _grpc(text: str) -> bytes:
    data = text.encode("utf-8")
    length = len(data)
    varint = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        varint.append(byte | (0x80 if length else 0))
        if not length:
            break
    message = b"\x0a" + bytes(varint) + data           # field 1, length-delimited: a proto3 string
    return b"\x00" + len(message).to_bytes(4, "big") + message


@pytest.mark.parametrize("text", [PII, PII + "\x01", "\x1b[0m" + PII])
def test_grpc_prompt_with_a_control_character_is_still_scanned(proxy, upstream, text):
    # proto3 strings may hold any valid UTF-8, control characters included; the model reads the text all the same
    with proxy.client() as client:
        client.post("https://api.x.ai/xai_api.Chat/GetCompletion", content=_grpc(text),
                    headers={"content-type": "application/grpc", "te": "trailers"})
    assert not [r for r in upstream.received if UPN.encode() in r.body], "the gRPC prompt went out unscanned"


def test_document_the_proxy_cannot_read_is_not_uploaded_through_an_unlisted_path(proxy, upstream):
    # A legacy Word/Excel file (OLE2) or a zip of CSVs cannot be read; on a catalogued upload path it is refused.
    # The same file sent to a path the catalogue does not list yet (web apps add upload endpoints often) must not
    # pass either: it is a document, not an image or telemetry.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + TEXT_FILE.encode("utf-16-le")
    with proxy.client() as client:
        client.post("https://chatgpt.com/backend-api/attachments/new-upload-endpoint",
                    files={"file": ("pupils.doc", ole, "application/msword")})
    assert not [r for r in upstream.received if TEXT_FILE.encode("utf-16-le") in r.body], \
        "an unreadable document reached the AI service through an uncatalogued path"


@pytest.fixture(scope="module")
def m365_proxy(start_proxy):
    from tests.support.proxy import STAFF_ALLOWLIST
    return start_proxy(allowlist=STAFF_ALLOWLIST.replace(
        "tools:\n", "tools:\n  m365-copilot:  {staff: approved, pupil: blocked}\n"))


@pytest.mark.parametrize("arguments", [
    [{"message": {"content": PII}}],                                          # the text under another key
    [{"message": {"text": "Hi", "adaptiveCards": [{"body": [{"text": PII}]}]}}],
    [{"message": {"text": "Hi"}, "context": PII}],
])
def test_m365_copilot_invocation_is_scanned_whole(m365_proxy, upstream, arguments):
    proxy = m365_proxy
    record = json.dumps({"type": 4, "target": "chat", "invocationId": "1", "arguments": arguments}) + "\x1e"
    with connect("wss://substrate.office.com/m365Copilot/Chathub/abc", proxy=proxy.url, ssl=proxy.ssl,
                 open_timeout=60) as ws:
        ws.send(record)
        ws.send(json.dumps({"type": 6}) + "\x1e")
        try:
            ws.recv(timeout=10)
        except TimeoutError:
            pass
    assert not [f for _, f in upstream.ws_received if UPN in (f if isinstance(f, str) else f.decode("latin-1"))]
