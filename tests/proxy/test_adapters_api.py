"""Official API bodies, serialised by the real openai and anthropic SDKs (captured with an httpx MockTransport)."""
import base64
import json
from pathlib import Path

import anthropic
import httpx
import httpx2
import openai
import pytest

from proxy.adapters import Extraction, Unreadable, extract_for
from proxy.catalogue import Catalogue
from tests.support.files import make_png
from tests.support.json_paths import changed_paths

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture(scope="module")
def cat():
    return Catalogue.load()


class Captured:
    def __init__(self):
        self.requests = []

    def openai(self, **kw):
        def handler(request):
            self.requests.append(request)
            return httpx.Response(400, json={"error": {"message": "captured", "type": "invalid_request_error"}})
        return openai.OpenAI(api_key="sk-test", max_retries=0,
                             http_client=httpx.Client(transport=httpx.MockTransport(handler)), **kw)

    def azure(self):
        def handler(request):
            self.requests.append(request)
            return httpx.Response(400, json={"error": {"message": "captured"}})
        return openai.AzureOpenAI(api_key="k", api_version="2024-10-21", max_retries=0,
                                  azure_endpoint="https://myschool.openai.azure.com",
                                  http_client=httpx.Client(transport=httpx.MockTransport(handler)))

    def anthropic(self):
        def handler(request):
            self.requests.append(request)
            return httpx2.Response(400, json={"type": "error", "error": {"type": "invalid_request_error",
                                                                          "message": "captured"}})
        return anthropic.Anthropic(api_key="k", max_retries=0,
                                   http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))

    def last(self, call):
        try:
            call()
        except (openai.APIError, anthropic.APIError):
            pass
        r = self.requests[-1]
        return r.content, r.headers.get("content-type", ""), r.url.raw_path.decode(), r.url.host


def run(cat, body, ctype, path, host) -> Extraction:
    m = cat.match(host, path)
    assert m is not None and m.kind in ("prompt", "upload"), (host, path)
    ex = extract_for(m.service, body, ctype, path)
    assert isinstance(ex, Extraction), ex
    assert ex.rebuild(ex.texts) == body
    return ex


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


TXT = "Seating plan\r\nRow 1: Amelia Watson, Leo Fischer\r\n".encode("utf-8")


def test_openai_chat_every_role_and_part(cat):
    cap = Captured()
    client = cap.openai()
    body, ctype, path, host = cap.last(lambda: client.chat.completions.create(model="gpt-4o", messages=[
        {"role": "developer", "content": "You help teachers at Oakfield."},
        {"role": "system", "content": [{"type": "text", "text": "Answer in British English."}]},
        {"role": "user", "content": [
            {"type": "text", "text": "Check this plan for Amelia Watson"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64(make_png())}},
            {"type": "file", "file": {"filename": "plan.txt", "file_data": "data:text/plain;base64," + b64(TXT)}},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "lookup_pupil", "arguments": json.dumps({"name": "Amelia Watson", "year": 8})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Amelia Watson: Year 8, form 8R"},
        {"role": "assistant", "content": "Amelia is in 8R."},
    ]))
    assert (host, path) == ("api.openai.com", "/v1/chat/completions")
    ex = run(cat, body, ctype, path, host)
    assert ex.adapter == "openai_chat"
    assert ex.texts == ["You help teachers at Oakfield.", "Answer in British English.",
                        "Check this plan for Amelia Watson", TXT.decode(), "Amelia Watson",
                        "Amelia Watson: Year 8, form 8R", "Amelia is in 8R.", "plan.txt",  # + the file name
                        "lookup_pupil"]  # and the tool's name: every string is read
    assert "media_not_scanned" in ex.notes
    new = ex.rebuild([t.replace("Amelia Watson", "[PUPIL_1]").replace("Amelia", "[PUPIL_1]") for t in ex.texts])
    before, after = json.loads(body), json.loads(new)
    assert changed_paths(before, after) == {
        ("messages", 2, "content", 0, "text"), ("messages", 2, "content", 2, "file", "file_data"),
        ("messages", 3, "tool_calls", 0, "function", "arguments"), ("messages", 4, "content"),
        ("messages", 5, "content")}
    file_data = after["messages"][2]["content"][2]["file"]["file_data"]
    assert file_data.startswith("data:text/plain;base64,")
    assert base64.b64decode(file_data.split(",", 1)[1]) == b"Seating plan\r\nRow 1: [PUPIL_1], Leo Fischer\r\n"
    assert json.loads(after["messages"][3]["tool_calls"][0]["function"]["arguments"]) == {
        "name": "[PUPIL_1]", "year": 8}
    assert after["messages"][2]["content"][1] == before["messages"][2]["content"][1]  # the image is untouched


def test_openai_responses_instructions_and_items(cat):
    cap = Captured()
    client = cap.openai()
    body, ctype, path, host = cap.last(lambda: client.responses.create(
        model="gpt-4.1", instructions="You are a cover teacher assistant for Leo Fischer's class.",
        input=[
            {"role": "user", "content": [
                {"type": "input_text", "text": "Plan a lesson; Leo Fischer has dyslexia."},
                {"type": "input_file", "filename": "notes.txt", "file_data": "data:text/plain;base64," + b64(TXT)},
            ]},
            {"type": "function_call", "call_id": "c1", "name": "get_notes", "arguments": '{"pupil":"Leo Fischer"}'},
            {"type": "function_call_output", "call_id": "c1", "output": "Leo Fischer: reading age 9"},
        ]))
    assert path == "/v1/responses"
    ex = run(cat, body, ctype, path, host)
    assert ex.texts == ["You are a cover teacher assistant for Leo Fischer's class.",
                        "Plan a lesson; Leo Fischer has dyslexia.", TXT.decode(), "Leo Fischer",
                        "Leo Fischer: reading age 9", "notes.txt", "get_notes"]  # file and tool names too (swept up)
    after = json.loads(ex.rebuild([t.replace("Leo Fischer", "[PUPIL_1]") for t in ex.texts]))
    assert changed_paths(json.loads(body), after) == {
        ("instructions",), ("input", 0, "content", 0, "text"), ("input", 0, "content", 1, "file_data"),
        ("input", 1, "arguments"), ("input", 2, "output")}


def test_openai_responses_plain_string_input_and_embeddings(cat):
    cap = Captured()
    client = cap.openai()
    body, ctype, path, host = cap.last(lambda: client.responses.create(model="gpt-4.1", input="Hi Leo Fischer"))
    assert run(cat, body, ctype, path, host).texts == ["Hi Leo Fischer"]
    body, ctype, path, host = cap.last(lambda: client.embeddings.create(
        model="text-embedding-3-small", input=["Leo Fischer report", "Amelia Watson report"]))
    ex = run(cat, body, ctype, path, host)
    assert ex.texts == ["Leo Fischer report", "Amelia Watson report"]


def test_azure_openai_deployment_path(cat):
    cap = Captured()
    client = cap.azure()
    body, ctype, path, host = cap.last(lambda: client.chat.completions.create(
        model="gpt4o-school", messages=[{"role": "user", "content": "Email for Zoë O’Brien’s mum"}]))
    assert host == "myschool.openai.azure.com" and path.startswith("/openai/deployments/gpt4o-school/")
    ex = run(cat, body, ctype, path, host)
    assert ex.texts == ["Email for Zoë O’Brien’s mum"]
    new = ex.rebuild(["Email for [PUPIL_1]’s mum"])
    assert json.loads(new)["messages"][0]["content"] == "Email for [PUPIL_1]’s mum"
    assert new == body.replace("Zoë O’Brien".encode(), b"[PUPIL_1]")  # same compact UTF-8 as the SDK wrote


def test_openai_files_upload_multipart(cat):
    cap = Captured()
    client = cap.openai()
    csv = "UPN,Name\nA820106510023,Amelia Watson\n".encode("utf-8-sig")
    body, ctype, path, host = cap.last(lambda: client.files.create(file=("class.csv", csv, "text/csv"),
                                                                   purpose="assistants"))
    assert ctype.startswith("multipart/form-data")
    ex = run(cat, body, ctype, path, host)
    assert ex.texts == ["assistants", "UPN,Name\nA820106510023,Amelia Watson\n", "class.csv"]  # + the file name
    new = ex.rebuild(["assistants", "UPN,Name\n[UPN_1],[PUPIL_1]\n", "class.csv"])
    assert new.count(b"--" + ctype.split("boundary=")[1].encode()) == body.count(
        b"--" + ctype.split("boundary=")[1].encode())
    # the file keeps its UTF-8 BOM, the headers are unchanged
    assert "\ufeffUPN,Name\n[UPN_1],[PUPIL_1]\n".encode("utf-8") in new
    assert new.replace("[UPN_1],[PUPIL_1]".encode(), "A820106510023,Amelia Watson".encode()) == body


def test_anthropic_messages_system_documents_tools(cat):
    cap = Captured()
    client = cap.anthropic()
    body, ctype, path, host = cap.last(lambda: client.messages.create(
        model="claude-sonnet-4-5", max_tokens=512,
        system=[{"type": "text", "text": "You support SENCOs at Oakfield.", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {"role": "user", "content": [
                {"type": "document", "title": "Plan for Isla Morgan",
                 "source": {"type": "text", "media_type": "text/plain", "data": "Isla Morgan - EHCP review notes"}},
                {"type": "document", "source": {"type": "base64", "media_type": "text/plain",
                                                "data": b64("Isla Morgan, DOB 02/05/2012".encode("utf-16"))}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": b64(make_png())}},
                {"type": "text", "text": "Summarise Isla Morgan's needs."},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Isla Morgan needs...", "signature": "EqQBCkYIBxgCKkBs"},
                {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"query": "Isla Morgan"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1",
                 "content": [{"type": "text", "text": "Isla Morgan: Year 7"}]},
            ]},
            {"role": "user", "content": "Thanks"},
        ]))
    assert (host, path) == ("api.anthropic.com", "/v1/messages")
    ex = run(cat, body, ctype, path, host)
    assert ex.adapter == "anthropic_messages"
    assert ex.texts == ["You support SENCOs at Oakfield.", "Plan for Isla Morgan", "Isla Morgan - EHCP review notes",
                        "Isla Morgan, DOB 02/05/2012", "Summarise Isla Morgan's needs.", "Isla Morgan needs...",
                        "Isla Morgan", "Isla Morgan: Year 7", "Thanks", "search"]  # the tool's name is read too
    # the signed thinking block is scanned but never rewritten: a change there blocks (rebuild None)
    assert ex.rebuild([t.replace("Isla Morgan", "[PUPIL_1]") for t in ex.texts]) is None
    new = ex.rebuild([t if t == "Isla Morgan needs..." else t.replace("Isla Morgan", "[PUPIL_1]") for t in ex.texts])
    before, after = json.loads(body), json.loads(new)
    assert ("messages", 1, "content", 0, "thinking") not in changed_paths(before, after)  # signed: never altered
    assert after["messages"][1]["content"][0] == before["messages"][1]["content"][0]
    decoded = base64.b64decode(after["messages"][0]["content"][1]["source"]["data"])
    assert decoded == "[PUPIL_1], DOB 02/05/2012".encode("utf-16")  # re-encoded in UTF-16 with its BOM
    assert after["messages"][0]["content"][2] == before["messages"][0]["content"][2]


def test_anthropic_count_tokens_and_files_upload(cat):
    cap = Captured()
    client = cap.anthropic()
    body, ctype, path, host = cap.last(lambda: client.messages.count_tokens(
        model="claude-sonnet-4-5", system="sys", messages=[{"role": "user", "content": "Leo Fischer"}]))
    assert path == "/v1/messages/count_tokens"
    assert run(cat, body, ctype, path, host).texts == ["sys", "Leo Fischer"]
    body, ctype, path, host = cap.last(lambda: client.beta.files.upload(
        file=("notes.md", "# Leo Fischer\nAnxious in exams\n".encode(), "text/markdown")))
    ex = run(cat, body, ctype, path, host)
    assert ex.texts == ["# Leo Fischer\nAnxious in exams\n", "notes.md"]
    assert b"# [PUPIL_1]\nAnxious in exams\n" in ex.rebuild(["# [PUPIL_1]\nAnxious in exams\n", "notes.md"])
    assert ex.rebuild(["# Leo Fischer\nAnxious in exams\n", "[PUPIL_1].md"]) is None  # a file name: read only


def test_gemini_api_contents_system_and_inline_text(cat):
    body = (PAYLOADS / "gemini_api_generate.json").read_bytes()
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    ex = run(cat, body, "application/json", path, "generativelanguage.googleapis.com")
    assert ex.adapter == "gemini_api"
    assert ex.texts == ["Summarise the attached class list.", "Name,Year,Note\nIsla Morgan,10,Anxiety - see pastoral log\n",
                        "Here is the summary.", "Now list pupils with notes.",
                        "You are a helpful assistant for teachers at Oakfield Academy."]
    assert "media_not_scanned" in ex.notes
    new = ex.rebuild([t.replace("Isla Morgan", "[PUPIL_1]") for t in ex.texts])
    before, after = json.loads(body), json.loads(new)
    assert changed_paths(before, after) == {("contents", 0, "parts", 1, "inlineData", "data")}
    assert base64.b64decode(after["contents"][0]["parts"][1]["inlineData"]["data"]).startswith(
        b"Name,Year,Note\n[PUPIL_1],10")


def test_base64_file_that_is_not_readable_blocks(cat):
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"filename": "x.bin", "file_data": "data:application/octet-stream;base64,"
                                  + b64(bytes(range(256)) * 4)}}]}]}).encode()
    result = extract_for(cat.service("openai-api"), body, "application/json", "/v1/chat/completions")
    assert isinstance(result, Unreadable) and result.reason.startswith("file_binary")
    not_b64 = body.replace(b"data:application/octet-stream;base64,", b"data:application/pdf;base64,%%%")
    result = extract_for(cat.service("openai-api"), not_b64, "application/json", "/v1/chat/completions")
    assert isinstance(result, Unreadable) and result.reason == "file_not_base64"


def test_deepseek_anthropic_shaped_path_and_unknown_block_type(cat):
    body = json.dumps({"model": "deepseek-chat", "max_tokens": 100, "system": "S", "messages": [
        {"role": "user", "content": [{"type": "new_fancy_block", "id": "x1", "caption": "Leo Fischer drawing"}]}]},
        separators=(",", ":")).encode()
    ex = run(cat, body, "application/json", "/anthropic/v1/messages", "api.deepseek.com")
    assert ex.adapter == "anthropic_messages"
    assert ex.texts == ["S", "Leo Fischer drawing"]  # an unknown block is scanned, its id is not


def test_openai_realtime_and_responses_websocket_events(cat):
    from proxy.adapters import extract_ws
    svc = cat.service("openai-api")
    ev = {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "Amelia Watson is absent"}]}}
    ex = extract_ws(svc, json.dumps(ev))
    assert ex.texts == ["Amelia Watson is absent"]
    ev = {"type": "response.create", "response": {"instructions": "Be brief", "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi Leo"}]}]}}
    assert extract_ws(svc, json.dumps(ev)).texts == ["Be brief", "Hi Leo"]
    ev = {"type": "session.update", "session": {"instructions": "Talk about Leo Fischer", "voice": "alloy"}}
    assert extract_ws(svc, json.dumps(ev)).texts == ["Talk about Leo Fischer"]


def _pb_varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _pb(field: int, value) -> bytes:
    """A protobuf field, encoded by hand (no protobuf runtime is installed): int -> varint, float -> fixed32."""
    import struct
    if isinstance(value, bool) or isinstance(value, int):
        return _pb_varint(field << 3) + _pb_varint(int(value))
    if isinstance(value, float):
        return _pb_varint(field << 3 | 5) + struct.pack("<f", value)
    data = value.encode() if isinstance(value, str) else value
    return _pb_varint(field << 3 | 2) + _pb_varint(len(data)) + data


def _grpc(message: bytes) -> bytes:
    import struct
    return b"\x00" + struct.pack(">I", len(message)) + message


def test_xai_grpc_chat_request_is_read_and_rewritten_with_correct_lengths(cat):
    # shaped like xai_api.Chat/GetCompletion: messages { content { text } role }, model, temperature, max_tokens
    long_text = "Write to the parents of Leo Fischer about " + "the trip " * 30  # > 127 bytes: 2-byte length
    def request(system, user):
        return (_pb(1, _pb(1, _pb(1, system)) + _pb(2, 1)) + _pb(1, _pb(1, _pb(1, user)) + _pb(2, 2))
                + _pb(2, "grok-4") + _pb(3, 0.7) + _pb(4, 256))
    body = _grpc(request("You help teachers.", long_text))
    m = cat.match("api.x.ai", "/xai_api.Chat/GetCompletion")
    assert (m.kind, m.adapter) == ("prompt", "grpc")
    ex = extract_for(m.service, body, "application/grpc", "/xai_api.Chat/GetCompletion")
    assert isinstance(ex, Extraction) and ex.adapter == "grpc"
    assert ex.texts == ["You help teachers.", long_text, "grok-4"]
    assert ex.rebuild(ex.texts) == body
    new = ex.rebuild(["You help teachers.", long_text.replace("Leo Fischer", "[PUPIL_1]"), "grok-4"])
    assert new == _grpc(request("You help teachers.", long_text.replace("Leo Fischer", "[PUPIL_1]")))


def test_compressed_or_garbled_grpc_is_blocked(cat):
    svc = cat.service("xai-api")
    body = _grpc(_pb(1, "Leo Fischer"))
    compressed = b"\x01" + body[1:]
    assert isinstance(extract_for(svc, compressed + bytes(range(32)), "application/grpc",
                                  "/xai_api.Chat/GetCompletion"), Unreadable)
    truncated = body[:-3] + bytes(range(8))
    assert isinstance(extract_for(svc, truncated, "application/grpc", "/xai_api.Chat/GetCompletion"), Unreadable)


# --- every field the service reads is scanned: the adapter's picks, then a generic sweep of the rest ------------

def test_openai_tool_and_parameter_descriptions_and_prediction_are_scanned(cat):
    cap = Captured()
    client = cap.openai()
    body, ctype, path, host = cap.last(lambda: client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Draft the letter."}],
        tools=[{"type": "function", "function": {
            "name": "send_letter", "description": "Send a letter about Leo Fischer (UPN A820106510023).",
            "strict": True, "parameters": {
                "type": "object", "required": ["recipient"], "additionalProperties": False,
                "properties": {"recipient": {"type": "string", "enum": ["parent", "carer"],
                                             "description": "Who looks after Leo Fischer"}}}}}],
        tool_choice="auto",
        prediction={"type": "content", "content": "Dear parent of Leo Fischer,"}))
    ex = run(cat, body, ctype, path, host)
    assert ex.adapter == "openai_chat" and "fallback:generic_json" not in ex.notes
    assert ex.texts[0] == "Draft the letter."  # the adapter's pick, then the rest in document order
    assert sorted(ex.texts[1:]) == sorted(["Send a letter about Leo Fischer (UPN A820106510023).", "parent", "carer",
                                           "Who looks after Leo Fischer", "Dear parent of Leo Fischer,",
                                           "recipient", "send_letter"])  # names and required lists are read too
    after = json.loads(ex.rebuild([t.replace("Leo Fischer", "[PUPIL_1]") for t in ex.texts]))
    before = json.loads(body)
    assert changed_paths(before, after) == {
        ("tools", 0, "function", "description"),
        ("tools", 0, "function", "parameters", "properties", "recipient", "description"),
        ("prediction", "content")}
    # names, required lists and enum-like settings hold no pupil data here: untouched
    assert after["tools"][0]["function"]["name"] == "send_letter" and after["tool_choice"] == "auto"


def test_anthropic_tool_names_descriptions_and_schemas_are_scanned_and_only_what_changes_is_altered(cat):
    cap = Captured()
    client = cap.anthropic()
    body, ctype, path, host = cap.last(lambda: client.messages.create(
        model="claude-sonnet-4-5", max_tokens=256, messages=[{"role": "user", "content": "Look her up."}],
        tools=[{"name": "lookup", "description": "Isla Morgan's SEN record (EHCP).",
                "input_schema": {"type": "object", "required": ["field"], "properties": {
                    "field": {"type": "string", "description": "A field of Isla Morgan's record"}}}},
               {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],
        metadata={"user_id": "u-123"}))
    ex = run(cat, body, ctype, path, host)
    assert ex.texts == ["Look her up.", "u-123", "lookup", "Isla Morgan's SEN record (EHCP).", "field",
                        "A field of Isla Morgan's record", "web_search"]
    after = json.loads(ex.rebuild([t.replace("Isla Morgan", "[PUPIL_1]") for t in ex.texts]))
    assert changed_paths(json.loads(body), after) == {
        ("tools", 0, "description"), ("tools", 0, "input_schema", "properties", "field", "description")}


def test_gemini_function_declarations_and_response_schema_are_scanned(cat):
    body = json.dumps({
        "contents": [{"role": "user", "parts": [{"text": "Who needs help?"}]}],
        "tools": [{"functionDeclarations": [{"name": "get_plan", "description": "The plan for Ruby Clarke",
                                             "parameters": {"type": "OBJECT", "properties": {
                                                 "term": {"type": "STRING", "description": "Term"}}}}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        "safetySettings": [{"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "threshold": "BLOCK_NONE"}],
        "generationConfig": {"temperature": 0.1, "responseMimeType": "application/json",
                             "responseSchema": {"type": "OBJECT", "description": "Notes on Ruby Clarke"}},
    }, separators=(",", ":")).encode()
    ex = run(cat, body, "application/json", "/v1beta/models/gemini-2.5-flash:generateContent",
             "generativelanguage.googleapis.com")
    assert ex.texts == ["Who needs help?", "get_plan", "The plan for Ruby Clarke", "Term", "Notes on Ruby Clarke"]


def test_unknown_top_level_fields_are_swept_up_but_settings_of_their_shape_are_not(cat):
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
                       "metadata": {"note": "About Harry Evans"}, "user": "user-7f3a", "seed": 3,
                       "service_tier": "auto", "response_format": {"type": "text"},
                       "web_search_options": {"user_location": {"type": "approximate",
                                                                "approximate": {"city": "Leeds"}}}}).encode()
    ex = run(cat, body, "application/json", "/v1/chat/completions", "api.openai.com")
    assert ex.texts == ["Hi", "About Harry Evans", "user-7f3a", "Leeds"]


def test_signed_thinking_is_scanned_read_only(cat):
    body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [
        {"role": "user", "content": "Plan for [PUPIL_1]"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Leo Fischer needs a plan", "signature": "EqQBCkYIBxgCKkBs"},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT" * 4},
            {"type": "text", "text": "Here it is."}]},
        {"role": "user", "content": "Thanks"}]}, separators=(",", ":")).encode()
    ex = run(cat, body, "application/json", "/v1/messages", "api.anthropic.com")
    assert ex.texts == ["Plan for [PUPIL_1]", "Leo Fischer needs a plan", "Here it is.", "Thanks"]
    # the thinking is signed: a redaction there cannot be sent, so rebuild says "block"
    assert ex.rebuild(["Plan for [PUPIL_1]", "[PUPIL_2] needs a plan", "Here it is.", "Thanks"]) is None
    assert ex.rebuild(["Plan for [PUPIL_1]", "Leo Fischer needs a plan", "Here it is!", "Thanks"]) is not None


def test_media_block_holding_text_is_scanned_and_a_real_image_is_not(cat):
    csv = "Name,UPN\nLeo Fischer,A820106510023\n".encode()
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Read this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64(csv)}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64(make_png()), "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": b64(csv), "format": "wav"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/Leo.png"}}]}]}).encode()
    ex = run(cat, body, "application/json", "/v1/chat/completions", "api.openai.com")
    assert ex.texts == ["Read this", csv.decode(), csv.decode()]  # "detail": "low" is an enum of its shape
    assert "media_not_scanned" in ex.notes
    after = json.loads(ex.rebuild(["Read this"] + [csv.decode().replace("Leo Fischer", "[PUPIL_1]")] * 2))
    assert base64.b64decode(after["messages"][0]["content"][1]["image_url"]["url"].split(",", 1)[1]).startswith(
        b"Name,UPN\n[PUPIL_1],")
    unknown = body.replace(b64(csv).encode(), b64(b"\x00\x01\x02\x03" * 64).encode(), 1)
    assert isinstance(extract_for(cat.service("openai-api"), unknown, "application/json", "/v1/chat/completions"),
                      Unreadable)  # neither text nor a real image: it does not pass unread


@pytest.mark.parametrize("path", ["/v1/chat/completions/", "//v1/chat/completions", "/v1/chat/%63ompletions",
                                  "/v1/chat/completions;x", "/v1//chat/completions"])
def test_path_variants_get_the_endpoint_adapter(cat, path):
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Leo Fischer"}],
                       "tools": [{"type": "function", "function": {"name": "f", "description": "d"}}]}).encode()
    ex = extract_for(cat.service("openai-api"), body, "application/json", path)
    assert isinstance(ex, Extraction) and ex.adapter == "openai_chat" and ex.texts == ["Leo Fischer", "f", "d"]
